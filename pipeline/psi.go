package pipeline

import (
	"math"
	"slices"
	"sort"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
)

// psiBins is the number of quantile bins of the training distribution; ten
// is the usual choice and keeps a bin's share well above noise at borough
// sizes.
const psiBins = 10

// psiFloor stands in for an empty bin's share, so the index stays finite.
const psiFloor = 1e-4

// PSIBins is a feature's training distribution: the edges of its quantile
// bins and the share of training rows in each. Saved with a model, so a
// weekly run can compare without rebuilding the training snapshots.
type PSIBins struct {
	Edges  []float64 `json:"edges"`
	Shares []float64 `json:"shares"`
}

// NewPSIBins bins train by its deciles (fewer bins when values repeat).
func NewPSIBins(train []float64) PSIBins {
	if len(train) == 0 {
		return PSIBins{}
	}
	sorted := append([]float64(nil), train...)
	sort.Float64s(sorted)
	var edges []float64
	for i := 1; i < psiBins; i++ {
		e := sorted[(i*len(sorted))/psiBins]
		if len(edges) == 0 || e > edges[len(edges)-1] {
			edges = append(edges, e)
		}
	}
	b := PSIBins{Edges: edges}
	b.Shares = b.shares(train)
	return b
}

func (b PSIBins) shares(xs []float64) []float64 {
	c := make([]float64, len(b.Edges)+1)
	for _, x := range xs {
		// bin i holds (edges[i-1], edges[i]]: the first edge >= x.
		c[sort.SearchFloat64s(b.Edges, x)]++
	}
	for i := range c {
		c[i] = math.Max(c[i]/float64(len(xs)), psiFloor)
	}
	return c
}

// PSI is the population stability index of now against the training
// distribution: Σ (now − train) · ln(now / train) over the bins' shares.
// Above 0.25 is the conventional sign that the population has shifted
// enough for the model to need a look.
func (b PSIBins) PSI(now []float64) float64 {
	if len(b.Shares) == 0 || len(now) == 0 {
		return math.NaN()
	}
	q := b.shares(now)
	var out float64
	for i, p := range b.Shares {
		out += (q[i] - p) * math.Log(q[i]/p)
	}
	return out
}

// PSI of now against train.
func PSI(train, now []float64) float64 { return NewPSIBins(train).PSI(now) }

// floatColumns returns rec's float64 columns by name.
func floatColumns(rec arrow.Record) map[string][]float64 {
	out := map[string][]float64{}
	for i, f := range rec.Schema().Fields() {
		if c, ok := rec.Column(i).(*array.Float64); ok && f.Type.ID() == arrow.FLOAT64 {
			out[f.Name] = c.Float64Values()
		}
	}
	return out
}

// psiReference bins every feature of the model's newest psiSnapshots
// training snapshots, pooled: the population the model most recently
// learnt from. Training spans the year, and its summer snapshots' 4- and
// 13-week attendance windows hold the holidays; against the whole year
// pooled, a July list read as drift (PSI 0.89 on no_reason_rate_13w on a
// 3,000-child council, above the alert's 0.5) that was only the calendar.
func (r *run) psiReference() map[string]PSIBins {
	train := map[string][]float64{}
	for _, d := range newest(r.trainDates, psiSnapshots) {
		s, ok := r.snapshots[d.Format(time.DateOnly)]
		if !ok {
			continue
		}
		for name, vals := range floatColumns(s.table.Record) {
			train[name] = append(train[name], vals...)
		}
	}
	out := make(map[string]PSIBins, len(train))
	for name, vals := range train {
		out[name] = NewPSIBins(vals)
	}
	return out
}

// psiSnapshots is how many of the newest training snapshots the drift
// reference pools: four, four weeks apart, a season.
const psiSnapshots = 4

// newest returns the n latest of dates.
func newest(dates []time.Time, n int) []time.Time {
	s := slices.Clone(dates)
	slices.SortFunc(s, func(a, b time.Time) int { return b.Compare(a) })
	return s[:min(n, len(s))]
}

// featurePSI compares every feature of the run date's table with the
// model's training distribution.
func (r *run) featurePSI(now *FeatureTable) {
	if len(r.psiRef) == 0 {
		return
	}
	r.man.FeaturePSI = map[string]float64{}
	for name, vals := range floatColumns(now.Record) {
		ref, ok := r.psiRef[name]
		if !ok {
			continue
		}
		p := ref.PSI(vals)
		if math.IsNaN(p) {
			continue
		}
		r.man.FeaturePSI[name] = p
		if r.opts.Metrics != nil {
			r.opts.Metrics.FeaturePSI.WithLabelValues(name).Set(p)
		}
	}
}
