// Package transparency drafts the papers a council signs off before it
// uses earlyhelp, from one finished run: the Algorithmic Transparency
// Recording Standard record, a DPIA, an equality impact assessment and a
// privacy notice (issue 21), into the run's governance/ folder. Every
// figure comes from the run; what only the council can say is marked
// TO COMPLETE with a one-line guide.
package transparency

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"time"

	"earlyhelp/pipeline"
	"earlyhelp/pipeline/atomicfile"
	"earlyhelp/pipeline/rundir"
)

// ToComplete marks a field only the council can answer.
const ToComplete = "TO COMPLETE"

// NoTargets is said, in large type, by a record made without a
// governance block.
const NoTargets = "NO TARGETS WERE SET"

// Files are what Write puts in governance/, in order.
var Files = []string{"atrs.json", "atrs.md", "dpia.md", "eqia.md", "privacy_notice.md"}

// Settings is what the drafts take from the council's configuration. The
// command fills it from the config file, so this package reads no YAML.
type Settings struct {
	Council      string
	ConfigSHA256 string
	// Sources are the configured sources in the order to show them.
	Sources           []Source
	Governance        *Governance // nil: no governance block
	Retention         Retention
	Capacity          int
	CooloffWeeks      int
	HorizonWeeks      int
	ReasonMaxAgeWeeks int
	UseDeprivation    bool
	RetrainSchedule   string
	WeeklySchedule    string
}

// Source is one configured source: where it comes from and the columns
// the connector reads from it.
type Source struct {
	Name string
	Kind string // csvdir, parquetdir, postgres
	// Location is the folder, or for a database the environment variable
	// naming its DSN (never the DSN, which may hold a password).
	Location string
	Columns  []Column
}

// Column is one column read from a source.
type Column struct {
	Name string
	// Header is the council's own header when the config maps one.
	Header        string
	Required      bool
	Pseudonymised bool
}

// Governance is the config's governance block.
type Governance struct {
	Owner, Contact, ReviewDate string
	// Targets and SwitchOff are in words, e.g. "precision@K floor: 0.3".
	Targets   []string
	SwitchOff []string
}

// Retention is the config's retention block, defaults applied.
type Retention struct {
	RunsWeeks, QuarantineWeeks, EvaluationWeeks, AccessLogWeeks int
}

// EqualityTable is one characteristic's table for eqia.md: the groups of
// the audited decision (the list at capacity on each backtest date),
// published values with small numbers suppressed.
type EqualityTable struct {
	Attribute string // e.g. ethnicity5, age_band
	Title     string // e.g. "Ethnic group"
	From      string // where the figures come from, e.g. audit/publishable/group_metrics.csv
	Rows      []EqualityRow
}

// EqualityRow is one group: its publishable values by column (n,
// selected, selection_rate, n_labelled, pos, prevalence, tp, tpr: counts,
// percentages, or c/z for suppressed) and the audit's finding per
// compared metric (selection_rate, tpr), when there is one.
type EqualityRow struct {
	Group    string
	Values   map[string]string
	Findings map[string]string
}

// Input is everything Write needs besides the run folder's own files.
type Input struct {
	RunDir   string
	Settings Settings
	Equality []EqualityTable
	// Now dates the drafts.
	Now func() time.Time
}

// Result says what Write wrote.
type Result struct {
	Dir    string
	Fields []FieldValue
	// ToComplete counts the ATRS fields left for the council.
	ToComplete int
	NoTargets  bool
}

// run is what the drafts are made from: the input and the run's files.
type run struct {
	in         Input
	man        pipeline.Manifest
	card       *pipeline.ModelCard // nil when the run trained no model
	decisions  int                 // rows of audit/decisions.csv; -1 when absent
	governance *governanceVerdict  // nil when model/governance.json is absent
	written    string
}

// Write reads the run folder and writes governance/ into it, each file
// atomically.
func Write(in Input) (*Result, error) {
	if in.Now == nil {
		in.Now = time.Now
	}
	r := &run{in: in, written: in.Now().UTC().Format(time.DateOnly)}
	rd := rundir.Open(in.RunDir)
	if err := atomicfile.ReadJSON(rd.ManifestPath(), &r.man); err != nil {
		return nil, fmt.Errorf("transparency: %w", err)
	}
	var card pipeline.ModelCard
	switch err := atomicfile.ReadJSON(rd.ModelCardJSON(), &card); {
	case err == nil:
		r.card = &card
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("transparency: %w", err)
	}
	var err error
	if r.decisions, err = countDecisions(rd.Audit().DecisionsCSV()); err != nil {
		return nil, fmt.Errorf("transparency: %w", err)
	}
	if r.governance, err = readGovernance(rd.GovernanceJSON()); err != nil {
		return nil, fmt.Errorf("transparency: %w", err)
	}
	fields := r.atrs()
	res := &Result{Dir: rd.TransparencyDir(), Fields: fields, NoTargets: in.Settings.Governance == nil}
	for _, f := range fields {
		if f.ToComplete {
			res.ToComplete++
		}
	}
	docs := map[string][]byte{}
	if docs["atrs.json"], err = r.atrsJSON(fields); err != nil {
		return nil, fmt.Errorf("transparency: atrs.json: %w", err)
	}
	docs["atrs.md"] = r.atrsMarkdown(fields)
	docs["dpia.md"] = r.dpia()
	docs["eqia.md"] = r.eqia()
	docs["privacy_notice.md"] = r.privacyNotice()
	for _, name := range Files {
		if err := atomicfile.WriteFile(filepath.Join(res.Dir, name), docs[name], 0o640); err != nil {
			return nil, fmt.Errorf("transparency: %s: %w", name, err)
		}
	}
	return res, nil
}
