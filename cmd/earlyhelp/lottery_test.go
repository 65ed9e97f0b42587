package main

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"

	"earlyhelp/pipeline"
	"earlyhelp/pipeline/review/decisions"
	"earlyhelp/pipeline/rundir"
)

// TestEvaluationLotteryRun: a run with list.evaluation lists exactly the
// capacity, offers m of the 2m margin households, lists the offered ones
// and not the others, and records the same draw in the run folder, the
// manifest and the decisions database. A run a horizon later reports the
// first draw's outcomes by arm in audit/evaluation_arms.csv.
func TestEvaluationLotteryRun(t *testing.T) {
	if testing.Short() {
		t.Skip("a full run")
	}
	dir := t.TempDir()
	if code, _, stderr := runCLI(t, "synth", "--out", dir, "--children", "1500", "--seed", "5", "--weeks", "140"); code != 0 {
		t.Fatalf("synth: %s", stderr)
	}
	cfg := filepath.Join(dir, "earlyhelp.yaml")
	const capacity, margin = 60, 6
	f, err := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	// The synth config's list: block is last; the evaluation goes in it.
	if _, err := f.WriteString("  evaluation: {margin: " + strconv.Itoa(margin) + ", seed: 11}\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	// The first draw is a horizon (26 weeks) before the data's end, so
	// the second run knows its outcomes; 140 weeks of history give it the
	// two years a run's backtest needs.
	const firstAsOf = "2026-01-12"
	if code, _, stderr := runCLI(t, "run", "--config", cfg, "--as-of", firstAsOf, "--log-level", "warn"); code != 0 {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	runs, _ := filepath.Glob(filepath.Join(dir, "var", "runs", "*"))
	sort.Strings(runs)
	run := runs[len(runs)-1]
	var man pipeline.Manifest
	b, err := os.ReadFile(filepath.Join(run, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &man); err != nil {
		t.Fatal(err)
	}
	if man.List == nil || man.List.Households != capacity {
		t.Fatalf("list %+v; want exactly the capacity %d", man.List, capacity)
	}
	ev := man.List.Evaluation
	if ev == nil || ev.Margin != margin || ev.Seed != 11 || ev.Offered != margin || ev.NotOffered != margin {
		t.Fatalf("manifest evaluation %+v; want margin %d, seed 11, %d per arm", ev, margin, margin)
	}
	rows := readCSVRows(t, rundir.Open(run).AllocationCSV())
	if len(rows) != 2*margin {
		t.Fatalf("%d allocation rows; want %d", len(rows), 2*margin)
	}
	b, err = os.ReadFile(rundir.Open(run).FamiliesJSON())
	if err != nil {
		t.Fatal(err)
	}
	var fams []pipeline.ListFamily
	if err := json.Unmarshal(b, &fams); err != nil {
		t.Fatal(err)
	}
	onList := map[string]int{}
	maxAlways := 0
	for _, f := range fams {
		onList[f.Pseudonym] = f.Rank
	}
	inDraw := map[string]string{}
	for _, r := range rows {
		inDraw[r["household_id"]] = r["arm"]
		_, listed := onList[r["household_id"]]
		if listed != (r["arm"] == pipeline.ArmOffered) {
			t.Errorf("household at rank %s drawn %s but listed=%v", r["rank"], r["arm"], listed)
		}
		if r["run_id"] != man.RunID || r["as_of"] != firstAsOf {
			t.Errorf("allocation row %v names another run", r)
		}
	}
	// Households listed outside the draw all rank above every household
	// in it: the draw never reaches above the margin.
	minDraw := 1 << 30
	for _, r := range rows {
		n, _ := strconv.Atoi(r["rank"])
		minDraw = min(minDraw, n)
	}
	for h, rank := range onList {
		if _, ok := inDraw[h]; !ok {
			maxAlways = max(maxAlways, rank)
		}
	}
	if maxAlways >= minDraw {
		t.Errorf("a household ranked %d was listed outside the draw, below the draw's best rank %d", maxAlways, minDraw)
	}
	st, err := decisions.Open(reviewPath(filepath.Join(dir, "var"), decisionsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	db, err := st.Allocations(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(db) != len(rows) {
		t.Fatalf("%d allocations in the database; want the file's %d", len(db), len(rows))
	}
	for _, a := range db {
		if inDraw[a.Household] != a.Arm || a.RunID != man.RunID || a.Seed != 11 {
			t.Errorf("database allocation %+v disagrees with the run's file", a)
		}
	}
	if _, err := os.Stat(rundir.Open(run).Audit().EvaluationArmsCSV()); err != nil {
		t.Errorf("first run: %v", err)
	}
	st.Close()

	nextSecond() // a run folder is named by the second it starts in
	if code, _, stderr := runCLI(t, "run", "--config", cfg, "--as-of", "2026-07-20", "--log-level", "warn"); code != 0 {
		t.Fatalf("second run: exit %d: %s", code, stderr)
	}
	runs, _ = filepath.Glob(filepath.Join(dir, "var", "runs", "*"))
	sort.Strings(runs)
	arms := map[string]map[string]string{}
	for _, r := range readCSVRows(t, rundir.Open(runs[len(runs)-1]).Audit().EvaluationArmsCSV()) {
		arms[r["measure"]] = r
	}
	num := func(measure, col string) float64 {
		v, err := strconv.ParseFloat(arms[measure][col], 64)
		if err != nil {
			t.Fatalf("%s %s: %q", measure, col, arms[measure][col])
		}
		return v
	}
	off, not := num("offered", "households"), num("not_offered", "households")
	unmatched := num("unmatched", "households")
	if off+not+unmatched != 2*margin {
		t.Errorf("arms of %v and %v with %v unmatched; want the first draw's %d households", off, not, unmatched, 2*margin)
	}
	if off == 0 || not == 0 {
		t.Fatalf("an empty arm: %v", arms)
	}
	// This week's draw awaits its horizon; a household drawn both weeks
	// counts once, in its first week.
	if p := num("pending_horizon", "households"); p < 1 || p > 2*margin {
		t.Errorf("%v pending; want this week's new draws", p)
	}
	for _, arm := range []string{"offered", "not_offered"} {
		rate := num(arm, "outcomes") / num(arm, "households")
		if est := num(arm, "estimate"); math.Abs(est-rate) > 1e-6 || num(arm, "ci_low") > est || num(arm, "ci_high") < est {
			t.Errorf("%s: estimate %v, interval [%v, %v]; want the rate %v within it", arm, est, num(arm, "ci_low"), num(arm, "ci_high"), rate)
		}
	}
	d := "difference_offered_minus_not_offered"
	want := num("offered", "estimate") - num("not_offered", "estimate")
	if est := num(d, "estimate"); math.Abs(est-want) > 2e-6 || num(d, "ci_low") > est || num(d, "ci_high") < est {
		t.Errorf("difference %v in [%v, %v]; want %v within it", est, num(d, "ci_low"), num(d, "ci_high"), want)
	}
	if k := arms[d]["labels_known_to"]; k < firstAsOf {
		t.Errorf("labels known to %s, before the first draw %s", k, firstAsOf)
	}
	t.Logf("first draw's outcomes: offered %s/%s, not offered %s/%s, difference %s [%s, %s]",
		arms["offered"]["outcomes"], arms["offered"]["households"], arms["not_offered"]["outcomes"], arms["not_offered"]["households"],
		arms[d]["estimate"], arms[d]["ci_low"], arms[d]["ci_high"])
}
