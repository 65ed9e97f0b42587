package pipeline

import "earlyhelp/pipeline/rundir"

// The manifest's types live with the run folder they describe; these
// aliases keep pipeline's names for its callers.
type (
	Manifest           = rundir.Manifest
	SourceManifest     = rundir.SourceManifest
	UnmatchedRow       = rundir.UnmatchedRow
	FileManifest       = rundir.FileManifest
	HouseholdCounts    = rundir.HouseholdCounts
	ModelManifest      = rundir.ModelManifest
	ListManifest       = rundir.ListManifest
	EvaluationManifest = rundir.EvaluationManifest
	StageTiming        = rundir.StageTiming
)

// FileShape is what a source found of a delivered file's layout beyond
// its rows (FileManifest's fields of the same names).
type FileShape struct {
	SkippedLines int64
	MojibakeRows int64
}
