package models_test

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/models"
	"earlyhelp/pipeline"
	"earlyhelp/pipeline/pipelinetest"
)

// raw scores a household by its column "s" as it stands: a mis-calibrated
// model whose ranking is right.
type raw struct{ pipelinetest.ModelExtras }

func (raw) Score(_ context.Context, feats arrow.Record) ([]float64, error) {
	return append([]float64(nil), feats.Column(0).(*array.Float64).Float64Values()...), nil
}
func (raw) Explain(arrow.Record, int, int) []pipeline.Reason {
	return []pipeline.Reason{{Feature: "s"}}
}
func (raw) MarshalJSON() ([]byte, error) { return []byte(`{"kind":"raw"}`), nil }

// planted draws households whose true chance is p, scored p^0.4 (far too
// high, but in the right order), or as a count of flags 0…3 when counts.
func planted(t *testing.T, mem memory.Allocator, n int, seed uint64, counts bool) (arrow.Record, []bool, []float64) {
	rng := rand.New(rand.NewPCG(seed, 7))
	s := make([]float64, n)
	p := make([]float64, n)
	y := make([]bool, n)
	for i := range s {
		if counts {
			k := rng.IntN(4)
			s[i], p[i] = float64(k), []float64{0.02, 0.06, 0.15, 0.35}[k]
		} else {
			p[i] = 0.005 + 0.4*math.Pow(rng.Float64(), 3)
			s[i] = math.Pow(p[i], 0.4)
		}
		y[i] = rng.Float64() < p[i]
	}
	return newRecord(t, mem, col{name: "s", vals: s}), y, p
}

// decileGap is the largest |observed − mean score| over score deciles.
func decileGap(scores []float64, y []bool) float64 {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return scores[idx[a]] < scores[idx[b]] })
	gap := 0.0
	for d := 0; d < 10; d++ {
		lo, hi := d*len(idx)/10, (d+1)*len(idx)/10
		var sum, pos float64
		for _, i := range idx[lo:hi] {
			sum += scores[i]
			if y[i] {
				pos++
			}
		}
		n := float64(hi - lo)
		gap = math.Max(gap, math.Abs(pos/n-sum/n))
	}
	return gap
}

// calibrationCases are each method on each kind of score: probabilities,
// and the rules baseline's flag counts.
var calibrationCases = []struct {
	name   string
	method string
	counts bool
}{
	{"platt on probabilities", models.Platt, false},
	{"isotonic on probabilities", models.Isotonic, false},
	{"isotonic on flag counts", models.Isotonic, true},
	{"platt on flag counts", models.Platt, true},
}

func TestCalibrate(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ctx := context.Background()
	for _, tc := range calibrationCases {
		t.Run(tc.name, func(t *testing.T) {
			fitRec, fitY, _ := planted(t, mem, 20000, 1, tc.counts)
			defer fitRec.Release()
			testRec, testY, _ := planted(t, mem, 20000, 2, tc.counts)
			defer testRec.Release()
			before, _ := raw{}.Score(ctx, testRec)
			c, err := models.Calibrate(ctx, raw{}, fitRec, fitY, tc.method)
			if err != nil {
				t.Fatal(err)
			}
			after, err := c.Score(ctx, testRec)
			if err != nil {
				t.Fatal(err)
			}
			if g := decileGap(before, testY); !tc.counts && g < 0.1 {
				t.Fatalf("the planted model is not mis-calibrated (gap %.3f)", g)
			}
			// Issue 5's bar: every decile within 0.05 of its mean score.
			if g := decileGap(after, testY); g > 0.05 {
				t.Errorf("calibrated gap %.3f; want at most 0.05", g)
			}
			// Monotone: a higher raw score never gets a lower probability.
			idx := make([]int, len(before))
			for i := range idx {
				idx[i] = i
			}
			sort.Slice(idx, func(a, b int) bool { return before[idx[a]] < before[idx[b]] })
			for k := 1; k < len(idx); k++ {
				if after[idx[k]] < after[idx[k-1]]-1e-12 {
					t.Fatalf("not monotone: raw %v → %v but raw %v → %v", before[idx[k-1]], after[idx[k-1]], before[idx[k]], after[idx[k]])
				}
			}
			for _, v := range after {
				if !(v >= 0 && v <= 1) {
					t.Fatalf("probability %v outside [0,1]", v)
				}
			}
			if r := c.Explain(testRec, 0, 3); len(r) != 1 || r[0].Feature != "s" {
				t.Errorf("Explain = %v; want the base model's reasons", r)
			}
		})
	}
}

func TestCalibrateErrors(t *testing.T) {
	mem := memory.NewGoAllocator()
	rec, y, _ := planted(t, mem, 100, 1, false)
	defer rec.Release()
	if _, err := models.Calibrate(context.Background(), raw{}, rec, y, "magic"); err == nil {
		t.Error("an unknown method was accepted")
	}
	if _, err := models.Calibrate(context.Background(), raw{}, rec, make([]bool, 100), models.Platt); err == nil {
		t.Error("calibration with no positive household was accepted")
	}
	if _, err := models.Calibrate(context.Background(), raw{}, rec, y[:10], models.Platt); err == nil {
		t.Error("labels of the wrong length were accepted")
	}
}

func TestCalibratedRoundTrip(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ctx := context.Background()
	lr := fit(t, mem, false)
	rec, labels := synthetic(t, mem, 4000, 9, false)
	defer rec.Release()
	for _, method := range []string{models.Platt, models.Isotonic} {
		c, err := models.Calibrate(ctx, lr, rec, labels, method)
		if err != nil {
			t.Fatal(err)
		}
		b, err := c.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		loaded, err := models.Load(b)
		if err != nil {
			t.Fatalf("%s: load: %v", method, err)
		}
		want, _ := c.Score(ctx, rec)
		got, err := loaded.Score(ctx, rec)
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%s: row %d scores %v after loading, %v before", method, i, got[i], want[i])
			}
		}
	}
	for _, bad := range []string{`{"kind":"calibrated","method":"isotonic","base":{"kind":"nope"}}`, `{"kind":"tree"}`, `not json`} {
		if _, err := models.Load([]byte(bad)); err == nil {
			t.Errorf("Load(%s) succeeded", bad)
		}
	}
}

// TestPlattFromLogOdds is the case that sent a plain Newton iteration to
// 1e11: a rare outcome (3%) whose scores are already log-odds. The fit must
// stay near the identity, keep the order, and keep AUC.
func TestPlattFromLogOdds(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rng := rand.New(rand.NewPCG(1, 2))
	n := 40000
	s := make([]float64, n)
	y := make([]bool, n)
	for i := range s {
		l := -4 + 1.2*rng.NormFloat64()
		s[i] = 1 / (1 + math.Exp(-l))
		y[i] = rng.Float64() < s[i]
	}
	rec := newRecord(t, mem, col{name: "s", vals: s})
	defer rec.Release()
	c, err := models.Calibrate(context.Background(), raw{}, rec, y, models.Platt)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := c.Score(context.Background(), rec)
	if g := decileGap(got, y); g > 0.02 {
		t.Errorf("gap %.3f on already calibrated scores; want under 0.02", g)
	}
	for i := range got {
		if math.Abs(got[i]-s[i]) > 0.05 {
			t.Fatalf("row %d: %v became %v; calibrated scores should barely move", i, s[i], got[i])
		}
	}
}

// fitted is what a calibration fitted, read from its saved form.
type fitted struct {
	A  float64   `json:"platt_a"`
	B  float64   `json:"platt_b"`
	Xs []float64 `json:"isotonic_x"`
	Ys []float64 `json:"isotonic_y"`
}

func fittedOf(t *testing.T, c *models.Calibrated) (fitted, []byte) {
	t.Helper()
	b, err := c.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var f fitted
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f, b
}

// near says whether a and b agree within rel relative to their size.
func near(a, b, rel float64) bool {
	return math.Abs(a-b) <= rel*math.Max(math.Max(math.Abs(a), math.Abs(b)), 1e-300)
}

// TestCalibrateWeightedDuplication: a row weighing k fits as k copies of it.
func TestCalibrateWeightedDuplication(t *testing.T) {
	mem := checkedAllocator(t)
	ctx := context.Background()
	for _, tc := range calibrationCases {
		t.Run(tc.name, func(t *testing.T) {
			rec, y, _ := planted(t, mem, 400, 3, tc.counts)
			defer rec.Release()
			s, _ := raw{}.Score(ctx, rec)
			rng := rand.New(rand.NewPCG(11, 13))
			w := make([]float64, len(y))
			var dupS []float64
			var dupY []bool
			pos, heavy := 0, 0
			for i := range y {
				k := 1
				if rng.IntN(3) == 0 {
					k = 2 + rng.IntN(4) // 2…5
					heavy++
				}
				w[i] = float64(k)
				for range k {
					dupS = append(dupS, s[i])
					dupY = append(dupY, y[i])
				}
				if y[i] {
					pos++
				}
			}
			if pos < 10 || pos > len(y)-10 || heavy < 50 {
				t.Fatalf("%d of %d rows have the outcome and %d weigh more than 1: not a useful data set", pos, len(y), heavy)
			}
			dupRec := newRecord(t, mem, col{name: "s", vals: dupS})
			defer dupRec.Release()

			cw, err := models.CalibrateWeighted(ctx, raw{}, rec, y, w, tc.method)
			if err != nil {
				t.Fatal(err)
			}
			cd, err := models.Calibrate(ctx, raw{}, dupRec, dupY, tc.method)
			if err != nil {
				t.Fatal(err)
			}
			fw, _ := fittedOf(t, cw)
			fd, _ := fittedOf(t, cd)
			switch tc.method {
			case models.Platt:
				if fw.A == 0 || !near(fw.A, fd.A, 1e-9) || !near(fw.B, fd.B, 1e-9) {
					t.Errorf("weighted a, b = %v, %v; duplicated %v, %v", fw.A, fw.B, fd.A, fd.B)
				}
			case models.Isotonic:
				if len(fw.Xs) < 2 || len(fw.Xs) != len(fd.Xs) || len(fw.Ys) != len(fd.Ys) {
					t.Fatalf("weighted fit has %d steps, duplicated %d", len(fw.Xs), len(fd.Xs))
				}
				for i := range fw.Xs {
					// Rates are exact (integer weights and counts); a step's
					// centre adds k·s once instead of s k times.
					if fw.Ys[i] != fd.Ys[i] || !near(fw.Xs[i], fd.Xs[i], 1e-12) {
						t.Errorf("step %d: weighted (%v, %v), duplicated (%v, %v)", i, fw.Xs[i], fw.Ys[i], fd.Xs[i], fd.Ys[i])
					}
				}
			}
		})
	}
}

// TestCalibrateNilWeights: no weights, or all weights 1, fit exactly what
// Calibrate fits.
func TestCalibrateNilWeights(t *testing.T) {
	mem := checkedAllocator(t)
	ctx := context.Background()
	for _, method := range []string{models.Platt, models.Isotonic} {
		for _, counts := range []bool{false, true} {
			rec, y, _ := planted(t, mem, 5000, 4, counts)
			ones := make([]float64, len(y))
			for i := range ones {
				ones[i] = 1
			}
			c, err := models.Calibrate(ctx, raw{}, rec, y, method)
			if err != nil {
				t.Fatal(err)
			}
			_, want := fittedOf(t, c)
			for name, w := range map[string][]float64{"nil": nil, "all ones": ones} {
				cw, err := models.CalibrateWeighted(ctx, raw{}, rec, y, w, method)
				if err != nil {
					t.Fatal(err)
				}
				if _, got := fittedOf(t, cw); !bytes.Equal(got, want) {
					t.Errorf("%s, counts %v, %s weights: saved form\n%s\nwant\n%s", method, counts, name, got, want)
				}
				if cw.ID() != c.ID() {
					t.Errorf("%s, counts %v, %s weights: ID %s; want %s", method, counts, name, cw.ID(), c.ID())
				}
			}
			rec.Release()
		}
	}
}

// TestCalibrateWeightedSample is what weights are for: calibrating on every
// row with the outcome and a share q of those without, each kept row
// without the outcome weighing 1/q, gives about the probabilities a fit on
// all rows gives; the same sample unweighted overstates them.
func TestCalibrateWeightedSample(t *testing.T) {
	mem := checkedAllocator(t)
	ctx := context.Background()
	const n, q = 20000, 0.2
	rng := rand.New(rand.NewPCG(21, 5))
	s := make([]float64, n)
	y := make([]bool, n)
	pos := 0
	for i := range s {
		l := -3.5 + rng.NormFloat64()           // true log-odds: about 5% have the outcome
		s[i] = 1 / (1 + math.Exp(-(0.6*l + 1))) // mis-calibrated, rightly ordered
		if y[i] = rng.Float64() < 1/(1+math.Exp(-l)); y[i] {
			pos++
		}
	}
	base := float64(pos) / n
	if base < 0.03 || base > 0.07 {
		t.Fatalf("base rate %.3f; the test wants about 5%%", base)
	}
	var sampS, sampW []float64
	var sampY []bool
	for i := range s {
		switch {
		case y[i]:
			sampW = append(sampW, 1)
		case rng.Float64() < q:
			sampW = append(sampW, 1/q)
		default:
			continue
		}
		sampS = append(sampS, s[i])
		sampY = append(sampY, y[i])
	}
	full := newRecord(t, mem, col{name: "s", vals: s})
	defer full.Release()
	samp := newRecord(t, mem, col{name: "s", vals: sampS})
	defer samp.Release()

	tests := []struct {
		method  string
		maxDiff float64
	}{
		{models.Platt, 0.01},
		{models.Isotonic, 0.01},
	}
	for _, tc := range tests {
		t.Run(tc.method, func(t *testing.T) {
			scoreWith := func(rec arrow.Record, y []bool, w []float64) []float64 {
				t.Helper()
				c, err := models.CalibrateWeighted(ctx, raw{}, rec, y, w, tc.method)
				if err != nil {
					t.Fatal(err)
				}
				p, err := c.Score(ctx, full)
				if err != nil {
					t.Fatal(err)
				}
				return p
			}
			want := scoreWith(full, y, nil)
			weighted := scoreWith(samp, sampY, sampW)
			unweighted := scoreWith(samp, sampY, nil)
			var diffW, diffU, meanW, meanU float64
			for i := range want {
				diffW += math.Abs(weighted[i]-want[i]) / n
				diffU += math.Abs(unweighted[i]-want[i]) / n
				meanW += weighted[i] / n
				meanU += unweighted[i] / n
			}
			t.Logf("base rate %.4f; weighted: mean %.4f, |Δ| %.4f; unweighted: mean %.4f, |Δ| %.4f", base, meanW, diffW, meanU, diffU)
			if diffW > tc.maxDiff {
				t.Errorf("weighted sample's probabilities differ from the full fit's by %.4f on average; want at most %.2f", diffW, tc.maxDiff)
			}
			if math.Abs(meanW-base) > 0.01 {
				t.Errorf("weighted sample's mean probability %.4f; base rate %.4f", meanW, base)
			}
			if meanU < 2*base || diffU < 5*tc.maxDiff {
				t.Errorf("unweighted sample's mean probability %.4f (|Δ| %.4f) is not clearly off the base rate %.4f: the test cannot tell weights from none", meanU, diffU, base)
			}
		})
	}
}

func TestCalibrateWeightedErrors(t *testing.T) {
	mem := checkedAllocator(t)
	rec, y, _ := planted(t, mem, 100, 1, false)
	defer rec.Release()
	ones := func(n int) []float64 {
		w := make([]float64, n)
		for i := range w {
			w[i] = 1
		}
		return w
	}
	with := func(i int, v float64) []float64 {
		w := ones(len(y))
		w[i] = v
		return w
	}
	huge := ones(len(y))
	huge[0], huge[1] = math.MaxFloat64, math.MaxFloat64
	tests := []struct {
		name string
		w    []float64
	}{
		{"too few", ones(len(y) - 1)},
		{"too many", ones(len(y) + 1)},
		{"empty", []float64{}},
		{"zero", with(5, 0)},
		{"negative zero", with(5, math.Copysign(0, -1))},
		{"negative", with(5, -1)},
		{"NaN", with(5, math.NaN())},
		{"+Inf", with(5, math.Inf(1))},
		{"-Inf", with(5, math.Inf(-1))},
		{"sum overflows", huge},
	}
	for _, tc := range tests {
		for _, method := range []string{models.Platt, models.Isotonic} {
			c, err := models.CalibrateWeighted(context.Background(), raw{}, rec, y, tc.w, method)
			if err == nil {
				t.Errorf("%s weights, %s: accepted (%v)", tc.name, method, c)
			} else if !strings.HasPrefix(err.Error(), "calibrate: ") {
				t.Errorf("%s weights, %s: error %q does not say it is calibration's", tc.name, method, err)
			}
		}
	}
}
