package train

import (
	"context"
	"earlyhelp/pipeline"
	"fmt"
	"sync"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
)

// dateRows are one date's rows for the models of a stage: the households
// a model may learn from on that date (not those whose outcome an
// early-help offer changed), every one with the outcome and, of those
// without, the ones whose draw falls under the larger of the stage's
// training and calibration shares. They are drawn once per date and shared
// by every fold, group and candidate, so the snapshot they came from can be
// let go as soon as they are drawn (issue 25): a 300,000-child backtest
// held some 30 snapshots of 150,000 households at once, a quarter of its
// live heap, to train on a tenth of their rows.
type dateRows struct {
	rec    arrow.Record
	labels []bool
	draw   []float64 // the row's draw in [0, 1), by household and date
	group  []uint8   // the household's test group
	// rows and pos count, by test group, the rows before any was sampled
	// out and those with the outcome: the population a base rate is of.
	rows, pos [CrossFitGroups]int
}

// sampler keeps a stage's dateRows. The shares are fixed from the first
// date drawn, so every fold's training set is a subset of the same draws.
type sampler struct {
	mu sync.Mutex
	// trainFrac is the share of households a model trains on (three
	// groups of five in the backtest, four in the train stage); maxDates
	// the most dates a model trains on.
	trainFrac float64
	maxDates  int
	// keepSnapshot says which snapshots the stage still needs whole after
	// their rows are drawn (the backtest's test dates, the drift
	// reference's dates).
	keepSnapshot func(time.Time) bool

	shared               bool    // the shares are set
	trainShare, calShare float64 // of rows without the outcome kept
	dates                map[string]*dateRows
}

func newSampler(trainFrac float64, maxDates int, keepSnapshot func(time.Time) bool) *sampler {
	return &sampler{trainFrac: trainFrac, maxDates: max(1, maxDates), keepSnapshot: keepSnapshot, dates: map[string]*dateRows{}}
}

func (s *sampler) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, dr := range s.dates {
		dr.rec.Release()
		delete(s.dates, k)
	}
}

// maxCalibrationRows bounds a model's calibration rows as MaxTrainingRows
// bounds its training rows: every row with the outcome is kept and a share
// of the others, each weighted by the inverse of the share, so Platt's
// curve is fitted to the population's rate (models.CalibrateWeighted). A
// 300,000-child fold's held-out fifth over 21 dates is 630,000 rows; two
// parameters need far fewer.
func maxCalibrationRows(maxTraining int) int { return maxTraining / 2 }

// rowsAt returns date d's rows, drawing them on first use.
func (r *run) rowsAt(ctx context.Context, d time.Time) (*dateRows, error) {
	s := r.rows
	s.mu.Lock()
	defer s.mu.Unlock()
	key := d.Format(time.DateOnly)
	if dr, ok := s.dates[key]; ok {
		return dr, nil
	}
	_, held := r.Cached(d)
	snap, err := r.SnapshotAt(ctx, d)
	if err != nil {
		return nil, err
	}
	hh, err := pipeline.StringColumn(snap.Table.Record, pipeline.ColHousehold)
	if err != nil {
		return nil, err
	}
	n := hh.Len()
	draws := make([]float64, n)
	eligible := 0
	for i := range n {
		if snap.Intervened == nil || !snap.Intervened[i] {
			eligible++
		}
	}
	if !s.shared {
		s.shared = true
		s.trainShare = negativeShare(r.opts.MaxTrainingRows, int(float64(eligible)*s.trainFrac)*s.maxDates)
		s.calShare = negativeShare(maxCalibrationRows(r.opts.MaxTrainingRows), eligible/CrossFitGroups*s.maxDates)
	}
	q := max(s.trainShare, s.calShare)
	dr := &dateRows{}
	keep := make([]bool, n)
	day := key
	for i := range n {
		if snap.Intervened != nil && snap.Intervened[i] {
			continue
		}
		g := CrossFitGroup(hh.Value(i))
		y := snap.Labels[i]
		dr.rows[g]++
		u := draw(hh.Value(i), day)
		draws[i] = u
		if y {
			dr.pos[g]++
		}
		if y || q >= 1 || u < q {
			keep[i] = true
			dr.labels = append(dr.labels, y)
			dr.draw = append(dr.draw, u)
			dr.group = append(dr.group, uint8(g))
		}
	}
	if dr.rec, err = filterRecord(r.Mem, snap.Table.Record, keep, len(dr.labels)); err != nil {
		return nil, fmt.Errorf("rows as of %s: %w", key, err)
	}
	if !held && (s.keepSnapshot == nil || !s.keepSnapshot(d)) {
		r.Forget(d)
	}
	s.dates[key] = dr
	return dr, nil
}

// pick selects the rows of dr in groups in, those with the outcome and of
// the others those drawn under share; weights, when asked for, are 1 for a
// row with the outcome and 1/share for the others.
func (r *run) pick(dr *dateRows, in func(g int) bool, share float64, weighted bool) (arrow.Record, []bool, []float64, error) {
	keep, labels, weights := marks(dr, in, share, weighted)
	rec, err := filterRecord(r.Mem, dr.rec, keep, len(labels))
	if err != nil {
		return nil, nil, nil, err
	}
	return rec, labels, weights, nil
}

// marks says which rows of dr pick keeps, and gives their labels and
// weights.
func marks(dr *dateRows, in func(g int) bool, share float64, weighted bool) (keep, labels []bool, weights []float64) {
	keep = make([]bool, len(dr.labels))
	for i, y := range dr.labels {
		if !in(int(dr.group[i])) || !(y || share >= 1 || dr.draw[i] < share) {
			continue
		}
		keep[i] = true
		labels = append(labels, y)
		if weighted {
			w := 1.0
			if !y && share < 1 {
				w = 1 / share
			}
			weights = append(weights, w)
		}
	}
	return keep, labels, weights
}
