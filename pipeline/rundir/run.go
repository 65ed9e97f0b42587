// Package rundir is a run folder's layout as a typed API (CONTRACTS §4):
// data_dir/runs/<run_id>/ and every file in it. It is the one package that
// spells the folder's file names, so a file can be moved or renamed in one
// place and every writer and reader follows.
package rundir

import "path/filepath"

// Names inside a run folder, relative to it and slash-separated, as a
// run's manifest lists its outputs. The methods of Run join them onto the
// folder; use these only where a relative name is wanted (the manifest's
// outputs, a message naming the file).
const (
	ManifestFile = "manifest.json"
	MetricsFile  = "metrics.prom"
	FeaturesFile = "features.parquet"
	ScoresFile   = "scores.parquet"

	QuarantineFolder = "quarantine"

	ModelFolder       = "model"
	ModelFile         = ModelFolder + "/model.json"
	ModelCardJSONFile = ModelFolder + "/model_card.json"
	ModelCardMDFile   = ModelFolder + "/model_card.md"
	GovernanceFile    = ModelFolder + "/governance.json"

	BacktestFolder          = "backtest"
	BacktestFile            = BacktestFolder + "/backtest.json"
	BacktestMetricsFile     = BacktestFolder + "/metrics.csv"
	BacktestCalibrationFile = BacktestFolder + "/calibration.csv"

	EvaluationFolder   = "evaluation"
	ScoredChildrenFile = EvaluationFolder + "/scored_children.csv"
	OracleFile         = EvaluationFolder + "/oracle.json"

	ListFolder      = "list"
	ListCSVFile     = ListFolder + "/navigator_list.csv"
	ListHTMLFile    = ListFolder + "/navigator_list.html"
	ListParquetFile = ListFolder + "/navigator_list.parquet"
	FamiliesFile    = ListFolder + "/families.json"
	ListStateFile   = ListFolder + "/list_state.json"
	// AllocationFile is the capacity-margin lottery's draw (restricted:
	// who was offered and who was not).
	AllocationFile = ListFolder + "/evaluation_allocation.csv"

	AuditFolder = "audit"

	// TransparencyFolder is what earlyhelp transparency writes into a run:
	// the algorithmic transparency record and its companions.
	TransparencyFolder = "governance"
)

// IDFormat is the layout of run ids (CONTRACTS §4: YYYYMMDDTHHMMSSZ), in
// UTC: they sort by the time the run started.
const IDFormat = "20060102T150405Z"

// runsFolder is data_dir's folder of run folders.
const runsFolder = "runs"

// quarantineCellsSuffix ends quarantine/<source>_cells.csv.
const quarantineCellsSuffix = "_cells.csv"

// Run is one run folder. Its methods return paths and do no I/O, except
// the readers (Manifest, List), which say so.
type Run struct {
	Dir string
}

// Open returns the run whose folder is dir (no I/O: a run being started
// has no files yet).
func Open(dir string) Run { return Run{Dir: dir} }

// RunsDir is data_dir/runs, the folder of every run folder.
func RunsDir(dataDir string) string { return filepath.Join(dataDir, runsFolder) }

// ForID returns data_dir/runs/<id>.
func ForID(dataDir, id string) Run { return Run{Dir: filepath.Join(RunsDir(dataDir), id)} }

// ID is the run's id, its folder's name (CONTRACTS §4: YYYYMMDDTHHMMSSZ).
func (r Run) ID() string { return filepath.Base(r.Dir) }

// Path joins a relative name (one of the constants above) onto the folder.
func (r Run) Path(rel string) string { return filepath.Join(r.Dir, filepath.FromSlash(rel)) }

// The run's own files, at the top of its folder.
func (r Run) ManifestPath() string    { return r.Path(ManifestFile) }
func (r Run) MetricsProm() string     { return r.Path(MetricsFile) }
func (r Run) FeaturesParquet() string { return r.Path(FeaturesFile) }
func (r Run) ScoresParquet() string   { return r.Path(ScoresFile) }

// QuarantineDir holds one CSV of rejected rows per source.
func (r Run) QuarantineDir() string { return r.Path(QuarantineFolder) }

// QuarantineCSV is quarantine/<source>.csv: the source's rejected rows.
func (r Run) QuarantineCSV(source string) string {
	return filepath.Join(r.QuarantineDir(), source+".csv")
}

// QuarantineCellsCSV is quarantine/<source>_cells.csv: the optional cells
// that could not be read and were stored as null, their rows kept.
func (r Run) QuarantineCellsCSV(source string) string {
	return filepath.Join(r.QuarantineDir(), source+quarantineCellsSuffix)
}

// The model the run trained (or reused), its card and governance check.
func (r Run) ModelDir() string       { return r.Path(ModelFolder) }
func (r Run) ModelJSON() string      { return r.Path(ModelFile) }
func (r Run) ModelCardJSON() string  { return r.Path(ModelCardJSONFile) }
func (r Run) ModelCardMD() string    { return r.Path(ModelCardMDFile) }
func (r Run) GovernanceJSON() string { return r.Path(GovernanceFile) }

// The temporal backtest (CONTRACTS §5).
func (r Run) BacktestDir() string            { return r.Path(BacktestFolder) }
func (r Run) BacktestJSON() string           { return r.Path(BacktestFile) }
func (r Run) BacktestMetricsCSV() string     { return r.Path(BacktestMetricsFile) }
func (r Run) BacktestCalibrationCSV() string { return r.Path(BacktestCalibrationFile) }

// Every child of every scored household (the fairness audit's input), and
// earlyhelp evaluate's oracle.
func (r Run) EvaluationDir() string     { return r.Path(EvaluationFolder) }
func (r Run) ScoredChildrenCSV() string { return r.Path(ScoredChildrenFile) }
func (r Run) OracleJSON() string        { return r.Path(OracleFile) }

// The weekly list (CONTRACTS §6) and what goes with it.
func (r Run) ListDir() string       { return r.Path(ListFolder) }
func (r Run) ListCSV() string       { return r.Path(ListCSVFile) }
func (r Run) ListHTML() string      { return r.Path(ListHTMLFile) }
func (r Run) ListParquet() string   { return r.Path(ListParquetFile) }
func (r Run) FamiliesJSON() string  { return r.Path(FamiliesFile) }
func (r Run) ListStateJSON() string { return r.Path(ListStateFile) }
func (r Run) AllocationCSV() string { return r.Path(AllocationFile) }

// AuditDir is audit/, the fairness audit; Audit names its files.
func (r Run) AuditDir() string { return r.Path(AuditFolder) }
func (r Run) Audit() Audit     { return Audit{Dir: r.AuditDir()} }

// TransparencyDir is governance/, earlyhelp transparency's documents.
func (r Run) TransparencyDir() string { return r.Path(TransparencyFolder) }

// String is the run's folder, for messages.
func (r Run) String() string { return r.Dir }

// DataDir is the data_dir the run belongs to (the folder holding runs/).
func (r Run) DataDir() string { return filepath.Dir(parentOf(Run{Dir: filepath.Clean(r.Dir)})) }

// parentOf is the runs folder r is in.
func parentOf(r Run) string { return filepath.Dir(r.Dir) }

// joinSibling is the folder of run id beside r.
func joinSibling(r Run, id string) string { return filepath.Join(parentOf(r), id) }
