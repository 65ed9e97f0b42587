package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"path/filepath"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/compute"
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

// Evaluation is the run's out-of-time, out-of-household check: a model
// trained on snapshots a full horizon before TestAsOf, on households outside
// the test group, scored on the test group at TestAsOf.
type Evaluation struct {
	TestAsOf        string                 `json:"test_as_of"`
	TrainingDates   []string               `json:"training_as_of_dates"`
	TrainHouseholds int                    `json:"training_rows"`
	TestHouseholds  int                    `json:"test_households"`
	Models          map[string]EvalMetrics `json:"models"`
}

type snapshot struct {
	table  *FeatureTable
	labels []bool
}

// snapshotAt builds (once per run) the features and labels as of a date.
func (r *run) snapshotAt(ctx context.Context, asOf time.Time) (*snapshot, error) {
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
	r.snapshots[key] = s
	return s, nil
}

func (r *run) releaseSnapshots() {
	for k, s := range r.snapshots {
		s.table.Release()
		delete(r.snapshots, k)
	}
}

// trainingDates are the as-of dates of the snapshots a model for date d is
// trained on: the latest a full horizon before d, so every label is known
// by d.
func (r *run) trainingDates(d time.Time) []time.Time {
	out := make([]time.Time, r.opts.Snapshots)
	for i := range out {
		out[i] = d.AddDate(0, 0, -7*(r.opts.HorizonWeeks+i*r.opts.StepWeeks))
	}
	return out
}

// fit trains on the snapshots of dates, keeping the rows keep allows.
func (r *run) fit(ctx context.Context, dates []time.Time, keep func(household string) bool) (Model, int, int, error) {
	var recs []arrow.Record
	var labels []bool
	defer func() {
		for _, rec := range recs {
			rec.Release()
		}
	}()
	for _, d := range dates {
		s, err := r.snapshotAt(ctx, d)
		if err != nil {
			return nil, 0, 0, err
		}
		rec, lab, err := r.filter(ctx, s, keep)
		if err != nil {
			return nil, 0, 0, err
		}
		recs = append(recs, rec)
		labels = append(labels, lab...)
	}
	all, err := concat(r.mem, recs)
	if err != nil {
		return nil, 0, 0, err
	}
	defer all.Release()
	pos := 0
	for _, l := range labels {
		if l {
			pos++
		}
	}
	m, err := r.opts.Trainer.Fit(ctx, all, labels)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("fit on %d rows (%d positive): %w", len(labels), pos, err)
	}
	return m, len(labels), pos, nil
}

// filter returns the rows of a snapshot whose household keep allows.
func (r *run) filter(ctx context.Context, s *snapshot, keep func(string) bool) (arrow.Record, []bool, error) {
	hh, err := stringColumn(s.table.Record, ColHousehold)
	if err != nil {
		return nil, nil, err
	}
	mb := array.NewBooleanBuilder(r.mem)
	defer mb.Release()
	var labels []bool
	for i := 0; i < hh.Len(); i++ {
		k := keep == nil || keep(hh.Value(i))
		mb.Append(k)
		if k {
			labels = append(labels, s.labels[i])
		}
	}
	mask := mb.NewBooleanArray()
	defer mask.Release()
	rec, err := compute.FilterRecordBatch(ctx, s.table.Record, mask, compute.DefaultFilterOptions())
	if err != nil {
		return nil, nil, err
	}
	return rec, labels, nil
}

// inTestGroup puts a fifth of households, by a hash of their pseudonym, in
// the evaluation's test group, so no household is in both training and test.
func inTestGroup(household string) bool {
	h := fnv.New32a()
	h.Write([]byte(household))
	return h.Sum32()%5 == 0
}

// train fits the model that scores this run, on every household.
func (r *run) train(ctx context.Context) error {
	dates := r.trainingDates(r.opts.AsOf)
	m, rows, pos, err := r.fit(ctx, dates, nil)
	if err != nil {
		return err
	}
	r.model, r.baseRate = m, float64(pos)/float64(rows)
	mm := &ModelManifest{Kind: r.opts.ModelKind, TrainingRows: rows, Positives: pos, HorizonWeeks: r.opts.HorizonWeeks}
	for _, d := range dates {
		mm.TrainingDates = append(mm.TrainingDates, d.Format(time.DateOnly))
	}
	if id, ok := m.(interface{ ID() string }); ok {
		mm.ID = id.ID()
	}
	if f, ok := m.(interface{ Features() []string }); ok {
		mm.Features = f.Features()
	}
	r.man.Model = mm
	if j, ok := m.(json.Marshaler); ok {
		b, err := j.MarshalJSON()
		if err != nil {
			return fmt.Errorf("model artifact: %w", err)
		}
		if err := WriteFileAtomic(filepath.Join(r.runDir, "model", "model.json"), b, 0o640); err != nil {
			return err
		}
		r.output("model/model.json")
	}
	r.log.Info().Str("model", mm.ID).Int("rows", rows).Int("positives", pos).Msg("model trained")
	return nil
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
