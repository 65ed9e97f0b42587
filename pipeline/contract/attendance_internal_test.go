package contract

import (
	"slices"
	"testing"
)

// TestAttendanceCodes holds the stored dictionaries to the code table: a
// code codeCategories accepts but AttendanceCodes leaves out could not be
// stored, and one listed that it rejects would never be met.
func TestAttendanceCodes(t *testing.T) {
	listed := map[string]bool{}
	for _, c := range AttendanceCodes() {
		if listed[c] {
			t.Errorf("code %q listed twice", c)
		}
		listed[c] = true
		if legacy, current := codeCategories(c); legacy == "" && current == "" {
			t.Errorf("code %q listed but in neither code set", c)
		}
	}
	// Every canonical code is one to three printable characters: try them all.
	var try func(prefix string)
	try = func(prefix string) {
		if prefix != "" {
			legacy, current := codeCategories(prefix)
			if (legacy != "" || current != "") && !listed[prefix] {
				t.Errorf("code %q has a category but is not listed", prefix)
			}
			for _, cat := range []string{legacy, current} {
				if cat != "" && !slices.Contains(Categories(), cat) {
					t.Errorf("code %q: category %q not listed", prefix, cat)
				}
			}
		}
		if len(prefix) == 3 {
			return
		}
		for b := byte(' '); b <= '~'; b++ {
			try(prefix + string(b))
		}
	}
	try("")
	if got := Sessions(); !slices.Equal(got, []string{SessionAM, SessionPM}) {
		t.Errorf("Sessions() = %q", got)
	}
	if n := len(AttendanceCodes()); n > 127 {
		t.Errorf("%d codes: more than an int8 dictionary index holds", n)
	}
}
