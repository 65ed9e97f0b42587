// Package governance checks, every run, the targets and switch-off
// criteria a council set before go-live (issue 21): precision@K and
// recall@K against their floors over consecutive weeks, fairness findings
// left standing, the offer-acceptance rate and the review date. It writes
// the verdict with its evidence to the run's model/governance.json, which
// the next run reads back for the weeks a criterion has held.
package governance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"earlyhelp/pipeline"
	"earlyhelp/pipeline/rundir"
)

// Criterion names: the earlyhelp_governance_criterion_met label values.
const (
	PrecisionBelowFloor        = "precision_below_floor"
	RecallBelowFloor           = "recall_below_floor"
	FairnessFindingUnresolved  = "fairness_finding_unresolved"
	OfferAcceptanceBelowTarget = "offer_acceptance_below_target"
	ReviewDatePassed           = "review_date_passed"
)

// Criterion is one switch-off criterion with its evidence.
type Criterion = pipeline.GovernanceCriterion

// Policy is the council's governance block as the check needs it. A nil
// *Policy means the council set none.
type Policy struct {
	Owner, Contact string
	ReviewDate     time.Time // zero: none set
	// Targets; nil is not set, and its criterion is not checked.
	PrecisionFloor *float64
	RecallFloor    *float64
	MaxFindings    *int
	MinAcceptance  *float64
	// Switch-off periods and whether a passed review date switches off.
	BelowFloorWeeks  int
	FindingWeeks     int
	ReviewDatePassed bool
}

// Finding is one fairness finding of a run's audit: Key is the same from
// run to run while the finding stands (no figures in it); Text says it in
// words, without any identifier.
type Finding struct {
	Key  string
	Text string
}

// FindingsFunc returns a finished run's fairness findings; none (and no
// error) when the run has no audit.
type FindingsFunc func(runDir string) ([]Finding, error)

// DecisionsFunc returns each household's latest navigators' decision.
type DecisionsFunc func(ctx context.Context) (map[string]pipeline.Decision, error)

// Checker runs the check for one data folder.
type Checker struct {
	policy    *Policy
	runsDir   string
	findings  FindingsFunc
	decisions DecisionsFunc
}

// New validates the policy; it reads nothing until Check. findings and
// decisions may be nil: the run then has no findings and no decisions.
func New(p *Policy, runsDir string, findings FindingsFunc, decisions DecisionsFunc) (*Checker, error) {
	if runsDir == "" {
		return nil, errors.New("governance: the runs folder is required")
	}
	if p != nil && (p.BelowFloorWeeks < 1 || p.FindingWeeks < 1) {
		return nil, fmt.Errorf("governance: switch-off weeks must be positive, got %d and %d", p.BelowFloorWeeks, p.FindingWeeks)
	}
	return &Checker{policy: p, runsDir: runsDir, findings: findings, decisions: decisions}, nil
}

// Result is model/governance.json: the answer the model card shows, and
// what the next run needs to count weeks.
type Result struct {
	pipeline.ShouldRun
	RunID string `json:"run_id"`
	AsOf  string `json:"as_of"`
	// CheckedOn is the day of the run's clock the review date was held
	// against.
	CheckedOn string `json:"checked_on"`
	// Observations are the chosen model's precision@K and recall@K on each
	// backtest date known so far, this run's and earlier runs', by date.
	Observations []Observation `json:"observations"`
	// Findings are this run's fairness findings with the date each first
	// stood in an unbroken line of runs.
	Findings []StandingFinding `json:"findings"`
	Offers   Offers            `json:"offers"`
	// UnreadableRuns are earlier runs whose governance.json could not be
	// read: the weeks counted may be short by their share.
	UnreadableRuns []string `json:"unreadable_runs,omitempty"`
}

// Observation is one backtest date's figures for the chosen model.
type Observation struct {
	Date         string  `json:"date"`
	Model        string  `json:"model"`
	K            int     `json:"k"`
	PrecisionAtK float64 `json:"precision_at_k"`
	RecallAtK    float64 `json:"recall_at_k"`
	// StepWeeks is how many weeks the date stands for: the backtest's
	// spacing of dates.
	StepWeeks int `json:"step_weeks"`
}

// StandingFinding is a fairness finding and how long it has stood.
type StandingFinding struct {
	Key   string `json:"key"`
	Text  string `json:"text"`
	Since string `json:"since"` // as-of date of the first run of the unbroken line
	Weeks int    `json:"weeks"`
}

// Offers are the navigators' offers by latest decision per household.
type Offers struct {
	Accepted int `json:"accepted"`
	Declined int `json:"declined"`
	// Pending: an offer made and not yet answered.
	Pending int      `json:"pending"`
	Rate    *float64 `json:"acceptance_rate"` // accepted / (accepted + declined); nil below MinResolvedOffers
}

// MinResolvedOffers is how many offers must have been accepted or declined
// before the acceptance rate is judged: on a handful, one family's answer
// would switch the model off.
const MinResolvedOffers = 10

// Read reads a run's model/governance.json.
func Read(runDir string) (*Result, error) {
	b, err := readFile(rundir.Open(runDir).GovernanceJSON())
	if err != nil {
		return nil, err
	}
	var r Result
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", rundir.GovernanceFile, err)
	}
	return &r, nil
}
