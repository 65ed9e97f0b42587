package models

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/apache/arrow/go/v15/arrow"

	"earlyhelp/pipeline"
)

var (
	_ pipeline.Trainer        = LogisticTrainer{}
	_ pipeline.Model          = (*Logistic)(nil)
	_ pipeline.BatchExplainer = (*Logistic)(nil)
)

// LogisticTrainer fits a regularised logistic regression on every feature
// column (FeatureColumns) of the training record, standardised. Zero values
// take liblinear's defaults: L2, C 1 and Eps 0.01.
type LogisticTrainer struct {
	C   float64 // inverse regularisation strength; larger fits harder
	Eps float64 // solver stopping tolerance
	// Penalty is "l2" (default) or "l1": L1 sets the weights of features
	// that add nothing to exactly zero, so the model uses fewer signals.
	Penalty string
	// CPerRow, when positive, sets C to CPerRow over the training rows
	// (C is then ignored). liblinear sums the loss over rows, so a fixed C
	// pulls the weights less the larger the council; a C per row keeps the
	// penalty's weight against the mean loss the same at any size, and so
	// the shrinkage the backtest chose on one council size at another.
	CPerRow float64
	// NonNegative, when set, keeps the weight of every feature it reports
	// true for at zero or above: a signal that, by what is known of it,
	// can only mean more need is never read as less. Weights of correlated
	// signals otherwise offset each other (one up, its neighbour down) by
	// the noise of a few hundred outcomes, and a navigator would be told
	// that a missed review lowers a family's score. It takes the L2
	// penalty (fitBounded), not liblinear.
	NonNegative func(feature string) bool

	start *Logistic // see StartFrom
}

// Penalties.
const (
	PenaltyL2 = "l2"
	PenaltyL1 = "l1"
)

// Fit standardises each feature with the training rows' mean and standard
// deviation and trains liblinear on them. Fits may run concurrently, but an
// L1 fit's result depends on the L1 fits the process ran before it (see
// trainLR), so a caller wanting reproducible L1 models keeps them in one
// order. liblinear cannot be interrupted, so ctx is only checked before
// training starts.
func (t LogisticTrainer) Fit(ctx context.Context, feats arrow.Record, labels []bool) (pipeline.Model, error) {
	m, err := t.fit(ctx, feats, labels)
	if err != nil {
		return nil, fmt.Errorf("logistic: %w", err)
	}
	return m, nil
}

// StartFrom returns the trainer whose fits start from prev, a model of
// this trainer fitted on rows much like the next ones (the backtest's fit
// of the group or date before; pipeline.Candidate.StartFrom). Only the fit
// with non-negative weights takes a start; it reaches the optimum a fresh
// fit reaches, to well within its tolerance, in fewer passes over the
// rows. Any other fit, or a prev that is not a logistic model on the same
// features, fits afresh.
func (t LogisticTrainer) StartFrom(prev pipeline.Model) pipeline.Trainer {
	t.start, _ = prev.(*Logistic)
	return t
}

func (t LogisticTrainer) fit(ctx context.Context, feats arrow.Record, labels []bool) (*Logistic, error) {
	c, eps := cmp.Or(t.C, 1), cmp.Or(t.Eps, 0.01)
	if t.CPerRow < 0 || math.IsNaN(t.CPerRow) || math.IsInf(t.CPerRow, 0) {
		return nil, fmt.Errorf("C per row %g must be positive and finite", t.CPerRow)
	}
	penalty := cmp.Or(t.Penalty, PenaltyL2)
	if penalty != PenaltyL2 && penalty != PenaltyL1 {
		return nil, fmt.Errorf("penalty %q: want l1 or l2", t.Penalty)
	}
	if c < 0 || eps < 0 || math.IsNaN(c) || math.IsNaN(eps) || math.IsInf(c, 0) || math.IsInf(eps, 0) {
		return nil, fmt.Errorf("C %g and Eps %g must be positive and finite", t.C, t.Eps)
	}
	rows := int(feats.NumRows())
	if rows == 0 {
		return nil, fmt.Errorf("no training rows")
	}
	if len(labels) != rows {
		return nil, fmt.Errorf("%d labels for %d rows", len(labels), rows)
	}
	y, positives := make([]float64, rows), 0
	for i, l := range labels {
		if l {
			y[i], positives = 1, positives+1
		}
	}
	if positives == 0 || positives == rows {
		return nil, fmt.Errorf("all %d labels are %t: need both classes", rows, labels[0])
	}
	if t.CPerRow > 0 {
		c = t.CPerRow / float64(rows)
	}
	m := &Logistic{features: FeatureColumns(feats), penalty: penalty}
	// The bounded fit standardises its columns in place, so it takes a
	// copy; liblinear's rows are built from the columns as they stand.
	columns := columnViews
	if t.NonNegative != nil {
		columns = Columns
	}
	cols, err := columns(feats, m.features)
	if err != nil {
		return nil, err
	}
	m.means, m.sds = moments(cols, rows)
	for j, f := range m.features {
		if math.IsInf(m.means[j], 0) || math.IsInf(m.sds[j], 0) {
			return nil, fmt.Errorf("feature %q: values too large to standardise", f)
		}
	}

	// The design matrix is the standardised features plus a constant 1.0
	// column whose weight is the intercept (see trainLR on why liblinear's own
	// bias is not used). liblinear penalises that weight like the others; with
	// standardised features and hundreds of rows the pull is negligible. Each
	// row goes straight into liblinear's sparse layout: the dense design
	// matrix is never held.
	if t.NonNegative != nil {
		if penalty != PenaltyL2 {
			return nil, fmt.Errorf("non-negative weights take the l2 penalty, not %s", penalty)
		}
		return m, m.fitBounded(ctx, cols, y, 1/c, t.NonNegative, t.start)
	}
	d := len(m.features) + 1
	prob := newLRProblem(rows, d)
	raw, z := make([]float64, d-1), make([]float64, d)
	z[d-1] = 1
	for i := range rows {
		for j, col := range cols {
			raw[j] = col[i]
		}
		m.standardise(raw, z)
		prob.add(z, y[i])
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	w, err := trainLR(prob, c, eps, penalty == PenaltyL1)
	if err != nil {
		return nil, err
	}
	m.coefs, m.intercept = w[:d-1], w[d-1]
	return m, nil
}

// fitBounded fits m's weights with fitBounded, the features standardised
// as Score will standardise them, from prev's weights if it is a model on
// the same features (nil: from the base rate). It standardises cols in
// place.
func (m *Logistic) fitBounded(ctx context.Context, cols [][]float64, y []float64, lambda float64, nonNeg func(string) bool, prev *Logistic) error {
	bounded := make([]bool, len(m.features))
	for j, f := range m.features {
		bounded[j] = nonNeg(f)
		mean, sd := m.means[j], m.sds[j]
		for i, v := range cols[j] {
			cols[j][i] = max(-zLimit, min(zLimit, (v-mean)/sd))
		}
	}
	var start []float64
	b0 := 0.0
	if prev != nil && slices.Equal(prev.features, m.features) {
		// prev's log-odds in this fit's standardisation: the same linear
		// function of the raw values (the caps at ±zLimit aside).
		start, b0 = make([]float64, len(m.features)), prev.intercept
		for j, c := range prev.coefs {
			start[j] = c * m.sds[j] / prev.sds[j]
			b0 += c * (m.means[j] - prev.means[j]) / prev.sds[j]
		}
	}
	coefs, b, _, err := fitBoundedFrom(ctx, cols, y, lambda, bounded, start, b0)
	if err != nil {
		return err
	}
	m.coefs, m.intercept = coefs, b
	return nil
}

// moments returns each column's mean and population standard deviation
// over its rows; a constant column gets sd 1 so standardising it gives 0
// instead of NaN.
func moments(cols [][]float64, rows int) (means, sds []float64) {
	means, sds = make([]float64, len(cols)), make([]float64, len(cols))
	n := float64(rows)
	for j, col := range cols {
		// Sums in locals, not in means[j] and sds[j]: the same additions in
		// the same order, without a store and a load of the sum on every
		// value's path (the compiler cannot tell the slices apart).
		mean, ss := 0.0, 0.0
		for _, v := range col {
			mean += v / n
		}
		for _, v := range col {
			ss += (v - mean) * (v - mean) / n
		}
		means[j], sds[j] = mean, ss
	}
	for j := range sds {
		sds[j] = math.Sqrt(sds[j])
		if sds[j] == 0 {
			sds[j] = 1
		}
	}
	return means, sds
}

// Logistic is a fitted logistic regression on standardised features. It is
// immutable, so Score and Explain are safe to call concurrently.
type Logistic struct {
	features   []string
	means, sds []float64
	coefs      []float64 // per standardised feature, in log-odds
	intercept  float64
	penalty    string // how it was trained: l2 or l1
}

// zLimit caps a standardised value. Counts such as late arrivals have long
// tails: a household 15 standard deviations out would otherwise get a
// near-certain score from a linear term fitted on the bulk, which
// calibration cannot undo and which no navigator should read as 99%.
const zLimit = 4

// standardise writes the z-scores of raw into z (len(z) >= len(raw)),
// capped at ±zLimit.
func (m *Logistic) standardise(raw, z []float64) {
	for j, v := range raw {
		z[j] = max(-zLimit, min(zLimit, (v-m.means[j])/m.sds[j]))
	}
}

// Score returns P(needs help within the horizon) for every row of feats.
func (m *Logistic) Score(ctx context.Context, feats arrow.Record) ([]float64, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("logistic: %w", err)
	}
	// A column at a time into one column's buffer, each row's log-odds
	// summed in scores: the same additions in the same order as a row at
	// a time, without Matrix's copy of the whole table. The backtest
	// scores every test group and calibration set with every model, and
	// those copies were 3.5 of its 25 GB of allocations at 300,000
	// children.
	rows := int(feats.NumRows())
	scores, col := make([]float64, rows), make([]float64, rows)
	for i := range scores {
		scores[i] = m.intercept
	}
	for j, name := range m.features {
		if err := fillColumn(col, 1, 0, feats, name); err != nil {
			return nil, fmt.Errorf("logistic: %w", err)
		}
		c, mean, sd := m.coefs[j], m.means[j], m.sds[j]
		for i, v := range col {
			scores[i] += c * max(-zLimit, min(zLimit, (v-mean)/sd))
		}
	}
	for i, t := range scores {
		scores[i] = sigmoid(t)
	}
	return scores, nil
}

// sigmoid avoids exp overflow for large |t|.
func sigmoid(t float64) float64 {
	if t >= 0 {
		return 1 / (1 + math.Exp(-t))
	}
	e := math.Exp(t)
	return e / (1 + e)
}

// Explain returns up to n features whose contribution (coefficient ×
// standardised value, in log-odds) raises the score of row, largest first,
// counting only features that raise risk (positive coefficient) on which
// the household is above the training average. A below-average value of a
// feature with a negative weight also raises the log-odds, but "missed 0%
// of sessions" is not a reason a navigator can act on; such terms, mostly
// collinear features offsetting each other, are left out. A row out of
// range or unreadable features give no reasons: the score itself would
// have failed.
func (m *Logistic) Explain(feats arrow.Record, row int, n int) []pipeline.Reason {
	if n <= 0 || row < 0 || int64(row) >= feats.NumRows() {
		return nil
	}
	one := feats.NewSlice(int64(row), int64(row)+1)
	defer one.Release()
	x, err := Matrix(one, m.features)
	if err != nil {
		return nil
	}
	z := make([]float64, len(m.features))
	reasons := m.reasons(x[0], z, nil)
	return reasons[:min(n, len(reasons))]
}

// ExplainAll gives Explain's reasons for every row of feats, reading the
// record once: explaining row by row sliced the record and looked up every
// column again for each household, and a weekly run explains them all
// (scores.parquet's reason codes). A row with no reasons gets nil, as
// Explain gives.
func (m *Logistic) ExplainAll(ctx context.Context, feats arrow.Record, n int) ([][]pipeline.Reason, error) {
	out := make([][]pipeline.Reason, feats.NumRows())
	if n <= 0 || len(out) == 0 {
		return out, nil
	}
	x, err := Matrix(feats, m.features)
	if err != nil {
		return nil, fmt.Errorf("logistic: %w", err)
	}
	// Every row's reasons share one allocation; it never grows, so earlier
	// rows' slices stay where they are.
	arena := make([]pipeline.Reason, 0, len(out)*min(n, len(m.features)))
	z := make([]float64, len(m.features))
	var cand []pipeline.Reason
	for i, row := range x {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("logistic: %w", err)
			}
		}
		cand = m.reasons(row, z, cand[:0])
		if k := min(n, len(cand)); k > 0 {
			lo := len(arena)
			arena = append(arena, cand[:k]...)
			out[i] = arena[lo:len(arena):len(arena)]
		}
	}
	return out, nil
}

// reasons appends to dst every reason Explain would give for the raw
// feature values of one row, largest first; z is scratch space.
func (m *Logistic) reasons(raw, z []float64, dst []pipeline.Reason) []pipeline.Reason {
	m.standardise(raw, z)
	for j, c := range m.coefs {
		if contrib := c * z[j]; c > 0 && z[j] > 0 {
			dst = append(dst, pipeline.Reason{Feature: m.features[j], Value: raw[j], Contribution: contrib})
		}
	}
	// Stable, so equal contributions keep the training column order.
	slices.SortStableFunc(dst, func(a, b pipeline.Reason) int { return cmp.Compare(b.Contribution, a.Contribution) })
	return dst
}

// Coefficients returns each feature's weight per standard deviation, in
// log-odds.
func (m *Logistic) Coefficients() map[string]float64 {
	out := make(map[string]float64, len(m.features))
	for j, f := range m.features {
		out[f] = m.coefs[j]
	}
	return out
}

// Intercept returns the log-odds of a household at every feature's mean.
func (m *Logistic) Intercept() float64 { return m.intercept }

// Features returns the feature columns the model was trained on, in order.
func (m *Logistic) Features() []string { return append([]string(nil), m.features...) }
