package transparency

import (
	"bytes"
	"fmt"
	"strings"

	"earlyhelp/pipeline/contract"
)

// eqiaColumns are the equality tables' columns: the audit's publishable
// values (percentages, c = suppressed, z = not defined).
var eqiaColumns = []struct{ key, title string }{
	{"n", "children (child-dates)"},
	{"selected", "listed"},
	{"selection_rate", "listed %"},
	{"pos", "referred"},
	{"prevalence", "referred %"},
	{"tp", "referred and listed"},
	{"tpr", "recall %"},
}

// eqia drafts the equality impact assessment.
func (r *run) eqia() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Equality impact assessment (draft): earlyhelp, %s\n\n", r.council())
	r.targetsBanner(&b)
	fmt.Fprintf(&b, "Drafted from run %s (as of %s) on %s. The tables are the fairness audit's figures over the backtest's children whose outcome is known: "+
		"for each group, how many children were on the list on each backtest date (listed %%), how many were later referred to children's social care "+
		"with outcome assessment or above (referred %%), and the share of those the list had found (recall %%). Small numbers are suppressed "+
		"(c: 1 to 5, or a count that would reveal one; z: not defined). A finding means the group's rate differs from the reference group's by more than the tolerance, "+
		"beyond the interval: a prompt to investigate, not a verdict of unfairness.\n\n", r.man.RunID, r.man.AsOf, r.written)
	if r.card != nil {
		fmt.Fprintf(&b, "Fairness headline: %s.\n\n", r.card.Fairness)
	}
	have := map[string]bool{}
	for _, t := range r.in.Equality {
		have[t.Attribute] = true
		fmt.Fprintf(&b, "## %s\n\nFrom %s.\n\n", t.Title, t.From)
		b.WriteString("| group |")
		for _, c := range eqiaColumns {
			b.WriteString(" " + c.title + " |")
		}
		b.WriteString(" finding |\n|---|")
		for range eqiaColumns {
			b.WriteString("---|")
		}
		b.WriteString("---|\n")
		for _, row := range t.Rows {
			g := row.Group
			if g == "UNKNOWN" {
				g = "not recorded"
			}
			fmt.Fprintf(&b, "| %s |", mdCell(g))
			for _, c := range eqiaColumns {
				v := row.Values[c.key]
				if v == "" {
					v = "—"
				}
				b.WriteString(" " + mdCell(v) + " |")
			}
			fmt.Fprintf(&b, " %s |\n", findingText(row.Findings))
		}
		b.WriteString("\n")
	}
	if !have[contract.ColSENStatus] {
		b.WriteString("## Special educational needs (disability)\n\nNot supplied: the persons extract carries no `sen_status`. Supply it (none, sen_support, ehcp) to see the list's figures by SEN status.\n\n")
	}
	b.WriteString("## Characteristics the run cannot see\n\n")
	fmt.Fprintf(&b, "Religion or belief, sexual orientation, gender reassignment, pregnancy and maternity (beyond health visiting), marriage and civil partnership, and disability other than SEN are not recorded in the extracts: **%s**: the council's assessment of the tool's effect on these groups, from its own knowledge of the families it serves.\n\n", ToComplete)
	b.WriteString("## Assessment\n\n")
	fmt.Fprintf(&b, "- Impact on each group and its justification: **%s**.\n- Actions (for example a different reference group, a review of the reasons given to one group): **%s**.\n- Sign-off by the council's equality lead: **%s**.\n", ToComplete, ToComplete, ToComplete)
	return b.Bytes()
}

// findingText puts a group's findings in a cell.
func findingText(f map[string]string) string {
	var parts []string
	for _, k := range sortedKeys(f) {
		if f[k] != "" {
			parts = append(parts, k+": "+strings.ReplaceAll(f[k], "_", " "))
		}
	}
	if len(parts) == 0 {
		return "—"
	}
	return strings.Join(parts, "; ")
}
