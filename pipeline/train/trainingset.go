package train

import (
	"context"
	"earlyhelp/pipeline"
	"fmt"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
)

// trainingSet is what a model for one date learns from: its training rows
// over the training dates and its calibration rows. Every model of one
// fold's test group trains and calibrates on the same households and dates,
// so the backtest builds the set once per group and every candidate (and
// the rules baseline) shares it.
type trainingSet struct {
	train  []time.Time
	cal    time.Time // zero without calibration
	rec    arrow.Record
	labels []bool
	pos    int
	// rows counts the training rows before any negatives were sampled
	// out: the population the base rate is of.
	rows int
	// calRec, calLabels and calWeights are the calibration rows, nil
	// without calibration; calRows counts them before sampling.
	// heldOutPos is the outcomes among the held-out households; when under
	// minCalibrationOutcomes the set widened to every household the fold
	// may use (widened).
	calRec     arrow.Record
	calLabels  []bool
	calWeights []float64
	calRows    int
	heldOutPos int
	widened    bool
}

func (ts *trainingSet) release() {
	if ts.rec != nil {
		ts.rec.Release()
		ts.rec = nil
	}
	if ts.calRec != nil {
		ts.calRec.Release()
		ts.calRec = nil
	}
}

// noGroup is a trainingSet's test or calibration group when there is none.
const noGroup = -1

// trainingSet gathers the rows of a model for use on the households of
// test group test (noGroup: every household), on the dates of
// foldTraining: on every date, group cal's households calibrate and the
// others, but test's, train. (Until December 2026 the latest date
// calibrated and only the older ones trained, which gave up the freshest
// horizon of history; training on every date whose outcome is known raised
// the demo's precision@60 from 0.131 to 0.136.)
//
// Calibration is on households the model was not trained on: the same
// household appears on every training date with overlapping outcome
// windows, so a model looks sharper on its own households than on new
// ones, and calibrating on them would teach it to be over-confident.
//
// The rows come from the stage's sampler (rowsAt): beyond MaxTrainingRows
// every training row with the outcome is kept and a share of the others,
// and likewise for calibration, whose kept rows without the outcome weigh
// the inverse of their share.
func (r *run) trainingSet(ctx context.Context, dates []time.Time, test, cal int) (ts *trainingSet, err error) {
	ts = &trainingSet{train: dates}
	defer func() {
		if err != nil {
			ts.release()
		}
	}()
	if r.opts.Calibrate != nil {
		ts.cal = dates[0]
	}
	if ts.cal.IsZero() {
		cal = noGroup
	}
	trains := func(g int) bool { return g != test && g != cal }
	calibrates := func(g int) bool { return g == cal }
	// Each date's rows are marked, and the marked rows of every date
	// copied once into the set's record.
	var recs []arrow.Record
	var keeps, calKeeps [][]bool
	for _, d := range ts.train {
		dr, err := r.rowsAt(ctx, d)
		if err != nil {
			return nil, err
		}
		for g := range CrossFitGroups {
			if trains(g) {
				ts.rows += dr.rows[g]
			}
		}
		recs = append(recs, dr.rec)
		keep, lab, _ := marks(dr, trains, r.rows.trainShare, false)
		keeps = append(keeps, keep)
		ts.labels = append(ts.labels, lab...)
		if cal == noGroup {
			continue
		}
		ts.calRows += dr.rows[cal]
		keep, lab, w := marks(dr, calibrates, r.rows.calShare, true)
		calKeeps = append(calKeeps, keep)
		ts.calLabels = append(ts.calLabels, lab...)
		ts.calWeights = append(ts.calWeights, w...)
	}
	if ts.rec, err = gather(r.Mem, recs, keeps, len(ts.labels)); err != nil {
		return nil, err
	}
	ts.pos = countTrue(ts.labels)
	if ts.cal.IsZero() {
		return ts, nil
	}
	if cal != noGroup {
		if ts.calRec, err = gather(r.Mem, recs, calKeeps, len(ts.calLabels)); err != nil {
			return nil, err
		}
		if ts.heldOutPos = countTrue(ts.calLabels); ts.heldOutPos >= minCalibrationOutcomes {
			return ts, nil
		}
		// A small council's held-out fifth may have too few outcomes to
		// calibrate on: widen to every household the fold may use, on the
		// latest date.
		ts.calRec.Release()
		ts.calRec, ts.widened = nil, true
	}
	dr, err := r.rowsAt(ctx, ts.cal)
	if err != nil {
		return nil, err
	}
	all := func(g int) bool { return g != test }
	ts.calRows = 0
	for g := range CrossFitGroups {
		if all(g) {
			ts.calRows += dr.rows[g]
		}
	}
	ts.calRec, ts.calLabels, ts.calWeights, err = r.pick(dr, all, r.rows.calShare, true)
	return ts, err
}

// negativeShare is the share of rows without the outcome a training set
// of about rows rows keeps under the bound max (0: none): 1 below it.
func negativeShare(max, rows int) float64 {
	if max <= 0 || rows <= max {
		return 1
	}
	return float64(max) / float64(rows)
}

// fnv64a is FNV-1a over a then b: hash/fnv's sum, without allocating a
// hasher and two byte slices for each of a training set's million rows.
func fnv64a(a, b string) uint64 {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	for _, s := range [2]string{a, b} {
		for i := 0; i < len(s); i++ {
			h = (h ^ uint64(s[i])) * prime
		}
	}
	return h
}

// draw is a row's uniform draw in [0, 1) on a date: FNV-1a of the
// household and the day, mixed by MurmurHash3's finaliser. FNV-1a alone
// moves its top bits little when only a few characters differ, so keys
// alike drew alike: in a test of 700 households named h00000 to h00699, a
// held-out fifth sampled at 0.18 kept rows standing for 191 of its 266.
// Pseudonyms are random hex and suffered less, but a draw should not
// depend on how keys are spelt.
func draw(household, day string) float64 {
	h := fnv64a(household, day)
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return float64(h>>11) / (1 << 53)
}

// fitOn trains c on ts and calibrates it. It only reads ts, so models of
// different candidates may fit on one set at once. prev, if not nil, is
// c's uncalibrated model from the fold before, for a candidate whose fits
// can start from it (pipeline.Candidate.StartFrom).
func (r *run) fitOn(ctx context.Context, c pipeline.Candidate, ts *trainingSet, prev pipeline.Model) (*fitted, error) {
	f := &fitted{train: ts.train, cal: ts.cal}
	if c.Trainer != nil {
		tr := c.Trainer
		if c.StartFrom != nil && prev != nil {
			tr = c.StartFrom(prev)
		}
		m, err := tr.Fit(ctx, ts.rec, ts.labels)
		if err != nil {
			return nil, fmt.Errorf("%s: fit on %d rows (%d positive): %w", c.Name, len(ts.labels), ts.pos, err)
		}
		f.model, f.raw, f.rows, f.pos = m, m, ts.rows, ts.pos
	} else if c.Name == pipeline.BaselineRules {
		f.model = r.opts.Rules
	}
	if f.cal.IsZero() {
		return f, nil
	}
	if ts.widened {
		r.Log.Warn().Str("model", c.Name).Str("calibration_as_of", f.cal.Format(time.DateOnly)).Int("outcomes", ts.heldOutPos).
			Msg("too few outcomes in the held-out households: calibrating on the training households too")
	}
	// If even the widened set has no outcome (or nothing but), leave the
	// scores uncalibrated and say so.
	if pos := countTrue(ts.calLabels); pos == 0 || pos == len(ts.calLabels) {
		r.Log.Warn().Str("model", c.Name).Str("calibration_as_of", f.cal.Format(time.DateOnly)).Int("outcomes", pos).
			Int("households", len(ts.calLabels)).Msg("cannot calibrate without both outcomes: scores left uncalibrated")
		f.uncalibrated = true
		return f, nil
	}
	var err error
	if f.model, err = r.opts.Calibrate(ctx, f.model, ts.calRec, ts.calLabels, ts.calWeights); err != nil {
		return nil, fmt.Errorf("%s: calibration on %s: %w", c.Name, f.cal.Format(time.DateOnly), err)
	}
	if c.Trainer == nil {
		f.rows = ts.calRows
		f.pos = countTrue(ts.calLabels) // every row with the outcome is kept
	}
	return f, nil
}

// fitFor trains c for use on the households of test group test (noGroup:
// every household), on the dates of foldTraining, and calibrates it on
// group cal's (see trainingSet).
func (r *run) fitFor(ctx context.Context, c pipeline.Candidate, dates []time.Time, test, cal int) (*fitted, error) {
	ts, err := r.trainingSet(ctx, dates, test, cal)
	if err != nil {
		return nil, err
	}
	defer ts.release()
	return r.fitOn(ctx, c, ts, nil)
}
