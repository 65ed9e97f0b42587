package rank

import (
	"bytes"
	"earlyhelp/pipeline"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCopyBacktestChildrenFromAnOlderRun: a weekly run reusing a model
// copies the training run's labelled rows whether that run wrote the file
// before the equality columns (padded with blanks: not recorded) or after
// (copied as they are); a file of any other shape is refused.
func TestCopyBacktestChildrenFromAnOlderRun(t *testing.T) {
	old := "as_of,model,person_id,household_id,score,selected,label,ethnicity5,ethnicity,imd_decile\n" +
		"2025-09-01,logistic,p1,h1,0.2,1,1,White,WHITE_BRITISH,3\n" +
		"2026-07-20,logistic,p1,h1,0.2,1,,White,WHITE_BRITISH,3\n"
	now := strings.Join(scoredChildrenHeader, ",") + "\n" +
		"2025-09-01,logistic,p2,h2,0.1,0,0,Asian,ASIAN_INDIAN,1,5-10,F,ehcp\n"
	tests := []struct {
		name, file string
		want       [][]string
		bad        bool
	}{
		{name: "before the equality columns", file: old,
			want: [][]string{{"2025-09-01", "logistic", "p1", "h1", "0.2", "1", "1", "White", "WHITE_BRITISH", "3", "", "", ""}}},
		{name: "with them", file: now,
			want: [][]string{{"2025-09-01", "logistic", "p2", "h2", "0.1", "0", "0", "Asian", "ASIAN_INDIAN", "1", "5-10", "F", "ehcp"}}},
		{name: "another shape", file: "as_of,label,x\n2025-09-01,1,2\n", bad: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			runs := t.TempDir()
			trained := filepath.Join(runs, "20260601T060000Z", "evaluation")
			if err := os.MkdirAll(trained, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(trained, "scored_children.csv"), []byte(tc.file), 0o644); err != nil {
				t.Fatal(err)
			}
			r := &run{State: &pipeline.State{Dir: filepath.Join(runs, "20260720T060000Z"), Reused: &pipeline.SavedModel{RunID: "20260601T060000Z"}}}
			var buf bytes.Buffer
			cw := csv.NewWriter(&buf)
			err := r.copyBacktestChildren(cw)
			cw.Flush()
			if tc.bad {
				if err == nil {
					t.Fatal("a file of another shape was copied")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := csv.NewReader(&buf).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("copied %d rows; want %d", len(got), len(tc.want))
			}
			for i := range got {
				if strings.Join(got[i], ",") != strings.Join(tc.want[i], ",") {
					t.Errorf("row %d: got %q; want %q", i, got[i], tc.want[i])
				}
			}
		})
	}
}

// TestChildAgeBand: the bands' edges fall on the school phases.
func TestChildAgeBand(t *testing.T) {
	for _, tc := range []struct {
		age  int
		want string
	}{{-1, ""}, {0, "0-4"}, {4, "0-4"}, {5, "5-10"}, {10, "5-10"}, {11, "11-15"}, {15, "11-15"}, {16, "16+"}, {17, "16+"}} {
		if got := pipeline.ChildAgeBand(tc.age); got != tc.want {
			t.Errorf("ChildAgeBand(%d) = %q; want %q", tc.age, got, tc.want)
		}
	}
}
