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

// FloatColumns returns rec's float64 columns by name.
func FloatColumns(rec arrow.Record) map[string][]float64 {
	out := map[string][]float64{}
	for i, f := range rec.Schema().Fields() {
		if c, ok := rec.Column(i).(*array.Float64); ok && f.Type.ID() == arrow.FLOAT64 {
			out[f.Name] = c.Float64Values()
		}
	}
	return out
}
