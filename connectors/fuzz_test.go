package connectors

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// The fuzz targets below hold the parsers and checks that every row of every
// extract goes through to the properties their callers rely on. Their seed
// corpora live in testdata/fuzz/<FuzzName>/ as well as in the f.Add calls,
// so `go test` replays them.

// Days since 1970-01-01 of the first and last dates ParseDays accepts.
var (
	firstDay = daysFromCivil(1900, 1, 2)
	lastDay  = daysFromCivil(2199, 12, 31)
)

// FuzzParseDate checks that ParseDate and ParseDays agree on every input,
// that an accepted date is a real calendar date between 1900-01-02 and
// 2199-12-31, and that it reads back the same written as yyyy-mm-dd.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{
		"2025-02-03", " 2025-02-03 ", "2025-02-03T00:00:00Z", "2025-02-03 13:45:00",
		"03/02/2025", "3/2/2025", "03/02/2025 00:00:00", "03/02/2025 14:32", "03-Feb-2025",
		"3 feb 2025", "29/02/2024", "30/02/2025", "2023-02-29", "2025-13-01", "00/00/0000",
		"1900-01-01", "01/01/1900", "1900-01-02", "31/12/9999", "2199-12-31", "2200-01-01",
		"03/02/25", "45691", "2025/02/03", "2025-02-03x", "03/02/2025x", "", "2025-0a-03",
		"1/1/", "1-", "1 Jan", "31-dec-2199 23:59:59", "\t2024-02-29\n", "2024-02-29T", "03/02/2025 24:00",
		"-001-01-01", "+2025-02-03", "２０２５-02-03",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		days, derr := ParseDays(s)
		tm, terr := ParseDate(s)
		if (derr == nil) != (terr == nil) {
			t.Fatalf("ParseDays(%q) error %v but ParseDate error %v", s, derr, terr)
		}
		if derr != nil {
			if !errors.Is(derr, ErrDateFormat) && !errors.Is(derr, ErrDateImpossible) && !errors.Is(derr, ErrDateSentinel) {
				t.Fatalf("ParseDays(%q) error %v is none of the date errors", s, derr)
			}
			if !errors.Is(terr, derr) {
				t.Fatalf("ParseDays(%q) error %v; ParseDate error %v", s, derr, terr)
			}
			return
		}
		if tm.Location() != time.UTC || tm.Unix()%86400 != 0 {
			t.Fatalf("ParseDate(%q) = %s; want midnight UTC", s, tm)
		}
		if got := tm.Unix() / 86400; got != int64(days) {
			t.Fatalf("ParseDate(%q) is day %d; ParseDays says %d", s, got, days)
		}
		if days < firstDay || days > lastDay {
			t.Fatalf("ParseDays(%q) = %d (%s); want a date from 1900-01-02 to 2199-12-31", s, days, tm.Format(time.DateOnly))
		}
		if Weekday(days) != tm.Weekday() {
			t.Fatalf("Weekday(%d) = %s; want %s", days, Weekday(days), tm.Weekday())
		}
		iso := tm.Format(time.DateOnly)
		if again, err := ParseDays(iso); err != nil || again != days {
			t.Fatalf("ParseDays(%q) (from %q) = %d, %v; want %d", iso, s, again, err, days)
		}
	})
}

// FuzzCheckUPN checks that CheckUPN and NormaliseUPN take any input, that
// normalising twice changes nothing, that an accepted UPN is one whose
// first letter UPNCheckLetter gives, and that a UPN built from twelve valid
// characters and their check letter is always accepted, however typed.
func FuzzCheckUPN(f *testing.F) {
	f.Add("B801200005001", []byte("801200005001"))
	f.Add("b801-2000-0500 1", []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255})
	f.Add("A80120000500", []byte("80120000500A"))
	f.Add("UN3", []byte{})
	f.Add(" x -\t", []byte("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"))
	f.Add("ǆ801200005001", []byte("99999999999Z"))
	f.Fuzz(func(t *testing.T, s string, seed []byte) {
		n := NormaliseUPN(s)
		if again := NormaliseUPN(n); again != n {
			t.Fatalf("NormaliseUPN(%q) = %q but NormaliseUPN(%q) = %q; want idempotent", s, n, n, again)
		}
		for _, v := range []string{s, n} {
			err := CheckUPN(v)
			switch {
			case err == nil:
				want, ok := UPNCheckLetter(v[1:])
				if !ok || v[0] != want {
					t.Fatalf("CheckUPN(%q) accepted a UPN whose check letter is not %q", v, want)
				}
			case !errors.Is(err, ErrUPNFormat) && !errors.Is(err, ErrUPNCheck):
				t.Fatalf("CheckUPN(%q) = %v; want ErrUPNFormat or ErrUPNCheck", v, err)
			}
		}

		// Twelve characters from the seed: eleven digits and a last one that
		// may be a letter of the UPN alphabet.
		var rest [12]byte
		for i := range rest {
			var b byte
			if i < len(seed) {
				b = seed[i]
			}
			if i < 11 {
				rest[i] = '0' + b%10
			} else if k := int(b) % (10 + len(upnAlphabet)); k < 10 {
				rest[i] = '0' + byte(k)
			} else {
				rest[i] = upnAlphabet[k-10]
			}
		}
		letter, ok := UPNCheckLetter(string(rest[:]))
		if !ok {
			t.Fatalf("UPNCheckLetter(%q) refused valid characters", rest[:])
		}
		upn := string(letter) + string(rest[:])
		if err := CheckUPN(upn); err != nil {
			t.Fatalf("CheckUPN(%q) = %v; want it accepted", upn, err)
		}
		typed := " " + strings.ToLower(upn[:5]) + "-" + upn[5:9] + " " + upn[9:] + "\t"
		if got := NormaliseUPN(typed); got != upn || CheckUPN(got) != nil {
			t.Fatalf("NormaliseUPN(%q) = %q; want %q, accepted", typed, got, upn)
		}
		// Any other first letter is caught.
		other := upnAlphabet[(strings.IndexByte(upnAlphabet, letter)+1+len(seed)%22)%len(upnAlphabet)]
		if err := CheckUPN(string(other) + upn[1:]); !errors.Is(err, ErrUPNCheck) {
			t.Fatalf("CheckUPN(%q) = %v; want ErrUPNCheck", string(other)+upn[1:], err)
		}
	})
}

// FuzzCheckNHS is FuzzCheckUPN for NHS numbers: a number built from nine
// digits and NHSCheckDigit's digit is accepted, formatted or not, and any
// other tenth digit is refused (mod 11 catches every single-digit error).
func FuzzCheckNHS(f *testing.F) {
	f.Add("9434765919", []byte("943476591"))
	f.Add("943 476 5919", []byte{9, 4, 3, 4, 7, 6, 5, 9, 1})
	f.Add("9434765991", []byte("000000000"))
	f.Add("4010232137", []byte("401023213"))
	f.Add("1234567890", []byte("123456789")) // check digit 10: no valid number
	f.Add(" 9-\t", []byte{})
	f.Add("９４３４７６５９１９", []byte("\xff\xff\xff\xff\xff\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, s string, seed []byte) {
		n := NormaliseNHS(s)
		if again := NormaliseNHS(n); again != n {
			t.Fatalf("NormaliseNHS(%q) = %q but NormaliseNHS(%q) = %q; want idempotent", s, n, n, again)
		}
		for _, v := range []string{s, n} {
			err := CheckNHS(v)
			switch {
			case err == nil:
				want, ok := NHSCheckDigit(v[:9])
				if !ok || v[9] != want {
					t.Fatalf("CheckNHS(%q) accepted a number whose check digit is not %q", v, want)
				}
			case !errors.Is(err, ErrNHSFormat) && !errors.Is(err, ErrNHSCheck):
				t.Fatalf("CheckNHS(%q) = %v; want ErrNHSFormat or ErrNHSCheck", v, err)
			}
		}

		var first9 [9]byte
		for i := range first9 {
			if i < len(seed) {
				first9[i] = '0' + seed[i]%10
			} else {
				first9[i] = '0'
			}
		}
		check, ok := NHSCheckDigit(string(first9[:]))
		for d := byte('0'); d <= '9'; d++ {
			num := string(first9[:]) + string(d)
			err := CheckNHS(num)
			switch {
			case ok && d == check && err != nil:
				t.Fatalf("CheckNHS(%q) = %v; want it accepted", num, err)
			case (!ok || d != check) && !errors.Is(err, ErrNHSCheck):
				t.Fatalf("CheckNHS(%q) = %v; want ErrNHSCheck", num, err)
			}
		}
		if !ok {
			return
		}
		num := string(first9[:]) + string(check)
		typed := " " + num[:3] + " " + num[3:6] + "-" + num[6:] + " "
		if got := NormaliseNHS(typed); got != num || CheckNHS(got) != nil {
			t.Fatalf("NormaliseNHS(%q) = %q; want %q, accepted", typed, got, num)
		}
	})
}

// FuzzAttendanceCategory checks that any mark on any date is either refused
// or read as a code whose canonical form (also in brackets or lower case)
// reads back as itself with the same category on that date, and that the
// time.Time and date32 forms agree.
func FuzzAttendanceCategory(f *testing.F) {
	before, after := daysFromCivil(2023, 11, 6), daysFromCivil(2025, 1, 13)
	for _, c := range []string{
		"/", `\`, "L", "l", " B ", "[C1]", "[ c1 ]", "<", ">", "?", "$", "a", "A", "%", "`", ":", "|", "_",
		"+", "H", "J", "J1", "K", "Y", "Y2", "X01", "X09", "X10", "-", "#", "", "[]", "[", "[[C1]]", "ı", "ſ",
	} {
		f.Add(c, before)
		f.Add(c, after)
	}
	f.Add("H", int32(codeSet2024Days-1))
	f.Add("H", int32(codeSet2024Days))
	f.Add("K", int32(-1<<31))
	f.Add("K", int32(1<<31-1))
	categories := map[string]bool{
		CategoryPresent: true, CategoryAEA: true, CategoryAuth: true,
		CategoryUnauth: true, CategoryNotCounted: true, CategoryMissing: true,
	}
	f.Fuzz(func(t *testing.T, code string, days int32) {
		canonical, category, ok := AttendanceCategoryDays(code, days)
		if !ok {
			if canonical != "" || category != "" {
				t.Fatalf("AttendanceCategoryDays(%q, %d) refused the code but returned %q, %q", code, days, canonical, category)
			}
		} else if canonical == "" || !categories[category] {
			t.Fatalf("AttendanceCategoryDays(%q, %d) = %q, %q", code, days, canonical, category)
		}
		// The time.Time form goes through the civil calendar, which is
		// exact for years 0 onwards.
		if days >= daysFromCivil(1, 1, 1) {
			date := time.Unix(int64(days)*86400, 0).UTC().Add(13 * time.Hour)
			c2, cat2, ok2 := AttendanceCategory(code, date)
			if c2 != canonical || cat2 != category || ok2 != ok {
				t.Fatalf("AttendanceCategory(%q, %s) = %q, %q, %v; AttendanceCategoryDays(%d) = %q, %q, %v",
					code, date, c2, cat2, ok2, days, canonical, category, ok)
			}
		}
		if !ok {
			return
		}
		for _, form := range []string{canonical, "[" + canonical + "]", " " + strings.ToLower(canonical) + " "} {
			c, cat, ok := AttendanceCategoryDays(form, days)
			if !ok || c != canonical || cat != category {
				t.Fatalf("%q on day %d read as %q, %q, but %q reads as %q, %q, %v", code, days, canonical, category, form, c, cat, ok)
			}
		}
	})
}

// FuzzParseTimestamp checks that ParseTimestamp takes any input, that an
// accepted time is a whole second in UTC within a day of the date written in
// it, and that it reads back the same written in RFC 3339.
func FuzzParseTimestamp(f *testing.F) {
	for _, s := range []string{
		"2025-01-13T08:50:00Z", "2025-06-13T08:50:00+01:00", "2025-06-13T08:50:00-0130",
		"2025-01-13T08:50:00.123456Z", "2025-01-13T08:50:00", "2025-06-13T08:50:00",
		"2025-06-13 08:50:00", "2025-06-13T08:50", "13/06/2025 08:50:00", "2025-06-13",
		"2025-06-13T25:50:00Z", "2025-06-13T08:50:00 BST", "2025-02-30T08:50:00Z", "yesterday",
		"2025-03-30T01:30:00", "2025-10-26T01:30:00", "1900-01-02T00:00:00+14:00", "2199-12-31T23:59:59-14",
		"2025-06-13T08:50:00,5+0100", "2025-06-13T08:50:00.", "13/06/2025 08:50:00.999z", "3 Jun 2025 08:50",
		"13/06/2025", "13/06/2025 ", "2025-06-13T", "2025-06-13T08:50:00+", "2025-06-13T08:50:00+1",
	} {
		f.Add(s)
	}
	p, err := NewTimestampParser()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := p.ParseTimestamp(s)
		if err != nil {
			if !errors.Is(err, ErrTimestamp) && !errors.Is(err, ErrDateImpossible) && !errors.Is(err, ErrDateSentinel) {
				t.Fatalf("ParseTimestamp(%q) error %v is none of the date errors", s, err)
			}
			return
		}
		if got.Location() != time.UTC || got.Nanosecond() != 0 {
			t.Fatalf("ParseTimestamp(%q) = %s; want whole seconds in UTC", s, got)
		}
		// The date written in s, read on its own.
		v := strings.TrimSpace(s)
		datePart := v
		if len(v) >= 10 && v[4] == '-' && v[7] == '-' {
			datePart = v[:10]
		} else if sp := strings.IndexByte(v, ' '); sp >= 0 {
			datePart = v[:sp]
		}
		days, err := ParseDays(datePart)
		if err != nil {
			t.Fatalf("ParseTimestamp(%q) = %s but its date %q does not parse: %v", s, got, datePart, err)
		}
		// Offsets reach 14 hours either way: the instant is within a day of
		// midnight starting the written date, or of the midnight ending it.
		if d := got.Unix() - int64(days)*86400; d < -86400 || d > 2*86400 {
			t.Fatalf("ParseTimestamp(%q) = %s, %d s from the start of %q", s, got, d, datePart)
		}
		rfc := got.Format(time.RFC3339)
		if _, err := ParseDays(rfc[:10]); err != nil {
			return // shifted by its offset out of the years extracts hold
		}
		if again, err := p.ParseTimestamp(rfc); err != nil || !again.Equal(got) {
			t.Fatalf("ParseTimestamp(%q) = %s but ParseTimestamp(%q) = %s, %v", s, got, rfc, again, err)
		}
	})
}
