package health

import (
	"context"
	"fmt"

	"earlyhelp/features"
	"earlyhelp/pipeline"
)

var _ features.Factual = (*Builder)(nil)

// Fact says a health-visiting reason with its dates.
func (b *Builder) Fact(l *features.Link, h *features.Household, r pipeline.Reason) (string, bool) {
	if err := b.load(context.Background()); err != nil || b.byPerson == nil {
		return "", false
	}
	w := features.Before(l.AsOf, 52)
	switch r.Feature {
	case WasNotBrought12m:
		n, first := 0, features.Day(0)
		for _, m := range h.Members() {
			for _, c := range b.byPerson[m] {
				if c.wasNotBrought && w.Contains(c.day) {
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
		for _, ch := range h.Children {
			born, ok := l.BirthDay(ch.Person)
			if !ok {
				continue
			}
			for _, m := range mandated {
				due := born + m.dueDays
				if due >= l.Day || due < l.Day-365 {
					continue
				}
				held := false
				for _, c := range b.byPerson[ch.Person] {
					if c.kind == m.kind && c.attended && c.day < l.Day {
						held = true
					}
				}
				if !held {
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
	"NEW_BIRTH": "the new-birth", "SIX_EIGHT_WEEK": "the 6–8 week", "TWELVE_MONTH": "the 12-month",
	"TWO_TWO_HALF_YEAR": "the 2–2½ year",
}
