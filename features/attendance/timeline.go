package attendance

import (
	"context"
	"time"

	"earlyhelp/features"
	"earlyhelp/pipeline"
)

var _ features.Timelined = (*Builder)(nil)

// Timeline adds the household's school sessions, week by week, to weeks:
// sessions possible, absences and late arrivals over all its children,
// each as recorded before the as-of date. It adds no events.
func (b *Builder) Timeline(l *features.Link, h *features.Household, weeks []pipeline.TimelineWeek) []pipeline.TimelineEvent {
	total := make([]tally, len(weeks))
	b.eachChildWeeks(l, h, weeks, func(_ features.Child, tallies []tally) {
		for i, t := range tallies {
			total[i] = total[i].plus(t)
		}
	})
	for i, t := range total {
		weeks[i].Possible += t.possible
		weeks[i].Absent += t.absent
		weeks[i].Late += t.late + t.lateAfter
	}
	return nil
}

// eachChildWeeks tallies each child's sessions of weeks, as recorded
// before l's date, and gives them to fn, child by child.
func (b *Builder) eachChildWeeks(l *features.Link, h *features.Household, weeks []pipeline.TimelineWeek, fn func(features.Child, []tally)) {
	if len(weeks) == 0 {
		return
	}
	idx, err := b.indexFor(context.Background(), l.Day)
	if err != nil {
		return
	}
	cutoff := uint32(0)
	if s := l.AsOf.Unix() - stampEpoch; s > 0 {
		cutoff = uint32(s)
	}
	starts, ok := weekStarts(weeks)
	if !ok {
		return
	}
	// Nothing on or after the as-of day, even in its own week.
	win := features.Window{From: starts[0], To: min(starts[len(starts)-1]+7, l.Day)}
	for _, c := range h.Children {
		p, ok := idx.pupils[c.UPN]
		if c.UPN == "" || !ok {
			continue
		}
		tallies := make([]tally, len(weeks))
		idx.scan(p, win, cutoff, func(d features.Day) *tally {
			return &tallies[min(int(d-starts[0])/7, len(tallies)-1)]
		})
		fn(c, tallies)
	}
}

// weekStarts are the days weeks start on; ok is false if one is not a date.
func weekStarts(weeks []pipeline.TimelineWeek) ([]features.Day, bool) {
	starts := make([]features.Day, len(weeks))
	for i, w := range weeks {
		t, err := time.Parse(time.DateOnly, w.Start)
		if err != nil {
			return nil, false
		}
		starts[i] = features.DayOf(t)
	}
	return starts, true
}
