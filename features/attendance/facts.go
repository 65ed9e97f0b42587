package attendance

import (
	"context"
	"fmt"

	"earlyhelp/features"
	"earlyhelp/pipeline"
)

var _ features.Factual = (*Builder)(nil)

// Fact says an attendance reason with the household's worst-affected
// child's own figures and dates. Children are never named: the navigator
// sees the child references on the list.
func (b *Builder) Fact(l *features.Link, h *features.Household, r pipeline.Reason) (string, bool) {
	since := func(weeks int) string { return (l.Day - features.Day(7*weeks)).Time().Format("2 Jan 2006") }
	// Counts are the household's; the window's first day is the fact.
	switch r.Feature {
	case LateBeforeClose13w:
		return fmt.Sprintf("%.0f late arrivals (L) since %s", r.Value, since(13)), true
	case LateAfterClose13w:
		return fmt.Sprintf("%.0f arrivals after registers closed (U) since %s", r.Value, since(13)), true
	case Holiday52w:
		return fmt.Sprintf("%.0f sessions of term-time holiday since %s", r.Value, since(52)), true
	case NoMark13w:
		return fmt.Sprintf("%.0f sessions with no attendance mark since %s", r.Value, since(13)), true
	}
	idx, err := b.indexFor(context.Background(), l.Day)
	if err != nil {
		return "", false
	}
	cutoff := uint32(0)
	if s := l.AsOf.Unix() - stampEpoch; s > 0 {
		cutoff = uint32(s)
	}
	// The child whose figure the feature took (rates are the worst child's).
	var best [len(windows)]tally
	bestVal, found := 0.0, false
	for _, c := range h.Children {
		p, ok := idx.pupils[c.UPN]
		if c.UPN == "" || !ok {
			continue
		}
		ts := idx.tallies(p, l.Day, cutoff)
		v, ok := value(r.Feature, ts)
		if ok && (!found || v > bestVal) {
			best, bestVal, found = ts, v, true
		}
	}
	if !found {
		return "", false
	}
	att := func(t tally) int { return int(100*(1-t.absenceRate()) + 0.5) }
	w4, w6, w13, w19, w52 := best[0], best[1], best[2], best[3], best[4]
	switch r.Feature {
	case AbsenceChange6w:
		return fmt.Sprintf("a child's attendance fell from %d%% to %d%% over the last 6 weeks (since %s)",
			att(w19.minus(w6)), att(w6), since(6)), true
	case AbsenceChange4w:
		return fmt.Sprintf("a child's attendance fell from %d%% to %d%% over the last 4 weeks (since %s)",
			att(w13.minus(w4)), att(w4), since(4)), true
	case AbsenceRate4w:
		return fmt.Sprintf("a child's attendance was %d%% in the 4 weeks since %s", att(w4), since(4)), true
	case AbsenceRate13w:
		return fmt.Sprintf("a child's attendance was %d%% in the 13 weeks since %s (%d of %d sessions missed)",
			att(w13), since(13), w13.absent, w13.possible), true
	case AbsenceRate52w:
		return fmt.Sprintf("a child's attendance was %d%% over the year since %s", att(w52), since(52)), true
	case UnauthorisedRate13w:
		return fmt.Sprintf("%d unauthorised absences of a child's %d sessions since %s", w13.unauth, w13.possible, since(13)), true
	case Illness13w:
		return fmt.Sprintf("a child was off ill for %d of %d sessions since %s", w13.illness, w13.possible, since(13)), true
	case NoReason13w:
		return fmt.Sprintf("a child missed %d of %d sessions with no reason given since %s", w13.noReason, w13.possible, since(13)), true
	case MondayFriday13w:
		return fmt.Sprintf("a child missed %d of %d Monday and Friday sessions since %s", w13.monFriAbsent, w13.monFri, since(13)), true
	}
	return "", false
}

// value is the child's figure for a feature Fact can explain.
func value(feature string, ts [len(windows)]tally) (float64, bool) {
	w4, w6, w13, w19, w52 := ts[0], ts[1], ts[2], ts[3], ts[4]
	switch feature {
	case AbsenceChange6w:
		if before := w19.minus(w6); w6.possible > 0 && before.possible > 0 {
			return w6.absenceRate() - before.absenceRate(), true
		}
	case AbsenceChange4w:
		if before := w13.minus(w4); w4.possible > 0 && before.possible > 0 {
			return w4.absenceRate() - before.absenceRate(), true
		}
	case AbsenceRate4w:
		return w4.absenceRate(), w4.possible > 0
	case AbsenceRate13w:
		return w13.absenceRate(), w13.possible > 0
	case AbsenceRate52w:
		return w52.absenceRate(), w52.possible > 0
	case UnauthorisedRate13w:
		return w13.unauthRate(), w13.possible > 0
	case Illness13w:
		return rate(w13.illness, w13.possible), w13.possible > 0
	case NoReason13w:
		return rate(w13.noReason, w13.possible), w13.possible > 0
	case MondayFriday13w:
		return w13.monFriExcess(), w13.possible > 0
	}
	return 0, false
}
