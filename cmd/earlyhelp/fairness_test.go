package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// TestBiasShowsInAudit is issue 6's acceptance test: a council whose Asian
// children's lateness is recorded half as often, and the same council (same
// seed) without that recording bias. The need and the outcomes are the
// same; only what schools record differs. The audit of the biased run must
// show the Asian group's recall ratio lower than the unbiased run's, and
// the report must carry the finding in words.
func TestBiasShowsInAudit(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and runs two councils")
	}
	ratio := map[string]float64{}
	var biasedReport string
	for _, tc := range []struct {
		name string
		bias []string
	}{
		{"unbiased", nil},
		{"biased", []string{"--bias", "lateness_underrecorded:ethnicity5=Asian:0.5"}},
	} {
		dir := filepath.Join(t.TempDir(), tc.name)
		args := append([]string{"synth", "--out", dir, "--children", "12000", "--seed", "4", "--profile", "inner_urban", "--defects", "none"}, tc.bias...)
		if code, _, stderr := runCLI(t, args...); code != 0 {
			t.Fatalf("synth %s: %s", tc.name, stderr)
		}
		if code, _, stderr := runCLI(t, "run", "--config", filepath.Join(dir, "earlyhelp.yaml"), "--as-of", "2026-07-20", "--log-level", "warn"); code != 0 {
			t.Fatalf("run %s: %s", tc.name, stderr)
		}
		runs, _ := filepath.Glob(filepath.Join(dir, "var", "runs", "*"))
		sort.Strings(runs)
		run := runs[len(runs)-1]
		ratio[tc.name] = asianRecallRatio(t, filepath.Join(run, "audit", "disparities.csv"))
		if tc.bias != nil {
			b, err := os.ReadFile(filepath.Join(run, "audit", "report.html"))
			if err != nil {
				t.Fatal(err)
			}
			biasedReport = string(b)
		}
	}
	t.Logf("Asian recall ratio (top 10%% of children): unbiased %.3f, biased %.3f", ratio["unbiased"], ratio["biased"])
	if !(ratio["biased"] < ratio["unbiased"]) {
		t.Errorf("Asian recall ratio %.3f with the bias, %.3f without: the audit does not show the recording bias", ratio["biased"], ratio["unbiased"])
	}
	if !strings.Contains(biasedReport, "group Asian of ethnicity5 were found by the list") {
		t.Error("the biased run's report does not say the Asian group's recall in words")
	}
}

// asianRecallRatio reads the Asian group's recall (tpr) ratio to the
// reference group for the top-10%-of-children what-if.
func asianRecallRatio(t *testing.T, path string) float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, r := range rows[1:] {
		if r[col["decision_id"]] == "rank_pct=0.1" && r[col["attribute"]] == "ethnicity5" && r[col["group"]] == "Asian" && r[col["metric"]] == "tpr" {
			v, err := strconv.ParseFloat(r[col["ratio"]], 64)
			if err != nil {
				t.Fatalf("Asian recall ratio %q: %v", r[col["ratio"]], err)
			}
			return v
		}
	}
	t.Fatalf("%s has no rank_pct=0.1 recall row for the Asian group", path)
	return 0
}
