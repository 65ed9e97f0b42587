package transparency

import (
	"bytes"
	"fmt"
	"strings"

	"earlyhelp/pipeline/contract"
)

// healthSources hold health data (UK GDPR Art. 9): their processing needs
// the Art. 9(2)(g) condition as well as a lawful basis.
var healthSources = map[string]bool{contract.HVContacts: true, contract.HVAssessments: true}

// dpia drafts the data protection impact assessment.
func (r *run) dpia() []byte {
	var b bytes.Buffer
	s := r.in.Settings
	fmt.Fprintf(&b, "# Data protection impact assessment (draft): earlyhelp, %s\n\n", r.council())
	r.targetsBanner(&b)
	fmt.Fprintf(&b, "Drafted from run %s (as of %s) on %s. A draft for the council's DPO: every figure is this run's; the judgements are the council's.\n\n", r.man.RunID, r.man.AsOf, r.written)

	b.WriteString("## 1. Purposes and lawful bases\n\n")
	b.WriteString("Purpose: to find, each week, families who might welcome an early-help offer before they reach crisis, so that a family-hub navigator can offer a conversation. " +
		"The processing is profiling; no decision is made by it (section 6).\n\n")
	b.WriteString("- **Lawful basis (all personal data): UK GDPR Art. 6(1)(e)**, a task in the public interest: the council's duties under the Children Act 1989 s.17 and the Children Act 2004 s.10 (co-operation to improve well-being), and the early-help expectations of Working Together to Safeguard Children.\n")
	b.WriteString("- **Special category data (health): UK GDPR Art. 9(2)(g)**, substantial public interest, with **DPA 2018 Schedule 1 Part 2 paragraph 18** (safeguarding of children and of individuals at risk). An appropriate policy document is required (Sch. 1 Part 4).\n")
	var health []string
	for _, src := range s.Sources {
		if healthSources[src.Name] {
			health = append(health, src.Name)
		}
	}
	if len(health) > 0 {
		fmt.Fprintf(&b, "- Health data in this configuration: %s.\n", strings.Join(health, ", "))
	} else {
		b.WriteString("- No health-visiting source is configured in this run.\n")
	}
	b.WriteString("- Ethnicity, sex and SEN status are read for the fairness and equality analysis only (Art. 9(2)(g) with DPA 2018 Sch. 1 para 8, equality of opportunity or treatment, for ethnicity); they are never model inputs.\n\n")

	b.WriteString("## 2. Data flow per configured source\n\n")
	b.WriteString("Each source's extract is read by its connector; only the columns below are read (any other column is ignored and never stored). " +
		"Columns marked *pseudonymised* are replaced by keyed pseudonyms before anything is stored.\n\n")
	b.WriteString("| source | kind | from | rows loaded this run | columns read |\n|---|---|---|---|---|\n")
	for _, src := range s.Sources {
		loaded := "not read this run"
		if m := r.man.Sources[src.Name]; m != nil {
			loaded = fmt.Sprintf("%d (of %d read; %d quarantined)", m.Loaded, m.Read, m.Quarantined)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", src.Name, src.Kind, mdCell(src.Location), loaded, columnList(src.Columns))
	}
	b.WriteString("\nFlow: extracts → validation and quarantine → pseudonymised store → features as of each date → model → scores for every household → the weekly list (re-identified, listed households only) → navigators' decisions → audit.\n\n")

	b.WriteString("## 3. Pseudonymisation and re-identification\n\n")
	b.WriteString("Person, household, UPN, NHS number, UPRN, case, tenancy and source-record identifiers are replaced at ingestion by HMAC-SHA-256 pseudonyms under a key held outside the store. " +
		"The store, features, scores, audit, logs and metrics hold pseudonyms only. The weekly list alone re-identifies, and only the households on it, through a lookup of the council's own person and household ids kept with owner-only permissions. " +
		"Quarantine files show identifiers as pseudonyms. Pseudonymised data is still personal data.\n\n")

	b.WriteString("## 4. Objections (Art. 21)\n\n")
	b.WriteString("An objection is recorded in the council's objections register (the `objections` source: person, date received, date withdrawn). " +
		"While it stands, no household with that member is scored, listed or used for training. Objections fail safe: a row whose person can be identified is honoured whatever else is wrong with it, and an unreadable withdrawal date means not withdrawn.\n\n")
	if m := r.man.Sources[contract.Objections]; m != nil {
		fmt.Fprintf(&b, "- Objection rows this run: %d read, %d loaded, %d that matched no one (`objections_unmatched` in the manifest).\n", m.Read, m.Loaded, len(m.Unmatched))
	} else {
		b.WriteString("- **No objections source was read in this run**: configure one before go-live.\n")
	}
	if h := r.man.Households; h != nil {
		found := false
		for _, k := range sortedKeys(h.Excluded) {
			if strings.Contains(k, "object") {
				fmt.Fprintf(&b, "- Households not scored because of an objection: %d (`%s`).\n", h.Excluded[k], k)
				found = true
			}
		}
		if !found {
			b.WriteString("- Households not scored because of an objection: 0.\n")
		}
	}
	b.WriteString("\n")

	b.WriteString("## 5. Retention\n\n")
	rt := s.Retention
	fmt.Fprintf(&b, "From the configuration's `retention:` block (defaults where unset), applied by `earlyhelp prune`:\n\n"+
		"| what | kept |\n|---|---|\n| run folders (the manifest is kept longer) | %d weeks |\n| quarantine files | %d weeks |\n| evaluation outputs | %d weeks |\n| review-site access log | %d weeks |\n\n",
		rt.RunsWeeks, rt.QuarantineWeeks, rt.EvaluationWeeks, rt.AccessLogWeeks)

	b.WriteString("## 6. Automated decision-making (Art. 22)\n\n")
	b.WriteString("No decision with legal or similarly significant effect is made by the tool. A navigator decides whether and how to contact a family, with the family's reasons and any contact-safety instruction in front of them; the list is a prompt, not a decision. ")
	if r.decisions >= 0 {
		fmt.Fprintf(&b, "The evidence that people decide is the decisions audit, `audit/decisions.csv` (%d rows in this run): every navigator's decision by group against the list's own mix, and the share of families judged not appropriate, by locality.\n\n", r.decisions)
	} else {
		b.WriteString("The evidence that people decide is the decisions audit, `audit/decisions.csv`; this run has none yet, because no decision has been recorded. Until it has, human review is asserted, not shown.\n\n")
	}

	b.WriteString("## 7. Risks and mitigations\n\n| risk | mitigation | evidence (test or metric) |\n|---|---|---|\n")
	for _, k := range Risks() {
		fmt.Fprintf(&b, "| **%s**: %s | %s | %s |\n", k.Name, k.Description, k.Mitigation, k.evidence())
	}
	fmt.Fprintf(&b, "\nShould this still run? %s.\n\n", r.verdictText())
	b.WriteString("## 8. Sign-off\n\n")
	fmt.Fprintf(&b, "- DPO advice: **%s**: the DPO's advice and whether it was followed.\n", ToComplete)
	fmt.Fprintf(&b, "- Residual risk and approval: **%s**: the senior responsible owner's decision and date.\n", ToComplete)
	return b.Bytes()
}

func columnList(cols []Column) string {
	var parts []string
	for _, c := range cols {
		p := "`" + c.Name + "`"
		if c.Header != "" && c.Header != c.Name {
			p += " (header “" + mdCell(c.Header) + "”)"
		}
		var tags []string
		if c.Required {
			tags = append(tags, "required")
		}
		if c.Pseudonymised {
			tags = append(tags, "pseudonymised")
		}
		if len(tags) > 0 {
			p += " *" + strings.Join(tags, ", ") + "*"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ", ")
}

// mdCell keeps a value inside one Markdown table cell.
func mdCell(s string) string {
	return strings.NewReplacer("|", "\\|", "\n", " ", "\r", " ").Replace(s)
}
