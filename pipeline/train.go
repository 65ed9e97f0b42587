package pipeline

import (
	"context"
	"earlyhelp/pipeline/atomicfile"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// EvalMetrics are one model's figures on one evaluation split.
type EvalMetrics struct {
	N                int     `json:"n"`
	Positives        int     `json:"positives"`
	BaseRate         float64 `json:"base_rate"`
	AUC              float64 `json:"auc"`
	AveragePrecision float64 `json:"average_precision"`
	K                int     `json:"k"`
	PrecisionAtK     float64 `json:"precision_at_k"`
	RecallAtK        float64 `json:"recall_at_k"`
	Brier            float64 `json:"brier"`
}

type snapshot struct {
	table  *FeatureTable
	labels []bool
	// intervened marks households that received early help within the
	// horizon: their outcome was changed by the offer, so they are left
	// out of training and calibration (but not out of testing).
	intervened []bool
}

// An InterventionMarker says which households of a table received early
// help within the horizon after its as-of date.
type InterventionMarker interface {
	Intervened(ctx context.Context, t *FeatureTable, horizonWeeks int) ([]bool, error)
}

// snapshotAt builds (once per run) the features and labels as of a date.
// The backtest's models call it from several goroutines; builds are one at
// a time, so a FeatureSet need not be safe for concurrent use.
func (r *run) snapshotAt(ctx context.Context, asOf time.Time) (*snapshot, error) {
	r.snapMu.Lock()
	defer r.snapMu.Unlock()
	key := asOf.Format(time.DateOnly)
	if s, ok := r.snapshots[key]; ok {
		return s, nil
	}
	t, err := r.opts.Features.Build(ctx, r.mem, asOf)
	if err != nil {
		return nil, fmt.Errorf("features as of %s: %w", key, err)
	}
	labels, err := r.opts.Features.Labels(ctx, t, r.opts.HorizonWeeks)
	if err != nil {
		t.Release()
		return nil, fmt.Errorf("labels as of %s: %w", key, err)
	}
	s := &snapshot{table: t, labels: labels}
	if im, ok := r.opts.Features.(InterventionMarker); ok {
		if s.intervened, err = im.Intervened(ctx, t, r.opts.HorizonWeeks); err != nil {
			t.Release()
			return nil, fmt.Errorf("early help as of %s: %w", key, err)
		}
	}
	r.snapshots[key] = s
	return s, nil
}

func (r *run) releaseSnapshots() {
	for k, s := range r.snapshots {
		s.table.Release()
		delete(r.snapshots, k)
	}
}

// filter returns the rows of a snapshot whose household keep allows; for
// training, not those whose outcome an early-help offer changed.
func (r *run) filter(ctx context.Context, s *snapshot, keep func(string) bool, training bool) (arrow.Record, []bool, error) {
	hh, err := stringColumn(s.table.Record, ColHousehold)
	if err != nil {
		return nil, nil, err
	}
	keepRow := make([]bool, hh.Len())
	var labels []bool
	for i := range keepRow {
		k := (keep == nil || keep(hh.Value(i))) && !(training && s.intervened != nil && s.intervened[i])
		keepRow[i] = k
		if k {
			labels = append(labels, s.labels[i])
		}
	}
	rec, err := filterRecord(r.mem, s.table.Record, keepRow, len(labels))
	if err != nil {
		return nil, nil, err
	}
	return rec, labels, nil
}

// appender is an Arrow builder of values of type T.
type appender[T any] interface {
	array.Builder
	Append(T)
	AppendValues([]T, []bool)
}

// keepRows copies the rows of c that keep marks into b and returns the new
// array. Without nulls the kept values go in as one slice, which costs far
// less than appending them one by one.
func keepRows[T any](b appender[T], c arrow.Array, keep []bool, n int, value func(int) T) arrow.Array {
	defer b.Release()
	b.Reserve(n)
	if c.NullN() == 0 {
		vals := make([]T, 0, n)
		for i, k := range keep {
			if k {
				vals = append(vals, value(i))
			}
		}
		b.AppendValues(vals, nil)
		return b.NewArray()
	}
	for i, k := range keep {
		switch {
		case !k:
		case c.IsNull(i):
			b.AppendNull()
		default:
			b.Append(value(i))
		}
	}
	return b.NewArray()
}

// filterRecord keeps the rows of rec that keep marks. A feature table is
// strings, dates and float64s; copying those directly is much cheaper than
// Arrow's general selection kernels on tables this narrow.
func filterRecord(mem memory.Allocator, rec arrow.Record, keep []bool, n int) (arrow.Record, error) {
	cols := make([]arrow.Array, rec.NumCols())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for j, col := range rec.Columns() {
		switch c := col.(type) {
		case *array.Float64:
			cols[j] = keepRows(array.NewFloat64Builder(mem), c, keep, n, c.Value)
		case *array.String:
			cols[j] = keepRows(array.NewStringBuilder(mem), c, keep, n, c.Value)
		case *array.Date32:
			cols[j] = keepRows(array.NewDate32Builder(mem), c, keep, n, c.Value)
		default:
			return nil, fmt.Errorf("feature table column %s is %s: not a string, date or float64",
				rec.Schema().Field(j).Name, col.DataType())
		}
	}
	return array.NewRecord(rec.Schema(), cols, int64(n)), nil
}

// train fits the chosen candidate for this run's date on every household:
// trained on the dates before the latest whose outcomes are known, and
// calibrated on that one.
func (r *run) train(ctx context.Context) error {
	c, err := r.chosen()
	if err != nil {
		return err
	}
	dates := r.foldTraining(r.trainFor, r.start)
	if len(dates) == 0 {
		return fmt.Errorf("no training date has %d weeks of history and a full horizon before %s",
			r.opts.MinHistoryWeeks, r.trainFor.Format(time.DateOnly))
	}
	// A fifth of households calibrates the model the rest train.
	ft, err := r.fitFor(ctx, c, dates, nil, func(h string) bool { return testGroup(h) == 0 })
	if err != nil {
		return err
	}
	r.model, r.baseRate = ft.model, float64(ft.pos)/float64(max(1, ft.rows))
	r.trainDates = ft.train
	r.psiRef = r.psiReference()
	mm := &ModelManifest{Kind: c.Name, TrainingRows: ft.rows, Positives: ft.pos, HorizonWeeks: r.opts.HorizonWeeks}
	for _, d := range ft.train {
		mm.TrainingDates = append(mm.TrainingDates, d.Format(time.DateOnly))
	}
	if !ft.cal.IsZero() && !ft.uncalibrated {
		mm.CalibrationAsOf = ft.cal.Format(time.DateOnly)
	}
	if id, ok := ft.model.(interface{ ID() string }); ok {
		mm.ID = id.ID()
	}
	if f, ok := ft.model.(interface{ Features() []string }); ok {
		mm.Features = f.Features()
	}
	r.man.Model = mm
	var b []byte
	switch {
	case r.opts.SaveModel != nil:
		b, err = r.opts.SaveModel(ft.model, ModelWindow{Kind: c.Name, TrainingDates: ft.train, CalibrationAsOf: ft.cal, HorizonWeeks: r.opts.HorizonWeeks})
	default:
		if j, ok := ft.model.(json.Marshaler); ok {
			b, err = j.MarshalJSON()
		}
	}
	if err != nil {
		return fmt.Errorf("model artifact: %w", err)
	}
	if b != nil {
		if err := atomicfile.WriteFile(filepath.Join(r.runDir, "model", "model.json"), b, 0o640); err != nil {
			return err
		}
		r.output("model/model.json")
	}
	if err := r.writeModelCard(); err != nil {
		return fmt.Errorf("model card: %w", err)
	}
	r.log.Info().Str("model", mm.ID).Str("kind", c.Name).Int("rows", ft.rows).Int("positives", ft.pos).Msg("model trained")
	return nil
}

// chosen is the candidate the backtest chose, or the only one there is.
func (r *run) chosen() (Candidate, error) {
	name := ""
	if r.backtestResult != nil {
		name = r.backtestResult.Chosen
	}
	for _, c := range r.opts.Candidates {
		if name == "" || c.Name == name {
			return c, nil
		}
	}
	return Candidate{}, fmt.Errorf("no candidate model named %q", name)
}

// ModelWindow is what a saved model records about its training.
type ModelWindow struct {
	Kind            string
	TrainingDates   []time.Time
	CalibrationAsOf time.Time // zero without calibration
	HorizonWeeks    int
}

// MarshalJSON writes a metric that could not be computed (NaN, for example
// an AUC with one class only) as null: JSON has no NaN.
func (m EvalMetrics) MarshalJSON() ([]byte, error) {
	num := func(f float64) *float64 {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil
		}
		return &f
	}
	return json.Marshal(struct {
		N                int      `json:"n"`
		Positives        int      `json:"positives"`
		BaseRate         *float64 `json:"base_rate"`
		AUC              *float64 `json:"auc"`
		AveragePrecision *float64 `json:"average_precision"`
		K                int      `json:"k"`
		PrecisionAtK     *float64 `json:"precision_at_k"`
		RecallAtK        *float64 `json:"recall_at_k"`
		Brier            *float64 `json:"brier"`
	}{m.N, m.Positives, num(m.BaseRate), num(m.AUC), num(m.AveragePrecision), m.K,
		num(m.PrecisionAtK), num(m.RecallAtK), num(m.Brier)})
}
