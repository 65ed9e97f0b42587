package pipeline

import (
	"math"
	"sort"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
)

// psiBins is the number of quantile bins of the training distribution; ten
// is the usual choice and keeps a bin's share well above noise at borough
// sizes.
const psiBins = 10

// psiFloor stands in for an empty bin's share, so the index stays finite.
const psiFloor = 1e-4

// PSI is the population stability index of now against train: bins are
// the training distribution's deciles (fewer when values repeat), and
// PSI = Σ (now − train) · ln(now / train) over the bins' shares. Above 0.25
// is the conventional sign that the population has shifted enough for the
// model to need a look.
func PSI(train, now []float64) float64 {
	if len(train) == 0 || len(now) == 0 {
		return math.NaN()
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
	share := func(xs []float64) []float64 {
		c := make([]float64, len(edges)+1)
		for _, x := range xs {
			// bin i holds (edges[i-1], edges[i]]: the first edge >= x.
			c[sort.SearchFloat64s(edges, x)]++
		}
		for i := range c {
			c[i] = math.Max(c[i]/float64(len(xs)), psiFloor)
		}
		return c
	}
	p, q := share(train), share(now)
	var out float64
	for i := range p {
		out += (q[i] - p[i]) * math.Log(q[i]/p[i])
	}
	return out
}

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

// featurePSI compares every feature of the run date's table with the
// model's training snapshots, pooled.
func (r *run) featurePSI(now *FeatureTable) {
	if len(r.trainDates) == 0 {
		return
	}
	train := map[string][]float64{}
	for _, d := range r.trainDates {
		s, ok := r.snapshots[d.Format("2006-01-02")]
		if !ok {
			continue
		}
		for name, vals := range floatColumns(s.table.Record) {
			train[name] = append(train[name], vals...)
		}
	}
	r.man.FeaturePSI = map[string]float64{}
	for name, vals := range floatColumns(now.Record) {
		p := PSI(train[name], vals)
		if math.IsNaN(p) {
			continue
		}
		r.man.FeaturePSI[name] = p
		if r.opts.Metrics != nil {
			r.opts.Metrics.FeaturePSI.WithLabelValues(name).Set(p)
		}
	}
}
