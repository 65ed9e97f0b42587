package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"path/filepath"
	"time"
)

// evaluate measures the configured model the honest way before it is
// trusted: trained only on snapshots whose outcomes were known by the test
// date, and only on households outside the test group, then scored on the
// test group. A random order is reported beside it as the floor.
func (r *run) evaluate(ctx context.Context) error {
	test := r.opts.AsOf.AddDate(0, 0, -7*r.opts.HorizonWeeks)
	dates := r.trainingDates(test)
	m, rows, pos, err := r.fit(ctx, dates, func(h string) bool { return !inTestGroup(h) })
	if err != nil {
		return fmt.Errorf("holdout model: %w", err)
	}
	s, err := r.snapshotAt(ctx, test)
	if err != nil {
		return err
	}
	rec, labels, err := r.filter(ctx, s, inTestGroup)
	if err != nil {
		return err
	}
	defer rec.Release()
	if len(labels) == 0 {
		return fmt.Errorf("no households in the test group on %s", test.Format(time.DateOnly))
	}
	scores, err := m.Score(ctx, rec)
	if err != nil {
		return fmt.Errorf("holdout scores: %w", err)
	}
	hh, err := stringColumn(rec, ColHousehold)
	if err != nil {
		return err
	}
	// The random baseline ranks in an arbitrary but fixed order and, as a
	// probability, says the training base rate for everyone: its Brier
	// score is then the floor a model must beat too.
	base := float64(pos) / float64(rows)
	random := make([]float64, hh.Len())
	for i := range random {
		h := fnv.New64a()
		h.Write([]byte(hh.Value(i)))
		random[i] = base + 1e-9*float64(h.Sum64()>>11)/(1<<53)
	}
	// The list is sized for the whole borough; the test group is a fifth of it.
	k := max(1, r.opts.Capacity/5)
	ev := &Evaluation{
		TestAsOf: test.Format(time.DateOnly), TrainHouseholds: rows, TestHouseholds: len(labels),
		Models: map[string]EvalMetrics{
			r.opts.ModelKind: r.opts.Evaluate(scores, labels, k),
			"random":         r.opts.Evaluate(random, labels, k),
		},
	}
	for _, d := range dates {
		ev.TrainingDates = append(ev.TrainingDates, d.Format(time.DateOnly))
	}
	r.man.Evaluation = ev
	if r.opts.Metrics != nil {
		for name, em := range ev.Models {
			r.opts.Metrics.ModelAUC.WithLabelValues(name, "holdout").Set(em.AUC)
		}
	}
	b, err := json.MarshalIndent(ev, "", "  ")
	if err != nil {
		return err
	}
	if err := WriteFileAtomic(filepath.Join(r.runDir, "evaluation", "holdout.json"), append(b, '\n'), 0o640); err != nil {
		return err
	}
	r.output("evaluation/holdout.json")
	if err := r.writeModelCard(); err != nil {
		return fmt.Errorf("model card: %w", err)
	}
	mm := ev.Models[r.opts.ModelKind]
	r.log.Info().Str("test_as_of", ev.TestAsOf).Float64("auc", mm.AUC).Float64("precision_at_k", mm.PrecisionAtK).
		Int("k", k).Msg("holdout evaluated")
	return nil
}
