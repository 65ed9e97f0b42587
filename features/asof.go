package features

import (
	"math"
	"time"
)

// Day is a calendar date as days since 1970-01-01, the unit of Arrow's
// date32 columns.
type Day int32

// DayOf returns the day of t's calendar date (t's own location).
func DayOf(t time.Time) Day {
	y, m, d := t.Date()
	return Day(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// Time is the day's midnight in UTC.
func (d Day) Time() time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

// Window is the half-open range of days [From, To).
type Window struct{ From, To Day }

// Contains reports whether d is in the window.
func (w Window) Contains(d Day) bool { return d >= w.From && d < w.To }

// Before is the window of the n weeks that end just before asOf: the one
// helper that owns as-of arithmetic, so no feature can see the as-of date
// itself or anything after it.
func Before(asOf time.Time, weeks int) Window {
	end := DayOf(asOf)
	return Window{From: end - Day(7*weeks), To: end}
}

// After is the window of the n weeks that start on asOf: where labels look.
func After(asOf time.Time, weeks int) Window {
	start := DayOf(asOf)
	return Window{From: start, To: start + Day(7*weeks)}
}

// AgeOn is the age in whole years on day d of someone born on dob.
func AgeOn(dob, d Day) int {
	b, t := dob.Time(), d.Time()
	age := t.Year() - b.Year()
	if t.Month() < b.Month() || (t.Month() == b.Month() && t.Day() < b.Day()) {
		age--
	}
	return age
}

// recencyHalfLife is how fast an event's weight in a recency feature
// fades: halved every 8 weeks, since the reference has a crisis show in
// attendance 0–8 weeks on and in referrals after that (domain-data §7.2).
const recencyHalfLife = 56

// Recency weighs an event on day e by how long before d it was: 1 the day
// before d, a half 8 weeks before, a sixty-fourth a year before. Summed
// over a family of events, it says both how many there were and how
// recently, where a count over a year says only how many.
func Recency(d, e Day) float64 {
	if e >= d {
		return 0
	}
	return math.Exp2(-float64(d-e-1) / recencyHalfLife)
}
