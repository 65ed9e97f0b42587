package rank

import (
	"earlyhelp/pipeline"
	"math"
)

// featurePSI compares every feature of the run date's table with the
// model's training distribution.
func (r *run) featurePSI(now *pipeline.FeatureTable) {
	if len(r.PSIRef) == 0 {
		return
	}
	r.Man.FeaturePSI = map[string]float64{}
	for name, vals := range pipeline.FloatColumns(now.Record) {
		ref, ok := r.PSIRef[name]
		if !ok {
			continue
		}
		p := ref.PSI(vals)
		if math.IsNaN(p) {
			continue
		}
		r.Man.FeaturePSI[name] = p
		if r.Metrics != nil {
			r.Metrics.FeaturePSI.WithLabelValues(name).Set(p)
		}
	}
}
