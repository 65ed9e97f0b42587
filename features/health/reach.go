package health

import (
	"context"

	"earlyhelp/features"
)

// MatchRate measures nothing: health visiting's contacts and assessments
// name an NHS number, and the roster's Linkage already measures how many
// of those it places, so a second figure here would only repeat it.
func (b *Builder) MatchRate(context.Context, *features.Link) (string, float64, error) {
	return "", 0, nil
}

// Span does not bound the backtest: contacts are events, and a family with
// none for a year is a family not seen, so the first and last contact say
// when visits happened, not when the extract began and ended. Attendance,
// marked every school day for every pupil, bounds it.
func (b *Builder) Span(context.Context) (from, to features.Day, ok bool, err error) {
	return 0, 0, false, nil
}
