package connectors

import (
	"errors"
	"fmt"
	"strings"
	"time"

	// Europe/London must resolve on a machine with nothing but Go installed.
	_ "time/tzdata"
)

// Date errors. They never quote the value: a date of birth is personal data.
var (
	ErrDateFormat     = errors.New("date: not yyyy-mm-dd, dd/mm/yyyy or dd-Mon-yyyy")
	ErrDateImpossible = errors.New("date: no such day")
	ErrDateSentinel   = errors.New("date: placeholder value (1900-01-01, 9999-12-31, 0000-00-00) or outside 1900-2199")
	ErrTimestamp      = errors.New("timestamp: not yyyy-mm-ddThh:mm:ss with an optional offset, or dd/mm/yyyy hh:mm:ss")
)

// The years a real date in a council extract falls in; anything outside is a
// system's placeholder or a typo.
const (
	minYear = 1900
	maxYear = 2199
)

// ParseDate reads a date as councils write it: yyyy-mm-dd, a datetime whose
// date part is that (yyyy-mm-ddThh:mm:ss...), dd/mm/yyyy or d/m/yyyy with an
// optional time, or dd-Mon-yyyy / dd Mon yyyy. Two-digit years and Excel
// serial numbers are refused, not guessed. The result is midnight UTC.
func ParseDate(s string) (time.Time, error) {
	days, err := ParseDays(s)
	if err != nil {
		return time.Time{}, err
	}
	return time.Unix(int64(days)*86400, 0).UTC(), nil
}

// ParseDays is ParseDate returning days since 1970-01-01, the value of an
// Arrow date32. It does not allocate.
func ParseDays(s string) (int32, error) {
	s = strings.TrimSpace(s)
	var y, m, d int
	switch {
	case len(s) >= 10 && s[4] == '-' && s[7] == '-':
		if len(s) > 10 && s[10] != 'T' && s[10] != ' ' {
			return 0, ErrDateFormat
		}
		var ok bool
		if y, ok = digits(s[0:4]); !ok {
			return 0, ErrDateFormat
		}
		if m, ok = digits(s[5:7]); !ok {
			return 0, ErrDateFormat
		}
		if d, ok = digits(s[8:10]); !ok {
			return 0, ErrDateFormat
		}
	default:
		var err error
		if y, m, d, err = parseUKDate(s); err != nil {
			return 0, err
		}
	}
	return civilDays(y, m, d)
}

// parseUKDate reads d/m/yyyy (optionally followed by a space and a time)
// and d-Mon-yyyy or d Mon yyyy.
func parseUKDate(s string) (y, m, d int, err error) {
	// Day: one or two digits.
	i := 0
	for i < len(s) && i < 2 && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 || i == len(s) {
		return 0, 0, 0, ErrDateFormat
	}
	d, _ = digits(s[:i])
	sep := s[i]
	rest := s[i+1:]
	switch sep {
	case '/':
		j := 0
		for j < len(rest) && j < 2 && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		if j == 0 || j == len(rest) || rest[j] != '/' {
			return 0, 0, 0, ErrDateFormat
		}
		m, _ = digits(rest[:j])
		rest = rest[j+1:]
	case '-', ' ':
		if len(rest) < 4 || rest[3] != sep {
			return 0, 0, 0, ErrDateFormat
		}
		if m = monthAbbrev(rest[:3]); m == 0 {
			return 0, 0, 0, ErrDateFormat
		}
		rest = rest[4:]
	default:
		return 0, 0, 0, ErrDateFormat
	}
	n := 4
	if len(rest) == 2 || len(rest) > 2 && rest[2] == ' ' {
		n = 2 // a two-digit year
	}
	if len(rest) < n {
		return 0, 0, 0, ErrDateFormat
	}
	var ok bool
	if y, ok = digits(rest[:n]); !ok {
		return 0, 0, 0, ErrDateFormat
	}
	if n == 2 {
		y = century(y)
	}
	if len(rest) > n && (rest[n] != ' ' || !isClock(strings.TrimSpace(rest[n+1:]))) {
		return 0, 0, 0, ErrDateFormat
	}
	return y, m, d, nil
}

// TwoDigitYearPivot: a two-digit year yy is 20yy up to this and 19yy
// above it, as Excel reads them (most files with such years went through
// a spreadsheet): 03/02/25 is 3 February 2025, 14/07/68 is 14 July 1968.
// So a date of birth before 1930 or an event after 2029 cannot be written
// with two digits; neither occurs in the extracts this reads today.
const TwoDigitYearPivot = 29

func century(yy int) int {
	if yy <= TwoDigitYearPivot {
		return 2000 + yy
	}
	return 1900 + yy
}

// isClock reports whether s is hh:mm or hh:mm:ss.
func isClock(s string) bool {
	_, _, _, ok := parseClock(s)
	return ok
}

func parseClock(s string) (h, mi, sec int, ok bool) {
	if len(s) != 5 && len(s) != 8 {
		return 0, 0, 0, false
	}
	if s[2] != ':' || (len(s) == 8 && s[5] != ':') {
		return 0, 0, 0, false
	}
	var ok1, ok2, ok3 = true, true, true
	h, ok1 = digits(s[0:2])
	mi, ok2 = digits(s[3:5])
	if len(s) == 8 {
		sec, ok3 = digits(s[6:8])
	}
	if !ok1 || !ok2 || !ok3 || h > 23 || mi > 59 || sec > 59 {
		return 0, 0, 0, false
	}
	return h, mi, sec, true
}

func monthAbbrev(s string) int {
	if len(s) != 3 {
		return 0
	}
	const months = "janfebmaraprmayjunjulaugsepoctnovdec"
	var b [3]byte
	for i := 0; i < 3; i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	for m := 0; m < 12; m++ {
		if months[3*m:3*m+3] == string(b[:]) {
			return m + 1
		}
	}
	return 0
}

// digits parses a short run of ASCII digits.
func digits(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// civilDays checks a calendar date and turns it into days since 1970-01-01.
func civilDays(y, m, d int) (int32, error) {
	if y == 0 && m == 0 && d == 0 {
		return 0, ErrDateSentinel // 00/00/0000, 0000-00-00
	}
	if m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0, ErrDateImpossible
	}
	if y < minYear || y > maxYear || (y == 1900 && m == 1 && d == 1) {
		return 0, ErrDateSentinel
	}
	return daysFromCivil(y, m, d), nil
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil is Howard Hinnant's days_from_civil for years >= 0.
func daysFromCivil(y, m, d int) int32 {
	if m <= 2 {
		y--
	}
	era := y / 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int32(era*146097 + doe - 719468)
}

// Weekday returns the day of the week of a date32 value.
func Weekday(days int32) time.Weekday {
	// 1970-01-01 was a Thursday.
	w := (int64(days) + 4) % 7
	if w < 0 {
		w += 7
	}
	return time.Weekday(w)
}

// A TimestampParser reads datetimes such as mark_updated_at. A time with an
// offset or Z is taken as written; a naive one (yyyy-mm-ddThh:mm:ss,
// yyyy-mm-dd hh:mm:ss or dd/mm/yyyy hh:mm:ss) is Europe/London wall-clock
// time. It is safe for concurrent use.
type TimestampParser struct {
	london *time.Location
}

// NewTimestampParser loads Europe/London (from the system or from the
// copy embedded in the binary).
func NewTimestampParser() (*TimestampParser, error) {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		return nil, fmt.Errorf("time zone Europe/London: %w", err)
	}
	return &TimestampParser{london: loc}, nil
}

// ParseTimestamp returns the instant in UTC. Fractions of a second are
// accepted and dropped. A naive time in the hour repeated when clocks go
// back is ambiguous; Go's time.Date picks one of the two.
func (p *TimestampParser) ParseTimestamp(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	var y, mo, d int
	var rest string
	if len(s) >= 10 && s[4] == '-' && s[7] == '-' {
		var ok1, ok2, ok3 bool
		y, ok1 = digits(s[0:4])
		mo, ok2 = digits(s[5:7])
		d, ok3 = digits(s[8:10])
		if !ok1 || !ok2 || !ok3 {
			return time.Time{}, ErrTimestamp
		}
		rest = s[10:]
	} else {
		sp := strings.IndexByte(s, ' ')
		if sp < 0 {
			sp = len(s) // a date without a time: midnight
		}
		var err error
		if y, mo, d, err = parseUKDate(s[:sp]); err != nil {
			return time.Time{}, ErrTimestamp
		}
		rest = s[sp:]
	}
	if _, err := civilDays(y, mo, d); err != nil {
		return time.Time{}, err
	}
	if rest == "" {
		return time.Date(y, time.Month(mo), d, 0, 0, 0, 0, p.london).UTC(), nil
	}
	if rest[0] != 'T' && rest[0] != ' ' {
		return time.Time{}, ErrTimestamp
	}
	rest = rest[1:]
	n := 5 // hh:mm
	if len(rest) >= 8 && rest[5] == ':' {
		n = 8 // hh:mm:ss
	}
	if len(rest) < n {
		return time.Time{}, ErrTimestamp
	}
	h, mi, sec, ok := parseClock(rest[:n])
	if !ok {
		return time.Time{}, ErrTimestamp
	}
	rest = rest[n:]
	if len(rest) > 0 && (rest[0] == '.' || rest[0] == ',') {
		i := 1
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 1 {
			return time.Time{}, ErrTimestamp
		}
		rest = rest[i:]
	}
	switch {
	case rest == "":
		return time.Date(y, time.Month(mo), d, h, mi, sec, 0, p.london).UTC(), nil
	case rest == "Z" || rest == "z":
		return time.Unix(unixSeconds(y, mo, d, h, mi, sec), 0).UTC(), nil
	case rest[0] == '+' || rest[0] == '-':
		off, ok := parseOffset(rest[1:])
		if !ok {
			return time.Time{}, ErrTimestamp
		}
		if rest[0] == '-' {
			off = -off
		}
		return time.Unix(unixSeconds(y, mo, d, h, mi, sec)-int64(off), 0).UTC(), nil
	}
	return time.Time{}, ErrTimestamp
}

// parseOffset reads hh:mm, hhmm or hh as seconds.
func parseOffset(s string) (int, bool) {
	var h, m int
	var ok1, ok2 = true, true
	switch len(s) {
	case 2:
		h, ok1 = digits(s)
	case 4:
		h, ok1 = digits(s[:2])
		m, ok2 = digits(s[2:])
	case 5:
		if s[2] != ':' {
			return 0, false
		}
		h, ok1 = digits(s[:2])
		m, ok2 = digits(s[3:])
	default:
		return 0, false
	}
	if !ok1 || !ok2 || h > 14 || m > 59 {
		return 0, false
	}
	return h*3600 + m*60, true
}

func unixSeconds(y, mo, d, h, mi, s int) int64 {
	return int64(daysFromCivil(y, mo, d))*86400 + int64(h*3600+mi*60+s)
}

// IsNull reports whether a cell is one of the spellings of "no value" that
// extracts use: empty or blank, NULL, N/A, #N/A. "-" is not among them: it
// is the attendance code for "no mark entered" (IsNullWord has the
// spellings that are nulls in every other column).
func IsNull(s string) bool { return isNullTrimmed(trimSpace(s)) }

// isNullTrimmed is IsNull of a cell already trimmed: the checker trims
// each cell once, and at 160 million attendance rows a second trim per
// cell was seconds of an ingest.
func isNullTrimmed(s string) bool {
	switch len(s) {
	case 0:
		return true
	case 3:
		return s == "N/A" || s == "n/a" || s == "N/a" || s == "n/A"
	case 4:
		return s == "#N/A" || strings.EqualFold(s, "null")
	}
	return false
}

// IsNullWord reports the further spellings of "no value" that the
// reference lists (domain-data §8.2): -, ?, Unknown and Not Known, in any
// case. They are nulls in every column but attendance_code, where "-" is
// "no mark entered" and "?" stands for J1.
func IsNullWord(s string) bool { return isNullWordTrimmed(trimSpace(s)) }

// isNullWordTrimmed is IsNullWord of a cell already trimmed.
func isNullWordTrimmed(s string) bool {
	switch len(s) {
	case 1:
		return s == "-" || s == "?"
	case 7:
		return strings.EqualFold(s, "unknown")
	case 9:
		return strings.EqualFold(s, "not known")
	}
	return false
}
