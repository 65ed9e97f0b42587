package health

import (
	"context"
	"fmt"

	"earlyhelp/features"
	"earlyhelp/pipeline"
	"earlyhelp/pipeline/contract"
)

var _ features.Timelined = (*Builder)(nil)

// contactNames are the contact types in words.
var contactNames = map[string]string{
	contract.ContactAntenatal: "antenatal contact", contract.ContactNewBirth: "new birth visit", contract.ContactSixEightWeek: "6–8 week review",
	contract.ContactTwelveMonth: "12-month review", contract.ContactTwoTwoHalfYear: "2–2½ year review", contract.ContactTargeted: "targeted contact",
	contract.ContactOther: "health-visitor contact",
}

// Timeline lists h's health-visiting contacts and assessments dated in the
// pipeline.TimelineWeeks weeks before l's date, oldest first, in words and
// without identifiers. It adds nothing to weeks.
func (b *Builder) Timeline(l *features.Link, h *features.Household, _ []pipeline.TimelineWeek) []pipeline.TimelineEvent {
	if err := b.load(context.Background()); err != nil {
		return nil
	}
	ps := b.peopleOf(l)
	w := features.Window{From: l.Day - features.Day(7*pipeline.TimelineWeeks), To: l.Day}
	type event = features.DatedEvent
	var evs []event
	for k, m := range h.MemberIndices() {
		isChild := k < len(h.Children)
		born, hasBirth := features.Day(0), false
		child := ""
		if isChild {
			born, hasBirth = l.Roster().BirthDayOf(m)
			child = h.Children[k].Person
		}
		for _, c := range ps.in(m, w) {
			var texts []string
			if c.instrument != "" {
				texts = append(texts, assessmentText(c))
			} else {
				texts = append(texts, contactText(c, isChild, born, hasBirth))
				if c.daDisclosed {
					texts = append(texts, "domestic abuse disclosed")
				}
			}
			for _, t := range texts {
				if t != "" {
					evs = append(evs, event{Day: c.day, Text: t, Child: child})
				}
			}
		}
	}
	return features.TimelineEvents("health", evs)
}

// contactText says a contact and how it went, by its NHS attendance status;
// "" for a contact with no outcome yet (status 0).
func contactText(c contact, isChild bool, born features.Day, hasBirth bool) string {
	name, ok := contactNames[c.kind]
	if !ok {
		name = "health-visitor contact"
	}
	switch c.status {
	case contract.StatusAttended, contract.StatusLateSeen:
		if c.kind == contract.ContactNewBirth && hasBirth && c.day >= born {
			age := int(c.day - born)
			if age > newBirthOnTimeDays {
				return fmt.Sprintf("%s held (late: day %d)", name, age)
			}
			return fmt.Sprintf("%s held (day %d)", name, age)
		}
		if c.status == contract.StatusLateSeen {
			return name + " held (arrived late)"
		}
		return name + " held"
	case contract.StatusDNA:
		if isChild {
			return name + ": was not brought"
		}
		return name + ": did not attend"
	case contract.StatusLateNotSeen:
		if isChild {
			return name + ": brought late and could not be seen (counts as was not brought)"
		}
		return name + ": arrived late and could not be seen"
	case contract.StatusCancelledPatient:
		return name + ": cancelled by the family"
	case contract.StatusCancelledByCare:
		return name + ": cancelled or postponed by the service"
	}
	return ""
}

// assessmentText says an assessment's result.
func assessmentText(c contact) string {
	switch c.instrument {
	case contract.InstrumentEPDS:
		if !c.scored {
			return "EPDS completed"
		}
		if c.score >= 13 {
			return fmt.Sprintf("EPDS %d (at or above 13)", c.score)
		}
		return fmt.Sprintf("EPDS %d (below 13)", c.score)
	case contract.InstrumentWhooley:
		if !c.scored {
			return "Whooley questions asked"
		}
		if c.score >= 1 {
			return "Whooley positive"
		}
		return "Whooley negative"
	case contract.InstrumentASQ3:
		switch {
		case !c.asqKnown:
			return "ASQ-3 completed"
		case c.asqBelow == 0:
			return "ASQ-3: no domains below cut-off"
		case c.asqBelow == 1:
			return "ASQ-3: 1 domain below cut-off"
		}
		return fmt.Sprintf("ASQ-3: %d domains below cut-off", c.asqBelow)
	}
	return ""
}

// ChildWeeks draws no child's weeks: health visiting has no weekly counts,
// and each contact on the household's timeline already names its child.
func (b *Builder) ChildWeeks(*features.Link, *features.Household, []pipeline.TimelineWeek) []pipeline.ChildWeeks {
	return nil
}
