package main

import (
	"context"
	"strings"
	"time"

	"earlyhelp/models/fairness"
	"earlyhelp/pipeline"
	"earlyhelp/pipeline/config"
	"earlyhelp/pipeline/governance"
	"earlyhelp/pipeline/rundir"
)

// governancePolicy maps the config's governance block onto the check's
// policy; nil without the block, and the run then says no targets were set.
func governancePolicy(cfg *config.Config) *governance.Policy {
	g := cfg.Governance
	if g == nil {
		return nil
	}
	p := &governance.Policy{
		Owner: g.Owner, Contact: g.Contact,
		PrecisionFloor: g.Targets.PrecisionAtKFloor, RecallFloor: g.Targets.RecallAtKFloor,
		MaxFindings: g.Targets.MaxFairnessFindings, MinAcceptance: g.Targets.MinOfferAcceptanceRate,
		BelowFloorWeeks: g.SwitchOff.PrecisionBelowFloorWeeks, FindingWeeks: g.SwitchOff.FindingUnresolvedWeeks,
		ReviewDatePassed: g.SwitchOff.ReviewDatePassed != nil && *g.SwitchOff.ReviewDatePassed,
	}
	// Validate has checked the date.
	p.ReviewDate, _ = time.Parse(time.DateOnly, g.ReviewDate)
	return p
}

// governanceHook is the run's governance stage: the check over the data
// folder's runs, with the audit's findings and the navigators' decisions.
func governanceHook(cfg *config.Config) (func(context.Context, pipeline.GovernanceInput) (*pipeline.ShouldRun, error), error) {
	c, err := governance.New(governancePolicy(cfg), rundir.RunsDir(cfg.DataDir), auditFindings, decisionsFor(cfg.DataDir))
	if err != nil {
		return nil, err
	}
	return c.Check, nil
}

// auditFindings reads a run's fairness findings back from audit/audit.json
// (the backtest's audit, which fairness.Result.Write writes there): the
// comparisons the findings rule judges, each keyed by what it compares so
// the same finding is recognised run after run while its figures move.
func auditFindings(runDir string) ([]governance.Finding, error) {
	var res fairness.Result
	if ok, err := readOptionalJSON(rundir.Open(runDir).Audit().JSON(), &res); !ok {
		return nil, err
	}
	a := fairness.RunAudit{Backtest: &res}
	var out []governance.Finding
	for _, d := range a.Findings() {
		out = append(out, governance.Finding{
			Key:  strings.Join([]string{d.Decision, d.Attribute, d.Group, d.Metric}, "/"),
			Text: fairness.Sentence(d),
		})
	}
	return out, nil
}
