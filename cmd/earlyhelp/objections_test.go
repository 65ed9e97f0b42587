package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/connectors"
	"earlyhelp/pipeline"
)

// TestObjectionsFailSafe plants every defect class an objection row may
// carry on the objections of people in scored households: each of those
// households must then be left out of the features (so never scored,
// listed or trained on), and the rows naming no one must be listed in the
// manifest by row.
func TestObjectionsFailSafe(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and loads a council twice")
	}
	dir := lightCouncil(t, "7")
	cfg := filepath.Join(dir, "earlyhelp.yaml")
	b, _ := os.ReadFile(cfg)
	// Two rows of a tiny objections file are meant to be refused.
	os.WriteFile(cfg, []byte(strings.Replace(string(b), "max_quarantine_ratio: 0.05", "max_quarantine_ratio: 0.5", 1)), 0o644)
	day := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

	mem := memory.NewGoAllocator()
	before := scoredHouseholds(t, ingestedSet(t, dir, mem), mem, day)
	key, err := connectors.LoadKey(filepath.Join(dir, "secrets", "pseudonym.key"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := connectors.NewPseudonymiser(key)
	if err != nil {
		t.Fatal(err)
	}

	// Each defect class: the row's cells after its person_id.
	classes := []struct{ name, person, rest string }{
		{"impossible received date", "", "31/02/2025,"},
		{"sentinel received 1900", "", "01/01/1900,"},
		{"sentinel received 9999", "", "31/12/9999,"},
		{"empty received date", "", ","},
		{"received not known", "", "Not Known,"},
		{"received garbage", "", "last spring,"},
		{"received excel serial", "", "45691,"},
		{"withdrawn garbage", "", "2025-01-01,soon"},
		{"withdrawn before received", "", "2025-05-01,2025-01-01"},
		{"withdrawn sentinel", "", "2025-01-01,31/12/9999"},
		{"withdrawn zeros", "", "2025-01-01,00/00/0000"},
		{"short row", "", "2025-01-01"},
		{"padded person id", " %s ", "2025-01-01,"},
		{"repeated, first withdrawn", "", "2025-01-01,2025-02-01\n%s,2025-01-01,"},
	}
	// One current member of a distinct scored household per class.
	picked := map[string]string{} // class → household pseudonym
	var rows []string
	used := map[string]bool{}
	for _, r := range readCSV(t, filepath.Join(dir, "incoming", "households", "households.csv")) {
		if len(rows) == len(classes) {
			break
		}
		hh := p.Pseudonym(connectors.NSHousehold, r["household_id"])
		if r["to_date"] != "" || used[hh] || !before[hh] {
			continue
		}
		used[hh] = true
		c := classes[len(rows)]
		person := r["person_id"]
		if c.person != "" {
			person = fmt.Sprintf(c.person, person)
		}
		rest := c.rest
		if strings.Contains(rest, "%s") {
			rest = fmt.Sprintf(rest, r["person_id"])
		}
		rows = append(rows, person+","+rest)
		picked[c.name] = hh
	}
	if len(rows) != len(classes) {
		t.Fatalf("found %d scored households; want %d", len(rows), len(classes))
	}
	// And the rows that name no one.
	rows = append(rows, ",2025-01-01,", "-,2025-01-01,")
	file := "person_id,received_date,withdrawn_date\n" + strings.Join(rows, "\n") + "\n"
	if err := os.WriteFile(filepath.Join(dir, "incoming", "objections", "objections_defects.csv"), []byte(file), 0o644); err != nil {
		t.Fatal(err)
	}

	nextSecond() // a run folder is named by the second it starts in
	set := ingestedSet(t, dir, mem)
	after := scoredHouseholds(t, set, mem, day)
	for _, c := range classes {
		if after[picked[c.name]] {
			t.Errorf("%s: the household is still scored", c.name)
		}
	}
	if n := len(before) - len(after); n < len(classes) {
		t.Errorf("%d households fewer scored; want at least %d", n, len(classes))
	}

	runs, _ := filepath.Glob(filepath.Join(dir, "var", "runs", "*", "manifest.json"))
	var unmatched []pipeline.UnmatchedRow
	for _, m := range runs {
		b, _ := os.ReadFile(m)
		if strings.Contains(string(b), "objections_defects.csv") {
			var man pipeline.Manifest
			if err := json.Unmarshal(b, &man); err != nil {
				t.Fatal(err)
			}
			unmatched = man.Sources["objections"].Unmatched
		}
	}
	want := fmt.Sprintf("[{objections_defects.csv %d missing_required} {objections_defects.csv %d missing_required}]", len(classes)+3, len(classes)+4)
	if got := fmt.Sprint(unmatched); got != want {
		t.Errorf("manifest lists unmatched objections %s; want %s", got, want)
	}
}

// scoredHouseholds builds the household table as of day and returns the
// pseudonyms of the households in it.
func scoredHouseholds(t *testing.T, set interface {
	Build(context.Context, memory.Allocator, time.Time) (*pipeline.FeatureTable, error)
}, mem memory.Allocator, day time.Time) map[string]bool {
	t.Helper()
	tbl, err := set.Build(context.Background(), mem, day)
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	idx := tbl.Record.Schema().FieldIndices(pipeline.ColHousehold)
	if len(idx) != 1 {
		t.Fatalf("feature table has no %s column", pipeline.ColHousehold)
	}
	col := tbl.Record.Column(idx[0]).(*array.String)
	out := make(map[string]bool, col.Len())
	for i := range col.Len() {
		out[col.Value(i)] = true
	}
	return out
}
