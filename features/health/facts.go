package health

import (
	"context"
	"fmt"

	"earlyhelp/features"
	"earlyhelp/pipeline"
	"earlyhelp/pipeline/contract"
)

var _ features.Factual = (*Builder)(nil)

// Fact says a health-visiting reason with its dates.
func (b *Builder) Fact(l *features.Link, h *features.Household, r pipeline.Reason) (string, bool) {
	if err := b.load(context.Background()); err != nil {
		return "", false
	}
	ps := b.peopleOf(l)
	w := features.Before(l.AsOf, 52)
	switch r.Feature {
	case WasNotBrought12m:
		n, first := 0, features.Day(0)
		for _, m := range h.MemberIndices() {
			for _, c := range ps.in(m, w) {
				if c.wasNotBrought {
					if n == 0 || c.day < first {
						first = c.day
					}
					n++
				}
			}
		}
		if n == 0 {
			return "", false
		}
		return fmt.Sprintf("%d health-visitor appointment(s) missed (was not brought) since %s", n, first.Time().Format("January 2006")), true
	case MandatedMissed12m:
		var names []string
		for _, p := range h.MemberIndices()[:len(h.Children)] {
			rd := &ps.reviews[p]
			if !rd.born {
				continue
			}
			for j, m := range mandated {
				due := rd.birth + m.dueDays
				if due >= l.Day || due < l.Day-365 {
					continue
				}
				if rd.held[j] >= l.Day {
					names = append(names, fmt.Sprintf("%s review due by %s", reviewNames[m.kind], due.Time().Format("2 Jan 2006")))
				}
			}
		}
		if len(names) == 0 {
			return "", false
		}
		text := "not held: " + names[0]
		if len(names) > 1 {
			text += fmt.Sprintf(" and %d more", len(names)-1)
		}
		return text, true
	}
	return "", false
}

var reviewNames = map[string]string{
	contract.ContactNewBirth: "the new-birth", contract.ContactSixEightWeek: "the 6–8 week", contract.ContactTwelveMonth: "the 12-month",
	contract.ContactTwoTwoHalfYear: "the 2–2½ year",
}
