package rundir

import "path/filepath"

// Audit is a fairness audit's folder (reference/fairness-audit.md §4.10):
// a run's audit/ over the backtest's children with known outcomes, and
// its this_week/ over this week's list, which holds the same files.
type Audit struct {
	Dir string
}

// Names inside an audit folder, relative to it.
const (
	AuditJSONFile          = "audit.json"
	GroupMetricsFile       = "group_metrics.csv"
	IntersectionsFile      = "intersections/group_metrics.csv"
	DisparitiesFile        = "disparities.csv"
	SummaryFile            = "summary.csv"
	TopKCurveFile          = "topk_curve.csv"
	CalibrationBinsFile    = "calibration_bins.csv"
	CalibrationSummaryFile = "calibration_summary.csv"
	PublishableFile        = "publishable/group_metrics.csv"
	ReportFile             = "report.html"
	FindingsFile           = "findings.json"
	AuditManifestFile      = "audit_manifest.json"
	DecisionsFile          = "decisions.csv"
	// EvaluationArmsFile compares the lottery's two arms by group.
	EvaluationArmsFile = "evaluation_arms.csv"
	thisWeekFolder     = "this_week"
)

// AuditReportFile is the report's name relative to the run folder, as
// sentences for auditors point to it.
const AuditReportFile = AuditFolder + "/" + ReportFile

// Path joins a relative name (one of the constants above) onto the folder.
func (a Audit) Path(rel string) string { return filepath.Join(a.Dir, filepath.FromSlash(rel)) }

// ThisWeek is the audit of this week's list (selection metrics only).
func (a Audit) ThisWeek() Audit { return Audit{Dir: filepath.Join(a.Dir, thisWeekFolder)} }

func (a Audit) JSON() string                  { return a.Path(AuditJSONFile) }
func (a Audit) GroupMetricsCSV() string       { return a.Path(GroupMetricsFile) }
func (a Audit) IntersectionsCSV() string      { return a.Path(IntersectionsFile) }
func (a Audit) DisparitiesCSV() string        { return a.Path(DisparitiesFile) }
func (a Audit) SummaryCSV() string            { return a.Path(SummaryFile) }
func (a Audit) TopKCurveCSV() string          { return a.Path(TopKCurveFile) }
func (a Audit) CalibrationBinsCSV() string    { return a.Path(CalibrationBinsFile) }
func (a Audit) CalibrationSummaryCSV() string { return a.Path(CalibrationSummaryFile) }

// PublishableCSV is the group metrics with small numbers suppressed, the
// only audit file fit to publish.
func (a Audit) PublishableCSV() string { return a.Path(PublishableFile) }
func (a Audit) ReportHTML() string     { return a.Path(ReportFile) }
func (a Audit) FindingsJSON() string   { return a.Path(FindingsFile) }

// ManifestJSON is what was audited (model, input hashes, settings).
func (a Audit) ManifestJSON() string { return a.Path(AuditManifestFile) }

// DecisionsCSV is the navigators' decisions by group against the list's mix.
func (a Audit) DecisionsCSV() string      { return a.Path(DecisionsFile) }
func (a Audit) EvaluationArmsCSV() string { return a.Path(EvaluationArmsFile) }
