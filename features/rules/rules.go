// Package rules is the rules baseline of CONTRACTS §5: a household's score
// is the number of Supporting-Families-style flags it raises. It is what a
// council could do with a spreadsheet, and the bar a model must clear.
package rules

import (
	"context"
	"fmt"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"

	"earlyhelp/pipeline"
	"earlyhelp/pipeline/contract"
)

// A flag is one rule over the household table's feature columns.
type flag struct {
	name string   // reason code
	cols []string // the columns it reads
	on   func(v []float64) bool
}

// Arrears at or past a notice seeking possession (stage 3 of housing's
// 0 … 8 scale) count as a housing crisis.
const arrearsCrisisStage = 3

// The flags read the families' columns by the vocabulary's names
// (pipeline/contract): a plug-in does not import its siblings (DESIGN).
var flags = []flag{
	{
		// Attendance under 90% over the last 13 weeks, for any child: the
		// household column is the worst child's absence rate.
		name: "rule_attendance_under_90",
		cols: []string{contract.FeatAbsenceRate13w},
		on:   func(v []float64) bool { return v[0] > 0.10 },
	},
	{
		name: "rule_missed_health_visits",
		cols: []string{contract.FeatWasNotBrought12m},
		on:   func(v []float64) bool { return v[0] >= 1 },
	},
	{
		name: "rule_housing_crisis",
		cols: []string{contract.FeatOpenDuty, contract.FeatWeeksInTA, contract.FeatArrearsStage},
		on:   func(v []float64) bool { return v[0] > 0 || v[1] > 0 || v[2] >= arrearsCrisisStage },
	},
}

// Model is the rules baseline. Its scores are counts (0 … 3); calibrate
// them to compare Brier scores with a model's probabilities.
type Model struct{}

var _ pipeline.Model = Model{}

// New returns the rules baseline.
func New() Model { return Model{} }

func columns(feats arrow.Record, names []string) ([][]float64, error) {
	out := make([][]float64, len(names))
	for i, n := range names {
		idx := feats.Schema().FieldIndices(n)
		if len(idx) != 1 {
			return nil, fmt.Errorf("rules baseline: the feature table has no column %q", n)
		}
		c, ok := feats.Column(idx[0]).(*array.Float64)
		if !ok {
			return nil, fmt.Errorf("rules baseline: column %q is %s, not float64", n, feats.Column(idx[0]).DataType())
		}
		out[i] = c.Float64Values()
	}
	return out, nil
}

// raised says which flags row i raises.
func raised(cols [][][]float64, i int) []bool {
	out := make([]bool, len(flags))
	v := make([]float64, 0, 3)
	for j, f := range flags {
		v = v[:0]
		for _, c := range cols[j] {
			v = append(v, c[i])
		}
		out[j] = f.on(v)
	}
	return out
}

func read(feats arrow.Record) ([][][]float64, error) {
	cols := make([][][]float64, len(flags))
	for j, f := range flags {
		c, err := columns(feats, f.cols)
		if err != nil {
			return nil, err
		}
		cols[j] = c
	}
	return cols, nil
}

// Score counts each household's flags.
func (Model) Score(ctx context.Context, feats arrow.Record) ([]float64, error) {
	cols, err := read(feats)
	if err != nil {
		return nil, err
	}
	out := make([]float64, feats.NumRows())
	for i := range out {
		for _, on := range raised(cols, i) {
			if on {
				out[i]++
			}
		}
	}
	return out, ctx.Err()
}

// Explain names the flags row raises (at most n), each with the value of
// its first column.
func (Model) Explain(feats arrow.Record, row int, n int) []pipeline.Reason {
	cols, err := read(feats)
	if err != nil {
		return nil
	}
	var out []pipeline.Reason
	for j, on := range raised(cols, row) {
		if on && len(out) < n {
			out = append(out, pipeline.Reason{Feature: flags[j].cols[0], Value: cols[j][0][row], Contribution: 1})
		}
	}
	return out
}

// ID names the baseline in manifests and model cards.
func (Model) ID() string { return "rules-supporting-families-3" }

// Features is nil: the rules count flags from several columns rather than
// weigh named inputs, so a table is never refused for its columns.
func (Model) Features() []string { return nil }

// Coefficients is nil: a count of flags has no weight per feature.
func (Model) Coefficients() map[string]float64 { return nil }
