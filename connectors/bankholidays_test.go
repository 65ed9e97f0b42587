package connectors

import (
	"strings"
	"testing"
	"time"
)

// TestBankHolidaySessions: a mark on a bank holiday is out of range unless
// the school marked the closure (#), which is kept outside possible
// sessions; the days either side load as usual.
func TestBankHolidaySessions(t *testing.T) {
	spec, err := Lookup(AttendanceSessions)
	if err != nil {
		t.Fatal(err)
	}
	upn := validUPN(t)
	tests := []struct {
		date, code string
		want       string // "rejected:<reason>" or the stored code|category
	}{
		{"2025-05-05", "/", "rejected:out_of_range"}, // early May bank holiday, a Monday
		{"2025-05-05", "N", "rejected:out_of_range"},
		{"05/05/2025", "#", "#|not_counted"},
		{"2025-05-06", "/", "/|present"},             // the Tuesday after
		{"2025-05-02", "I", "I|auth"},                // the Friday before
		{"2026-12-28", "/", "rejected:out_of_range"}, // Boxing Day's substitute Monday
		{"2022-09-19", "/", "rejected:out_of_range"}, // a one-off: the State Funeral
		{"2023-05-08", "O", "rejected:out_of_range"}, // a one-off: the Coronation
		{"2020-05-04", "/", "/|present"},             // the usual early May Monday, moved in 2020
		{"2017-05-01", "/", "/|present"},             // before the table: not checked
		{"2025-05-03", "#", "rejected:out_of_range"}, // a Saturday stays out of range, # or not
	}
	for _, tc := range tests {
		t.Run(tc.date+"/"+tc.code, func(t *testing.T) {
			row := []string{"100001", upn, tc.date, "AM", tc.code, "", ""}
			sink := &recordingSink{}
			if _, err := loadRows(t, spec, [][]string{row}, 1, sink); err != nil {
				t.Fatal(err)
			}
			got := ""
			switch {
			case len(sink.rejects) == 1:
				got = "rejected:" + sink.rejects[0].Reason
				if sink.rejects[0].Column != "session_date" {
					t.Errorf("rejected on column %q; want session_date", sink.rejects[0].Column)
				}
			case len(sink.rows) == 1:
				f := strings.Split(sink.rows[0], "|")
				got = f[spec.Schema.FieldIndices("attendance_code")[0]] + "|" + f[spec.Schema.FieldIndices("category")[0]]
			default:
				t.Fatalf("no row and no rejection")
			}
			if got != tc.want {
				t.Errorf("got %q; want %q", got, tc.want)
			}
		})
	}
}

// TestBankHolidayTable: every listed day is a weekday (substitute days are
// what keep a holiday off the weekend), each year has its eight, and the
// span covers whole years.
func TestBankHolidayTable(t *testing.T) {
	perYear := map[int]int{}
	for _, s := range bankHolidayDates {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
			t.Errorf("%s is a %s", s, wd)
		}
		days, _ := ParseDays(s)
		if !IsBankHoliday(days) || IsBankHoliday(days+1) && !strings.Contains(strings.Join(bankHolidayDates[:], " "), d.AddDate(0, 0, 1).Format(time.DateOnly)) {
			t.Errorf("%s: the bit table disagrees with the list", s)
		}
		perYear[d.Year()]++
	}
	want := map[int]int{2022: 10, 2023: 9} // the one-off royal holidays
	first, last := BankHolidaySpan()
	for y := first.Year(); y <= last.Year(); y++ {
		n := 8
		if w, ok := want[y]; ok {
			n = w
		}
		if perYear[y] != n {
			t.Errorf("%d: %d bank holidays listed; want %d", y, perYear[y], n)
		}
	}
	if first.Month() != time.January || first.Day() != 1 || last.Month() != time.December || last.Day() != 31 {
		t.Errorf("span %s to %s; want whole years", first.Format(time.DateOnly), last.Format(time.DateOnly))
	}
}

// BenchmarkIsBankHoliday is the check's cost per attendance row, which the
// row loop pays on every mark (issue 19: ingest within 10% of before).
func BenchmarkIsBankHoliday(b *testing.B) {
	first, _ := ParseDays("2024-09-02")
	n := 0
	for i := 0; b.Loop(); i++ {
		if IsBankHoliday(first + int32(i%700)) {
			n++
		}
	}
	if n == 0 {
		b.Fatal("no bank holiday in two years of days")
	}
}
