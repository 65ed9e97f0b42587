// Package rank is the run's score stage: it scores every eligible
// household as of the run date, draws up the week's list under the
// council's list policy (capacity, cool-off, quotas, stability, the margin
// lottery), chooses each listed family's reasons and contact-safety
// instructions, and writes the scores and the scored children the audit
// reads.
package rank

import (
	"context"
	"errors"
	"time"

	"earlyhelp/pipeline"
)

// Config is the score stage's part of the council's configuration.
type Config struct {
	Capacity int
	// ListRules beyond capacity: cool-off, quotas, stability and bands.
	ListRules pipeline.ListRules
	// Reasons choose each listed household's reasons and contact-safety
	// instructions.
	Reasons ReasonRules
	// Decisions returns the navigators' latest decision per household
	// pseudonym; nil means none are recorded.
	Decisions func(ctx context.Context) (map[string]pipeline.Decision, error)
	Exporter  pipeline.Exporter
	// Ethnicity5 maps a recorded ethnicity code to its five-group
	// category for the scored children; nil leaves it blank.
	Ethnicity5 func(code string) string

	// RecordAllocation, when the list has a margin lottery, keeps the
	// week's draw in the decisions database beside the navigators'
	// decisions; nil keeps it in the run folder only.
	RecordAllocation func(ctx context.Context, runID string, asOf time.Time, l pipeline.Lottery, alloc []pipeline.Allocation) error
	// Allocations returns every household's first draw in earlier weeks'
	// lotteries, and CompareArms estimates the difference between the
	// arms: with both, the run reports outcomes by arm once the horizon
	// has passed (audit/evaluation_arms.csv).
	Allocations func(ctx context.Context) ([]pipeline.PastAllocation, error)
	CompareArms pipeline.ArmsEstimator
}

// Stage is the score stage.
type Stage struct{ cfg Config }

// New returns the score stage for cfg.
func New(cfg Config) (*Stage, error) {
	if cfg.Capacity <= 0 || cfg.Exporter == nil {
		return nil, errors.New("score: a positive capacity and an exporter are required")
	}
	return &Stage{cfg: cfg}, nil
}

// Name is "score".
func (*Stage) Name() string { return "score" }

// Run scores, ranks and exports the list.
func (s *Stage) Run(ctx context.Context, st *pipeline.State) error {
	return (&run{State: st, opts: s.cfg}).score(ctx)
}

// run is one score stage: the run's state and the stage's configuration.
type run struct {
	*pipeline.State
	opts Config
}
