package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"earlyhelp/models/evaluate"
	"earlyhelp/pipeline/rundir"
)

// TestEvaluateRunDate: the demo's evaluation holds every household the run
// scored against the truth on the run date, with the features' ceiling
// beside the model. Ranking by the true probability maximises both
// expected figures, so no ranker may beat it: a ranker joined to the wrong
// households' truth, or a figure worked out wrongly, would show here.
func TestEvaluateRunDate(t *testing.T) {
	stdout := smallDemo(t)
	dir, _ := latestRun(t)
	b, err := os.ReadFile(rundir.Open(dir).OracleJSON())
	if err != nil {
		t.Fatal(err)
	}
	var o evaluate.Oracle
	if err := json.Unmarshal(b, &o); err != nil {
		t.Fatal(err)
	}
	rd := o.RunDate
	if rd == nil || rd.Households < 100 || rd.K < 1 {
		t.Fatalf("run date %+v; want every scored household and the list's K", rd)
	}
	scores, err := readRunScores(t.Context(), rundir.Open(dir).ScoresParquet())
	if err != nil {
		t.Fatal(err)
	}
	if rd.Households != len(scores) {
		t.Errorf("run date holds %d households; the run scored %d", rd.Households, len(scores))
	}
	best := rd.Rankers[evaluate.RankerTrueP]
	for _, name := range []string{evaluate.RankerModel, evaluate.RankerCeiling, evaluate.RankerNeed} {
		f, ok := rd.Rankers[name]
		if !ok {
			t.Errorf("no %s on the run date", name)
			continue
		}
		if !(f.AUC > 0.5 && f.AUC <= best.AUC+1e-12) || !(f.PrecisionAtK > 0 && f.PrecisionAtK <= best.PrecisionAtK+1e-12) {
			t.Errorf("%s: AUC %.3f, P@K %.3f; want above chance and at most the true probability's %.3f, %.3f",
				name, f.AUC, f.PrecisionAtK, best.AUC, best.PrecisionAtK)
		}
	}
	if rd.RatioToNeed[evaluate.RankerCeiling] == nil || !strings.Contains(stdout, "features_ceiling as a share of the need:") {
		t.Errorf("the ceiling's ratios to the need are not reported:\n%s", stdout)
	}
}

// TestEvaluateWithoutRunDate: a run that stopped after its backtest has
// no features.parquet; evaluate still holds the backtest and leaves the
// run date out.
func TestEvaluateWithoutRunDate(t *testing.T) {
	smallDemo(t)
	dir, _ := latestRun(t)
	cp := filepath.Join(t.TempDir(), "var", "runs", filepath.Base(dir))
	if err := os.CopyFS(cp, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	// The store, for re-identification, is the demo's: link it beside.
	if err := os.Symlink(filepath.Join(filepath.Dir(filepath.Dir(dir)), "store"), filepath.Join(filepath.Dir(filepath.Dir(cp)), "store")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(rundir.Open(cp).FeaturesParquet()); err != nil {
		t.Fatal(err)
	}
	o, err := evaluateRun(t.Context(), cp, filepath.Join(demoDir, "truth"))
	if err != nil {
		t.Fatal(err)
	}
	if o.RunDate != nil || len(o.Dates) == 0 {
		t.Errorf("run date %+v, %d backtest dates; want none and the backtest's", o.RunDate, len(o.Dates))
	}
}
