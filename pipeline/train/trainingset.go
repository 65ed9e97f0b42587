package train

import (
	"context"
	"earlyhelp/pipeline"
	"fmt"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
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
	// out: the population the base rate is of. negShare is the share of
	// rows without the outcome kept (1: all), set from the first date.
	rows     int
	negShare float64
	// calRec and calLabels are the calibration rows, nil without
	// calibration. heldOutPos is the outcomes among the held-out households;
	// when under minCalibrationOutcomes the set widened to every household
	// the fold may use (widened).
	calRec     arrow.Record
	calLabels  []bool
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

// trainingSet gathers the rows of a model for use on households keep
// allows, on the dates of foldTraining: on every date, the households
// calibrating says calibrate and the others train. (Until December 2026 the
// latest date calibrated and only the older ones trained, which gave up the
// freshest horizon of history; training on every date whose outcome is
// known raised the demo's precision@60 from 0.131 to 0.136.)
//
// Calibration is on households the model was not trained on (those
// calibrating says; the rest train): the same household appears on every
// training date with overlapping outcome windows, so a model looks sharper
// on its own households than on new ones, and calibrating on them would
// teach it to be over-confident.
func (r *run) trainingSet(ctx context.Context, dates []time.Time, keep, calibrating func(string) bool) (ts *trainingSet, err error) {
	ts = &trainingSet{train: dates}
	defer func() {
		if err != nil {
			ts.release()
		}
	}()
	if r.opts.Calibrate != nil {
		ts.cal = dates[0]
	}
	trainKeep := keep
	calKeep := keep
	if ts.cal.IsZero() || calibrating == nil {
		calibrating = nil
	} else {
		trainKeep = func(h string) bool { return (keep == nil || keep(h)) && !calibrating(h) }
		calKeep = func(h string) bool { return (keep == nil || keep(h)) && calibrating(h) }
	}
	recs := make([]arrow.Record, 0, len(ts.train))
	defer func() {
		for _, rec := range recs {
			rec.Release()
		}
	}()
	var calRecs []arrow.Record
	defer func() {
		for _, rec := range calRecs {
			rec.Release()
		}
	}()
	for _, d := range ts.train {
		s, err := r.SnapshotAt(ctx, d)
		if err != nil {
			return nil, err
		}
		rec, lab, err := r.filter(ctx, s, trainKeep, true)
		if err != nil {
			return nil, err
		}
		ts.rows += len(lab)
		if ts.negShare == 0 {
			ts.negShare = negativeShare(r.opts.MaxTrainingRows, len(lab)*len(ts.train))
		}
		if rec, lab, err = sampleNegatives(r.Mem, rec, lab, d, ts.negShare); err != nil {
			return nil, err
		}
		recs = append(recs, rec)
		ts.labels = append(ts.labels, lab...)
		if calibrating == nil {
			continue
		}
		rec, lab, err = r.filter(ctx, s, calKeep, true)
		if err != nil {
			return nil, err
		}
		calRecs = append(calRecs, rec)
		ts.calLabels = append(ts.calLabels, lab...)
	}
	if ts.rec, err = concat(r.Mem, recs); err != nil {
		return nil, err
	}
	ts.pos = countTrue(ts.labels)
	if ts.cal.IsZero() {
		return ts, nil
	}
	if calibrating != nil {
		if ts.calRec, err = concat(r.Mem, calRecs); err != nil {
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
	s, err := r.SnapshotAt(ctx, ts.cal)
	if err != nil {
		return nil, err
	}
	ts.calRec, ts.calLabels, err = r.filter(ctx, s, keep, true)
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

// sampleNegatives keeps every training row with the outcome and a share
// q of those without, chosen by a hash of the
// household and the date so that every candidate and every rerun draws
// the same rows. Outcomes are rare (about 3 in 100 households), so the
// rows without one carry little of what a model learns per row, yet they
// are nearly all of its cost in time and memory; the slopes of a logistic
// model are unchanged in expectation by sampling on the outcome, and the
// intercept's shift is taken out by calibration, which sees every row of
// its held-out households.
func sampleNegatives(mem memory.Allocator, rec arrow.Record, labels []bool, d time.Time, q float64) (arrow.Record, []bool, error) {
	if q <= 0 || q >= 1 {
		return rec, labels, nil
	}
	hh, err := pipeline.StringColumn(rec, pipeline.ColHousehold)
	if err != nil {
		rec.Release()
		return nil, nil, err
	}
	day := d.Format(time.DateOnly)
	keep := make([]bool, len(labels))
	var kept []bool
	for i, y := range labels {
		if y || float64(fnv64a(hh.Value(i), day)>>11)/(1<<53) < q {
			keep[i] = true
			kept = append(kept, y)
		}
	}
	out, err := filterRecord(mem, rec, keep, len(kept))
	rec.Release()
	if err != nil {
		return nil, nil, err
	}
	return out, kept, nil
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

// fitOn trains c on ts and calibrates it. It only reads ts, so models of
// different candidates may fit on one set at once.
func (r *run) fitOn(ctx context.Context, c pipeline.Candidate, ts *trainingSet) (*fitted, error) {
	f := &fitted{train: ts.train, cal: ts.cal}
	if c.Trainer != nil {
		m, err := c.Trainer.Fit(ctx, ts.rec, ts.labels)
		if err != nil {
			return nil, fmt.Errorf("%s: fit on %d rows (%d positive): %w", c.Name, len(ts.labels), ts.pos, err)
		}
		f.model, f.rows, f.pos = m, ts.rows, ts.pos
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
	if f.model, err = r.opts.Calibrate(ctx, f.model, ts.calRec, ts.calLabels); err != nil {
		return nil, fmt.Errorf("%s: calibration on %s: %w", c.Name, f.cal.Format(time.DateOnly), err)
	}
	if c.Trainer == nil {
		f.rows = len(ts.calLabels)
		f.pos = countTrue(ts.calLabels)
	}
	return f, nil
}

// fitFor trains c for use on households keep allows, on the dates of
// foldTraining, and calibrates it on the latest of them (see trainingSet).
func (r *run) fitFor(ctx context.Context, c pipeline.Candidate, dates []time.Time, keep, calibrating func(string) bool) (*fitted, error) {
	ts, err := r.trainingSet(ctx, dates, keep, calibrating)
	if err != nil {
		return nil, err
	}
	defer ts.release()
	return r.fitOn(ctx, c, ts)
}

// concat stacks records of one schema into one record.
func concat(mem memory.Allocator, recs []arrow.Record) (arrow.Record, error) {
	if len(recs) == 0 {
		return nil, fmt.Errorf("no feature tables")
	}
	schema := recs[0].Schema()
	var rows int64
	for _, r := range recs {
		if !r.Schema().Equal(schema) {
			return nil, fmt.Errorf("feature tables differ in schema")
		}
		rows += r.NumRows()
	}
	cols := make([]arrow.Array, schema.NumFields())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	parts := make([]arrow.Array, len(recs))
	for i := range cols {
		for j, r := range recs {
			parts[j] = r.Column(i)
		}
		arr, err := array.Concatenate(parts, mem)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", schema.Field(i).Name, err)
		}
		cols[i] = arr
	}
	return array.NewRecord(schema, cols, rows), nil
}
