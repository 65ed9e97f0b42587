package housing

import (
	"context"

	"earlyhelp/features"
)

// MatchRate measures rent accounts from the snapshots the builder holds,
// as the roster's Linkage measures the other sources: the share of the
// snapshots of the 52 weeks before the link's date whose lead person is in
// a household on it. Read again for the Linkage, a year of weekly files
// was 0.7 s of a 300,000-child weekly run. With no snapshot in those weeks
// it gives no rate, as the Linkage leaves such a source out. Cases and
// placements, a few rows, are left to the Linkage.
func (b *Builder) MatchRate(ctx context.Context, l *features.Link) (string, float64, error) {
	if err := b.load(ctx); err != nil {
		return "", 0, err
	}
	r, placed := l.Roster(), l.Placed()
	w := features.Before(l.AsOf, 52)
	var seen, found int
	for id, ss := range b.rent {
		n := 0
		for k := range ss {
			if w.Contains(ss[k].day) {
				n++
			}
		}
		if n == 0 {
			continue
		}
		seen += n
		if p, ok := r.IndexOf(id); ok && placed[p] {
			found += n
		}
	}
	if seen == 0 {
		return "", 0, nil
	}
	return Rent, float64(found) / float64(seen), nil
}

// Span does not bound the backtest: housing records cover a minority of
// households (those who approached the council as homeless, were placed,
// or rent from it), and a household without one is not missing data, so
// the first and last record say when those few were seen, not when the
// extracts began and ended. Attendance, marked every school day for every
// pupil, bounds it.
func (b *Builder) Span(context.Context) (from, to features.Day, ok bool, err error) {
	return 0, 0, false, nil
}
