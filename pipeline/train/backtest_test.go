package train

import (
	"bytes"
	"context"
	"earlyhelp/pipeline"
	"earlyhelp/pipeline/pipelinetest"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/rs/zerolog"
)

// gridFeatures is a FeatureSet of n households on every date, each with one
// feature; its history runs from start to end.
type gridFeatures struct {
	pipelinetest.NoExtras
	n          int
	start, end time.Time
}

func (g gridFeatures) Build(_ context.Context, mem memory.Allocator, asOf time.Time) (*pipeline.FeatureTable, error) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: pipeline.ColHousehold, Type: arrow.BinaryTypes.String},
		{Name: pipeline.ColAsOf, Type: arrow.FixedWidthTypes.Date32},
		{Name: "x", Type: arrow.PrimitiveTypes.Float64},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	for i := 0; i < g.n; i++ {
		b.Field(0).(*array.StringBuilder).Append(fmt.Sprintf("h%04d", i))
		b.Field(1).(*array.Date32Builder).Append(arrow.Date32FromTime(asOf))
		b.Field(2).(*array.Float64Builder).Append(float64(i % 7))
	}
	return &pipeline.FeatureTable{AsOf: asOf, Record: b.NewRecord()}, nil
}

func (g gridFeatures) Labels(_ context.Context, t *pipeline.FeatureTable, _ int) ([]bool, error) {
	out := make([]bool, t.Record.NumRows())
	for i := range out {
		out[i] = i%7 == 6
	}
	return out, nil
}

func (g gridFeatures) Describe(_ *pipeline.FeatureTable, _ int, r pipeline.Reason) string {
	return r.Feature
}

func (g gridFeatures) DataSpan(context.Context, memory.Allocator) (time.Time, time.Time, error) {
	return g.start, g.end, nil
}

// seen is what a model was fitted or calibrated on.
type seen struct {
	households map[string]bool
	dates      map[time.Time]bool
}

func seenIn(rec arrow.Record) seen {
	s := seen{households: map[string]bool{}, dates: map[time.Time]bool{}}
	hh, _ := pipeline.StringColumn(rec, pipeline.ColHousehold)
	d := rec.Column(1).(*array.Date32)
	for i := 0; i < int(rec.NumRows()); i++ {
		s.households[hh.Value(i)] = true
		s.dates[d.Value(i).ToTime()] = true
	}
	return s
}

// recorder trains a model that scores x and remembers every fit.
type recorder struct{ fits *[]seen }

func (r recorder) Fit(_ context.Context, feats arrow.Record, _ []bool) (pipeline.Model, error) {
	*r.fits = append(*r.fits, seenIn(feats))
	return fittedX{}, nil
}

// fittedX is what recorder trains, told apart from the rules baseline's
// xModel when calibrating.
type fittedX struct{ xModel }

type xModel struct{ pipelinetest.ModelExtras }

func (xModel) Score(_ context.Context, feats arrow.Record) ([]float64, error) {
	return append([]float64(nil), feats.Column(2).(*array.Float64).Float64Values()...), nil
}
func (xModel) Explain(arrow.Record, int, int) []pipeline.Reason { return nil }

// TestBacktestOutOfTimeAndGrouped is issue 5's acceptance test: in every
// fold, no household of the test group is in the training or calibration
// data, every training and calibration date's outcomes were known by the
// test date, and nothing is drawn from before the history's start.
func TestBacktestOutOfTimeAndGrouped(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	// The candidate and the rules baseline fit in goroutines of their own,
	// each in fold and group order: one slice each.
	var fits, cals, rulesCals []seen
	start := time.Date(2024, 7, 22, 0, 0, 0, 0, time.UTC)
	end := time.Date(2026, 7, 19, 0, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	const horizon = 26
	man, err := pipeline.Run(context.Background(), pipeline.Options{
		RunID:        "20261124T020000Z",
		RunDir:       dir,
		AsOf:         time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC),
		Features:     gridFeatures{n: 200, start: start, end: end},
		HorizonWeeks: horizon,
		Mem:          mem,
		Log:          zerolog.Nop(),
		Stages: backtestStages(t, Config{
			Candidates: []pipeline.Candidate{{Name: "x", Trainer: recorder{&fits}}},
			Rules:      xModel{},
			Calibrate: func(_ context.Context, m pipeline.Model, feats arrow.Record, _ []bool, _ []float64) (pipeline.Model, error) {
				if _, ok := m.(fittedX); ok {
					cals = append(cals, seenIn(feats))
				} else {
					rulesCals = append(rulesCals, seenIn(feats))
				}
				return m, nil
			},
			Snapshots:       3,
			StepWeeks:       4,
			MinHistoryWeeks: 26,
			Evaluate: func(scores []float64, _ []bool, k int) pipeline.EvalMetrics {
				return pipeline.EvalMetrics{N: len(scores), K: k}
			},
			Capacity: 20,
		}),
	})
	if err != nil {
		t.Fatalf("backtest: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "backtest", "backtest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var bt pipeline.Backtest
	if err := json.Unmarshal(b, &bt); err != nil {
		t.Fatal(err)
	}
	if len(bt.Folds) < 3 || len(bt.Folds) != man.Backtest.Folds {
		t.Fatalf("%d folds (manifest %d); want at least 3", len(bt.Folds), man.Backtest.Folds)
	}
	// Per fold and per group of households: the one candidate is fitted, and
	// it and the rules baseline are calibrated, on the other groups only.
	g := CrossFitGroups
	if len(fits) != g*len(bt.Folds) || len(cals) != g*len(bt.Folds) || len(rulesCals) != g*len(bt.Folds) {
		t.Fatalf("%d fits and %d+%d calibrations for %d folds of %d groups", len(fits), len(cals), len(rulesCals), len(bt.Folds), g)
	}
	minHistory := start.AddDate(0, 0, 7*26)
	heldOut := 0 // groups calibrated on held-out households alone
	for f, fold := range bt.Folds {
		d, _ := time.Parse(time.DateOnly, fold.AsOf)
		if fold.TestHouseholds != 200 || fold.K != 20 {
			t.Errorf("fold %s tested %d households at K %d; want all 200 at the capacity 20", fold.AsOf, fold.TestHouseholds, fold.K)
		}
		for grp := 0; grp < g; grp++ {
			fit, cal, rulesCal := fits[g*f+grp], cals[g*f+grp], rulesCals[g*f+grp]
			for _, s := range []seen{fit, cal, rulesCal} {
				if len(s.households) == 0 {
					t.Fatalf("fold %s group %d: nothing trained", fold.AsOf, grp)
				}
				for h := range s.households {
					if CrossFitGroup(h) == grp {
						t.Errorf("fold %s: household %s of test group %d in its training or calibration", fold.AsOf, h, grp)
					}
				}
				for day := range s.dates {
					if day.AddDate(0, 0, 7*horizon).After(d) {
						t.Errorf("fold %s: trained on %s, whose outcomes were not known by then", fold.AsOf, day.Format(time.DateOnly))
					}
					if day.Before(minHistory) {
						t.Errorf("fold %s: trained on %s, with under 26 weeks of history", fold.AsOf, day.Format(time.DateOnly))
					}
				}
			}
			// Calibration uses every training date too, on households the
			// model never trained on: a model is sharper on its own
			// households, and calibrating on them would teach it
			// over-confidence.
			// (A small council's held-out group may have too few outcomes;
			// then calibration is widened to every household the fold may
			// use, which the run logs as a warning.)
			widened := true
			for h := range fit.households {
				widened = widened && cal.households[h]
			}
			if !widened {
				heldOut++
			}
			for h := range cal.households {
				if fit.households[h] && !widened {
					t.Errorf("fold %s group %d: household %s both trains and calibrates", fold.AsOf, grp, h)
				}
			}
			for c := range cal.dates {
				if !fit.dates[c] {
					t.Errorf("fold %s group %d: calibrated on %s, a date the model did not train on", fold.AsOf, grp, c.Format(time.DateOnly))
				}
			}
		}
		if d.AddDate(0, 0, 7*horizon).After(end.AddDate(0, 0, 1)) {
			t.Errorf("fold %s: its horizon runs past the end of the data (%s)", fold.AsOf, end.Format(time.DateOnly))
		}
		for _, name := range []string{"x", pipeline.BaselineRules, pipeline.BaselineRandom} {
			if fold.Models[name].N != fold.TestHouseholds {
				t.Errorf("fold %s: model %s scored %d of %d", fold.AsOf, name, fold.Models[name].N, fold.TestHouseholds)
			}
		}
	}
	if heldOut == 0 {
		t.Error("every group's calibration was widened: the held-out check above tested nothing")
	}
	if man.List != nil {
		t.Error("a backtest wrote a list")
	}
}

type nopExporter struct{}

func (nopExporter) Export(context.Context, string, *pipeline.List) ([]string, error) { return nil, nil }

func TestCalibrationDeciles(t *testing.T) {
	// Scores equal to the chance of the outcome: every decile's observed rate
	// is near its mean score. Scores doubled: the top deciles are off.
	mk := func(scale float64) []*pipeline.FoldScores {
		f := &pipeline.FoldScores{Scores: map[string][]float64{}}
		for i := 0; i < 20000; i++ {
			p := float64(i%100) / 200 // 0 … 0.495
			f.Scores["m"] = append(f.Scores["m"], math.Min(1, p*scale))
			// A deterministic draw with probability p.
			f.Labels = append(f.Labels, float64((i*7919)%1000)/1000 < p)
		}
		return []*pipeline.FoldScores{f}
	}
	good, bad := calibration(mk(1), "m"), calibration(mk(2), "m")
	if len(good.Bins) != 10 || good.Bins[0].Households != 2000 {
		t.Fatalf("bins = %+v", good.Bins)
	}
	if good.MaxGap > 0.02 {
		t.Errorf("calibrated scores: max gap %.3f; want under 0.02", good.MaxGap)
	}
	if bad.MaxGap < 0.2 {
		t.Errorf("doubled scores: max gap %.3f; want over 0.2", bad.MaxGap)
	}
	for i := 1; i < len(good.Bins); i++ {
		if good.Bins[i].MeanScore < good.Bins[i-1].MeanScore {
			t.Errorf("deciles out of order: %+v", good.Bins)
		}
	}
}

type named struct {
	xModel
	features []string
}

func (n named) Features() []string { return n.features }
func (n named) ID() string         { return "m-1" }

func TestCheckFeatures(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	tbl, _ := gridFeatures{n: 3}.Build(context.Background(), mem, time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC))
	defer tbl.Release()
	if err := pipeline.CheckFeatures(named{features: []string{"x"}}, tbl.Record); err != nil {
		t.Errorf("same features: %v", err)
	}
	err := pipeline.CheckFeatures(named{features: []string{"x", "absence_rate_6w"}}, tbl.Record)
	if err == nil || !strings.Contains(err.Error(), "missing: absence_rate_6w") || !strings.Contains(err.Error(), "m-1") {
		t.Errorf("a model with a feature the table lacks: %v", err)
	}
	err = pipeline.CheckFeatures(named{features: []string{}}, tbl.Record)
	if err == nil || !strings.Contains(err.Error(), "not in the model: x") {
		t.Errorf("a table with a feature the model lacks: %v", err)
	}
}

// orderedTrainer counts its fits, and the k-th model it trains scores x+k:
// like liblinear's L1 solver, whose models depend on the fits the process
// ran before, its models are reproduced only if it fits in the same order.
type orderedTrainer struct {
	fits  *int
	pause time.Duration
}

func (o orderedTrainer) Fit(context.Context, arrow.Record, []bool) (pipeline.Model, error) {
	*o.fits++
	time.Sleep(o.pause) // lets the other candidates' goroutines overtake
	return shiftedX(*o.fits), nil
}

type shiftedX float64

func (s shiftedX) Score(_ context.Context, feats arrow.Record) ([]float64, error) {
	out := append([]float64(nil), feats.Column(2).(*array.Float64).Float64Values()...)
	for i := range out {
		out[i] += float64(s)
	}
	return out, nil
}
func (shiftedX) Explain(arrow.Record, int, int) []pipeline.Reason { return nil }
func (shiftedX) ID() string                                       { return "" }
func (shiftedX) Features() []string                               { return nil }
func (shiftedX) Coefficients() map[string]float64                 { return nil }

// TestBacktestWorkers: the backtest's figures are the same whether its
// models train one at a time or several at once, for candidates whose
// models depend on the order of their fits.
func TestBacktestWorkers(t *testing.T) {
	start := time.Date(2024, 7, 22, 0, 0, 0, 0, time.UTC)
	end := time.Date(2026, 7, 19, 0, 0, 0, 0, time.UTC)
	backtest := func(workers int) []byte {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		var fitsA, fitsB int
		dir := t.TempDir()
		_, err := pipeline.Run(context.Background(), pipeline.Options{
			RunID:        "20261124T020000Z",
			RunDir:       dir,
			AsOf:         time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC),
			Features:     gridFeatures{n: 300, start: start, end: end},
			HorizonWeeks: 26,
			Mem:          mem,
			Log:          zerolog.Nop(),
			Stages: backtestStages(t, Config{
				Candidates: []pipeline.Candidate{
					{Name: "a", Trainer: orderedTrainer{fits: &fitsA, pause: time.Millisecond}},
					{Name: "b", Trainer: orderedTrainer{fits: &fitsB}},
				},
				Rules: xModel{},
				Calibrate: func(_ context.Context, m pipeline.Model, _ arrow.Record, _ []bool, _ []float64) (pipeline.Model, error) {
					return m, nil
				},
				Snapshots:       3,
				StepWeeks:       4,
				MinHistoryWeeks: 26,
				// A checksum of every score in order, so any score that moves shows.
				Evaluate: func(scores []float64, _ []bool, k int) pipeline.EvalMetrics {
					var sum float64
					for i, s := range scores {
						sum += s * float64(i%97+1)
					}
					return pipeline.EvalMetrics{N: len(scores), K: k, AUC: sum}
				},
				Capacity: 20,
				Workers:  workers,
			}),
		})
		if err != nil {
			t.Fatalf("%d workers: %v", workers, err)
		}
		if fitsA == 0 || fitsA != fitsB {
			t.Fatalf("%d workers: candidates fitted %d and %d times", workers, fitsA, fitsB)
		}
		b, err := os.ReadFile(filepath.Join(dir, "backtest", "backtest.json"))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	one := backtest(1)
	var bt pipeline.Backtest
	if err := json.Unmarshal(one, &bt); err != nil {
		t.Fatal(err)
	}
	if len(bt.Folds) < 2 || bt.Folds[0].Models["a"].AUC == bt.Folds[1].Models["a"].AUC {
		t.Fatalf("the folds' figures do not depend on the fit order, so the comparison proves nothing: %+v", bt.Folds)
	}
	for _, workers := range []int{2, 4} {
		if got := backtest(workers); !bytes.Equal(got, one) {
			t.Errorf("backtest.json with %d workers differs from one worker's (%d bytes against %d)", workers, len(got), len(one))
		}
	}
}

// backtestStages are the backtest stage alone, as earlyhelp backtest runs it.
func backtestStages(t *testing.T, cfg Config) []pipeline.Stage {
	t.Helper()
	st, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return st[:1]
}
