package housing

import (
	"context"
	"fmt"

	"earlyhelp/features"
	"earlyhelp/pipeline"
)

var _ features.Factual = (*Builder)(nil)

func date(d features.Day) string { return d.Time().Format("2 Jan 2006") }

// stageNames are the arrears stages in words.
var stageNames = map[float64]string{
	1: "a first arrears letter", 2: "a second arrears letter", 3: "a notice seeking possession",
	4: "a possession claim issued", 5: "a suspended possession order", 6: "an outright possession order",
	7: "a warrant applied for", 8: "eviction",
}

// Fact says a housing reason with its dates, from records dated before l's
// date.
func (b *Builder) Fact(l *features.Link, h *features.Household, r pipeline.Reason) (string, bool) {
	if err := b.load(context.Background()); err != nil {
		return "", false
	}
	ps := b.peopleOf(l)
	d := l.Day
	switch r.Feature {
	case WeeksInTA, OutOfArea:
		var since features.Day
		away, found := false, false
		for _, m := range h.MemberIndices() {
			for _, p := range ps.placementsOf(m) {
				if p.start < d && p.end >= d && (!found || p.start < since) {
					since, away, found = p.start, p.outOfArea, true
				}
			}
		}
		if !found {
			return "", false
		}
		where := ""
		if away {
			where = ", out of the area"
		}
		return fmt.Sprintf("in temporary accommodation since %s%s", date(since), where), true
	case OpenDuty:
		for _, m := range h.MemberIndices() {
			for _, c := range ps.casesOf(m) {
				if c.duty && c.approach < d && c.closed >= d {
					return fmt.Sprintf("a homelessness prevention or relief duty open since %s", date(c.approach)), true
				}
			}
		}
	case ArrearsWeeks, ArrearsStage, ArrearsRising8w:
		var latest *snapshot
		for _, m := range h.MemberIndices() {
			if s := ps.latestBefore(m, d); s != nil && (latest == nil || s.day > latest.day) {
				latest = s
			}
		}
		if latest == nil {
			return "", false
		}
		text := fmt.Sprintf("rent arrears of %.1f weeks' rent on %s", latest.arrearsWeeks(), date(latest.day))
		if name, ok := stageNames[latest.stage()]; ok {
			text += ", action reached: " + name
		}
		return text, true
	}
	return "", false
}
