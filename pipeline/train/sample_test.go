package train

import (
	"context"
	"hash/fnv"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
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
	backtest := func(max int) (rows, pos []int, bt pipeline.Backtest) {
		return boundedBacktest(t, max, nil)
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

// boundedBacktest runs the backtest of one counted candidate on 700
// households with MaxTrainingRows max (0: no bound) and the calibration
// cal (nil: none), and returns each fit's rows and positives and
// backtest.json.
func boundedBacktest(t *testing.T, max int, cal func(context.Context, pipeline.Model, arrow.Record, []bool, []float64) (pipeline.Model, error)) (rows, pos []int, bt pipeline.Backtest) {
	t.Helper()
	start := time.Date(2024, 7, 22, 0, 0, 0, 0, time.UTC)
	end := time.Date(2026, 7, 19, 0, 0, 0, 0, time.UTC)
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
			MaxTrainingRows: max, Calibrate: cal,
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

// calRecord is what one calibration saw: its rows, outcomes and the
// weighted count of its rows.
type calRecord struct {
	rows, pos int
	weight    float64
}

// TestCalibrationRowsBounded: with the bound, a calibration keeps every row
// with the outcome and fewer rows in all, and its weights add up to about
// the rows it stands for; without the bound it sees every row, unweighted.
func TestCalibrationRowsBounded(t *testing.T) {
	backtest := func(max int) (cals []calRecord) {
		boundedBacktest(t, max, func(_ context.Context, m pipeline.Model, feats arrow.Record, labels []bool, w []float64) (pipeline.Model, error) {
			c := calRecord{rows: int(feats.NumRows()), pos: countTrue(labels)}
			for i := range labels {
				c.weight++
				if w != nil {
					c.weight += w[i] - 1
				}
			}
			cals = append(cals, c)
			return m, nil
		})
		return cals
	}
	all, bounded := backtest(0), backtest(200)
	if len(all) == 0 || len(all) != len(bounded) {
		t.Fatalf("%d calibrations bounded, %d not", len(bounded), len(all))
	}
	for i, b := range bounded {
		a := all[i]
		if a.weight != float64(a.rows) {
			t.Errorf("calibration %d unbounded: weights add to %g over %d rows; want every row once", i, a.weight, a.rows)
		}
		if b.rows >= a.rows || b.pos != a.pos {
			t.Errorf("calibration %d: %d rows, %d with the outcome bounded; %d, %d not: want fewer rows, every outcome", i, b.rows, b.pos, a.rows, a.pos)
		}
		if math.Abs(b.weight-float64(a.rows)) > 0.25*float64(a.rows) {
			t.Errorf("calibration %d: the bounded rows weigh %.0f; want about the %d rows they stand for", i, b.weight, a.rows)
		}
	}
}

// TestSnapshotsLetGo: once the backtest has drawn a training date's rows
// it lets the snapshot go, and keeps the test dates' whole; each date is
// built once.
func TestSnapshotsLetGo(t *testing.T) {
	start := time.Date(2024, 7, 22, 0, 0, 0, 0, time.UTC)
	end := time.Date(2026, 7, 19, 0, 0, 0, 0, time.UTC)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	var rows, pos []int
	feats := &countingFeatures{gridFeatures: gridFeatures{n: 300, start: start, end: end}, built: map[string]int{}}
	stages := backtestStages(t, Config{
		Candidates: []pipeline.Candidate{{Name: "x", Trainer: rowCounter{&rows, &pos}}},
		Snapshots:  3, StepWeeks: 4, MinHistoryWeeks: 26, Capacity: 20, Workers: 2,
		Evaluate: func(scores []float64, _ []bool, k int) pipeline.EvalMetrics {
			return pipeline.EvalMetrics{N: len(scores), K: k}
		},
	})
	var held, gone int
	stages = append(stages, pipeline.StageFunc("check", func(_ context.Context, st *pipeline.State) error {
		tested := map[string]bool{}
		for _, f := range st.Backtest.Folds {
			tested[f.AsOf] = true
			if _, ok := st.Cached(mustDate(t, f.AsOf)); !ok {
				t.Errorf("test date %s: its snapshot was let go; the audit reads it", f.AsOf)
			}
		}
		for d := range feats.built {
			if _, ok := st.Cached(mustDate(t, d)); ok {
				held++
				if !tested[d] {
					t.Errorf("training date %s: its snapshot is still held after its rows were drawn", d)
				}
			} else {
				gone++
			}
		}
		return nil
	}))
	_, err := pipeline.Run(context.Background(), pipeline.Options{
		RunID: "20261124T020000Z", RunDir: t.TempDir(), AsOf: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC),
		Features: feats, HorizonWeeks: 26, Mem: mem, Log: zerolog.Nop(), Stages: stages,
	})
	if err != nil {
		t.Fatalf("backtest: %v", err)
	}
	if held == 0 || gone == 0 {
		t.Errorf("%d snapshots held, %d let go: want both", held, gone)
	}
	for d, n := range feats.built {
		if n != 1 {
			t.Errorf("snapshot %s built %d times; want once", d, n)
		}
	}
}

// countingFeatures counts the snapshots built of each date.
type countingFeatures struct {
	gridFeatures
	mu    sync.Mutex
	built map[string]int
}

func (c *countingFeatures) Build(ctx context.Context, mem memory.Allocator, asOf time.Time) (*pipeline.FeatureTable, error) {
	c.mu.Lock()
	c.built[asOf.Format(time.DateOnly)]++
	c.mu.Unlock()
	return c.gridFeatures.Build(ctx, mem, asOf)
}

func mustDate(t *testing.T, s string) time.Time {
	t.Helper()
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
