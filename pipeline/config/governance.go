package config

import (
	"strings"
	"time"
)

// Switch-off criteria defaults (issue 21): precision@K below its floor for
// 8 consecutive weeks, a fairness finding standing 12 weeks.
const (
	DefaultPrecisionBelowFloorWeeks = 8
	DefaultFindingUnresolvedWeeks   = 12
)

// defaults fills the switch-off criteria a council left out; a config
// without the block keeps none, and its runs say no targets were set.
func (g *Governance) defaults() {
	if g == nil {
		return
	}
	if g.SwitchOff.PrecisionBelowFloorWeeks == 0 {
		g.SwitchOff.PrecisionBelowFloorWeeks = DefaultPrecisionBelowFloorWeeks
	}
	if g.SwitchOff.FindingUnresolvedWeeks == 0 {
		g.SwitchOff.FindingUnresolvedWeeks = DefaultFindingUnresolvedWeeks
	}
	if g.SwitchOff.ReviewDatePassed == nil {
		t := true
		g.SwitchOff.ReviewDatePassed = &t
	}
}

// validateGovernance checks the governance block (issue 21): a review date
// that parses, rates and floors that are shares, and switch-off periods a
// council could wait out. The block and each target are optional; an
// absent target is not checked.
func (c *Config) validateGovernance() error {
	g := c.Governance
	if g == nil {
		return nil
	}
	// Slices, not maps: with two mistakes the same one is named every time.
	for _, f := range []struct{ key, v string }{{"governance.owner", g.Owner}, {"governance.contact", g.Contact}} {
		if len(f.v) > 200 || strings.ContainsAny(f.v, "\r\n") {
			return c.Errorf(f.key, "must be one line of at most 200 characters")
		}
	}
	if g.ReviewDate != "" {
		if _, err := time.Parse(time.DateOnly, g.ReviewDate); err != nil {
			return c.Errorf("governance.review_date", "%q: want a date as yyyy-mm-dd", g.ReviewDate)
		}
	}
	t := g.Targets
	for _, f := range []struct {
		key string
		v   *float64
	}{
		{"governance.targets.precision_at_k_floor", t.PrecisionAtKFloor},
		{"governance.targets.recall_at_k_floor", t.RecallAtKFloor},
		{"governance.targets.min_offer_acceptance_rate", t.MinOfferAcceptanceRate},
	} {
		if f.v != nil && (*f.v < 0 || *f.v > 1) {
			return c.Errorf(f.key, "must be between 0 and 1, got %g", *f.v)
		}
	}
	if n := t.MaxFairnessFindings; n != nil && *n < 0 {
		return c.Errorf("governance.targets.max_fairness_findings", "must not be negative, got %d", *n)
	}
	if n := g.SwitchOff.PrecisionBelowFloorWeeks; n < 1 || n > 104 {
		return c.Errorf("governance.switch_off.precision_below_floor_weeks", "must be between 1 and 104, got %d", n)
	}
	if n := g.SwitchOff.FindingUnresolvedWeeks; n < 1 || n > 104 {
		return c.Errorf("governance.switch_off.finding_unresolved_weeks", "must be between 1 and 104, got %d", n)
	}
	return nil
}
