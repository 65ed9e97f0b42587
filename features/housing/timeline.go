package housing

import (
	"context"
	"fmt"
	"sort"

	"earlyhelp/features"
	"earlyhelp/pipeline"
	"earlyhelp/pipeline/contract"
)

var _ features.Timelined = (*Builder)(nil)

// stageEvents say a move to each arrears stage.
var stageEvents = map[float64]string{
	1: "rent arrears: first letter sent", 2: "rent arrears: second letter sent",
	3: "notice seeking possession served", 4: "possession claim issued", 5: "suspended possession order made",
	6: "outright possession order made", 7: "warrant for eviction applied for", 8: "evicted",
}

// arrearsSteps are the arrears, in weeks of rent, whose crossing is an
// event.
var arrearsSteps = []float64{2, 4, 8, 13, 26}

// approachTexts say an approach by the duty owed.
var approachTexts = map[string]string{
	contract.DutyPrevention:     "approached the council as homeless: prevention duty accepted",
	contract.DutyRelief:         "approached the council as homeless: relief duty accepted",
	contract.DutyNoneAdviceOnly: "approached the council as homeless: advice only",
	contract.DutyIneligible:     "approached the council as homeless: not eligible",
}

// Timeline lists h's housing events dated in the pipeline.TimelineWeeks
// weeks before l's date, oldest first: homelessness approaches and case
// closures, temporary accommodation moves, and rent arrears reaching a new
// level or stage. It adds nothing to weeks.
func (b *Builder) Timeline(l *features.Link, h *features.Household, _ []pipeline.TimelineWeek) []pipeline.TimelineEvent {
	if err := b.load(context.Background()); err != nil {
		return nil
	}
	ps := b.peopleOf(l)
	d := l.Day
	w := features.Window{From: d - features.Day(7*pipeline.TimelineWeeks), To: d}
	type event = features.DatedEvent
	var evs []event
	add := func(day features.Day, text string) {
		if w.Contains(day) {
			evs = append(evs, event{Day: day, Text: text})
		}
	}
	for _, m := range h.MemberIndices() {
		for _, c := range ps.casesOf(m) {
			text, ok := approachTexts[c.owed]
			if !ok {
				text = "approached the council as homeless"
			}
			add(c.approach, text)
			if c.closed != open && c.closed >= c.approach {
				switch c.owed {
				case contract.DutyPrevention, contract.DutyRelief:
					add(c.closed, c.owed+" duty ended")
				default:
					add(c.closed, "homelessness case closed")
				}
			}
		}
		for _, p := range ps.placementsOf(m) {
			text := "moved into temporary accommodation"
			if p.outOfArea {
				text += " (out of area)"
			}
			add(p.start, text)
			if p.end != open && p.end >= p.start {
				add(p.end, "left temporary accommodation")
			}
		}
		for _, ss := range byTenancy(ps.rentOf(m), d) {
			var last snapshot // the tenancy before its first snapshot: no arrears, no action
			var lastStage float64
			for _, s := range ss {
				if s.staged() {
					if s.stage() > lastStage {
						add(s.day, stageEvents[s.stage()])
					} else if s.stage() < lastStage {
						if s.stage() == 0 {
							add(s.day, "rent arrears action stopped")
						} else {
							add(s.day, "rent arrears action stepped back: "+stageNames[s.stage()])
						}
					}
					lastStage = s.stage()
				}
				switch {
				case last.balance > 0 && s.balance <= 0:
					add(s.day, "rent arrears cleared")
				case crossed(last.arrearsWeeks(), s.arrearsWeeks()):
					add(s.day, fmt.Sprintf("rent arrears: %d weeks", int(s.arrearsWeeks())))
				}
				last = s
			}
		}
	}
	return features.TimelineEvents("housing", evs)
}

// byTenancy splits a lead person's snapshots dated before d by tenancy,
// each in date order.
func byTenancy(ss []snapshot, d features.Day) [][]snapshot {
	idx := map[int32]int{}
	var out [][]snapshot
	for _, s := range ss {
		if s.day >= d {
			continue
		}
		k, ok := idx[s.tenancy]
		if !ok {
			k = len(out)
			idx[s.tenancy] = k
			out = append(out, nil)
		}
		out[k] = append(out[k], s)
	}
	for _, t := range out {
		sort.SliceStable(t, func(i, j int) bool { return t[i].day < t[j].day })
	}
	return out
}

// crossed reports whether arrears rose past one of arrearsSteps.
func crossed(from, to float64) bool {
	for _, step := range arrearsSteps {
		if from < step && to >= step {
			return true
		}
	}
	return false
}

// ChildWeeks draws no child's weeks: housing records are the household's,
// not a child's, and have no weekly counts.
func (b *Builder) ChildWeeks(*features.Link, *features.Household, []pipeline.TimelineWeek) []pipeline.ChildWeeks {
	return nil
}
