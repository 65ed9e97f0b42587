package health

import (
	"context"
	"fmt"

	"earlyhelp/features"
	"earlyhelp/pipeline"
	"earlyhelp/pipeline/contract"
)

var _ features.Signaller = (*Builder)(nil)

// EPDSThreshold is the Edinburgh Postnatal Depression Scale total at or
// above which depression is probable (domain-data §2, NICE CG192).
const EPDSThreshold = 13

// alsoShows names, for a signal's code, the other features the same fact
// feeds: the model's weight on any of them makes the fact a reason.
var alsoShows = map[string][]string{
	WasNotBrought12m: {WasNotBroughtRecent},
	Targeted12m:      {TargetedRecent},
	LowMood12m:       {LowMoodRecent, EPDSLatest24m},
	DADisclosed12m:   {DADisclosedRecent},
}

// Signals are h's own health-visiting facts in the 52 weeks before l's
// date: each dated, a child's when the record is a child's. A domestic-abuse
// disclosure and a perinatal mood concern are contact-safety facts too,
// whatever weight the model gives them.
func (b *Builder) Signals(l *features.Link, h *features.Household) pipeline.FamilyFacts {
	var out pipeline.FamilyFacts
	if err := b.load(context.Background()); err != nil {
		return out
	}
	ps := b.peopleOf(l)
	w := features.Before(l.AsOf, 52)
	on := func(d features.Day) string { return d.Time().Format("2 Jan 2006") }
	for k, m := range h.MemberIndices() {
		person := ""
		isChild := k < len(h.Children)
		if isChild {
			person = h.Children[k].Person
		}
		add := func(code string, d features.Day, salience float64, text string) {
			out.Signals = append(out.Signals, pipeline.Signal{
				Code: code, Features: append([]string{code}, alsoShows[code]...), Person: person, Date: d.Time(), Text: text, Salience: salience,
			})
		}
		var notBrought, targeted []contact
		for _, c := range ps.in(m, w) {
			name, ok := contactNames[c.kind]
			if !ok {
				name = "health-visitor contact"
			}
			if c.wasNotBrought && isChild {
				notBrought = append(notBrought, c)
			}
			if c.targeted && c.attended {
				targeted = append(targeted, c)
			}
			if c.daDisclosed {
				out.Safety = append(out.Safety, pipeline.SafetyFact{Kind: pipeline.SafetyDomesticAbuse, Date: c.day.Time()})
				add(DADisclosed12m, c.day, 1.0, fmt.Sprintf("domestic abuse was disclosed at a %s on %s", name, on(c.day)))
			}
			switch c.instrument {
			case contract.InstrumentEPDS:
				if c.scored && c.score >= EPDSThreshold {
					out.Safety = append(out.Safety, pipeline.SafetyFact{Kind: pipeline.SafetyPerinatalMood, Date: c.day.Time()})
					add(LowMood12m, c.day, 0.9, fmt.Sprintf("a parent's EPDS score was %d on %s (%d or more suggests possible depression)", c.score, on(c.day), EPDSThreshold))
				}
			case contract.InstrumentWhooley:
				if c.scored && c.score >= 1 {
					out.Safety = append(out.Safety, pipeline.SafetyFact{Kind: pipeline.SafetyPerinatalMood, Date: c.day.Time()})
					add(LowMood12m, c.day, 0.8, fmt.Sprintf("a parent answered yes to a Whooley mood question on %s", on(c.day)))
				}
			case contract.InstrumentASQ3:
				if c.asqKnown && c.asqBelow > 0 {
					add(ASQBelow12m, c.day, 0.5+0.1*float64(c.asqBelow),
						fmt.Sprintf("a development check (ASQ-3) on %s found %d area(s) below the cut-off", on(c.day), c.asqBelow))
				}
			}
		}
		if n := len(notBrought); n > 0 {
			last := notBrought[n-1]
			name, ok := contactNames[last.kind]
			if !ok {
				name = "health-visitor contact"
			}
			text := fmt.Sprintf("was not brought to the %s on %s", name, on(last.day))
			if n > 1 {
				text = fmt.Sprintf("was not brought to %d health-visitor appointments, the latest the %s on %s", n, name, on(last.day))
			}
			add(WasNotBrought12m, last.day, 0.6+0.1*float64(n), text)
		}
		if n := len(targeted); n > 0 {
			text := fmt.Sprintf("a targeted health-visitor contact on %s", on(targeted[n-1].day))
			if n > 1 {
				text = fmt.Sprintf("%d targeted health-visitor contacts, the latest on %s", n, on(targeted[n-1].day))
			}
			add(Targeted12m, targeted[n-1].day, 0.4+0.05*float64(n), text)
		}
		if !isChild {
			continue
		}
		rd := &ps.reviews[m]
		if !rd.born {
			continue
		}
		for j, mr := range mandated {
			due := rd.birth + mr.dueDays
			if due >= l.Day || due < l.Day-365 || rd.held[j] < l.Day {
				continue
			}
			add(MandatedMissed12m, due, 0.5, fmt.Sprintf("%s review, due by %s, was not held", reviewNames[mr.kind], on(due)))
		}
		// A late new-birth visit is not a signal of the family's: about one
		// in seven is late nationally, most often for want of health
		// visitors. The timeline still shows it.
	}
	return out
}
