package attendance

import (
	"context"
	"fmt"
	"strconv"

	"earlyhelp/features"
	"earlyhelp/pipeline"
)

var (
	_ features.Signaller     = (*Builder)(nil)
	_ features.ChildTimeline = (*Builder)(nil)
)

// Thresholds below which a child's attendance figure is not a signal worth
// a navigator's attention. They follow the national measures: persistent
// absence is missing 10% of sessions; a fall of ten points in six weeks is
// the pattern navigators are asked to catch early.
const (
	minSessions     = 10   // a window with fewer possible sessions says nothing
	lowAttendance   = 0.10 // absence rate at or above: persistent absence
	fallPoints      = 0.10 // absence rate up by at least this over 6 weeks
	minLate         = 5    // late arrivals in 13 weeks
	minLateAfter    = 2
	minNoReason     = 4
	minMonFriExcess = 0.10
	minMonFriAbsent = 4
	minIllness      = 0.15
	minHoliday      = 4 // sessions of term-time holiday in a year
)

// Signals are each child's own attendance facts as of l's date: the
// child's figures over windows that end the day before it.
func (b *Builder) Signals(l *features.Link, h *features.Household) pipeline.FamilyFacts {
	var out pipeline.FamilyFacts
	idx, err := b.indexFor(context.Background(), l.Day)
	if err != nil {
		return out
	}
	cutoff := uint32(0)
	if s := l.AsOf.Unix() - stampEpoch; s > 0 {
		cutoff = uint32(s)
	}
	last := l.Day - 1
	to := last.Time()
	on := last.Time().Format("2 Jan 2006")
	pct := func(t tally) int { return int(100*(1-t.absenceRate()) + 0.5) }
	for _, c := range h.Children {
		p, ok := idx.pupils[c.UPN]
		if c.UPN == "" || !ok {
			continue
		}
		if urn := idx.School(p, l.Day); urn != 0 {
			if out.Schools == nil {
				out.Schools = map[string]string{}
			}
			out.Schools[c.Person] = strconv.Itoa(int(urn))
		}
		ts := idx.tallies(p, l.Day, cutoff)
		w6, w13, w19, w52 := ts[1], ts[2], ts[3], ts[4]
		add := func(code string, feats []string, salience float64, text string) {
			out.Signals = append(out.Signals, pipeline.Signal{
				Code: code, Features: feats, Person: c.Person, Date: to, Text: text, Salience: salience,
			})
		}
		if w13.possible >= minSessions && w13.absenceRate() >= lowAttendance {
			add(AbsenceRate13w, []string{AbsenceRate13w, AbsenceRate4w, AbsenceRate52w, PersistentAbsence, SevereAbsence, UnauthorisedRate13w, PersistentOnset, AbsenceChange13w},
				w13.absenceRate()*5,
				fmt.Sprintf("attendance was %d%% in the 13 weeks to %s (%d of %d sessions missed)", pct(w13), on, w13.absent, w13.possible))
		}
		if before := w19.minus(w6); w6.possible >= minSessions/2 && before.possible >= minSessions {
			if fall := w6.absenceRate() - before.absenceRate(); fall >= fallPoints {
				add(AbsenceChange6w, []string{AbsenceChange6w, AbsenceChange4w}, fall*8,
					fmt.Sprintf("attendance fell from %d%% to %d%% over the 6 weeks to %s", pct(before), pct(w6), on))
			}
		}
		if w13.late >= minLate {
			add(LateBeforeClose13w, []string{LateBeforeClose13w, LateRate52w}, float64(w13.late)/20,
				fmt.Sprintf("%d late arrivals (L) in the 13 weeks to %s", w13.late, on))
		}
		if w13.lateAfter >= minLateAfter {
			add(LateAfterClose13w, []string{LateAfterClose13w, UnauthorisedRate13w, LateRate52w, UnauthShare52w}, float64(w13.lateAfter)/10,
				fmt.Sprintf("%d arrivals after registers closed (U) in the 13 weeks to %s", w13.lateAfter, on))
		}
		if w13.noReason >= minNoReason {
			add(NoReason13w, []string{NoReason13w, UnauthorisedRate13w, UnauthShare52w}, float64(w13.noReason)/10,
				fmt.Sprintf("%d sessions missed with no reason given in the 13 weeks to %s", w13.noReason, on))
		}
		if w13.monFriAbsent >= minMonFriAbsent && w13.monFriExcess() >= minMonFriExcess {
			add(MondayFriday13w, []string{MondayFriday13w}, w13.monFriExcess()*3,
				fmt.Sprintf("missed %d of %d Monday and Friday sessions in the 13 weeks to %s", w13.monFriAbsent, w13.monFri, on))
		}
		if w13.possible >= minSessions && rate(w13.illness, w13.possible) >= minIllness {
			add(Illness13w, []string{Illness13w}, rate(w13.illness, w13.possible)*2,
				fmt.Sprintf("off ill for %d of %d sessions in the 13 weeks to %s", w13.illness, w13.possible, on))
		}
		if w52.holiday >= minHoliday {
			add(Holiday52w, []string{Holiday52w}, 0.1,
				fmt.Sprintf("%d sessions of term-time holiday in the year to %s", w52.holiday, on))
		}
	}
	return out
}

// ChildWeeks are each child's own school sessions over weeks, as Timeline
// sums them over the household.
func (b *Builder) ChildWeeks(l *features.Link, h *features.Household, weeks []pipeline.TimelineWeek) []pipeline.ChildWeeks {
	var out []pipeline.ChildWeeks
	b.eachChildWeeks(l, h, weeks, func(c features.Child, tallies []tally) {
		cw := pipeline.ChildWeeks{Child: c.Person, Weeks: make([]pipeline.TimelineWeek, len(weeks))}
		for i, t := range tallies {
			cw.Weeks[i] = pipeline.TimelineWeek{Start: weeks[i].Start, Possible: t.possible, Absent: t.absent, Late: t.late + t.lateAfter}
		}
		out = append(out, cw)
	})
	return out
}
