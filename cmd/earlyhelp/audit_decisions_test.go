package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"earlyhelp/pipeline"
	"earlyhelp/pipeline/review/decisions"
)

// TestDecisionsAuditShowsAPlantedDisparity seeds the decisions store of a
// finished run with navigators turning down Asian households as "not
// appropriate" twice as often as others, and finds it as a finding in
// audit/decisions.csv and in the report.
func TestDecisionsAuditShowsAPlantedDisparity(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and runs a council")
	}
	dir := filepath.Join(t.TempDir(), "demo")
	if code, stdout, stderr := runCLI(t, "demo", "--children", "3000", "--dir", dir, "--log-format", "json"); code != 0 {
		t.Fatalf("demo: %s\n%s", stdout, stderr)
	}
	runs, _ := filepath.Glob(filepath.Join(dir, "var", "runs", "*"))
	run := runs[len(runs)-1]
	var m pipeline.Manifest
	readJSON(t, filepath.Join(run, "manifest.json"), &m)
	// Every household scored this week counts as listed, so each group
	// has enough households to judge.
	group := map[string]string{}
	for _, r := range readCSVRows(t, filepath.Join(run, "evaluation", "scored_children.csv")) {
		if r["as_of"] == m.AsOf && group[r["household_id"]] == "" {
			group[r["household_id"]] = r["ethnicity5"]
		}
	}
	st := pipeline.ListState{AsOf: m.AsOf, Listed: map[string]pipeline.ListedRecord{}}
	for hh := range group {
		st.Listed[hh] = pipeline.ListedRecord{FirstListed: m.AsOf, LastListed: m.AsOf, WeeksOnList: 1}
	}
	b, _ := json.Marshal(st)
	if err := os.WriteFile(filepath.Join(run, "list", "list_state.json"), b, 0o640); err != nil {
		t.Fatal(err)
	}
	ds, err := decisions.Open(filepath.Join(dir, "var", "review", "decisions.db"))
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for hh, g := range group {
		n[g]++
		d := decisions.Decision{Household: hh, Kind: "offer_made", Navigator: "nav", Locality: "North", At: time.Now()}
		// One in five turned down; two in five of Asian households.
		if k := n[g] % 5; k == 0 || (g == "Asian" && k == 1) {
			d.Kind, d.ReasonCategory = "not_appropriate", "no_concern"
		}
		if _, err := ds.Record(context.Background(), d); err != nil {
			t.Fatal(err)
		}
	}
	ds.Close()
	if code, stdout, stderr := runCLI(t, "audit", "--run", run); code != 0 {
		t.Fatalf("audit: %s\n%s", stdout, stderr)
	}
	found := false
	for _, r := range readCSVRows(t, filepath.Join(run, "audit", "decisions.csv")) {
		if r["attribute"] == "ethnicity5" && r["group"] == "Asian" && r["metric"] == "not_appropriate" {
			found = r["finding"] == "finding"
			t.Logf("Asian not_appropriate: %s of %s households, ratio %s (%s–%s) to %s: %s",
				r["count"], r["households"], r["ratio"], r["ratio_lo"], r["ratio_hi"], r["ref_group"], r["finding"])
		}
	}
	if !found {
		t.Error("decisions.csv does not show the planted disparity as a finding")
	}
	report, _ := os.ReadFile(filepath.Join(run, "audit", "report.html"))
	if !strings.Contains(string(report), "Navigators&#39; decisions") && !strings.Contains(string(report), "Navigators' decisions") ||
		!strings.Contains(string(report), "group Asian of ethnicity5 had a &#34;not appropriate&#34; decision") {
		t.Error("the report does not show the decisions finding in words")
	}
}
