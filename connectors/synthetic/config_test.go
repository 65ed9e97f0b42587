package synthetic

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string // substring of the error; "" for valid
	}{
		{"defaults", Config{Out: "x"}, ""},
		{"light", Config{Out: "x", Children: 10, Weeks: 520, Defects: "light"}, ""},
		{"no out", Config{}, "out:"},
		{"too few children", Config{Out: "x", Children: 9}, "children: 9"},
		{"negative children", Config{Out: "x", Children: -5}, "children: -5"},
		{"too many children", Config{Out: "x", Children: 5_000_001}, "children: 5000001"},
		{"negative weeks", Config{Out: "x", Weeks: -1}, "weeks: -1"},
		{"too many weeks", Config{Out: "x", Weeks: 521}, "weeks: 521"},
		{"unknown defects", Config{Out: "x", Defects: "savage"}, `defects: unknown profile "savage"`},
		{"end too early", Config{Out: "x", End: time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC)}, "end: 1999-01-01"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Validate() = %v; want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Validate() = %v; want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestGenerateRejectsBadConfig(t *testing.T) {
	dir := t.TempDir()
	_, err := Generate(context.Background(), Config{Out: dir, Children: 3})
	if err == nil || !strings.Contains(err.Error(), "children") {
		t.Fatalf("Generate(3 children) = %v; want a children error", err)
	}
	if files := listFiles(t, dir); len(files) != 0 {
		t.Errorf("files written for a bad config: %v", files)
	}
}

func TestGenerateEdgeConfigs(t *testing.T) {
	tests := []struct {
		name       string
		cfg        Config
		attendance bool // school days in the window
		wantRefs   bool
	}{
		{"ten children one week", Config{Children: 10, Weeks: 1}, true, false},
		{"ten years", Config{Children: 30, Weeks: 520, Seed: 4}, true, true},
		{"summer holiday only", Config{Children: 50, Weeks: 4, End: time.Date(2025, 8, 31, 0, 0, 0, 0, time.UTC)}, false, false},
		{"end on a Wednesday in term", Config{Children: 50, Weeks: 3, End: time.Date(2025, 11, 12, 0, 0, 0, 0, time.UTC)}, true, false},
		{"end in 2000", Config{Children: 50, Weeks: 60, End: time.Date(2000, 6, 30, 0, 0, 0, 0, time.UTC)}, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir, s := generate(t, tc.cfg)
			if s.Children != tc.cfg.Children {
				t.Errorf("Children = %d; want %d", s.Children, tc.cfg.Children)
			}
			if got := s.Rows["attendance_sessions"] > 0; got != tc.attendance {
				t.Errorf("attendance rows = %d; want some: %v", s.Rows["attendance_sessions"], tc.attendance)
			}
			if tc.wantRefs && s.Referrals == 0 {
				t.Errorf("no referrals")
			}
			weeks := records(t, filepath.Join(dir, householdWeeksFile))
			if len(weeks) == 0 {
				t.Fatal("no household weeks")
			}
			if wd := parseDate(t, weeks[0]["week_start"]).Weekday(); wd != time.Monday {
				t.Errorf("first week starts on %s; want Monday", wd)
			}
			last := tc.cfg.End
			if last.IsZero() {
				last = DefaultEnd
			}
			if tc.attendance {
				for _, f := range attendanceFiles(t, dir) {
					for _, r := range records(t, f) {
						if d := parseDate(t, r["session_date"]); d.After(last) {
							t.Fatalf("session on %s after End", r["session_date"])
						}
					}
				}
			}
			for _, r := range records(t, filepath.Join(dir, "incoming/csc_referrals/csc_referrals.csv")) {
				if d := parseDate(t, r["referral_date"]); d.After(last) {
					t.Errorf("referral on %s after End", r["referral_date"])
				}
			}
		})
	}
}
