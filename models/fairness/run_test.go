package fairness_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"earlyhelp/models/fairness"
)

// TestAuditRun audits a run folder's scored_children.csv with labelled
// backtest rows and this week's unlabelled rows: both audits are written,
// the report is self-contained, names the finding in words and shows no
// identifier.
func TestAuditRun(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(5, 6))
	var b strings.Builder
	b.WriteString("as_of,model,person_id,household_id,score,selected,label,ethnicity5,ethnicity,imd_decile\n")
	groups := []string{"WHITE_BRITISH", "WHITE_BRITISH", "WHITE_BRITISH", "ASIAN_INDIAN", "BLACK_AFRICAN"}
	var ids []string
	for date, label := range map[string]bool{"2026-01-05": true, "2026-07-20": false} {
		for i := 0; i < 3000; i++ {
			eth := groups[i%len(groups)]
			score := rng.Float64()
			sel := score > 0.9
			// The list finds Asian children's outcomes half as often.
			if eth == "ASIAN_INDIAN" {
				sel = score > 0.95
			}
			lab := ""
			if label {
				lab = "0"
				if rng.Float64() < score*0.3 {
					lab = "1"
				}
			}
			pid := fmt.Sprintf("pseudoperson%05d", i)
			ids = append(ids, pid)
			fmt.Fprintf(&b, "%s,logistic,%s,pseudohh%05d,%.4f,%d,%s,,%s,%d\n", date, pid, i/2, score, map[bool]int{true: 1}[sel], lab, eth, 1+i%10)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "evaluation"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "evaluation", "scored_children.csv"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := fairness.DefaultConfig()
	cfg.Bootstrap = 50
	cfg.CapacityFractions = []float64{0.1}
	a, err := fairness.AuditRun(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if a.Backtest == nil || a.ThisWeek == nil || a.Backtest.Labelled != 3000 {
		t.Fatalf("backtest %v, this week %v", a.Backtest != nil, a.ThisWeek != nil)
	}
	for _, f := range []string{"audit.json", "disparities.csv", "report.html", "publishable/group_metrics.csv", "this_week/disparities.csv"} {
		if _, err := os.Stat(filepath.Join(dir, "audit", f)); err != nil {
			t.Errorf("missing audit/%s", f)
		}
	}
	html, err := os.ReadFile(filepath.Join(dir, "audit", "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	page := string(html)
	if strings.Contains(page, "<script") || strings.Contains(page, "http://") && !strings.Contains(page, "http://www.w3.org/2000/svg") {
		t.Error("report.html has a script or an external reference")
	}
	for _, id := range ids[:50] {
		if strings.Contains(page, id) {
			t.Fatalf("report.html shows identifier %s", id)
		}
	}
	if !strings.Contains(page, "group Asian of ethnicity5 were found by the list") {
		t.Errorf("report does not say the Asian group's recall in words:\n%s", a.Headline())
	}
	for _, want := range []string{"Further down the ranking", "recall by ethnicity5", "Reliability by ethnicity5", "Recall by list size, by ethnicity5", "<polyline"} {
		if !strings.Contains(page, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	ratios, outside := a.Gauges()
	if len(ratios) == 0 || outside[[2]string{"ethnicity5", "tpr"}] == 0 {
		t.Errorf("gauges: %d ratios, outside %v", len(ratios), outside)
	}
}
