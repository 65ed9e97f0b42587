package connectors

import (
	"errors"
	"testing"
	"time"
)

func TestParseDate(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // yyyy-mm-dd
		err  error
	}{
		{"iso", "2025-02-03", "2025-02-03", nil},
		{"iso with blanks", " 2025-02-03 ", "2025-02-03", nil},
		{"iso datetime", "2025-02-03T00:00:00Z", "2025-02-03", nil},
		{"iso datetime space", "2025-02-03 13:45:00", "2025-02-03", nil},
		{"uk", "03/02/2025", "2025-02-03", nil},
		{"uk short", "3/2/2025", "2025-02-03", nil},
		{"uk with time", "03/02/2025 00:00:00", "2025-02-03", nil},
		{"uk with short time", "03/02/2025 14:32", "2025-02-03", nil},
		{"month name", "03-Feb-2025", "2025-02-03", nil},
		{"month name spaced", "3 feb 2025", "2025-02-03", nil},
		{"leap day", "29/02/2024", "2024-02-29", nil},
		{"impossible", "30/02/2025", "", ErrDateImpossible},
		{"not a leap year", "2023-02-29", "", ErrDateImpossible},
		{"month 13", "2025-13-01", "", ErrDateImpossible},
		{"zeros", "00/00/0000", "", ErrDateSentinel},
		{"sentinel iso", "1900-01-01", "", ErrDateSentinel},
		{"sentinel uk", "01/01/1900", "", ErrDateSentinel},
		{"sentinel end of time", "31/12/9999", "", ErrDateSentinel},
		{"two-digit year", "03/02/25", "2025-02-03", nil},
		{"two-digit year after the pivot", "14/07/68", "1968-07-14", nil},
		{"two-digit year with time", "03/02/25 14:32", "2025-02-03", nil},
		{"excel serial", "45691", "", ErrDateFormat},
		{"american separators", "2025/02/03", "", ErrDateFormat},
		{"junk after date", "2025-02-03x", "", ErrDateFormat},
		{"junk after uk date", "03/02/2025x", "", ErrDateFormat},
		{"empty", "", "", ErrDateFormat},
		{"letters", "2025-0a-03", "", ErrDateFormat},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseDate(tc.in)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Errorf("ParseDate(%q) error = %v; want %v", tc.in, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseDate(%q): %v", tc.in, err)
			}
			if s := got.Format(time.DateOnly); s != tc.want || got.Location() != time.UTC {
				t.Errorf("ParseDate(%q) = %s %s; want %s UTC", tc.in, s, got.Location(), tc.want)
			}
		})
	}
}

func TestDaysFromCivilMatchesTime(t *testing.T) {
	for d := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() < 2200; d = d.AddDate(0, 0, 13) {
		want := int32(d.Unix() / 86400)
		if got := daysFromCivil(d.Year(), int(d.Month()), d.Day()); got != want {
			t.Fatalf("daysFromCivil(%s) = %d; want %d", d.Format(time.DateOnly), got, want)
		}
		if got := Weekday(want); got != d.Weekday() {
			t.Fatalf("Weekday(%s) = %s; want %s", d.Format(time.DateOnly), got, d.Weekday())
		}
	}
}

func TestParseTimestamp(t *testing.T) {
	p, err := NewTimestampParser()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   string
		want string // RFC 3339 in UTC
		ok   bool
	}{
		{"utc", "2025-01-13T08:50:00Z", "2025-01-13T08:50:00Z", true},
		{"offset", "2025-06-13T08:50:00+01:00", "2025-06-13T07:50:00Z", true},
		{"negative offset compact", "2025-06-13T08:50:00-0130", "2025-06-13T10:20:00Z", true},
		{"fraction", "2025-01-13T08:50:00.123456Z", "2025-01-13T08:50:00Z", true},
		{"naive winter is GMT", "2025-01-13T08:50:00", "2025-01-13T08:50:00Z", true},
		{"naive summer is BST", "2025-06-13T08:50:00", "2025-06-13T07:50:00Z", true},
		{"naive with space", "2025-06-13 08:50:00", "2025-06-13T07:50:00Z", true},
		{"naive minutes only", "2025-06-13T08:50", "2025-06-13T07:50:00Z", true},
		{"uk naive", "13/06/2025 08:50:00", "2025-06-13T07:50:00Z", true},
		{"date only", "2025-06-13", "2025-06-12T23:00:00Z", true},
		{"bad hour", "2025-06-13T25:50:00Z", "", false},
		{"bad zone", "2025-06-13T08:50:00 BST", "", false},
		{"impossible day", "2025-02-30T08:50:00Z", "", false},
		{"junk", "yesterday", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := p.ParseTimestamp(tc.in)
			if !tc.ok {
				if err == nil {
					t.Errorf("ParseTimestamp(%q) = %s; want an error", tc.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseTimestamp(%q): %v", tc.in, err)
			}
			if s := got.Format(time.RFC3339); s != tc.want {
				t.Errorf("ParseTimestamp(%q) = %s; want %s", tc.in, s, tc.want)
			}
		})
	}
}

func TestIsNull(t *testing.T) {
	for s, want := range map[string]bool{
		"": true, "  ": true, "NULL": true, "null": true, "Null": true, "N/A": true, "n/a": true,
		"#N/A": true, "-": false, "0": false, "x": false, "NULLS": false, "/": false,
	} {
		if got := IsNull(s); got != want {
			t.Errorf("IsNull(%q) = %v; want %v", s, got, want)
		}
	}
}

func BenchmarkParseDays(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := ParseDays("2025-02-03"); err != nil {
			b.Fatal(err)
		}
	}
}
