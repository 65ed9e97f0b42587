package governance

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"earlyhelp/pipeline"
)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func ptr[T any](v T) *T { return &v }

// backtest is a backtest of the chosen model "m" with one date per figure,
// four weeks apart from start.
func backtest(start string, prec []float64) *pipeline.Backtest {
	bt := &pipeline.Backtest{Chosen: "m", StepWeeks: 4}
	for i, p := range prec {
		bt.Folds = append(bt.Folds, pipeline.FoldResult{
			AsOf:   day(start).AddDate(0, 0, 28*i).Format(time.DateOnly),
			Models: map[string]pipeline.EvalMetrics{"m": {K: 10, PrecisionAtK: p, RecallAtK: p / 2}, "random": {PrecisionAtK: 0.99}},
		})
	}
	return bt
}

func policy() *Policy {
	return &Policy{BelowFloorWeeks: 8, FindingWeeks: 12, ReviewDatePassed: true}
}

// runFolder makes data_dir/runs/<id>/model and returns the run's folder.
func runFolder(t *testing.T, runs, id string) string {
	t.Helper()
	dir := filepath.Join(runs, id)
	if err := os.MkdirAll(filepath.Join(dir, "model"), 0o750); err != nil {
		t.Fatal(err)
	}
	return dir
}

func check(t *testing.T, c *Checker, runs, id string, in pipeline.GovernanceInput) (*Result, *pipeline.ShouldRun) {
	t.Helper()
	in.RunID, in.RunDir = id, runFolder(t, runs, id)
	if in.Today.IsZero() {
		in.Today = in.AsOf
	}
	sr, err := c.Check(context.Background(), in)
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	res, err := Read(in.RunDir)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if res.Verdict != sr.Verdict {
		t.Errorf("governance.json verdict %q; Check returned %q", res.Verdict, sr.Verdict)
	}
	return res, sr
}

func criterion(t *testing.T, sr *pipeline.ShouldRun, name string) Criterion {
	t.Helper()
	for _, c := range sr.Criteria {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no criterion %s in %+v", name, sr.Criteria)
	return Criterion{}
}

func TestGovernanceFloorWeeks(t *testing.T) {
	tests := []struct {
		name      string
		floor     *float64
		prec      []float64
		checked   bool
		met       bool
		wantValue string
	}{
		{"no floor set", nil, []float64{0.1, 0.1}, false, false, ""},
		{"no backtest dates", ptr(0.5), nil, true, false, "no backtest figures"},
		{"latest date above the floor", ptr(0.5), []float64{0.1, 0.1, 0.6}, true, false, "0 weeks below the floor"},
		{"only the latest date below", ptr(0.5), []float64{0.6, 0.6, 0.4}, true, false, "4 weeks below the floor"},
		{"two dates below: eight weeks", ptr(0.5), []float64{0.6, 0.4, 0.4}, true, true, "8 weeks below the floor"},
		{"every date below", ptr(0.5), []float64{0.1, 0.2, 0.3, 0.4, 0.2, 0.1}, true, true, "24 weeks below the floor"},
		{"a date above breaks the line", ptr(0.5), []float64{0.1, 0.1, 0.1, 0.7, 0.4}, true, false, "4 weeks below the floor"},
		{"at the floor is not below", ptr(0.5), []float64{0.5, 0.5, 0.5}, true, false, "0 weeks below the floor"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			runs := t.TempDir()
			p := policy()
			p.PrecisionFloor = tc.floor
			c, err := New(p, runs, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			in := pipeline.GovernanceInput{AsOf: day("2026-06-01")}
			if tc.prec != nil {
				in.Backtest = backtest("2025-06-02", tc.prec)
			}
			_, sr := check(t, c, runs, "20260601T060000Z", in)
			got := criterion(t, sr, PrecisionBelowFloor)
			if got.Checked != tc.checked || got.Met != tc.met || got.Value != tc.wantValue {
				t.Errorf("got checked %v, met %v, value %q; want %v, %v, %q (evidence: %s)",
					got.Checked, got.Met, got.Value, tc.checked, tc.met, tc.wantValue, got.Evidence)
			}
			wantVerdict := pipeline.VerdictContinue
			switch {
			case tc.met:
				wantVerdict = pipeline.VerdictSwitchOff
			case !tc.checked:
				wantVerdict = pipeline.VerdictNoTargets
			}
			if sr.Verdict != wantVerdict {
				t.Errorf("verdict %q; want %q", sr.Verdict, wantVerdict)
			}
		})
	}
}

// Earlier runs' figures carry forward: a weekly run that reuses the model
// (no backtest of its own, its training run pruned) still sees them, and
// a later run's figure for a date replaces an earlier one's.
func TestGovernanceObservationsCarried(t *testing.T) {
	runs := t.TempDir()
	p := policy()
	p.PrecisionFloor = ptr(0.5)
	c, err := New(p, runs, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := check(t, c, runs, "20260601T060000Z", pipeline.GovernanceInput{AsOf: day("2026-06-01"), Backtest: backtest("2025-06-02", []float64{0.6, 0.6, 0.4})})
	if len(first.Observations) != 3 {
		t.Fatalf("first run recorded %d observations; want 3", len(first.Observations))
	}
	// A retrain four weeks on: its backtest re-tests the last two dates
	// (now below) and adds one.
	check(t, c, runs, "20260629T060000Z", pipeline.GovernanceInput{AsOf: day("2026-06-29"), Backtest: backtest("2025-06-30", []float64{0.3, 0.3, 0.3})})
	res, sr := check(t, c, runs, "20260706T060000Z", pipeline.GovernanceInput{AsOf: day("2026-07-06"), ReusedFrom: "20260629T060000Z-pruned"})
	if len(res.Observations) != 4 {
		t.Fatalf("reusing run has %d observations; want the 4 dates of both backtests: %+v", len(res.Observations), res.Observations)
	}
	got := criterion(t, sr, PrecisionBelowFloor)
	if !got.Met || got.Value != "12 weeks below the floor" {
		t.Errorf("got met %v, value %q; want met over 12 weeks (evidence: %s)", got.Met, got.Value, got.Evidence)
	}
}

// A finding stands from the first run of the unbroken line of runs that
// had it; a run without it starts the count again.
func TestGovernanceFindingsStanding(t *testing.T) {
	tests := []struct {
		name      string
		weekly    [][]string // findings per earlier weekly run, oldest first
		now       []string
		max       int
		met       bool
		wantWeeks map[string]int
	}{
		{"thirteen weeks unbroken", repeat([]string{"a"}, 13), []string{"a"}, 0, true, map[string]int{"a": 13}},
		{"eleven weeks is not yet twelve", repeat([]string{"a"}, 11), []string{"a"}, 0, false, map[string]int{"a": 11}},
		{"a week without breaks the line", append(repeat([]string{"a"}, 12), []string{}), []string{"a"}, 0, false, map[string]int{"a": 0}},
		{"allowed one standing finding", repeat([]string{"a", "b"}, 12), []string{"a", "b"}, 1, true, map[string]int{"a": 12, "b": 12}},
		{"two allowed", repeat([]string{"a", "b"}, 12), []string{"a", "b"}, 2, false, map[string]int{"a": 12, "b": 12}},
		{"a new finding beside an old one", repeat([]string{"a"}, 12), []string{"a", "c"}, 1, false, map[string]int{"a": 12, "c": 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			runs := t.TempDir()
			current := map[string][]string{}
			findings := func(runDir string) ([]Finding, error) {
				var out []Finding
				for _, k := range current[filepath.Base(runDir)] {
					out = append(out, Finding{Key: k, Text: "children in group " + strings.ToUpper(k) + " were found less often"})
				}
				return out, nil
			}
			p := policy()
			p.MaxFindings = ptr(tc.max)
			c, err := New(p, runs, findings, nil)
			if err != nil {
				t.Fatal(err)
			}
			asOf := day("2026-01-05")
			for _, fs := range tc.weekly {
				id := asOf.Format("20060102") + "T060000Z"
				current[id] = fs
				check(t, c, runs, id, pipeline.GovernanceInput{AsOf: asOf})
				asOf = asOf.AddDate(0, 0, 7)
			}
			id := asOf.Format("20060102") + "T060000Z"
			current[id] = tc.now
			res, sr := check(t, c, runs, id, pipeline.GovernanceInput{AsOf: asOf})
			got := map[string]int{}
			for _, f := range res.Findings {
				got[f.Key] = f.Weeks
			}
			for k, w := range tc.wantWeeks {
				if got[k] != w {
					t.Errorf("finding %s stood %d weeks; want %d", k, got[k], w)
				}
			}
			if len(got) != len(tc.wantWeeks) {
				t.Errorf("findings %v; want %v", got, tc.wantWeeks)
			}
			if cr := criterion(t, sr, FairnessFindingUnresolved); cr.Met != tc.met {
				t.Errorf("met %v; want %v (value %q, evidence %s)", cr.Met, tc.met, cr.Value, cr.Evidence)
			}
		})
	}
}

func repeat(fs []string, n int) [][]string {
	out := make([][]string, n)
	for i := range out {
		out[i] = fs
	}
	return out
}

func TestGovernanceOfferAcceptance(t *testing.T) {
	today := day("2026-06-01")
	decisions := func(accepted, declined, pending, later int) map[string]pipeline.Decision {
		out := map[string]pipeline.Decision{}
		add := func(kind string, n int, at time.Time) {
			for i := range n {
				out[kind+string(rune('a'+len(out)))+string(rune('0'+i%10))] = pipeline.Decision{Decision: kind, At: at}
			}
		}
		add("offer_accepted", accepted, today.Add(-time.Hour))
		add("offer_declined", declined, today.Add(-48*time.Hour))
		add("offer_made", pending, today.Add(-time.Hour))
		add("offer_declined", later, today.AddDate(0, 0, 3)) // after the check's day: not counted
		add("not_appropriate", 5, today.Add(-time.Hour))
		return out
	}
	tests := []struct {
		name      string
		ds        map[string]pipeline.Decision
		min       *float64
		met       bool
		wantValue string
	}{
		{"not set", decisions(1, 20, 0, 0), nil, false, ""},
		{"too few answered", decisions(2, 7, 4, 0), ptr(0.5), false, "too few offers answered"},
		{"below the target", decisions(3, 7, 4, 0), ptr(0.4), true, "0.300"},
		{"at the target", decisions(4, 6, 0, 0), ptr(0.4), false, "0.400"},
		{"later decisions left out", decisions(4, 6, 0, 10), ptr(0.4), false, "0.400"},
		{"no decisions at all", nil, ptr(0.4), false, "too few offers answered"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			runs := t.TempDir()
			p := policy()
			p.MinAcceptance = tc.min
			c, err := New(p, runs, nil, func(context.Context) (map[string]pipeline.Decision, error) { return tc.ds, nil })
			if err != nil {
				t.Fatal(err)
			}
			_, sr := check(t, c, runs, "20260601T060000Z", pipeline.GovernanceInput{AsOf: today, Today: today})
			got := criterion(t, sr, OfferAcceptanceBelowTarget)
			if got.Checked != (tc.min != nil) || got.Met != tc.met || got.Value != tc.wantValue {
				t.Errorf("got checked %v, met %v, value %q; want met %v, value %q (evidence: %s)",
					got.Checked, got.Met, got.Value, tc.met, tc.wantValue, got.Evidence)
			}
		})
	}
}

func TestGovernanceReviewDate(t *testing.T) {
	tests := []struct {
		name        string
		review      string
		passedStops bool
		today       string
		checked     bool
		met, due    bool
	}{
		{"no review date", "", true, "2026-06-01", false, false, true},
		{"before the date", "2026-09-01", true, "2026-06-01", true, false, false},
		{"on the date: due, not passed", "2026-09-01", true, "2026-09-01", true, false, true},
		{"after the date", "2026-09-01", true, "2026-09-02", true, true, true},
		{"after, but the council does not switch off for it", "2026-09-01", false, "2026-12-01", false, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			runs := t.TempDir()
			p := policy()
			p.ReviewDatePassed = tc.passedStops
			if tc.review != "" {
				p.ReviewDate = day(tc.review)
			}
			c, err := New(p, runs, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			// The clock, not the as-of date, says what day it is.
			_, sr := check(t, c, runs, "20260601T060000Z", pipeline.GovernanceInput{AsOf: day("2026-05-25"), Today: day(tc.today).Add(9 * time.Hour)})
			got := criterion(t, sr, ReviewDatePassed)
			if got.Checked != tc.checked || got.Met != tc.met || sr.ReviewDue != tc.due {
				t.Errorf("got checked %v, met %v, due %v; want %v, %v, %v (evidence: %s)",
					got.Checked, got.Met, sr.ReviewDue, tc.checked, tc.met, tc.due, got.Evidence)
			}
		})
	}
}

// Without a policy the check still records the figures the next run needs,
// and says that no targets were set; a damaged earlier file is named, not
// fatal.
func TestGovernanceNoTargetsAndDamagedEarlierRun(t *testing.T) {
	runs := t.TempDir()
	c, err := New(nil, runs, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	bad := runFolder(t, runs, "20260525T060000Z")
	if err := os.WriteFile(filepath.Join(bad, pipeline.GovernanceFile), []byte("{not json"), 0o640); err != nil {
		t.Fatal(err)
	}
	res, sr := check(t, c, runs, "20260601T060000Z", pipeline.GovernanceInput{AsOf: day("2026-06-01"), Backtest: backtest("2025-06-02", []float64{0.1, 0.1})})
	if sr.Verdict != pipeline.VerdictNoTargets || !sr.ReviewDue {
		t.Errorf("verdict %q, review due %v; want %q and due", sr.Verdict, sr.ReviewDue, pipeline.VerdictNoTargets)
	}
	for _, cr := range sr.Criteria {
		if cr.Checked || cr.Met {
			t.Errorf("criterion %s checked %v met %v without a policy", cr.Name, cr.Checked, cr.Met)
		}
	}
	if len(res.Observations) != 2 {
		t.Errorf("recorded %d observations; want 2", len(res.Observations))
	}
	if strings.Join(res.UnreadableRuns, ",") != "20260525T060000Z" {
		t.Errorf("unreadable runs %v; want the damaged one", res.UnreadableRuns)
	}
	// The file's shape is what the transparency record reads.
	b, err := os.ReadFile(filepath.Join(runs, "20260601T060000Z", pipeline.GovernanceFile))
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"verdict", "criteria", "review_due", "observations", "findings", "offers"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("governance.json has no %q", k)
		}
	}
}

func TestGovernanceNewRejects(t *testing.T) {
	tests := []struct {
		name string
		p    *Policy
		runs string
	}{
		{"no runs folder", nil, ""},
		{"zero weeks", &Policy{BelowFloorWeeks: 0, FindingWeeks: 12}, "runs"},
	}
	for _, tc := range tests {
		if _, err := New(tc.p, tc.runs, nil, nil); err == nil {
			t.Errorf("%s: New succeeded; want an error", tc.name)
		}
	}
}

// A run reusing a model reads the training run's backtest.json; a damaged
// one is named, and does not stop the check.
func TestGovernanceReusedModelsBacktest(t *testing.T) {
	tests := []struct {
		name       string
		file       string
		wantObs    int
		unreadable bool
	}{
		{"training run's backtest read", "", 3, false},
		{"training run's backtest damaged", "{", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			runs := t.TempDir()
			trained := runFolder(t, runs, "20260601T060000Z")
			b, err := json.Marshal(backtest("2025-06-02", []float64{0.2, 0.2, 0.2}))
			if err != nil {
				t.Fatal(err)
			}
			if tc.file != "" {
				b = []byte(tc.file)
			}
			if err := os.MkdirAll(filepath.Join(trained, "backtest"), 0o750); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(trained, "backtest", "backtest.json"), b, 0o640); err != nil {
				t.Fatal(err)
			}
			p := policy()
			p.PrecisionFloor = ptr(0.5)
			c, err := New(p, runs, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			res, sr := check(t, c, runs, "20260608T060000Z", pipeline.GovernanceInput{AsOf: day("2026-06-08"), ReusedFrom: "20260601T060000Z"})
			if len(res.Observations) != tc.wantObs {
				t.Errorf("%d observations; want %d", len(res.Observations), tc.wantObs)
			}
			if got := len(res.UnreadableRuns) > 0; got != tc.unreadable {
				t.Errorf("unreadable runs %v; want some: %v", res.UnreadableRuns, tc.unreadable)
			}
			got := criterion(t, sr, PrecisionBelowFloor)
			if got.Met != (tc.wantObs == 3) {
				t.Errorf("met %v with %d observations (evidence: %s)", got.Met, tc.wantObs, got.Evidence)
			}
			if named := strings.Contains(got.Evidence, "20260601T060000Z could not be read"); named != tc.unreadable {
				t.Errorf("evidence %q; want the unreadable run named: %v", got.Evidence, tc.unreadable)
			}
		})
	}
}
