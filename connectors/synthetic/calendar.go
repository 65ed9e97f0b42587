package synthetic

// dayKind says what a school does on a day.
type dayKind uint8

const (
	closedDay dayKind = iota // weekend, holiday, bank holiday
	schoolDay                // pupils expected
	insetDay                 // staff training: registers carry '#'
)

// calendar holds English state-school term dates over a window of days.
// Every school of the council keeps the same dates (one LA calendar), which is
// how most maintained schools work.
type calendar struct {
	first day
	kind  []dayKind
	// mult is the absence seasonality of a school day: absence rises through
	// each term and from autumn to summer (domain-data §1.4).
	mult []float32
}

// Relative absence by term (2023/24: autumn 6.7, spring 7.2, summer 7.6).
var termAbsence = [3]float64{0.94, 1.0, 1.06}

func newCalendar(first, last day) *calendar {
	c := &calendar{first: first, kind: make([]dayKind, last-first+1), mult: make([]float32, last-first+1)}
	for ay := first.academicYear(); ay <= last.academicYear(); ay++ {
		c.addYear(ay)
	}
	return c
}

func (c *calendar) kindOf(d day) dayKind {
	i := int(d - c.first)
	if i < 0 || i >= len(c.kind) {
		return closedDay
	}
	return c.kind[i]
}

// weekMult is the mean seasonality over the school days of the week starting
// on ws (1 when there are none).
func (c *calendar) weekMult(ws day) float64 {
	sum, n := 0.0, 0
	for d := ws; d < ws+7; d++ {
		if c.kindOf(d) == schoolDay {
			sum += float64(c.mult[d-c.first])
			n++
		}
	}
	if n == 0 {
		return 1
	}
	return sum / float64(n)
}

// addYear marks the school days of the academic year starting in September
// of y. The rules reproduce typical LA term dates: autumn from the first
// working day of September to about 20 December with a half-term in the week
// of the last Monday of October; spring from about 4 January to the Easter
// holiday with a mid-February half-term; summer from after Easter to about 22
// July with a half-term in the week of the spring bank holiday.
func (c *calendar) addYear(y int) {
	bh := make(map[day]bool)
	for _, d := range bankHolidays(y) {
		bh[d] = true
	}
	for _, d := range bankHolidays(y + 1) {
		bh[d] = true
	}
	workday := func(d day) bool { return d.weekday() < 5 && !bh[d] }
	nextWorkday := func(d day) day {
		for !workday(d) {
			d++
		}
		return d
	}
	lastWeekday := func(d day) day {
		for d.weekday() >= 5 {
			d--
		}
		return d
	}

	autumnStart := nextWorkday(dayOf(y, 9, 1))
	octHalf := lastMonday(y, 10)
	autumnEnd := lastWeekday(dayOf(y, 12, 20))
	springStart := nextWorkday(dayOf(y+1, 1, 4))
	febHalf := dayOf(y+1, 2, 12)
	for febHalf.weekday() != 0 {
		febHalf++
	}
	easter := easterSunday(y + 1)
	easterHoliday := easter - 6 // Holy Week and Easter week
	if easter > dayOf(y+1, 4, 12) {
		easterHoliday = easter - 13 // late Easter: the two weeks before it
	}
	springEnd := easterHoliday - 3
	summerStart := easterHoliday + 14
	mayHalf := lastMonday(y+1, 5)
	summerEnd := lastWeekday(dayOf(y+1, 7, 22))

	halfTerm := func(d day) bool {
		for _, h := range [...]day{octHalf, febHalf, mayHalf} {
			if d >= h && d < h+5 {
				return true
			}
		}
		return false
	}
	inset := map[day]bool{autumnStart: true}
	inset[nextWorkday(autumnStart+1)] = true
	inset[nextWorkday(octHalf+7)] = true
	inset[springStart] = true
	inset[nextWorkday(mayHalf+7)] = true

	terms := [3][2]day{{autumnStart, autumnEnd}, {springStart, springEnd}, {summerStart, summerEnd}}
	for t, tm := range terms {
		span := float64(tm[1] - tm[0])
		for d := tm[0]; d <= tm[1]; d++ {
			i := int(d - c.first)
			if i < 0 || i >= len(c.kind) || !workday(d) || halfTerm(d) {
				continue
			}
			if inset[d] {
				c.kind[i] = insetDay
				continue
			}
			c.kind[i] = schoolDay
			c.mult[i] = float32(termAbsence[t] * (0.85 + 0.3*float64(d-tm[0])/span))
		}
	}
}

func lastMonday(y, m int) day {
	d := dayOf(y, m+1, 1) - 1 // month 13 rolls into January
	for d.weekday() != 0 {
		d--
	}
	return d
}

func firstMonday(y, m int) day {
	d := dayOf(y, m, 1)
	for d.weekday() != 0 {
		d++
	}
	return d
}

// easterSunday uses the anonymous Gregorian algorithm (Meeus/Jones/Butcher).
func easterSunday(y int) day {
	a := y % 19
	b, c := y/100, y%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	dd := (h+l-7*m+114)%31 + 1
	return dayOf(y, month, dd)
}

// bankHolidays lists England's bank holidays of year y, substitutes and the
// one-off royal holidays of this century included.
func bankHolidays(y int) []day {
	newYear := dayOf(y, 1, 1)
	for newYear.weekday() >= 5 {
		newYear++
	}
	easter := easterSunday(y)
	earlyMay := firstMonday(y, 5)
	spring := lastMonday(y, 5)
	out := []day{newYear, easter - 2, easter + 1, lastMonday(y, 8)}
	switch y {
	case 2002:
		spring = dayOf(2002, 6, 3)
		out = append(out, dayOf(2002, 6, 4))
	case 2011:
		out = append(out, dayOf(2011, 4, 29))
	case 2012:
		spring = dayOf(2012, 6, 4)
		out = append(out, dayOf(2012, 6, 5))
	case 2020:
		earlyMay = dayOf(2020, 5, 8)
	case 2022:
		spring = dayOf(2022, 6, 2)
		out = append(out, dayOf(2022, 6, 3), dayOf(2022, 9, 19))
	case 2023:
		out = append(out, dayOf(2023, 5, 8))
	}
	out = append(out, earlyMay, spring)
	christmas := dayOf(y, 12, 25)
	switch christmas.weekday() {
	case 4: // Friday: Boxing Day moves to Monday 28th
		out = append(out, christmas, christmas+3)
	case 5: // Saturday: Monday 27th and Tuesday 28th
		out = append(out, christmas+2, christmas+3)
	case 6: // Sunday: Boxing Day Monday 26th, Christmas Tuesday 27th
		out = append(out, christmas+1, christmas+2)
	default:
		out = append(out, christmas, christmas+1)
	}
	return out
}
