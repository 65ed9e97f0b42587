package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestRealisticDefectsQuarantined generates a council with the realistic
// defect profile and ingests it: the rows the connectors quarantine must be
// exactly the rows truth/defects.csv says a correct loader must refuse, file
// by file and row by row — none missed, no valid row refused.
func TestRealisticDefectsQuarantined(t *testing.T) {
	dir := t.TempDir()
	if code, _, stderr := runCLI(t, "synth", "--out", dir, "--children", "1500", "--seed", "5", "--defects", "realistic"); code != 0 {
		t.Fatalf("synth exit %d: %s", code, stderr)
	}
	// The defects are far above the production tolerance on purpose.
	cfg := filepath.Join(dir, "earlyhelp.yaml")
	b, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, []byte(strings.Replace(string(b), "max_quarantine_ratio: 0.05", "max_quarantine_ratio: 0.5", 1)), 0o644)
	if code, _, stderr := runCLI(t, "ingest", "--config", cfg, "--log-level", "error"); code != 0 {
		t.Fatalf("ingest exit %d: %s", code, stderr)
	}

	want := map[string]string{} // "source/file:row" → defect type
	for _, r := range readCSV(t, filepath.Join(dir, "truth", "defects.csv")) {
		if r["still_valid"] != "false" {
			continue
		}
		parts := strings.Split(r["file"], "/") // incoming/<source>/<file>
		key := parts[len(parts)-2] + "/" + parts[len(parts)-1] + ":" + r["row_number"]
		want[key] = r["defect_type"]
	}
	got := map[string]string{}
	runs, _ := filepath.Glob(filepath.Join(dir, "var", "runs", "*", "quarantine", "*.csv"))
	// Optional cells nulled with their rows kept are listed apart: each
	// must be a defect truth planted on a row that stays valid.
	valid := map[string]bool{}
	for _, r := range readCSV(t, filepath.Join(dir, "truth", "defects.csv")) {
		parts := strings.Split(r["file"], "/")
		valid[parts[len(parts)-2]+"/"+parts[len(parts)-1]+":"+r["row_number"]+":"+r["column"]] = r["still_valid"] == "true"
	}
	nulled := 0
	for _, q := range runs {
		source, ok := strings.CutSuffix(filepath.Base(q), "_cells.csv")
		if !ok {
			continue
		}
		for _, r := range readCSV(t, q) {
			if k := source + "/" + r["file"] + ":" + r["row_number"] + ":" + r["column"]; !valid[k] {
				t.Errorf("cell %s nulled (%s) but truth planted no defect on a valid row there", k, r["reason"])
			}
			nulled++
		}
	}
	t.Logf("%d optional cells nulled", nulled)
	for _, q := range runs {
		if strings.HasSuffix(q, "_cells.csv") {
			continue
		}
		source := strings.TrimSuffix(filepath.Base(q), ".csv")
		for _, r := range readCSV(t, q) {
			got[source+"/"+r["file"]+":"+r["row_number"]] = r["reason"]
		}
	}
	if len(want) < 1000 {
		t.Fatalf("truth lists only %d invalid rows; the profile should plant more", len(want))
	}
	var missed, extra, wrong []string
	for k, defect := range want {
		reason, ok := got[k]
		switch {
		case !ok:
			missed = append(missed, k+" "+defect)
		case reason != defect:
			wrong = append(wrong, k+" "+defect+" quarantined as "+reason)
		}
	}
	for k, reason := range got {
		if _, ok := want[k]; !ok {
			extra = append(extra, k+" "+reason)
		}
	}
	for name, list := range map[string][]string{"not quarantined": missed, "valid but quarantined": extra, "wrong reason": wrong} {
		sort.Strings(list)
		if len(list) > 0 {
			t.Errorf("%d rows %s, e.g. %v", len(list), name, list[:min(5, len(list))])
		}
	}
	t.Logf("%d invalid rows planted, %d quarantined", len(want), len(got))
}

func readCSV(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []map[string]string
	for _, row := range rows[1:] {
		m := map[string]string{}
		for i, h := range rows[0] {
			if i < len(row) {
				m[h] = row[i]
			}
		}
		out = append(out, m)
	}
	return out
}
