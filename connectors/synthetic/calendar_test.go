package synthetic

import (
	"testing"
	"time"
)

func TestDayConversions(t *testing.T) {
	for d := dayOf(1990, 1, 1); d <= dayOf(2110, 12, 31); d++ {
		y, m, dd := d.civil()
		if back := dayOf(y, m, dd); back != d {
			t.Fatalf("dayOf(civil(%d)) = %d", d, back)
		}
		want := time.Date(y, time.Month(m), dd, 0, 0, 0, 0, time.UTC)
		if int(want.Unix()/86400) != int(d) {
			t.Fatalf("day %d is %s; time says %d", d, isoString(d), want.Unix()/86400)
		}
		if got, wantWd := d.weekday(), (int(want.Weekday())+6)%7; got != wantWd {
			t.Fatalf("%s weekday = %d; want %d", isoString(d), got, wantWd)
		}
	}
	if got := string(appendDMY(nil, dayOf(2025, 2, 3))); got != "03/02/2025" {
		t.Errorf("appendDMY = %q; want 03/02/2025", got)
	}
}

func TestCalendar(t *testing.T) {
	cal := newCalendar(dayOf(2024, 7, 1), dayOf(2026, 8, 31))
	tests := []struct {
		date string
		want dayKind
	}{
		{"2024-09-02", insetDay},  // first day of autumn term
		{"2024-09-03", insetDay},  // second INSET day
		{"2024-09-04", schoolDay}, // pupils back
		{"2024-09-07", closedDay}, // Saturday
		{"2024-10-25", schoolDay}, // Friday before half-term
		{"2024-10-28", closedDay}, // October half-term
		{"2024-11-01", closedDay}, // October half-term
		{"2024-11-04", insetDay},  // back from half-term
		{"2024-12-20", schoolDay}, // last day of autumn term
		{"2024-12-23", closedDay}, // Christmas holiday
		{"2025-01-06", insetDay},  // spring term starts
		{"2025-01-07", schoolDay}, // pupils back
		{"2025-02-17", closedDay}, // February half-term
		{"2025-04-04", schoolDay}, // late Easter: term runs to 4 April
		{"2025-04-07", closedDay}, // Easter holiday
		{"2025-04-18", closedDay}, // Good Friday
		{"2025-04-21", closedDay}, // Easter Monday
		{"2025-04-22", schoolDay}, // summer term
		{"2025-05-05", closedDay}, // early May bank holiday
		{"2025-05-26", closedDay}, // spring bank holiday and half-term
		{"2025-06-02", insetDay},  // after May half-term
		{"2025-07-22", schoolDay}, // last day of the year
		{"2025-07-23", closedDay}, // summer holiday
		{"2025-09-01", insetDay},  // 2025/26 starts on a Monday
		{"2025-09-03", schoolDay},
		{"2025-10-27", closedDay}, // October half-term
		{"2025-12-19", schoolDay}, // last day of autumn term
		{"2026-01-05", insetDay},  // spring term
		{"2026-02-16", closedDay}, // February half-term
		{"2026-03-27", schoolDay}, // early Easter: term ends 27 March
		{"2026-03-30", closedDay}, // Easter holiday
		{"2026-04-13", schoolDay}, // summer term
		{"2026-05-04", closedDay}, // early May bank holiday
		{"2026-07-17", schoolDay},
		{"2026-08-03", closedDay},
		{"2024-06-30", closedDay}, // outside the calendar
		{"2030-01-01", closedDay}, // outside the calendar
		{"2024-07-19", schoolDay}, // summer 2024 term
		{"2024-07-22", schoolDay}, // last day of 2023/24 (22 July)
		{"2024-07-23", closedDay}, // summer holiday
		{"2024-08-26", closedDay}, // summer bank holiday
		{"2024-12-25", closedDay}, // Christmas
		{"2025-01-01", closedDay}, // New Year
		{"2026-05-25", closedDay}, // spring bank holiday
		{"2026-06-01", insetDay},  // after May half-term
		{"2026-07-22", schoolDay}, // last day of 2025/26
		{"2026-07-20", schoolDay},
		{"2026-07-24", closedDay}, // Friday after term
		{"2026-07-25", closedDay}, // Saturday
		{"2026-04-06", closedDay}, // Easter Monday in the holiday
		{"2026-04-03", closedDay}, // Good Friday
		{"2024-10-31", closedDay}, // half-term Thursday
		{"2025-02-14", schoolDay}, // Friday before half-term
		{"2025-02-24", schoolDay}, // back from half-term
		{"2025-06-03", schoolDay}, // pupils back after INSET
		{"2025-12-22", closedDay}, // Christmas holiday
		{"2026-01-02", closedDay}, // Christmas holiday
		{"2026-01-06", schoolDay}, // pupils back
	}
	for _, tc := range tests {
		t.Run(tc.date, func(t *testing.T) {
			d := dayFromTime(parseDate(t, tc.date))
			if got := cal.kindOf(d); got != tc.want {
				t.Errorf("kindOf(%s) = %d; want %d", tc.date, got, tc.want)
			}
		})
	}
}

// Every academic year has about 190 pupil days and 5 INSET days (§1.1).
func TestCalendarYears(t *testing.T) {
	for y := 2000; y <= 2098; y++ {
		first, last := dayOf(y, 9, 1), dayOf(y+1, 8, 31)
		cal := newCalendar(first, last)
		school, inset := 0, 0
		for d := first; d <= last; d++ {
			switch cal.kindOf(d) {
			case schoolDay:
				school++
				if d.weekday() >= 5 {
					t.Fatalf("%d/%d: school on %s, a weekend", y, y+1, isoString(d))
				}
			case insetDay:
				inset++
			}
		}
		if school < 180 || school > 197 || inset != 5 {
			t.Errorf("%d/%d: %d pupil days and %d INSET days; want 180–197 and 5", y, y+1, school, inset)
		}
	}
}

func TestEasterSunday(t *testing.T) {
	for y, want := range map[int]string{2019: "2019-04-21", 2024: "2024-03-31", 2025: "2025-04-20", 2026: "2026-04-05", 2038: "2038-04-25"} {
		if got := isoString(easterSunday(y)); got != want {
			t.Errorf("easterSunday(%d) = %s; want %s", y, got, want)
		}
	}
}
