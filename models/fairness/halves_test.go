package fairness

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// scoredFile writes n rows in the scored_children.csv layout, row bad
// (1-based among the rows, 0 for none) with an unreadable score.
func scoredFile(t *testing.T, n, bad int, extra string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("\ufeffas_of,model,person_id,household_id,score,selected,label,ethnicity5,ethnicity,imd_decile\n")
	for i := 1; i <= n; i++ {
		score := fmt.Sprintf("0.%04d", i%9973)
		if i == bad {
			score = "high"
		}
		fmt.Fprintf(&b, "2026-0%d-06,logistic_signed,p%07d,h%06d,%s,%d,%d,,WHITE_BRITISH,%d\n", 1+i%6, i, i/3, score, i%7/6, i%11/10, 1+i%10)
		if i == n/3 {
			b.WriteString(extra)
		}
	}
	path := filepath.Join(t.TempDir(), "scored_children.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestReadHalvesAsWhole: the file read in two halves side by side gives
// the rows, and the errors with their line numbers, that reading it from
// the top gives; files it must not split are read whole.
func TestReadHalvesAsWhole(t *testing.T) {
	defer func(v int64) { halvesFrom = v }(halvesFrom)
	halvesFrom = 1 << 10
	const n = 5000
	for _, tc := range []struct {
		name  string
		bad   int
		extra string
	}{
		{"clean", 0, ""},
		{"bad row in the first half", 1200, ""},
		{"bad row in the second half", 4100, ""},
		{"bad row on the last line", n, ""},
		{"a quoted field: read whole", 0, "2026-01-06,logistic_signed,\"p,q\",h1,0.5,0,0,,WHITE_BRITISH,3\n"},
		{"a blank line: read whole", 4100, "\n"},
		{"a carriage return: read whole", 0, "2026-01-06,logistic_signed,q1,h1,0.5,0,0,,WHITE_BRITISH,3\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := scoredFile(t, n, tc.bad, tc.extra)
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, _, _, ok, err := halfway(f); err != nil || ok != (tc.extra == "") {
				t.Fatalf("halfway: split %v (%v), want a split only of a file of plain lines", ok, err)
			}
			if _, err := f.Seek(0, 0); err != nil {
				t.Fatal(err)
			}
			want, wantErr := ReadCSV(f)
			if _, err := f.Seek(0, 0); err != nil {
				t.Fatal(err)
			}
			got, gotErr := readHalves(f)
			if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
				t.Fatalf("error %v, want %v", gotErr, wantErr)
			}
			if (tc.bad != 0) != (gotErr != nil) {
				t.Fatalf("error %v with bad row %d", gotErr, tc.bad)
			}
			if line := fmt.Sprintf("line %d: score", tc.bad+1); tc.bad != 0 && !strings.Contains(gotErr.Error(), line) {
				t.Fatalf("error %q does not name %s", gotErr, line)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%d rows differ from the %d read whole", len(got), len(want))
			}
			if tc.bad == 0 && len(got) < n {
				t.Fatalf("%d rows of %d", len(got), n)
			}
		})
	}
}

// TestHalfway: the split falls at a line's start past the middle, with
// the records before it counted, and only in a file that may be split.
func TestHalfway(t *testing.T) {
	defer func(v int64) { halvesFrom = v }(halvesFrom)
	halvesFrom = 1 << 10
	path := scoredFile(t, 3000, 0, "")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	size, split, records, ok, err := halfway(f)
	if err != nil || !ok {
		t.Fatalf("halfway: ok %v, %v", ok, err)
	}
	if size != int64(len(data)) || split < size/2 || data[split-1] != '\n' || strings.Contains(string(data[size/2:split-1]), "\n") {
		t.Fatalf("split at %d of %d: not the first line start past the middle", split, size)
	}
	if got := strings.Count(string(data[:split]), "\n") - 1; records != got {
		t.Fatalf("%d records before the split, counted %d", records, got)
	}
	halvesFrom = size + 1
	if _, _, _, ok, _ := halfway(f); ok {
		t.Fatal("a file below halvesFrom was split")
	}
}

// TestReadHalvesRepeatedColumn: a header that names a column twice still
// gives every record its full count of fields in the second half too.
func TestReadHalvesRepeatedColumn(t *testing.T) {
	defer func(v int64) { halvesFrom = v }(halvesFrom)
	halvesFrom = 1 << 10
	var b strings.Builder
	b.WriteString("as_of,model,person_id,household_id,score,selected,label,ethnicity5,ethnicity,imd_decile,note,note\n")
	for i := 1; i <= 3000; i++ {
		fmt.Fprintf(&b, "2026-01-06,logistic_signed,p%07d,h%06d,0.%04d,0,0,,WHITE_BRITISH,3,a,b\n", i, i/3, i%9973)
	}
	path := filepath.Join(t.TempDir(), "scored_children.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := readHalves(f)
	if err != nil {
		t.Fatalf("readHalves: %v", err)
	}
	if len(rows) != 3000 {
		t.Fatalf("%d rows, want 3000", len(rows))
	}
}
