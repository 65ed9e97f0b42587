package rundir

import (
	"encoding/json"
	"time"

	"earlyhelp/pipeline/atomicfile"
)

// Manifest is runs/<id>/manifest.json: what a run read, what it did and how
// it ended. It is rewritten atomically after every stage, so a run that dies
// still leaves one.
type Manifest struct {
	RunID       string     `json:"run_id"`
	Council     string     `json:"council"`
	AsOf        string     `json:"as_of"`
	StartedAt   time.Time  `json:"started_at"`
	FinishedAt  *time.Time `json:"finished_at,omitempty"`
	Status      string     `json:"status"` // running, succeeded, failed; abandoned when its process died
	Error       string     `json:"error,omitempty"`
	FailedStage string     `json:"failed_stage,omitempty"`
	CodeVersion string     `json:"code_version"`
	// MissingSourcesAccepted are safety sources the run went without, each
	// with the council's written reason.
	MissingSourcesAccepted map[string]string `json:"missing_sources_accepted,omitempty"`
	// DueAt and WaitedSeconds: for a scheduled run, when its job fell due
	// and how long it waited, queued behind another job or for a lock.
	DueAt         *time.Time                 `json:"due_at,omitempty"`
	WaitedSeconds float64                    `json:"waited_seconds,omitempty"`
	ConfigSHA256  string                     `json:"config_sha256"`
	Sources       map[string]*SourceManifest `json:"sources"`
	// LinkMatch is, per source, the share of its people found in a household
	// on the as-of date.
	LinkMatch  map[string]float64 `json:"link_match_rates"`
	Households *HouseholdCounts   `json:"households,omitempty"`
	Model      *ModelManifest     `json:"model,omitempty"`
	Backtest   *BacktestSummary   `json:"backtest,omitempty"`
	List       *ListManifest      `json:"list,omitempty"`
	// Fairness is the audit's headline for auditors, when the run audited.
	Fairness string `json:"fairness_headline,omitempty"`
	// IoDVintage is the Indices of Deprivation release whose deciles the
	// features used (model.iod_vintage, else the newest present).
	IoDVintage string `json:"iod_vintage,omitempty"`
	// FeaturePSI is each feature's population stability index on the run
	// date against the model's training snapshots.
	FeaturePSI map[string]float64 `json:"feature_psi,omitempty"`
	Stages     []StageTiming      `json:"stages"`
	Outputs    []string           `json:"outputs"`
}

// SourceManifest counts one source's rows; Read = Loaded + Quarantined always.
type SourceManifest struct {
	Files       []FileManifest   `json:"files"`
	Read        int64            `json:"rows_read"`
	Loaded      int64            `json:"rows_loaded"`
	Quarantined int64            `json:"rows_quarantined"`
	ByReason    map[string]int64 `json:"quarantined_by_reason"`
	// Nulled counts the optional cells that could not be read and were
	// stored as null, their rows kept; NulledByReason breaks them down by
	// column and reason (quarantine/<source>_cells.csv lists each).
	Nulled         int64                       `json:"cells_nulled"`
	NulledByReason map[string]map[string]int64 `json:"nulled_by_reason,omitempty"`
	// Unmatched lists, for objections, the rows that could not be tied to
	// anyone: by file and row, never by identifier.
	Unmatched []UnmatchedRow `json:"objections_unmatched,omitempty"`
	// SkippedLines and MojibakeRows total the files' (FileManifest).
	SkippedLines int64 `json:"skipped_lines,omitempty"`
	MojibakeRows int64 `json:"mojibake_rows,omitempty"`
}

// UnmatchedRow is a row of a source that names no one the run can
// identify.
type UnmatchedRow struct {
	File   string `json:"file"`
	Row    int64  `json:"row_number"`
	Reason string `json:"reason"`
}

// FileManifest is one delivered file.
type FileManifest struct {
	Name        string `json:"name"`
	SHA256      string `json:"sha256"`
	Bytes       int64  `json:"bytes"`
	Skipped     bool   `json:"skipped_already_loaded,omitempty"`
	Read        int64  `json:"rows_read"`
	Loaded      int64  `json:"rows_loaded"`
	Quarantined int64  `json:"rows_quarantined"`
	// SkippedLines are lines that were not rows: a report's preamble
	// above the header and its summary lines below the data.
	SkippedLines int64 `json:"skipped_lines,omitempty"`
	// MojibakeRows are rows whose text looks doubly encoded (UTF-8 read
	// as Windows-1252 before export): loaded as they are, never repaired.
	MojibakeRows int64 `json:"mojibake_rows,omitempty"`
}

// HouseholdCounts says who was scored and who was left out, and why.
type HouseholdCounts struct {
	Scored   int            `json:"scored"`
	Excluded map[string]int `json:"excluded"`
}

// ModelManifest identifies the model that scored this run.
type ModelManifest struct {
	ID            string   `json:"id"`
	Kind          string   `json:"kind"`
	TrainingDates []string `json:"training_as_of_dates"`
	TrainingRows  int      `json:"training_rows"`
	Positives     int      `json:"training_positives"`
	Features      []string `json:"features"`
	HorizonWeeks  int      `json:"horizon_weeks"`
	// CalibrationAsOf is the later held-out date the scores were
	// calibrated on, after training on the dates before it.
	CalibrationAsOf string `json:"calibration_as_of,omitempty"`
	// ReusedFrom is the run that trained the model, when this run reused it.
	ReusedFrom string `json:"reused_from_run,omitempty"`
}

// ListManifest summarises the navigator list.
type ListManifest struct {
	Capacity   int            `json:"capacity"`
	Households int            `json:"households"`
	Bands      map[string]int `json:"bands"`
	Statuses   map[string]int `json:"statuses"`
	// Churn is the share of the list that was not on last week's.
	Churn        float64 `json:"churn"`
	PreviousAsOf string  `json:"previous_as_of,omitempty"`
	// NoFamilySignal counts households ranked high enough to be listed that
	// were passed over because none of their own records within
	// ReasonMaxAgeWeeks could be given as a reason: area deprivation or
	// family size alone is no reason to contact a family.
	NoFamilySignal    int `json:"passed_over_no_family_signal"`
	ReasonMaxAgeWeeks int `json:"reason_max_age_weeks,omitempty"`
	// Evaluation is the capacity-margin lottery's draw, when configured.
	Evaluation *EvaluationManifest `json:"evaluation,omitempty"`
}

// EvaluationManifest is the week's lottery: its margin, the seed it was
// drawn with (so the draw can be reproduced) and the size of each arm.
type EvaluationManifest struct {
	Margin     int   `json:"margin"`
	Seed       int64 `json:"seed"`
	Offered    int   `json:"offered"`
	NotOffered int   `json:"not_offered"`
}

// StageTiming is one stage's wall time and outcome.
type StageTiming struct {
	Stage   string  `json:"stage"`
	Seconds float64 `json:"seconds"`
	Status  string  `json:"status"`
}

// Marshal is the manifest as the run writes it: indented, one trailing
// newline.
func (m *Manifest) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Manifest reads the run's manifest.json.
func (r Run) Manifest() (*Manifest, error) {
	var m Manifest
	if err := atomicfile.ReadJSON(r.ManifestPath(), &m); err != nil {
		return nil, err
	}
	return &m, nil
}
