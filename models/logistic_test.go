package models_test

import (
	"context"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/models"
	"earlyhelp/models/evaluate"
	"earlyhelp/pipeline"
)

// synthetic draws n households where the log-odds of the label rise with x1,
// fall with x2 and ignore x3: logit = -1.2 + 1.5·x1 - 0.5·(x2-5), x1 and x3
// standard normal, x2 normal with mean 5 and sd 2 (so its standardised
// coefficient is -1). firstPositive puts a household of that class first,
// which decides the label order liblinear writes in its model file.
func synthetic(t *testing.T, mem memory.Allocator, n int, seed uint64, firstPositive bool) (arrow.Record, []bool) {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	ids := make([]string, n)
	x1, x2, x3 := make([]float64, n), make([]float64, n), make([]float64, n)
	labels := make([]bool, n)
	for i := range n {
		ids[i] = fmt.Sprintf("h%d", i)
		x1[i], x2[i], x3[i] = r.NormFloat64(), 5+2*r.NormFloat64(), r.NormFloat64()
		logit := -1.2 + 1.5*x1[i] - 0.5*(x2[i]-5)
		labels[i] = r.Float64() < 1/(1+math.Exp(-logit))
	}
	for i := range n {
		if labels[i] == firstPositive {
			x1[0], x1[i] = x1[i], x1[0]
			x2[0], x2[i] = x2[i], x2[0]
			x3[0], x3[i] = x3[i], x3[0]
			labels[0], labels[i] = labels[i], labels[0]
			break
		}
	}
	rec := newRecord(t, mem,
		col{name: "household_id", vals: ids},
		col{name: "x1", vals: x1}, col{name: "x2", vals: x2}, col{name: "x3", vals: x3})
	return rec, labels
}

func fit(t *testing.T, mem memory.Allocator, firstPositive bool) *models.Logistic {
	t.Helper()
	train, labels := synthetic(t, mem, 3000, 1, firstPositive)
	defer train.Release()
	if labels[0] != firstPositive {
		t.Fatalf("first label: got %t; want %t", labels[0], firstPositive)
	}
	m, err := models.LogisticTrainer{}.Fit(context.Background(), train, labels)
	if err != nil {
		t.Fatal(err)
	}
	return m.(*models.Logistic)
}

func TestLogisticFit(t *testing.T) {
	for _, firstPositive := range []bool{true, false} {
		t.Run(fmt.Sprintf("first row positive %t", firstPositive), func(t *testing.T) {
			mem := checkedAllocator(t)
			m := fit(t, mem, firstPositive)
			coef := m.Coefficients()
			if coef["x1"] <= 0 || coef["x2"] >= 0 {
				t.Errorf("coefficients %v: want x1 > 0 and x2 < 0", coef)
			}
			for f, want := range map[string]float64{"x1": 1.5, "x2": -1, "x3": 0} {
				if math.Abs(coef[f]-want) > 0.25 {
					t.Errorf("coefficient %s: got %.3f; want %.1f ± 0.25", f, coef[f], want)
				}
			}

			test, labels := synthetic(t, mem, 2000, 2, true)
			defer test.Release()
			scores, err := m.Score(context.Background(), test)
			if err != nil {
				t.Fatal(err)
			}
			met := evaluate.Compute(scores, labels, 200)
			if met.AUC <= 0.8 {
				t.Errorf("held-out AUC: got %.3f; want > 0.8", met.AUC)
			}
			var mean float64
			for _, s := range scores {
				mean += s / float64(len(scores))
			}
			t.Logf("coefficients %v, intercept %.3f; held-out AUC %.3f, mean score %.3f, base rate %.3f",
				coef, m.Intercept(), met.AUC, mean, met.BaseRate)
			if math.Abs(mean-met.BaseRate) > 0.03 {
				t.Errorf("mean score: got %.3f; want base rate %.3f ± 0.03", mean, met.BaseRate)
			}
		})
	}
}

func TestLogisticExplain(t *testing.T) {
	mem := checkedAllocator(t)
	m := fit(t, mem, true)
	rec := newRecord(t, mem,
		col{name: "household_id", vals: []string{"average", "high x1", "high x1 low x2"}},
		col{name: "x1", vals: []float64{0, 3, 1}}, col{name: "x2", vals: []float64{5, 6, -1}},
		col{name: "x3", vals: []float64{0, 0, 0}})
	defer rec.Release()

	tests := []struct {
		name      string
		row, n    int
		wantFeats []string
	}{
		{"high x1", 1, 3, []string{"x1"}},
		// x2 lowers risk (negative weight); being far below its mean raises
		// the log-odds, but "x2 is low" is not a reason a navigator can act
		// on, so only x1 is given.
		{"a low protective feature is not a reason", 2, 3, []string{"x1"}},
		{"n caps reasons", 1, 1, []string{"x1"}},
		{"n zero", 2, 0, nil},
		{"row out of range", 3, 3, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reasons := m.Explain(rec, tt.row, tt.n)
			var got []string
			for _, r := range reasons {
				got = append(got, r.Feature)
				if r.Contribution <= 0 {
					t.Errorf("reason %s: contribution %g; want > 0", r.Feature, r.Contribution)
				}
			}
			// x3 is noise with a near-zero coefficient; it may or may not
			// raise the score, so it is ignored here.
			got = strings.Fields(strings.ReplaceAll(strings.Join(got, " "), "x3", ""))
			if strings.Join(got, ",") != strings.Join(tt.wantFeats, ",") {
				t.Errorf("got %v; want %v", got, tt.wantFeats)
			}
		})
	}
	if r := m.Explain(rec, 1, 1); len(r) != 1 || r[0].Value != 3 {
		t.Errorf("high x1 reason: got %+v; want value 3", r)
	}
}

func TestLogisticErrors(t *testing.T) {
	mem := checkedAllocator(t)
	feats := func(n int) arrow.Record {
		x := make([]float64, n)
		for i := range x {
			x[i] = float64(i)
		}
		return newRecord(t, mem, col{name: "household_id", vals: make([]string, n)}, col{name: "x1", vals: x})
	}
	tests := []struct {
		name    string
		rows    int
		labels  []bool
		trainer models.LogisticTrainer
		want    string
	}{
		{"no rows", 0, nil, models.LogisticTrainer{}, "logistic: no training rows"},
		{"one class", 3, []bool{true, true, true}, models.LogisticTrainer{}, "logistic: all 3 labels are true: need both classes"},
		{"mismatched labels", 3, []bool{true, false}, models.LogisticTrainer{}, "logistic: 2 labels for 3 rows"},
		{"negative C", 2, []bool{true, false}, models.LogisticTrainer{C: -1}, "logistic: C -1 and Eps 0 must be positive"},
		{"negative C per row", 2, []bool{true, false}, models.LogisticTrainer{CPerRow: -1}, "logistic: C per row -1 must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := feats(tt.rows)
			defer rec.Release()
			_, err := tt.trainer.Fit(context.Background(), rec, tt.labels)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v; want one containing %q", err, tt.want)
			}
		})
	}

	t.Run("missing column at Score", func(t *testing.T) {
		m := fit(t, mem, true)
		rec := newRecord(t, mem, col{name: "x1", vals: []float64{1}}, col{name: "x3", vals: []float64{1}})
		defer rec.Release()
		_, err := m.Score(context.Background(), rec)
		if err == nil || !strings.Contains(err.Error(), `logistic: missing feature column "x2"`) {
			t.Errorf("got error %v; want missing column x2", err)
		}
	})
}

// TestLogisticL1 plants a problem where x3 carries nothing: L1 drops it to
// exactly zero while keeping x1 and x2; L2 only shrinks it.
func TestLogisticL1(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	train, labels := synthetic(t, mem, 3000, 1, false)
	defer train.Release()
	l1, err := models.LogisticTrainer{Penalty: models.PenaltyL1, C: 0.01}.Fit(context.Background(), train, labels)
	if err != nil {
		t.Fatal(err)
	}
	c := l1.(*models.Logistic).Coefficients()
	if c["x3"] != 0 || c["x1"] <= 0 || c["x2"] >= 0 {
		t.Errorf("L1 coefficients %v; want x3 exactly 0, x1 positive, x2 negative", c)
	}
	l2, err := models.LogisticTrainer{C: 0.01}.Fit(context.Background(), train, labels)
	if err != nil {
		t.Fatal(err)
	}
	if c2 := l2.(*models.Logistic).Coefficients(); c2["x3"] == 0 {
		t.Errorf("L2 set x3 to exactly 0 (%v): the test cannot tell the penalties apart", c2)
	}
	if l1.(*models.Logistic).ID() == l2.(*models.Logistic).ID() {
		t.Error("L1 and L2 models share an ID")
	}
	if _, err := (models.LogisticTrainer{Penalty: "l3"}).Fit(context.Background(), train, labels); err == nil {
		t.Error("penalty l3 accepted")
	}
}

// TestLogisticCPerRow: a C per row is the fixed C it comes to on the
// training rows, and the same C per row pulls a larger council's weights
// as hard, where a fixed C pulls them less.
func TestLogisticCPerRow(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	coef := func(n int, tr models.LogisticTrainer) float64 {
		t.Helper()
		train, labels := synthetic(t, mem, n, 1, false)
		defer train.Release()
		m, err := tr.Fit(context.Background(), train, labels)
		if err != nil {
			t.Fatal(err)
		}
		return m.(*models.Logistic).Coefficients()["x1"]
	}
	perRow := coef(3000, models.LogisticTrainer{CPerRow: 3})
	if fixed := coef(3000, models.LogisticTrainer{C: 3.0 / 3000}); perRow != fixed {
		t.Errorf("C per row 3 on 3000 rows gives x1 %v; C 0.001 gives %v", perRow, fixed)
	}
	unpenalised := coef(3000, models.LogisticTrainer{})
	if !(perRow > 0 && perRow < 0.8*unpenalised) {
		t.Errorf("x1 %v with C per row 3, %v with C 1: the penalty should shrink it", perRow, unpenalised)
	}
	// Four times the rows: a fixed C's pull weakens, a C per row's holds.
	bigFixed, bigPerRow := coef(12000, models.LogisticTrainer{C: 3.0 / 3000}), coef(12000, models.LogisticTrainer{CPerRow: 3})
	if !(bigFixed > bigPerRow+0.2) || math.Abs(bigPerRow-perRow) > 0.05 {
		t.Errorf("x1 at 12000 rows: fixed C %v, C per row %v (at 3000 rows: %v)", bigFixed, bigPerRow, perRow)
	}
}

// TestLogisticConcurrentFits: L2 fits running at once (as the backtest runs
// its candidates) give the same coefficients as one at a time; with -race
// this also checks that the golearn state trainLR touches is guarded.
func TestLogisticConcurrentFits(t *testing.T) {
	mem := checkedAllocator(t)
	recs := make([]arrow.Record, 4)
	labels := make([][]bool, len(recs))
	for i := range recs {
		recs[i], labels[i] = synthetic(t, mem, 2000, uint64(10+i), false)
		defer recs[i].Release()
	}
	coefs := func(m pipeline.Model) map[string]float64 { return m.(*models.Logistic).Coefficients() }
	serial := make([]map[string]float64, len(recs))
	for i := range recs {
		m, err := (models.LogisticTrainer{}).Fit(context.Background(), recs[i], labels[i])
		if err != nil {
			t.Fatal(err)
		}
		serial[i] = coefs(m)
	}
	parallel := make([]map[string]float64, len(recs))
	errs := make([]error, len(recs))
	var wg sync.WaitGroup
	for i := range recs {
		wg.Go(func() {
			m, err := (models.LogisticTrainer{}).Fit(context.Background(), recs[i], labels[i])
			if errs[i] = err; err == nil {
				parallel[i] = coefs(m)
			}
		})
	}
	wg.Wait()
	for i := range recs {
		if errs[i] != nil {
			t.Fatalf("fit %d: %v", i, errs[i])
		}
		if !maps.Equal(serial[i], parallel[i]) {
			t.Errorf("fit %d: concurrent coefficients %v; one at a time %v", i, parallel[i], serial[i])
		}
	}
	if maps.Equal(serial[0], serial[1]) {
		t.Error("different data gave the same coefficients: the comparison proves nothing")
	}
}

// TestLogisticL1Reproducible: an L1 fit gives the same model whatever the
// process fitted before it. liblinear's L1 solver shuffles with the C
// library's rand(); unseeded, a scheduler process that had already run a
// backtest retrained a different model from the same rows.
func TestLogisticL1Reproducible(t *testing.T) {
	mem := checkedAllocator(t)
	a, la := synthetic(t, mem, 3000, 21, false)
	defer a.Release()
	b, lb := synthetic(t, mem, 3000, 22, false)
	defer b.Release()
	l1 := models.LogisticTrainer{Penalty: models.PenaltyL1, C: 0.05}
	coefs := func(rec arrow.Record, labels []bool) map[string]float64 {
		m, err := l1.Fit(context.Background(), rec, labels)
		if err != nil {
			t.Fatal(err)
		}
		return m.(*models.Logistic).Coefficients()
	}
	first := coefs(a, la)
	for range 3 {
		coefs(b, lb) // moves rand() on, as a backtest's fits would
	}
	if again := coefs(a, la); !maps.Equal(first, again) {
		t.Errorf("the same rows fitted after other fits: %v; first %v", again, first)
	}
}

// ExplainAll must give, row for row, what Explain gives: the weekly run
// takes scores.parquet's reason codes and the list's reasons from it.
func TestLogisticExplainAll(t *testing.T) {
	mem := checkedAllocator(t)
	m := fit(t, mem, true)
	rec, labels := synthetic(t, mem, 500, 3, true)
	defer rec.Release()
	cal, err := models.Calibrate(context.Background(), m, rec, labels, "platt")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		model interface {
			Explain(arrow.Record, int, int) []pipeline.Reason
		}
		n int
	}{
		{"logistic, three reasons", m, 3},
		{"logistic, one reason", m, 1},
		{"logistic, none asked", m, 0},
		{"calibrated", cal, 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			all, err := pipeline.ExplainAll(context.Background(), tt.model.(pipeline.Model), rec, tt.n)
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != int(rec.NumRows()) {
				t.Fatalf("got %d rows; want %d", len(all), rec.NumRows())
			}
			some := 0
			for i, got := range all {
				want := tt.model.Explain(rec, i, tt.n)
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("row %d: got %+v; want %+v", i, got, want)
				}
				some += len(got)
			}
			if tt.n > 0 && some == 0 {
				t.Errorf("no row has a reason; want some")
			}
		})
	}
}
