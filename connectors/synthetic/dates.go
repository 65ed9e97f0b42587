package synthetic

import "time"

// day is a civil date counted in days since 1970-01-01. The generator works
// in days so that the hot loops never touch time.Time.
type day int32

// dayOf converts a civil date to a day (H. Hinnant's days_from_civil). Out of
// range days roll over, so 29 February of a common year is 1 March.
func dayOf(y, m, d int) day {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := m - 3
	if m <= 2 {
		mp = m + 9
	}
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return day(era*146097 + doe - 719468)
}

// civil converts a day back to year, month and day of month.
func (d day) civil() (y, m, dd int) {
	z := int(d) + 719468
	era := z / 146097
	if z < 0 {
		era = (z - 146096) / 146097
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	dd = doy - (153*mp+2)/5 + 1
	m = mp + 3
	if mp >= 10 {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return y, m, dd
}

// weekday is 0 for Monday … 6 for Sunday.
func (d day) weekday() int {
	w := (int(d) + 3) % 7 // 1970-01-01 was a Thursday
	if w < 0 {
		w += 7
	}
	return w
}

// monday returns the Monday on or before d.
func (d day) monday() day { return d - day(d.weekday()) }

// dayFromTime takes the calendar date of t in its own location.
func dayFromTime(t time.Time) day {
	y, m, d := t.Date()
	return dayOf(y, int(m), d)
}

// academicYear is the calendar year in which d's school year (September to
// August) began.
func (d day) academicYear() int {
	y, m, _ := d.civil()
	if m >= 9 {
		return y
	}
	return y - 1
}

func append2(b []byte, v int) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }

func append4(b []byte, v int) []byte {
	return append(b, byte('0'+v/1000), byte('0'+v/100%10), byte('0'+v/10%10), byte('0'+v%10))
}

// appendISO appends yyyy-mm-dd.
func appendISO(b []byte, d day) []byte {
	y, m, dd := d.civil()
	b = append4(b, y)
	b = append(b, '-')
	b = append2(b, m)
	b = append(b, '-')
	return append2(b, dd)
}

// appendDMY appends dd/mm/yyyy, the UK form many council systems export.
func appendDMY(b []byte, d day) []byte {
	y, m, dd := d.civil()
	b = append2(b, dd)
	b = append(b, '/')
	b = append2(b, m)
	b = append(b, '/')
	return append4(b, y)
}

// isoString formats d as yyyy-mm-dd.
func isoString(d day) string { return string(appendISO(make([]byte, 0, 10), d)) }
