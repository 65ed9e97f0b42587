package train

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/rs/zerolog"

	"earlyhelp/pipeline"
	"earlyhelp/pipeline/atomicfile"
	"earlyhelp/pipeline/rundir"
)

func TestNegativeShare(t *testing.T) {
	tests := []struct {
		max, rows int
		want      float64
	}{
		{0, 1_000_000, 1},     // no bound
		{500_000, 103_177, 1}, // the demo council: below the bound, nothing sampled
		{500_000, 500_000, 1},
		{500_000, 2_000_000, 0.25},
	}
	for _, tc := range tests {
		if got := negativeShare(tc.max, tc.rows); got != tc.want {
			t.Errorf("negativeShare(%d, %d) = %g; want %g", tc.max, tc.rows, got, tc.want)
		}
	}
}

// sampleTable is n households h0000… with every seventh one positive.
func sampleTable(t *testing.T, mem memory.Allocator, n int) (arrow.Record, []bool) {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: pipeline.ColHousehold, Type: arrow.BinaryTypes.String},
		{Name: "x", Type: arrow.PrimitiveTypes.Float64},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	labels := make([]bool, n)
	for i := range n {
		b.Field(0).(*array.StringBuilder).Append(fmt.Sprintf("h%05d", i))
		b.Field(1).(*array.Float64Builder).Append(float64(i))
		labels[i] = i%7 == 0
	}
	return b.NewRecord(), labels
}

// TestSampleNegatives: every row with the outcome stays, about the share
// asked of the others, the same rows on every call for a date (so every
// candidate and every rerun learns from the same rows), other rows on
// another date, and the kept labels line up with the kept rows.
func TestSampleNegatives(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	const n, q = 20000, 0.25
	d1, d2 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 30, 0, 0, 0, 0, time.UTC)
	kept := func(d time.Time) ([]float64, []bool) {
		rec, labels := sampleTable(t, mem, n)
		out, lab, err := sampleNegatives(mem, rec, labels, d, q)
		if err != nil {
			t.Fatal(err)
		}
		defer out.Release()
		xs := slices.Clone(out.Column(1).(*array.Float64).Float64Values())
		if int(out.NumRows()) != len(lab) {
			t.Fatalf("%d rows but %d labels", out.NumRows(), len(lab))
		}
		return xs, lab
	}
	a, labA := kept(d1)
	pos, neg := 0, 0
	for i, x := range a {
		if want := int(x)%7 == 0; labA[i] != want {
			t.Fatalf("row %d (x=%g): label %v; want %v", i, x, labA[i], want)
		}
		if labA[i] {
			pos++
		} else {
			neg++
		}
	}
	if wantPos := (n + 6) / 7; pos != wantPos {
		t.Errorf("kept %d rows with the outcome; want all %d", pos, wantPos)
	}
	if share := float64(neg) / float64(n-(n+6)/7); math.Abs(share-q) > 0.02 {
		t.Errorf("kept %.3f of the rows without the outcome; want about %.2f", share, q)
	}
	if again, _ := kept(d1); !slices.Equal(a, again) {
		t.Error("two draws for one date kept different rows")
	}
	if other, _ := kept(d2); slices.Equal(a, other) {
		t.Error("another date kept the same rows: each date should draw its own")
	}
	rec, labels := sampleTable(t, mem, 10)
	out, lab, err := sampleNegatives(mem, rec, labels, d1, 1)
	if err != nil {
		t.Fatal(err)
	}
	if out != rec || len(lab) != 10 {
		t.Error("a share of 1 should hand the rows back as they are")
	}
	out.Release()
}

// rowCounter trains xModel and counts each fit's rows and positives.
type rowCounter struct{ rows, pos *[]int }

func (c rowCounter) Fit(_ context.Context, feats arrow.Record, labels []bool) (pipeline.Model, error) {
	*c.rows = append(*c.rows, int(feats.NumRows()))
	*c.pos = append(*c.pos, countTrue(labels))
	return fittedX{}, nil
}

// TestMaxTrainingRows: with the bound, every fit keeps all its positives
// on fewer rows, while the backtest's training rows and base rate are
// still those of the whole population (the bands are drawn on it).
func TestMaxTrainingRows(t *testing.T) {
	start := time.Date(2024, 7, 22, 0, 0, 0, 0, time.UTC)
	end := time.Date(2026, 7, 19, 0, 0, 0, 0, time.UTC)
	backtest := func(max int) (rows, pos []int, bt pipeline.Backtest) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		dir := t.TempDir()
		_, err := pipeline.Run(context.Background(), pipeline.Options{
			RunID: "20261124T020000Z", RunDir: dir, AsOf: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC),
			Features: gridFeatures{n: 700, start: start, end: end}, HorizonWeeks: 26,
			Mem: mem, Log: zerolog.Nop(),
			Stages: backtestStages(t, Config{
				Candidates: []pipeline.Candidate{{Name: "x", Trainer: rowCounter{&rows, &pos}}},
				Snapshots:  3, StepWeeks: 4, MinHistoryWeeks: 26, Capacity: 20, Workers: 1,
				MaxTrainingRows: max,
				Evaluate: func(scores []float64, _ []bool, k int) pipeline.EvalMetrics {
					return pipeline.EvalMetrics{N: len(scores), K: k}
				},
			}),
		})
		if err != nil {
			t.Fatalf("backtest: %v", err)
		}
		if err := atomicfile.ReadJSON(rundir.Open(dir).BacktestJSON(), &bt); err != nil {
			t.Fatal(err)
		}
		return rows, pos, bt
	}
	allRows, allPos, all := backtest(0)
	rows, pos, bounded := backtest(200)
	if len(rows) == 0 || len(rows) != len(allRows) {
		t.Fatalf("%d fits bounded, %d not", len(rows), len(allRows))
	}
	for i := range rows {
		if rows[i] >= allRows[i] || pos[i] != allPos[i] {
			t.Errorf("fit %d: %d rows, %d positives bounded; %d rows, %d positives not: want fewer rows, every positive",
				i, rows[i], pos[i], allRows[i], allPos[i])
		}
	}
	for i, f := range bounded.Folds {
		if f.TrainingRows != all.Folds[i].TrainingRows || f.TrainingPos != all.Folds[i].TrainingPos {
			t.Errorf("fold %s: training rows %d (%d positive) bounded, %d (%d) not: the books are of the population",
				f.AsOf, f.TrainingRows, f.TrainingPos, all.Folds[i].TrainingRows, all.Folds[i].TrainingPos)
		}
	}
}

// TestFNV64a: the inline hash is hash/fnv's FNV-1a of the two strings
// joined, so the rows a bound keeps are those hash/fnv would choose.
func TestFNV64a(t *testing.T) {
	for _, tc := range [][2]string{{"", ""}, {"h00001", "2026-03-02"}, {"Hé", "x"}} {
		h := fnv.New64a()
		h.Write([]byte(tc[0] + tc[1]))
		if got, want := fnv64a(tc[0], tc[1]), h.Sum64(); got != want {
			t.Errorf("fnv64a(%q, %q) = %x; want %x", tc[0], tc[1], got, want)
		}
	}
}
