package models

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strings"
)

// LogisticArtifact is the saved form of a Logistic (model.json): everything
// Score and Explain need, and nothing else, so equal models save equal bytes.
// encoding/json writes float64s in their shortest round-tripping form, so a
// loaded model scores bit-for-bit like the saved one.
type LogisticArtifact struct {
	Kind         string    `json:"kind"` // always "logistic"
	Features     []string  `json:"features"`
	Means        []float64 `json:"means"`
	SDs          []float64 `json:"sds"`
	Coefficients []float64 `json:"coefficients"` // per standardised feature
	Intercept    float64   `json:"intercept"`
	Penalty      string    `json:"penalty,omitempty"` // l2 when empty
}

const logisticKind = "logistic"

// MarshalJSON writes the model as a LogisticArtifact.
func (m *Logistic) MarshalJSON() ([]byte, error) {
	return json.Marshal(LogisticArtifact{
		Kind:         logisticKind,
		Features:     m.features,
		Means:        m.means,
		SDs:          m.sds,
		Coefficients: m.coefs,
		Intercept:    m.intercept,
		Penalty:      m.penalty,
	})
}

// UnmarshalJSON reads a LogisticArtifact and checks it is usable, so a
// corrupt or hand-edited model.json fails at load rather than at scoring.
func (m *Logistic) UnmarshalJSON(b []byte) error {
	var a LogisticArtifact
	if err := json.Unmarshal(b, &a); err != nil {
		return fmt.Errorf("logistic artifact: %w", err)
	}
	if err := a.validate(); err != nil {
		return fmt.Errorf("logistic artifact: %w", err)
	}
	*m = Logistic{features: a.Features, means: a.Means, sds: a.SDs, coefs: a.Coefficients, intercept: a.Intercept, penalty: a.Penalty}
	return nil
}

func (a LogisticArtifact) validate() error {
	n := len(a.Features)
	switch {
	case a.Kind != logisticKind:
		return fmt.Errorf("kind %q, want %q", a.Kind, logisticKind)
	case len(a.Means) != n || len(a.SDs) != n || len(a.Coefficients) != n:
		return fmt.Errorf("%d features but %d means, %d sds, %d coefficients",
			n, len(a.Means), len(a.SDs), len(a.Coefficients))
	}
	seen := make(map[string]bool, n)
	for j, f := range a.Features {
		if seen[f] {
			return fmt.Errorf("feature %q appears twice", f)
		}
		seen[f] = true
		if !(a.SDs[j] > 0) || math.IsInf(a.SDs[j], 0) {
			return fmt.Errorf("feature %q: sd %v must be positive and finite", f, a.SDs[j])
		}
	}
	return nil
}

// ID names the model by its content: "logistic-" and the first 12 hex
// digits of the SHA-256 of its JSON, so two runs that fit the same model
// report the same ID.
func (m *Logistic) ID() string { return contentID("logistic-", m, 12) }

// contentID is prefix and the first n hex digits of the SHA-256 of m's
// JSON. Only non-finite floats fail to marshal, which no trainer or loader
// here produces; the prefix alone is returned then.
func contentID(prefix string, m json.Marshaler, n int) string {
	b, err := m.MarshalJSON()
	if err != nil {
		return strings.TrimSuffix(prefix, "-")
	}
	sum := sha256.Sum256(b)
	return prefix + hex.EncodeToString(sum[:])[:n]
}
