// Package pipelinetest helps tests build runs with small fake plug-ins.
package pipelinetest

import (
	"context"
	"time"

	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/pipeline"
)

// NoExtras gives a fake FeatureSet the answers of a council with nothing
// beyond its table: no early help, no history span, no link rates, no
// facts, timelines or children, no area context. Embed it and implement
// Build, Labels and Describe.
type NoExtras struct{}

// Intervened marks no household.
func (NoExtras) Intervened(context.Context, *pipeline.FeatureTable, int) ([]bool, error) {
	return nil, nil
}

// DataSpan knows no span: every date counts as having history.
func (NoExtras) DataSpan(context.Context, memory.Allocator) (time.Time, time.Time, error) {
	return time.Time{}, time.Time{}, nil
}

// LinkMatch has no rates.
func (NoExtras) LinkMatch(context.Context, memory.Allocator, time.Time) (map[string]float64, error) {
	return nil, nil
}

// Facts has none.
func (NoExtras) Facts(*pipeline.FeatureTable, int) pipeline.FamilyFacts {
	return pipeline.FamilyFacts{}
}

// Timeline is empty.
func (NoExtras) Timeline(*pipeline.FeatureTable, int) pipeline.Timeline { return pipeline.Timeline{} }

// AuditChildren lists none.
func (NoExtras) AuditChildren(context.Context, *pipeline.FeatureTable, int) ([]pipeline.AuditChild, error) {
	return nil, nil
}

// DropCaches has nothing to drop.
func (NoExtras) DropCaches() {}

// ForgetTable keeps nothing to forget.
func (NoExtras) ForgetTable(time.Time) {}

// FeatureColumns does not know the columns before a build.
func (NoExtras) FeatureColumns() []string { return nil }

// Context treats no feature as area context.
func (NoExtras) Context(string, float64) (string, bool) { return "", false }

// ModelExtras gives a fake Model the answers of a model that names
// nothing: no id, no feature list (so no table is refused), no weights.
// Embed it and implement Score and Explain.
type ModelExtras struct{}

// ID is empty.
func (ModelExtras) ID() string { return "" }

// Features is nil: the model does not name its inputs.
func (ModelExtras) Features() []string { return nil }

// Coefficients is nil.
func (ModelExtras) Coefficients() map[string]float64 { return nil }
