package transparency

import (
	"fmt"
	"sort"
	"strings"

	"earlyhelp/pipeline"
)

// This file fills the record's fields from the run.

// cardField fills a field from the model card, or says the run has none.
func (r *run) cardField(f func(c *pipeline.ModelCard) string) string {
	if r.card == nil {
		return fmt.Sprintf("Not available: run %s has no model card (it trained or reused no model).", r.man.RunID)
	}
	return f(r.card)
}

func (r *run) description() string {
	s := r.in.Settings
	return fmt.Sprintf("Each week earlyhelp joins records the council already holds (school attendance, health visiting, housing, social care) "+
		"and gives family-hub navigators a short list (at most %d families) of families who might welcome a conversation about early help, "+
		"with the reasons in plain English. It is used %s.", s.Capacity, strings.TrimSuffix(r.intendedUse(), "."))
}

func (r *run) intendedUse() string {
	if r.card != nil && r.card.IntendedUse != "" {
		return r.card.IntendedUse
	}
	return "to prompt a navigator's conversation about an early-help offer"
}

func (r *run) detailedDescription() string {
	return r.cardField(func(c *pipeline.ModelCard) string {
		return fmt.Sprintf("A %s model trained on %d household snapshots (%d with the outcome) at the dates %s estimates, for each household with children, "+
			"the chance that %s within %d weeks. It reads %d features built from the household's own records and its area's deprivation; %s is never a feature. "+
			"Households are ranked by that score; the top of the ranking, up to the list's capacity and leaving out families reviewed in the last %d weeks, "+
			"is listed with up to three of the family's own dated signals as reasons.",
			c.Kind, c.TrainingRows, c.Positives, strings.Join(c.TrainingDates, ", "), c.Label, c.HorizonWeeks,
			len(c.Features), strings.Join(c.Excluded, ", "), r.in.Settings.CooloffWeeks)
	})
}

func (r *run) scope() string {
	var b strings.Builder
	fmt.Fprintf(&b, "For use %s. ", strings.TrimSuffix(r.intendedUse(), "."))
	if h := r.man.Households; h != nil {
		fmt.Fprintf(&b, "This run scored %d households", h.Scored)
		if len(h.Excluded) > 0 {
			var parts []string
			for _, k := range sortedKeys(h.Excluded) {
				parts = append(parts, fmt.Sprintf("%s %d", k, h.Excluded[k]))
			}
			fmt.Fprintf(&b, " and left out %s", strings.Join(parts, ", "))
		}
		b.WriteString(". ")
	}
	if r.card != nil && len(r.card.Limits) > 0 {
		fmt.Fprintf(&b, "Limits: %s.", strings.Join(r.card.Limits, "; "))
	}
	return b.String()
}

func (r *run) benefit() string {
	var b strings.Builder
	if r.card != nil {
		if m, ok := r.card.Backtest[r.card.Kind]; ok {
			fmt.Fprintf(&b, "In the temporal backtest (%s to %s, %d dates) the list found %.1f%% of the households later referred (recall@K) "+
				"and %.1f%% of listed households were later referred (precision@K, K = %d)", r.card.BacktestFrom, r.card.BacktestTo,
				r.card.BacktestFolds, 100*m.RecallAtK, 100*m.PrecisionAtK, m.K)
			var base []string
			for _, k := range sortedKeys(r.card.Backtest) {
				if k != r.card.Kind {
					bm := r.card.Backtest[k]
					base = append(base, fmt.Sprintf("%s %.1f%%", k, 100*bm.PrecisionAtK))
				}
			}
			if len(base) > 0 {
				fmt.Fprintf(&b, ", against precision@K of %s for the alternatives", strings.Join(base, ", "))
			}
			b.WriteString(". ")
		}
	}
	if g := r.in.Settings.Governance; g != nil && len(g.Targets) > 0 {
		fmt.Fprintf(&b, "Targets set in advance: %s. ", strings.Join(g.Targets, "; "))
	} else {
		fmt.Fprintf(&b, "%s in advance. ", strings.ToUpper(NoTargets[:1])+strings.ToLower(NoTargets[1:]))
	}
	fmt.Fprintf(&b, "Should this still run? %s. Whether an offer changes families' outcomes is not shown by these figures.", r.verdictText())
	return b.String()
}

func (r *run) alternatives() string {
	return r.cardField(func(c *pipeline.ModelCard) string {
		return fmt.Sprintf("The candidates and two baselines (random order, and a rules score counting Supporting-Families-style flags) were compared on the same backtest: %s. Choice rule: %s.",
			strings.Join(sortedKeys(c.Backtest), ", "), c.ChoiceRule)
	})
}

func (r *run) processIntegration() string {
	s := r.in.Settings
	when := "weekly"
	if s.WeeklySchedule != "" {
		when = "on the schedule " + s.WeeklySchedule + " (cron, Europe/London)"
	}
	return fmt.Sprintf("The list is made %s and read by family-hub navigators for their localities, on the review site or as a printed pack. "+
		"A navigator reads each family's reasons and contact-safety instruction, may look at the family's timeline, and records a decision "+
		"(offer made, accepted or declined, not appropriate with a reason, already supported, unable to contact). A family reviewed is not listed again for %d weeks.",
		when, s.CooloffWeeks)
}

func (r *run) providedInformation() string {
	return fmt.Sprintf("Per listed family: rank, the council's household reference, locality, band (very high, high, raised) and its likelihood in words, "+
		"status on the list (new, continuing, returning), the children with ages, up to three plain-English reasons from the family's own signals (none older than %d weeks), "+
		"a contact-safety instruction where one applies, context the model weighed that is never a reason, and the last decision. The raw score is shown only inside the family page.",
		r.in.Settings.ReasonMaxAgeWeeks)
}

func (r *run) frequency() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Weekly; at most %d families a week across all localities.", r.in.Settings.Capacity)
	if h := r.man.Households; h != nil {
		fmt.Fprintf(&b, " This run (as of %s) scored %d households", r.man.AsOf, h.Scored)
		if l := r.man.List; l != nil {
			fmt.Fprintf(&b, " and listed %d", l.Households)
		}
		b.WriteString(".")
	}
	return b.String()
}

func (r *run) humanReview() string {
	s := "A person decides: the list is a prompt for a navigator's judgement, and nothing is done to a family automatically (UK GDPR Art. 22). " +
		"Every decision is recorded with the navigator, the time and, for 'not appropriate', a reason; "
	switch {
	case r.decisions < 0:
		s += "this run has no decisions audit yet (audit/decisions.csv appears once navigators have recorded decisions)."
	default:
		s += fmt.Sprintf("audit/decisions.csv sets the decisions against the list's own mix by group (%d rows in this run), and the review site shows auditors the override shares by locality.", r.decisions)
	}
	return s
}

func (r *run) appeals() string {
	s := "Anyone may object to the profiling (UK GDPR Art. 21): the objection goes on the council's objections register, which the tool reads every run; " +
		"while it stands, no household with that member is scored, listed or used for training. Anyone may ask for their own record (Art. 15): " +
		"`earlyhelp subject` gives every score, rank, reason and decision recorded for their households."
	if c := r.gov(func(g *Governance) string { return g.Contact }); c != "" {
		s += " Contact: " + c + "."
	}
	return s
}

func (r *run) architecture() string {
	return "Connectors read each source's extracts (CSV, Parquet or a PostgreSQL query), validate every row (bad rows to quarantine with a reason) and replace identifiers " +
		"with keyed pseudonyms before anything is stored; a store of pseudonymised Arrow files; a feature builder as of each date; a temporal backtest that chooses " +
		"and calibrates the model; scoring and the weekly list, which alone re-identifies the listed households through an owner-only lookup; a fairness audit; " +
		"and a review site with role-based access and an append-only access log. Each run writes a manifest of what it read and did."
}

func (r *run) maintenance() string {
	s := r.in.Settings
	var parts []string
	if s.RetrainSchedule != "" {
		parts = append(parts, "retrained on the schedule "+s.RetrainSchedule+" (cron), each time chosen again by backtest")
	} else {
		parts = append(parts, "retrained when run with --retrain, each time chosen again by backtest")
	}
	parts = append(parts, "the fairness audit and feature drift (PSI) are recomputed every run")
	if g := s.Governance; g != nil && g.ReviewDate != "" {
		parts = append(parts, "review date "+g.ReviewDate)
	} else {
		parts = append(parts, "no review date set")
	}
	rt := s.Retention
	parts = append(parts, fmt.Sprintf("runs kept %d weeks, quarantine files %d weeks, evaluation outputs %d weeks, the access log %d weeks", rt.RunsWeeks, rt.QuarantineWeeks, rt.EvaluationWeeks, rt.AccessLogWeeks))
	return strings.ToUpper(parts[0][:1]) + parts[0][1:] + "; " + strings.Join(parts[1:], "; ") + "."
}

func (r *run) performance() string {
	return r.cardField(func(c *pipeline.ModelCard) string {
		var parts []string
		for _, k := range sortedKeys(c.Backtest) {
			m := c.Backtest[k]
			parts = append(parts, fmt.Sprintf("%s: AUC %.3f, average precision %.3f, precision@K %.3f, recall@K %.3f, Brier %.4f", k, m.AUC, m.AveragePrecision, m.PrecisionAtK, m.RecallAtK, m.Brier))
		}
		return fmt.Sprintf("Backtest means over %d dates (%s to %s): %s. Fairness: %s.", c.BacktestFolds, c.BacktestFrom, c.BacktestTo, strings.Join(parts, "; "), c.Fairness)
	})
}

func (r *run) datasets() string {
	var parts []string
	for _, s := range r.in.Settings.Sources {
		p := s.Name
		if m := r.man.Sources[s.Name]; m != nil {
			p += fmt.Sprintf(" (%d rows loaded)", m.Loaded)
		}
		parts = append(parts, p)
	}
	return "The council's extracts, one per source: " + strings.Join(parts, ", ") + ". See governance/dpia.md for the columns read."
}

func (r *run) datasetPurposes() string {
	return r.cardField(func(c *pipeline.ModelCard) string {
		s := fmt.Sprintf("Training: snapshots as of %s. Testing: the temporal backtest from %s to %s, each date's households scored by models trained on earlier dates only.",
			strings.Join(c.TrainingDates, ", "), c.BacktestFrom, c.BacktestTo)
		if c.Calibration != "" {
			s += " Calibration: the held-out date " + c.Calibration + "."
		}
		return s + " Scoring: this week's households."
	})
}

func (r *run) sourceNames() string {
	var names []string
	for _, s := range r.in.Settings.Sources {
		names = append(names, s.Name)
	}
	return strings.Join(names, ", ")
}

func (r *run) dataDescription() string {
	var parts []string
	for _, s := range r.in.Settings.Sources {
		var cols []string
		for _, c := range s.Columns {
			cols = append(cols, c.Name)
		}
		parts = append(parts, fmt.Sprintf("%s (%s)", s.Name, strings.Join(cols, ", ")))
	}
	return strings.Join(parts, "; ") + "."
}

func (r *run) quantities() string {
	var parts []string
	for _, name := range sortedKeys(r.man.Sources) {
		m := r.man.Sources[name]
		parts = append(parts, fmt.Sprintf("%s: %d read, %d loaded, %d quarantined", name, m.Read, m.Loaded, m.Quarantined))
	}
	s := "Rows this run: " + strings.Join(parts, "; ") + "."
	if r.card != nil {
		s += fmt.Sprintf(" Training: %d household snapshots, %d with the outcome.", r.card.TrainingRows, r.card.Positives)
	}
	return s
}

func (r *run) sensitive() string {
	return "Ethnicity, sex and special educational needs (SEN) status are read for the fairness and equality analysis only and are never model inputs. " +
		"Health data (health-visiting contacts and assessments, including domestic-abuse enquiries and perinatal mood screening) are inputs: special category data (Art. 9). " +
		"Area deprivation (IMD decile) is an input only when model.use_deprivation is set" + map[bool]string{true: " (it is)", false: " (it is not)"}[r.in.Settings.UseDeprivation] + "."
}

func (r *run) completeness() string {
	var parts []string
	for _, name := range sortedKeys(r.man.Sources) {
		m := r.man.Sources[name]
		if m.Read == 0 {
			continue
		}
		p := fmt.Sprintf("%s %.2f%% quarantined", name, 100*float64(m.Quarantined)/float64(m.Read))
		if m.Nulled > 0 {
			p += fmt.Sprintf(", %d cells unreadable and nulled", m.Nulled)
		}
		parts = append(parts, p)
	}
	var links []string
	for _, name := range sortedKeys(r.man.LinkMatch) {
		links = append(links, fmt.Sprintf("%s %.1f%%", name, 100*r.man.LinkMatch[name]))
	}
	s := "Validation: " + strings.Join(parts, "; ") + "."
	if len(links) > 0 {
		s += " Share of each source's people found in a household: " + strings.Join(links, ", ") + "."
	}
	return s + " A family less visible to services (fewer records) scores lower: the equality draft (eqia.md) shows the list's recall by group."
}

func (r *run) cleaning() string {
	total := int64(0)
	for _, m := range r.man.Sources {
		total += m.Quarantined
	}
	return fmt.Sprintf("Every row is loaded or quarantined with its row number and a reason (missing required value, bad date, bad code, bad UPN or NHS check digit, duplicate, unknown person); "+
		"unknown codes are never guessed; an unreadable optional cell is stored as empty and counted. This run quarantined %d rows (quarantine/<source>.csv).", total)
}

func (r *run) storage() string {
	rt := r.in.Settings.Retention
	return fmt.Sprintf("Identifiers (person, household, UPN, NHS number, UPRN, case and tenancy references) are replaced at ingestion by keyed pseudonyms (HMAC-SHA-256); "+
		"the key is held outside the store. Only the weekly list re-identifies, and only the households on it, through a lookup kept with owner-only permissions. "+
		"The review site needs an account per person with a role; every view of an identified family is logged. Runs are kept %d weeks.", rt.RunsWeeks)
}

func (r *run) riskList() string {
	var parts []string
	for _, k := range Risks() {
		parts = append(parts, fmt.Sprintf("%s: %s Mitigation: %s (%s)", k.Name, k.Description, k.Mitigation, k.evidence()))
	}
	sort.Strings(parts)
	return strings.Join(parts, "\n\n")
}
