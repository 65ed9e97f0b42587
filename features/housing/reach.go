package housing

import (
	"context"

	"earlyhelp/features"
)

// MatchRate measures nothing: homelessness cases and rent accounts name a
// council person id and placements name their case, and the roster's
// Linkage already measures how many of those it places, so a second
// figure here would only repeat it.
func (b *Builder) MatchRate(context.Context, *features.Link) (string, float64, error) {
	return "", 0, nil
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
