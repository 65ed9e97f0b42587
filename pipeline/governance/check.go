package governance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"earlyhelp/pipeline"
	"earlyhelp/pipeline/atomicfile"
	"earlyhelp/pipeline/rundir"
)

// Check computes every criterion for the run in, writes its
// model/governance.json and returns the answer for the model card.
func (c *Checker) Check(ctx context.Context, in pipeline.GovernanceInput) (*pipeline.ShouldRun, error) {
	res, err := c.compute(ctx, in)
	if err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("governance: %w", err)
	}
	if err := atomicfile.WriteFile(rundir.Open(in.RunDir).GovernanceJSON(), append(b, '\n'), 0o640); err != nil {
		return nil, fmt.Errorf("governance: %w", err)
	}
	return &res.ShouldRun, nil
}

func (c *Checker) compute(ctx context.Context, in pipeline.GovernanceInput) (*Result, error) {
	asOf := in.AsOf.Format(time.DateOnly)
	// The review date is held against the later of the clock's day and the
	// as-of date: a run made today for an earlier week still sees a review
	// that is overdue today.
	today := in.Today.UTC().Truncate(24 * time.Hour)
	if in.AsOf.After(today) {
		today = in.AsOf
	}
	res := &Result{RunID: in.RunID, AsOf: asOf, CheckedOn: today.Format(time.DateOnly),
		Observations: []Observation{}, Findings: []StandingFinding{}}
	earlier, err := c.earlier(in)
	if err != nil {
		return nil, err
	}
	res.UnreadableRuns = earlier.unreadable

	obs, unread := c.observations(in, earlier.results)
	if unread {
		res.UnreadableRuns = append(res.UnreadableRuns, in.ReusedFrom)
	}
	res.Observations = obs
	if res.Findings, err = c.standing(in, earlier.results); err != nil {
		return nil, err
	}
	if c.decisions != nil {
		ds, err := c.decisions(ctx)
		if err != nil {
			return nil, fmt.Errorf("governance: decisions: %w", err)
		}
		res.Offers = offers(ds, today)
	}

	p := c.policy
	if p == nil {
		p = &Policy{}
	}
	res.Owner, res.Contact = p.Owner, p.Contact
	if !p.ReviewDate.IsZero() {
		res.ReviewDate = p.ReviewDate.Format(time.DateOnly)
	}
	res.ReviewDue = p.ReviewDate.IsZero() || !today.Before(p.ReviewDate)
	res.Criteria = []Criterion{
		belowFloor(PrecisionBelowFloor, "precision@K", p.PrecisionFloor, p.BelowFloorWeeks, obs, func(o Observation) float64 { return o.PrecisionAtK }),
		belowFloor(RecallBelowFloor, "recall@K", p.RecallFloor, p.BelowFloorWeeks, obs, func(o Observation) float64 { return o.RecallAtK }),
		findingsCriterion(p, res.Findings, c.findings != nil),
		acceptance(p, res.Offers),
		review(p, today),
	}
	// Weeks counted across runs may fall short by the runs that could not
	// be read: the criteria that count them say so.
	if len(res.UnreadableRuns) > 0 {
		counted := map[string]bool{PrecisionBelowFloor: true, RecallBelowFloor: true, FairnessFindingUnresolved: true}
		for i := range res.Criteria {
			if cr := &res.Criteria[i]; cr.Checked && counted[cr.Name] {
				cr.Evidence += fmt.Sprintf(" (the records of run %s could not be read, so the weeks counted may be too few)",
					strings.Join(res.UnreadableRuns, ", "))
			}
		}
	}
	res.Verdict = verdict(c.policy, res.Criteria)
	return res, nil
}

func verdict(p *Policy, cs []Criterion) string {
	if p == nil {
		return pipeline.VerdictNoTargets
	}
	checked := false
	for _, c := range cs {
		if c.Met {
			return pipeline.VerdictSwitchOff
		}
		checked = checked || c.Checked
	}
	if !checked {
		return pipeline.VerdictNoTargets
	}
	return pipeline.VerdictContinue
}

// earlierRuns are the governance results of the runs before this one.
type earlierRuns struct {
	results    []*Result // oldest first
	unreadable []string
}

// earlier reads every earlier run's governance.json under the runs folder,
// oldest first (run ids sort by time). Runs without one (failed before the
// check, or made before it existed) are passed over; a run for a later
// as-of date than this one is not this run's past and is left out.
func (c *Checker) earlier(in pipeline.GovernanceInput) (earlierRuns, error) {
	var out earlierRuns
	ents, err := os.ReadDir(c.runsDir)
	if err != nil {
		return out, fmt.Errorf("governance: runs folder: %w", err)
	}
	ids := make([]string, 0, len(ents))
	for _, e := range ents {
		if e.IsDir() && e.Name() < in.RunID {
			ids = append(ids, e.Name())
		}
	}
	sort.Strings(ids)
	asOf := in.AsOf.Format(time.DateOnly)
	for _, id := range ids {
		r, err := Read(filepath.Join(c.runsDir, id))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err != nil:
			// A damaged file from an earlier week must not stop this
			// week's check; the result names the run so the gap shows.
			out.unreadable = append(out.unreadable, id)
			continue
		case r.AsOf > asOf:
			continue
		}
		out.results = append(out.results, r)
	}
	return out, nil
}

// observations merges the dated figures of earlier runs with this run's
// backtest, a later run's figure for a date replacing an earlier one's,
// oldest date first. unread says a reused model's backtest could not be
// read: earlier runs' figures stand in for it.
func (c *Checker) observations(in pipeline.GovernanceInput, earlier []*Result) (obs []Observation, unread bool) {
	byDate := map[string]Observation{}
	for _, r := range earlier {
		for _, o := range r.Observations {
			byDate[o.Date] = o
		}
	}
	bt := in.Backtest
	if bt == nil && in.ReusedFrom != "" {
		var err error
		if bt, err = readBacktest(filepath.Join(c.runsDir, in.ReusedFrom)); err != nil {
			unread = true
		}
	}
	if bt != nil {
		for _, f := range bt.Folds {
			m, ok := f.Models[bt.Chosen]
			if !ok {
				continue
			}
			byDate[f.AsOf] = Observation{Date: f.AsOf, Model: bt.Chosen, K: m.K,
				PrecisionAtK: m.PrecisionAtK, RecallAtK: m.RecallAtK, StepWeeks: bt.StepWeeks}
		}
	}
	out := make([]Observation, 0, len(byDate))
	for _, o := range byDate {
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Date < out[j].Date })
	return out, unread
}

// readBacktest reads the backtest of the run that trained a reused model;
// nil when that run's folder no longer has it (pruned): earlier runs'
// observations then carry its figures.
func readBacktest(runDir string) (*pipeline.Backtest, error) {
	b, err := readFile(rundir.Open(runDir).BacktestJSON())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var bt pipeline.Backtest
	if err := json.Unmarshal(b, &bt); err != nil {
		return nil, fmt.Errorf("governance: reused model's %s: %w", rundir.BacktestFile, err)
	}
	return &bt, nil
}

// belowFloor is a floor criterion: met when the figure was below its floor
// on every backtest date of the latest weeks, for at least weeks weeks.
// Weeks are counted on the backtest's dates, the only ones whose outcomes
// are known: the span from the first date of the unbroken run of dates
// below the floor to the latest, plus the weeks the latest stands for.
func belowFloor(name, what string, floor *float64, weeks int, obs []Observation, fig func(Observation) float64) Criterion {
	c := Criterion{Name: name, Threshold: "not set"}
	if floor == nil {
		c.Evidence = "no " + what + " floor was set, so this is not checked"
		return c
	}
	c.Checked = true
	c.Threshold = fmt.Sprintf("below %.3f for %d weeks", *floor, weeks)
	var known []Observation
	for _, o := range obs {
		if v := fig(o); !math.IsNaN(v) && !math.IsInf(v, 0) {
			known = append(known, o)
		}
	}
	if len(known) == 0 {
		c.Value = "no backtest figures"
		c.Evidence = "no backtest date has known outcomes yet, so " + what + " cannot be held against its floor"
		return c
	}
	last := known[len(known)-1]
	first := len(known)
	for first > 0 && fig(known[first-1]) < *floor {
		first--
	}
	if first == len(known) {
		c.Value = "0 weeks below the floor"
		c.Evidence = fmt.Sprintf("%s of the %s model was %.3f on the latest backtest date, %s: at or above the floor of %.3f",
			what, last.Model, fig(last), last.Date, *floor)
		return c
	}
	start, _ := time.Parse(time.DateOnly, known[first].Date)
	end, _ := time.Parse(time.DateOnly, last.Date)
	span := int(end.Sub(start).Hours()/24/7) + max(last.StepWeeks, 1)
	c.Met = span >= weeks
	c.Value = fmt.Sprintf("%d weeks below the floor", span)
	figs := make([]string, 0, len(known)-first)
	for _, o := range known[first:] {
		figs = append(figs, fmt.Sprintf("%.3f", fig(o)))
	}
	c.Evidence = fmt.Sprintf("%s of the %s model was below the floor of %.3f on every backtest date from %s to %s (%d dates, %s), each standing for %d weeks",
		what, last.Model, *floor, known[first].Date, last.Date, len(figs), strings.Join(figs, ", "), max(last.StepWeeks, 1))
	return c
}

func readFile(path string) ([]byte, error) { return os.ReadFile(path) }
