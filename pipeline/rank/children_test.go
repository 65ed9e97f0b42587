package rank

import (
	"bufio"
	"bytes"
	"earlyhelp/pipeline"
	"encoding/csv"
	"fmt"
	"io"
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
		{name: "rows copied as they are, a quoted one and those after it parsed",
			file: now + "2026-07-20,logistic,p3,h3,0.3,1,,White,WHITE_BRITISH,2,5-10,M,\n" +
				"2025-09-01,logistic,p4,h4,0.4,1,1,White,WHITE_BRITISH,2,5-10,M,none\n\n" +
				"2025-09-01,logistic,p5,h5,0.5,0,0,\"Mixed, other\",MIXED_OTHER,,11-15,F,\n" +
				"2025-09-01,logistic,p6,h6,0.6,0,1,Black,BLACK_AFRICAN,4,16+,M,",
			want: [][]string{
				{"2025-09-01", "logistic", "p2", "h2", "0.1", "0", "0", "Asian", "ASIAN_INDIAN", "1", "5-10", "F", "ehcp"},
				{"2025-09-01", "logistic", "p4", "h4", "0.4", "1", "1", "White", "WHITE_BRITISH", "2", "5-10", "M", "none"},
				{"2025-09-01", "logistic", "p5", "h5", "0.5", "0", "0", "Mixed, other", "MIXED_OTHER", "", "11-15", "F", ""},
				{"2025-09-01", "logistic", "p6", "h6", "0.6", "0", "1", "Black", "BLACK_AFRICAN", "4", "16+", "M", ""},
			}},
		{name: "a row short of fields", file: now + "2025-09-01,logistic,p7,h7,0.7,0,1\n", bad: true},
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
			// Parsed and written again, and copied as lines where it can.
			var outputs []string
			for _, lines := range []bool{false, true} {
				var buf bytes.Buffer
				bw := bufio.NewWriter(&buf)
				cw := csv.NewWriter(bw)
				var raw io.Writer
				if lines {
					raw = bw
				}
				err := r.copyBacktestChildren(cw, raw)
				cw.Flush()
				if tc.bad {
					if err == nil {
						t.Fatalf("a file of another shape was copied (as lines: %t)", lines)
					}
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				outputs = append(outputs, buf.String())
				got, err := csv.NewReader(&buf).ReadAll()
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(tc.want) {
					t.Fatalf("as lines %t: copied %d rows; want %d", lines, len(got), len(tc.want))
				}
				for i := range got {
					if strings.Join(got[i], ",") != strings.Join(tc.want[i], ",") {
						t.Errorf("as lines %t: row %d: got %q; want %q", lines, i, got[i], tc.want[i])
					}
				}
			}
			if len(outputs) == 2 && outputs[0] != outputs[1] {
				t.Errorf("copied as lines:\n%s\nparsed:\n%s", outputs[1], outputs[0])
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

// TestFoldTop: a fold's list takes the highest scores, ties broken by
// household id and then by the rows' order, and marks only test rows.
func TestFoldTop(t *testing.T) {
	hh := []string{"h9", "h1", "h5", "h1", "h3", "h0"}
	for _, tc := range []struct {
		name   string
		rows   []int
		scores []float64
		k      int
		want   []int
	}{
		{"by score", []int{0, 2, 4}, []float64{0.1, 0.9, 0.5}, 2, []int{2, 4}},
		{"tie by household", []int{0, 1, 2}, []float64{0.5, 0.5, 0.5}, 2, []int{1, 2}},
		{"tie in the same household by order", []int{3, 1, 5}, []float64{0.7, 0.7, 0.2}, 1, []int{3}},
		{"k beyond the rows", []int{5, 4}, []float64{0.3, 0.4}, 10, []int{4, 5}},
		{"k of zero", []int{0, 1}, []float64{0.3, 0.4}, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			top := foldTop(tc.rows, tc.scores, func(i int) string { return hh[i] }, tc.k, len(hh))
			var got []int
			for i, on := range top {
				if on {
					got = append(got, i)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("top rows %v, want %v", got, tc.want)
			}
		})
	}
}
