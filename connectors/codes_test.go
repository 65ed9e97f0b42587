package connectors

import (
	"testing"
	"time"
)

func TestAttendanceCategory(t *testing.T) {
	legacy := time.Date(2023, 11, 6, 0, 0, 0, 0, time.UTC)
	lastLegacy := time.Date(2024, 8, 18, 23, 59, 0, 0, time.UTC)
	switchDay := time.Date(2024, 8, 19, 0, 0, 0, 0, time.UTC)
	current := time.Date(2025, 1, 13, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name          string
		code          string
		date          time.Time
		wantCanonical string
		wantCategory  string
		wantOK        bool
	}{
		{"present am", "/", current, "/", CategoryPresent, true},
		{"present pm", `\`, current, `\`, CategoryPresent, true},
		{"late", "L", current, "L", CategoryPresent, true},
		{"late lower case", "l", current, "L", CategoryPresent, true},
		{"illness lower case with blanks", " i ", current, "I", CategoryAuth, true},
		{"LA provision 2024", "K", current, "K", CategoryAEA, true},
		{"K before the switch", "K", legacy, "", "", false},
		{"visit", "V", legacy, "V", CategoryAEA, true},
		{"dual registered", "D", current, "D", CategoryNotCounted, true},
		{"non-compulsory age legacy", "X", legacy, "X", CategoryNotCounted, true},
		{"non-compulsory age 2024", "X", current, "X", CategoryNotCounted, true},
		{"unauthorised holiday", "G", current, "G", CategoryUnauth, true},
		{"not yet established", "N", legacy, "N", CategoryUnauth, true},
		{"arrived after close", "U", current, "U", CategoryUnauth, true},
		{"no mark", "-", current, "-", CategoryMissing, true},
		{"no mark legacy", "-", legacy, "-", CategoryMissing, true},
		{"closure", "#", current, "#", CategoryNotCounted, true},
		{"C1 2024", "C1", current, "C1", CategoryAuth, true},
		{"c1 lower case", "c1", current, "C1", CategoryAuth, true},
		{"C1 before the switch", "C1", legacy, "", "", false},
		{"C2 on the switch day", "C2", switchDay, "C2", CategoryAuth, true},
		{"C2 the day before", "C2", lastLegacy, "", "", false},
		{"J1", "J1", current, "J1", CategoryAuth, true},
		{"Q", "Q", current, "Q", CategoryNotCounted, true},
		{"Q legacy", "Q", legacy, "", "", false},
		{"Y7", "Y7", current, "Y7", CategoryNotCounted, true},
		{"bracketed", "[C1]", current, "C1", CategoryAuth, true},
		{"bracketed lower", "[y3]", current, "Y3", CategoryNotCounted, true},
		{"substitute <", "<", current, "C1", CategoryAuth, true},
		{"substitute >", ">", current, "C2", CategoryAuth, true},
		{"substitute ?", "?", current, "J1", CategoryAuth, true},
		{"substitute $", "$", current, "Y1", CategoryNotCounted, true},
		{"substitute a is Y2", "a", current, "Y2", CategoryNotCounted, true},
		{"substitute %", "%", current, "Y3", CategoryNotCounted, true},
		{"substitute backtick", "`", current, "Y4", CategoryNotCounted, true},
		{"substitute :", ":", current, "Y5", CategoryNotCounted, true},
		{"substitute |", "|", current, "Y6", CategoryNotCounted, true},
		{"substitute _", "_", current, "Y7", CategoryNotCounted, true},
		{"substitute before the switch", "<", legacy, "", "", false},
		{"capital A is no code", "A", current, "", "", false},
		{"legacy holiday", "H", legacy, "H", CategoryAuth, true},
		{"legacy extended holiday", "F", legacy, "F", CategoryAuth, true},
		{"legacy interview", "J", legacy, "J", CategoryAEA, true},
		{"legacy exceptional", "Y", legacy, "Y", CategoryNotCounted, true},
		{"legacy covid", "X01", legacy, "X01", CategoryNotCounted, true},
		{"legacy covid substitute", "+", legacy, "X01", CategoryNotCounted, true},
		{"H withdrawn", "H", current, "", "", false},
		{"J withdrawn", "J", current, "", "", false},
		{"Y withdrawn", "Y", switchDay, "", "", false},
		{"F withdrawn", "F", current, "", "", false},
		{"covid withdrawn", "X03", current, "", "", false},
		{"covid beyond X09", "X10", legacy, "", "", false},
		{"doubled backslash", `\\`, current, "", "", false},
		{"empty", "", current, "", "", false},
		{"unknown", "QQ", current, "", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			canonical, category, ok := AttendanceCategory(tc.code, tc.date)
			if canonical != tc.wantCanonical || category != tc.wantCategory || ok != tc.wantOK {
				t.Errorf("AttendanceCategory(%q, %s) = %q, %q, %v; want %q, %q, %v", tc.code,
					tc.date.Format(time.DateOnly), canonical, category, ok, tc.wantCanonical, tc.wantCategory, tc.wantOK)
			}
		})
	}
}

func TestCodeSet2024Start(t *testing.T) {
	d := CodeSet2024Start()
	if got := daysFromCivil(d.Year(), int(d.Month()), d.Day()); got != codeSet2024Days {
		t.Errorf("codeSet2024Days = %d; want %d", codeSet2024Days, got)
	}
}

func TestEthnicityCode(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"WHITE_BRITISH", "WHITE_BRITISH", true},
		{" white_roma ", "WHITE_ROMA", true},
		{"NOT_STATED", "NOT_STATED", true},
		{"OTHER_ANY", "OTHER_ANY", true},
		{"WBRI", "WHITE_BRITISH", true},
		{"wroM", "", false}, // Gypsy or Roma: not guessed
		{"white british", "", false},
	}
	for _, tc := range tests {
		if got, ok := EthnicityCode(tc.in); got != tc.want || ok != tc.ok {
			t.Errorf("EthnicityCode(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func BenchmarkAttendanceCategoryDays(b *testing.B) {
	codes := []string{"/", `\`, "L", "N", "I", "C1", "-"}
	for i := 0; i < b.N; i++ {
		AttendanceCategoryDays(codes[i%len(codes)], 20100)
	}
}
