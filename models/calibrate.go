package models

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/apache/arrow/go/v15/arrow"

	"earlyhelp/pipeline"
)

// Calibration methods.
const (
	// Platt fits P(y) = sigmoid(a·x + b) to the base scores, x being the
	// score's log-odds when scores are probabilities and the score itself
	// otherwise. Smooth and strictly monotone: it keeps the ranking.
	Platt = "platt"
	// Isotonic fits the best non-decreasing step function (pool adjacent
	// violators), interpolated between the steps' centres. It suits scores
	// with few distinct values, such as a count of rule flags.
	Isotonic = "isotonic"
)

const calibratedKind = "calibrated"

// Calibrated turns a base model's scores into probabilities fitted on a
// later, held-out date than the model's training, so "0.30" means that
// about 30 in 100 such households had the outcome. Reasons are the base
// model's own.
type Calibrated struct {
	base   pipeline.Model
	method string
	// Platt
	a, b  float64
	logit bool
	// Isotonic: step centres xs (ascending) and their rates ys.
	xs, ys []float64
}

var (
	_ pipeline.Model          = (*Calibrated)(nil)
	_ pipeline.BatchExplainer = (*Calibrated)(nil)
)

// Calibrate fits method on m's scores of feats against labels, every row
// weighing the same. It is CalibrateWeighted with nil weights.
func Calibrate(ctx context.Context, m pipeline.Model, feats arrow.Record, labels []bool, method string) (*Calibrated, error) {
	return CalibrateWeighted(ctx, m, feats, labels, nil, method)
}

// CalibrateWeighted fits method on m's scores of feats against labels, row i
// counting weights[i] times. Weights exist because the calibration rows may
// be sampled on the outcome: every row with the outcome kept and only a
// share q of those without, each kept row without the outcome then standing
// for 1/q rows and weighing 1/q. Unweighted, such a sample's outcome rate is
// too high and so are the fitted probabilities; weighted, the fit estimates
// the full data's. nil weights mean every row weighs 1, and give exactly
// what Calibrate gives. Otherwise there must be one weight a label, each
// finite and positive. Weights are an input to the fit only: the fitted
// model, its saved form and its ID do not record them.
func CalibrateWeighted(ctx context.Context, m pipeline.Model, feats arrow.Record, labels []bool, weights []float64, method string) (*Calibrated, error) {
	if weights != nil {
		if len(weights) != len(labels) {
			return nil, fmt.Errorf("calibrate: %d weights for %d labels", len(weights), len(labels))
		}
		total := 0.0
		for i, w := range weights {
			if !(w > 0) || math.IsInf(w, 1) {
				return nil, fmt.Errorf("calibrate: row %d weighs %v: weights must be finite and positive", i, w)
			}
			total += w
		}
		if math.IsInf(total, 1) {
			return nil, errors.New("calibrate: the weights sum to more than a float64 holds")
		}
	}
	scores, err := m.Score(ctx, feats)
	if err != nil {
		return nil, fmt.Errorf("calibrate: %w", err)
	}
	if len(scores) != len(labels) {
		return nil, fmt.Errorf("calibrate: %d scores for %d labels", len(scores), len(labels))
	}
	pos := 0
	for _, l := range labels {
		if l {
			pos++
		}
	}
	if pos == 0 || pos == len(labels) {
		return nil, fmt.Errorf("calibrate: %d of %d calibration households have the outcome: both kinds are needed", pos, len(labels))
	}
	c := &Calibrated{base: m, method: method}
	switch method {
	case Platt:
		c.logit = probabilities(scores)
		x := make([]float64, len(scores))
		for i, s := range scores {
			x[i] = c.input(s)
		}
		c.a, c.b = fitPlatt(x, labels, weights, c.logit)
	case Isotonic:
		c.xs, c.ys = fitIsotonic(scores, labels, weights)
	default:
		return nil, fmt.Errorf("calibrate: unknown method %q (want %s or %s)", method, Platt, Isotonic)
	}
	return c, nil
}

// weight returns row i's weight: w[i], or 1 when w is nil. Multiplying by
// the 1 is exact, so unweighted fits are bit for bit what they were before
// weights existed.
func weight(w []float64, i int) float64 {
	if w == nil {
		return 1
	}
	return w[i]
}

// probabilities says whether every score lies in [0, 1].
func probabilities(s []float64) bool {
	for _, v := range s {
		if !(v >= 0 && v <= 1) {
			return false
		}
	}
	return true
}

func (c *Calibrated) input(s float64) float64 {
	if !c.logit {
		return s
	}
	const eps = 1e-9
	p := math.Min(math.Max(s, eps), 1-eps)
	return math.Log(p / (1 - p))
}

// fitPlatt fits sigmoid(a·x + b) by Newton's method on the log-loss, with
// a backtracking line search (a full Newton step from a poor start can
// overshoot by orders of magnitude) and Platt's smoothed targets, so a
// perfectly separated fold does not send the slope to infinity. It starts
// from the identity (a = 1, b = 0) when x are log-odds already, and from
// the base rate otherwise.
//
// Row i counts w[i] times (every row once when w is nil; see
// CalibrateWeighted): in the weighted counts of rows with and without the
// outcome behind the smoothed targets and the starting intercept, and in
// the loss, its gradient and its Hessian.
func fitPlatt(x []float64, y []bool, w []float64, logOdds bool) (a, b float64) {
	var np, nn float64
	for i, l := range y {
		if l {
			np += weight(w, i)
		} else {
			nn += weight(w, i)
		}
	}
	hi, lo := (np+1)/(np+2), 1/(nn+2)
	t := make([]float64, len(y))
	for i, l := range y {
		if l {
			t[i] = hi
		} else {
			t[i] = lo
		}
	}
	loss := func(a, b float64) float64 {
		var sum float64
		for i, xi := range x {
			f := a*xi + b
			// −[t·log σ(f) + (1−t)·log(1−σ(f))], written to stay finite.
			sum += weight(w, i) * logLoss(f, t[i])
		}
		return sum
	}
	if logOdds {
		a, b = 1, 0
	} else {
		a, b = 0, math.Log((np+1)/(nn+1))
	}
	cur := loss(a, b)
	for iter := 0; iter < 100; iter++ {
		var g1, g2, h11, h12, h22 float64
		for i, xi := range x {
			wi := weight(w, i)
			p := sigmoid(a*xi + b)
			d := wi * (p - t[i])
			v := wi * math.Max(p*(1-p), 1e-12)
			g1 += d * xi
			g2 += d
			h11 += v * xi * xi
			h12 += v * xi
			h22 += v
		}
		h11 += 1e-9
		h22 += 1e-9
		det := h11*h22 - h12*h12
		if !(det > 0) {
			break
		}
		da := (h22*g1 - h12*g2) / det
		db := (h11*g2 - h12*g1) / det
		// Half the Newton decrement is the step's predicted fall in the
		// loss. Below 1e-14 of the loss the sum barely shows it, and
		// the halving below went on for up to forty passes over the rows
		// looking for a fall rounding hid: 2.8 of a 300,000-child cold
		// run's 4.5 CPU-seconds of calibration. Near the optimum Newton's
		// full step is the right one.
		if (g1*da+g2*db)/2 <= 1e-14*math.Abs(cur) {
			a, b = a-da, b-db
			break
		}
		step := 1.0
		improved := false
		for k := 0; k < 40; k++ {
			na, nb := a-step*da, b-step*db
			if l := loss(na, nb); l <= cur {
				a, b, cur, improved = na, nb, l, true
				break
			}
			step /= 2
		}
		if !improved || (math.Abs(step*da) < 1e-10 && math.Abs(step*db) < 1e-10) {
			break
		}
	}
	return a, b
}

// fitIsotonic pools adjacent violators over the scores in ascending order
// and returns each block's mean score and observed rate. Row i counts w[i]
// times (every row once when w is nil; see CalibrateWeighted): a block's
// size is its rows' total weight, and its mean score and rate are weighted
// means.
func fitIsotonic(s []float64, y []bool, w []float64) (xs, ys []float64) {
	idx := make([]int, len(s))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return s[idx[a]] < s[idx[b]] })
	type block struct{ sumX, sumY, n float64 }
	var blocks []block
	for k := 0; k < len(idx); {
		// Equal scores share one block: they cannot be told apart.
		bl := block{}
		v := s[idx[k]]
		for ; k < len(idx) && s[idx[k]] == v; k++ {
			wi := weight(w, idx[k])
			bl.sumX += wi * s[idx[k]]
			if y[idx[k]] {
				bl.sumY += wi
			}
			bl.n += wi
		}
		blocks = append(blocks, bl)
		for len(blocks) > 1 {
			last, prev := blocks[len(blocks)-1], blocks[len(blocks)-2]
			if prev.sumY/prev.n <= last.sumY/last.n {
				break
			}
			blocks = blocks[:len(blocks)-2]
			blocks = append(blocks, block{prev.sumX + last.sumX, prev.sumY + last.sumY, prev.n + last.n})
		}
	}
	for _, bl := range blocks {
		xs = append(xs, bl.sumX/bl.n)
		ys = append(ys, bl.sumY/bl.n)
	}
	return xs, ys
}

func (c *Calibrated) apply(s float64) float64 {
	switch c.method {
	case Platt:
		return sigmoid(c.a*c.input(s) + c.b)
	default:
		n := len(c.xs)
		i := sort.SearchFloat64s(c.xs, s)
		switch {
		case i == 0:
			return c.ys[0]
		case i == n:
			return c.ys[n-1]
		}
		x0, x1 := c.xs[i-1], c.xs[i]
		f := (s - x0) / (x1 - x0)
		return c.ys[i-1] + f*(c.ys[i]-c.ys[i-1])
	}
}

// Score returns calibrated probabilities.
func (c *Calibrated) Score(ctx context.Context, feats arrow.Record) ([]float64, error) {
	s, err := c.base.Score(ctx, feats)
	if err != nil {
		return nil, err
	}
	for i, v := range s {
		s[i] = c.apply(v)
	}
	return s, nil
}

// Explain gives the base model's reasons: calibration is monotone, so what
// raised the base score raised the probability.
func (c *Calibrated) Explain(feats arrow.Record, row int, n int) []pipeline.Reason {
	return c.base.Explain(feats, row, n)
}

// ExplainAll gives the base model's reasons for every row (see Explain).
func (c *Calibrated) ExplainAll(ctx context.Context, feats arrow.Record, n int) ([][]pipeline.Reason, error) {
	return pipeline.ExplainAll(ctx, c.base, feats, n)
}

// Method is the calibration method.
func (c *Calibrated) Method() string { return c.method }

// Features are the base model's features.
func (c *Calibrated) Features() []string { return c.base.Features() }

// Coefficients are the base model's: calibration is monotone and does not
// change which feature counts for how much.
func (c *Calibrated) Coefficients() map[string]float64 { return c.base.Coefficients() }

// ID names the calibrated model by its content.
func (c *Calibrated) ID() string {
	prefix := c.base.ID()
	if prefix == "" {
		prefix = calibratedKind
	}
	return contentID(prefix+"+"+c.method+"-", c, 8)
}

// calibratedArtifact is the saved form.
type calibratedArtifact struct {
	Kind   string          `json:"kind"`
	Method string          `json:"method"`
	A      float64         `json:"platt_a,omitempty"`
	B      float64         `json:"platt_b,omitempty"`
	Logit  bool            `json:"platt_on_log_odds,omitempty"`
	Xs     []float64       `json:"isotonic_x,omitempty"`
	Ys     []float64       `json:"isotonic_y,omitempty"`
	Base   json.RawMessage `json:"base"`
}

// MarshalJSON saves the calibration with its base model.
func (c *Calibrated) MarshalJSON() ([]byte, error) {
	j, ok := c.base.(json.Marshaler)
	if !ok {
		return nil, fmt.Errorf("calibrated: a %T base model cannot be saved", c.base)
	}
	base, err := j.MarshalJSON()
	if err != nil {
		return nil, err
	}
	return json.Marshal(calibratedArtifact{Kind: calibratedKind, Method: c.method, A: c.a, B: c.b, Logit: c.logit,
		Xs: c.xs, Ys: c.ys, Base: base})
}

// Load reads a saved model of any kind this package writes.
func Load(b []byte) (pipeline.Model, error) {
	var head struct {
		Kind string `json:"kind"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return nil, fmt.Errorf("model artifact: %w", err)
	}
	switch head.Kind {
	case logisticKind:
		var m Logistic
		if err := m.UnmarshalJSON(b); err != nil {
			return nil, err
		}
		return &m, nil
	case forestKind:
		var f Forest
		if err := f.UnmarshalJSON(b); err != nil {
			return nil, err
		}
		return &f, nil
	case calibratedKind:
		var a calibratedArtifact
		if err := json.Unmarshal(b, &a); err != nil {
			return nil, fmt.Errorf("calibrated artifact: %w", err)
		}
		base, err := Load(a.Base)
		if err != nil {
			return nil, fmt.Errorf("calibrated artifact: base: %w", err)
		}
		c := &Calibrated{base: base, method: a.Method, a: a.A, b: a.B, logit: a.Logit, xs: a.Xs, ys: a.Ys}
		switch {
		case a.Method == Platt && (math.IsNaN(a.A) || math.IsNaN(a.B)):
			return nil, errors.New("calibrated artifact: Platt coefficients are not numbers")
		case a.Method == Isotonic && (len(a.Xs) == 0 || len(a.Xs) != len(a.Ys) || !sort.Float64sAreSorted(a.Xs)):
			return nil, errors.New("calibrated artifact: isotonic steps are empty, unequal or unsorted")
		case a.Method != Platt && a.Method != Isotonic:
			return nil, fmt.Errorf("calibrated artifact: unknown method %q", a.Method)
		}
		return c, nil
	}
	return nil, fmt.Errorf("model artifact: unknown kind %q", head.Kind)
}
