package evaluate

import (
	"encoding/json"
	"math"
)

// Metrics summarises one set of scores against outcomes. Undefined values
// are NaN in Go and null in JSON (encoding/json cannot write NaN).
type Metrics struct {
	N                int     `json:"n"`
	Positives        int     `json:"positives"`
	BaseRate         float64 `json:"base_rate"`
	AUC              float64 `json:"auc"`
	AveragePrecision float64 `json:"average_precision"`
	PrecisionAtK     float64 `json:"precision_at_k"`
	RecallAtK        float64 `json:"recall_at_k"`
	Brier            float64 `json:"brier"`
	// K is the cut-off actually used: the requested k, cut to N.
	K int `json:"k"`
}

// Compute returns every metric of scores against labels with cut-off k.
func Compute(scores []float64, labels []bool, k int) Metrics {
	n := check(scores, labels)
	p := positives(labels)
	base := math.NaN()
	if n > 0 {
		base = float64(p) / float64(n)
	}
	return Metrics{
		N:                n,
		Positives:        p,
		BaseRate:         base,
		AUC:              AUC(scores, labels),
		AveragePrecision: AveragePrecision(scores, labels),
		PrecisionAtK:     PrecisionAtK(scores, labels, k),
		RecallAtK:        RecallAtK(scores, labels, k),
		Brier:            Brier(scores, labels),
		K:                max(0, min(k, n)),
	}
}

// metricsJSON is Metrics with nullable floats.
type metricsJSON struct {
	N                int      `json:"n"`
	Positives        int      `json:"positives"`
	BaseRate         *float64 `json:"base_rate"`
	AUC              *float64 `json:"auc"`
	AveragePrecision *float64 `json:"average_precision"`
	PrecisionAtK     *float64 `json:"precision_at_k"`
	RecallAtK        *float64 `json:"recall_at_k"`
	Brier            *float64 `json:"brier"`
	K                int      `json:"k"`
}

// MarshalJSON writes NaN and infinities as null.
func (m Metrics) MarshalJSON() ([]byte, error) {
	return json.Marshal(metricsJSON{
		N: m.N, Positives: m.Positives, K: m.K,
		BaseRate: nullable(m.BaseRate), AUC: nullable(m.AUC),
		AveragePrecision: nullable(m.AveragePrecision),
		PrecisionAtK:     nullable(m.PrecisionAtK), RecallAtK: nullable(m.RecallAtK),
		Brier: nullable(m.Brier),
	})
}

// UnmarshalJSON reads null (or an absent field) as NaN.
func (m *Metrics) UnmarshalJSON(b []byte) error {
	var j metricsJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*m = Metrics{
		N: j.N, Positives: j.Positives, K: j.K,
		BaseRate: value(j.BaseRate), AUC: value(j.AUC),
		AveragePrecision: value(j.AveragePrecision),
		PrecisionAtK:     value(j.PrecisionAtK), RecallAtK: value(j.RecallAtK),
		Brier: value(j.Brier),
	}
	return nil
}

func nullable(f float64) *float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	return &f
}

func value(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}
