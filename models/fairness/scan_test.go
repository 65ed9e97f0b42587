package fairness

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestScanDigestsLabelledLines: the scan's digest is the SHA-256 of the
// labelled lines as they stand, each with its newline, over a file of
// several of the digest's batches, with blank lines between and a quoted
// line part-way (after which it is no longer raw); its summary counts
// every labelled row and its week is the last date's unlabelled rows.
func TestScanDigestsLabelledLines(t *testing.T) {
	for _, quoted := range []bool{false, true} {
		var file, want strings.Builder
		file.WriteString("as_of,model,person_id,household_id,score,selected,label,ethnicity5,ethnicity,imd_decile\n")
		const labelled = 80000 // ~5.3 MB: more batches than the hasher has buffers
		for i := range labelled {
			line := fmt.Sprintf("2025-%02d-01,m%d,p%d,h%d,0.%d,%d,%d,White,WHITE_BRITISH,%d", 1+i/8000, i%2, i, i/3, i, i%7/6, i%5/4, 1+i%10)
			if quoted && i == labelled/2 {
				line = strings.Replace(line, "White", `"White"`, 1)
			}
			file.WriteString(line + "\n")
			if i%997 == 0 {
				file.WriteString("\n")
			}
			if !quoted || i < labelled/2 {
				want.WriteString(line + "\n")
			} else {
				want.WriteString("\n") // a line csv read is digested as its newline alone
			}
		}
		for i := range 30 {
			fmt.Fprintf(&file, "2025-11-03,m0,q%d,g%d,0.5,0,,Asian,ASIAN_INDIAN,3\n", i, i)
		}
		path := filepath.Join(t.TempDir(), "scored_children.csv")
		if err := os.WriteFile(path, []byte(file.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		sc, err := scanScored(path)
		if err != nil {
			t.Fatal(err)
		}
		if got, w := sc.digest.Sum(nil), sha256.Sum256([]byte(want.String())); string(got) != string(w[:]) {
			t.Errorf("quoted %v: digest %x; want %x", quoted, got, w)
		}
		if sc.raw == quoted || sc.labelled.Rows != labelled || len(sc.week) != 30 || sc.latest != "2025-11-03" ||
			sc.labelled.Window != [2]string{"2025-01-01", "2025-10-01"} || len(sc.labelled.Models) != 2 {
			t.Errorf("quoted %v: raw %v, %d labelled rows in %v of %d models, %d this week of %s; want raw %v, %d in 2025-01-01 to 2025-10-01 of 2, 30 of 2025-11-03",
				quoted, sc.raw, sc.labelled.Rows, sc.labelled.Window, len(sc.labelled.Models), len(sc.week), sc.latest, !quoted, labelled)
		}
	}
}
