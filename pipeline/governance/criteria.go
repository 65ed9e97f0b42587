package governance

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"earlyhelp/pipeline"
)

// standing dates each of this run's findings from the first run of the
// unbroken line of earlier runs that had it: the newest earlier run
// carries that date when it had the finding too, and a run without the
// finding breaks the line.
func (c *Checker) standing(in pipeline.GovernanceInput, earlier []*Result) ([]StandingFinding, error) {
	out := []StandingFinding{}
	if c.findings == nil {
		return out, nil
	}
	fs, err := c.findings(in.RunDir)
	if err != nil {
		return nil, fmt.Errorf("governance: fairness findings: %w", err)
	}
	prev := map[string]string{}
	if len(earlier) > 0 {
		for _, f := range earlier[len(earlier)-1].Findings {
			prev[f.Key] = f.Since
		}
	}
	asOf := in.AsOf.Format(time.DateOnly)
	seen := map[string]bool{}
	for _, f := range fs {
		if seen[f.Key] {
			continue
		}
		seen[f.Key] = true
		since := asOf
		if s, ok := prev[f.Key]; ok && s < since {
			since = s
		}
		start, err := time.Parse(time.DateOnly, since)
		if err != nil {
			return nil, fmt.Errorf("governance: an earlier run's finding date %q: %w", since, err)
		}
		out = append(out, StandingFinding{Key: f.Key, Text: f.Text, Since: since, Weeks: int(in.AsOf.Sub(start).Hours() / 24 / 7)})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Since < out[j].Since })
	return out, nil
}

// findingsCriterion is met when more findings than the council allows have
// each stood for the switch-off period.
func findingsCriterion(p *Policy, fs []StandingFinding, audited bool) Criterion {
	c := Criterion{Name: FairnessFindingUnresolved, Threshold: "not set"}
	if p.MaxFindings == nil {
		c.Evidence = "no maximum number of fairness findings was set, so this is not checked"
		return c
	}
	c.Checked = true
	c.Threshold = fmt.Sprintf("at most %d findings standing %d weeks", *p.MaxFindings, p.FindingWeeks)
	if !audited {
		c.Value = "no audit"
		c.Evidence = "this run has no fairness audit to read findings from"
		return c
	}
	var long []string
	for _, f := range fs {
		if f.Weeks >= p.FindingWeeks {
			long = append(long, fmt.Sprintf("since %s (%d weeks): %s", f.Since, f.Weeks, f.Text))
		}
	}
	c.Met = len(long) > *p.MaxFindings
	c.Value = fmt.Sprintf("%d of %d findings standing %d weeks or more", len(long), len(fs), p.FindingWeeks)
	switch {
	case len(fs) == 0:
		c.Evidence = "the fairness audit has no findings"
	case len(long) == 0:
		c.Evidence = fmt.Sprintf("the audit's %d findings have stood less than %d weeks; the oldest since %s", len(fs), p.FindingWeeks, fs[0].Since)
	default:
		c.Evidence = strings.Join(long, "; ")
	}
	return c
}

// offers counts the households whose latest decision is an offer, by
// answer, leaving out decisions dated after the check's day.
func offers(ds map[string]pipeline.Decision, today time.Time) Offers {
	var o Offers
	end := today.AddDate(0, 0, 1)
	for _, d := range ds {
		if !d.At.Before(end) {
			continue
		}
		// CONTRACTS §6's decision names; the decisions package, another
		// stage, is not imported here.
		switch d.Decision {
		case "offer_accepted":
			o.Accepted++
		case "offer_declined":
			o.Declined++
		case "offer_made":
			o.Pending++
		}
	}
	if n := o.Accepted + o.Declined; n >= MinResolvedOffers {
		r := float64(o.Accepted) / float64(n)
		o.Rate = &r
	}
	return o
}

func acceptance(p *Policy, o Offers) Criterion {
	c := Criterion{Name: OfferAcceptanceBelowTarget, Threshold: "not set"}
	if p.MinAcceptance == nil {
		c.Evidence = "no minimum offer-acceptance rate was set, so this is not checked"
		return c
	}
	c.Checked = true
	c.Threshold = fmt.Sprintf("below %.3f", *p.MinAcceptance)
	resolved := o.Accepted + o.Declined
	if o.Rate == nil {
		c.Value = "too few offers answered"
		c.Evidence = fmt.Sprintf("%d offers have been accepted or declined (%d more not yet answered); the rate is judged from %d",
			resolved, o.Pending, MinResolvedOffers)
		return c
	}
	c.Met = *o.Rate < *p.MinAcceptance
	c.Value = fmt.Sprintf("%.3f", *o.Rate)
	c.Evidence = fmt.Sprintf("%d of the %d offers answered were accepted (%d more not yet answered), by each household's latest decision",
		o.Accepted, resolved, o.Pending)
	return c
}

func review(p *Policy, today time.Time) Criterion {
	c := Criterion{Name: ReviewDatePassed, Threshold: "not set", Value: today.Format(time.DateOnly)}
	switch {
	case p.ReviewDate.IsZero():
		c.Evidence = "no review date was set, so this is not checked"
		return c
	case !p.ReviewDatePassed:
		c.Threshold = "after " + p.ReviewDate.Format(time.DateOnly) + " (not a switch-off criterion)"
		c.Evidence = "the council chose not to switch off when the review date passes"
		return c
	}
	c.Checked = true
	c.Threshold = "after " + p.ReviewDate.Format(time.DateOnly)
	days := int(today.Sub(p.ReviewDate).Hours() / 24)
	c.Met = days > 0
	switch {
	case days > 0:
		c.Evidence = fmt.Sprintf("the review date, %s, passed %d days before %s", p.ReviewDate.Format(time.DateOnly), days, c.Value)
	case days == 0:
		c.Evidence = "the review is due today"
	default:
		c.Evidence = fmt.Sprintf("the review is due in %d days, on %s", -days, p.ReviewDate.Format(time.DateOnly))
	}
	return c
}
