package models_test

import (
	"context"
	"math"
	"math/rand/v2"
	"sort"
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

func TestCalibrate(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ctx := context.Background()
	tests := []struct {
		name   string
		method string
		counts bool
	}{
		{"platt on probabilities", models.Platt, false},
		{"isotonic on probabilities", models.Isotonic, false},
		{"isotonic on flag counts", models.Isotonic, true},
		{"platt on flag counts", models.Platt, true},
	}
	for _, tc := range tests {
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
