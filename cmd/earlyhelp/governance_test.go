package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"earlyhelp/connectors/synthetic"
	"earlyhelp/models/fairness"
	"earlyhelp/pipeline"
	"earlyhelp/pipeline/governance"
)

// TestGovernanceSwitchOff is issue 21's acceptance: with targets set above
// what a small synthetic council achieves, the criteria metric, the alert
// (through promtool, when EARLYHELP_PROMTOOL names it) and the model card
// all say "switch off"; with targets below, they all say "continue". The
// second run reuses the first's model, so its figures come from the
// training run's backtest.
func TestGovernanceSwitchOff(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a council and runs it twice")
	}
	dir := lightCouncil(t, "21")
	cfgPath := filepath.Join(dir, "earlyhelp.yaml")
	base, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	asOf := synthetic.DefaultEnd.AddDate(0, 0, 1).Format("2006-01-02")
	tests := []struct {
		name    string
		targets string
		verdict string
		met     []string // criteria met; every other checked one is 0
	}{
		{
			name:    "targets above what the council achieves",
			targets: "    precision_at_k_floor: 0.99\n    recall_at_k_floor: 0.99\n    max_fairness_findings: 1000\n    min_offer_acceptance_rate: 0.5\n",
			verdict: pipeline.VerdictSwitchOff,
			met:     []string{governance.PrecisionBelowFloor, governance.RecallBelowFloor},
		},
		{
			name:    "targets below",
			targets: "    precision_at_k_floor: 0\n    recall_at_k_floor: 0\n    max_fairness_findings: 1000\n    min_offer_acceptance_rate: 0\n",
			verdict: pipeline.VerdictContinue,
		},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			block := "governance:\n  owner: \"Director of Children's Services\"\n  contact: governance@demo.gov.uk\n" +
				"  review_date: 2099-01-01\n  targets:\n" + tc.targets
			if err := os.WriteFile(cfgPath, append(append([]byte{}, base...), block...), 0o644); err != nil {
				t.Fatal(err)
			}
			if i > 0 {
				nextSecond() // a run folder is named by the second it starts in
			}
			code, stdout, stderr := runCLI(t, "run", "--config", cfgPath, "--as-of", asOf)
			if code != 0 {
				t.Fatalf("run exit %d\n%s\n%s", code, stdout, stderr)
			}
			runDir := strings.TrimSpace(stdout[strings.LastIndex(stdout, ": ")+2:])

			// The file the transparency record reads.
			res, err := governance.Read(runDir)
			if err != nil {
				t.Fatal(err)
			}
			if res.Verdict != tc.verdict {
				t.Errorf("governance.json verdict %q; want %q\n%+v", res.Verdict, tc.verdict, res.Criteria)
			}
			if len(res.Observations) < 2 {
				t.Errorf("governance.json has %d backtest dates; want the backtest's", len(res.Observations))
			}

			// The metric.
			gauges := criterionGauges(t, filepath.Join(runDir, "metrics.prom"))
			want := map[string]float64{}
			for _, c := range res.Criteria {
				if c.Checked {
					want[c.Name] = 0
				}
			}
			for _, name := range tc.met {
				want[name] = 1
			}
			if len(want) != 5 {
				t.Errorf("checked criteria %v; want all five: every target and the review date are set", want)
			}
			if fmt.Sprint(gauges) != fmt.Sprint(want) {
				t.Errorf("earlyhelp_governance_criterion_met = %v; want %v", gauges, want)
			}

			// The model card.
			md, err := os.ReadFile(filepath.Join(runDir, "model", "model_card.md"))
			if err != nil {
				t.Fatal(err)
			}
			if heading := "\n# Verdict: " + tc.verdict + "\n"; !strings.Contains(string(md), heading) {
				t.Errorf("model_card.md lacks %q", heading)
			}

			// The alert.
			t.Run("alert", func(t *testing.T) {
				promtool := os.Getenv("EARLYHELP_PROMTOOL")
				if promtool == "" {
					t.Skip("EARLYHELP_PROMTOOL is unset: set it to promtool (Debian: apt-get install prometheus; EARLYHELP_PROMTOOL=/usr/bin/promtool)")
				}
				alertTest(t, promtool, gauges)
			})
		})
	}
}

// criterionGauges reads earlyhelp_governance_criterion_met from a run's
// metrics.prom, by criterion.
func criterionGauges(t *testing.T, path string) map[string]float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	re := regexp.MustCompile(`^earlyhelp_governance_criterion_met\{criterion="([a-z_]+)"\} (\S+)$`)
	out := map[string]float64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			v, err := strconv.ParseFloat(m[2], 64)
			if err != nil {
				t.Fatal(err)
			}
			out[m[1]] = v
		}
	}
	return out
}

// alertTest runs promtool's rule unit test over the run's own gauges: the
// switch-off alert must fire for exactly the criteria met.
func alertTest(t *testing.T, promtool string, gauges map[string]float64) {
	t.Helper()
	rules, err := filepath.Abs(filepath.Join(deployDir, "prometheus", "rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	summary, description := alertAnnotations(t, rules, "EarlyhelpSwitchOffCriterionMet")
	var series, alerts []string
	names := make([]string, 0, len(gauges))
	for name := range gauges {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		series = append(series, fmt.Sprintf("      - series: 'earlyhelp_governance_criterion_met{criterion=%q}'\n        values: '%gx3'", name, gauges[name]))
		if gauges[name] == 1 {
			alerts = append(alerts, fmt.Sprintf("          - exp_labels: {severity: critical, criterion: %s}\n            exp_annotations:\n              summary: %q\n              description: %q",
				name, strings.ReplaceAll(summary, "{{ $labels.criterion }}", name), description))
		}
	}
	exp := "        exp_alerts: []"
	if len(alerts) > 0 {
		exp = "        exp_alerts:\n" + strings.Join(alerts, "\n")
	}
	test := fmt.Sprintf(`rule_files:
  - %s
evaluation_interval: 1h
tests:
  - interval: 1h
    input_series:
%s
    alert_rule_test:
      - eval_time: 2h
        alertname: EarlyhelpSwitchOffCriterionMet
%s
`, rules, strings.Join(series, "\n"), exp)
	path := filepath.Join(t.TempDir(), "governance_test.yml")
	if err := os.WriteFile(path, []byte(test), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(promtool, "test", "rules", path).CombinedOutput()
	if err != nil {
		t.Errorf("promtool test rules: %v\n%s\n%s", err, out, test)
	}
}

// alertAnnotations reads an alert's summary and description from the rules.
func alertAnnotations(t *testing.T, rules, alert string) (summary, description string) {
	t.Helper()
	b, err := os.ReadFile(rules)
	if err != nil {
		t.Fatal(err)
	}
	var rf struct {
		Groups []struct {
			Rules []struct {
				Alert       string            `yaml:"alert"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(b, &rf); err != nil {
		t.Fatal(err)
	}
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Alert == alert {
				return r.Annotations["summary"], r.Annotations["description"]
			}
		}
	}
	t.Fatalf("%s has no alert %s", rules, alert)
	return "", ""
}

// auditFindings keys a finding by what it compares, so the same finding is
// recognised from run to run while its figures move; comparisons the
// findings rule does not judge, or judges within the band, are not
// findings.
func TestGovernanceAuditFindings(t *testing.T) {
	ratio := func(v float64) *float64 { return &v }
	disp := func(decision, attr, group, metric, class string, r float64) fairness.Disparity {
		return fairness.Disparity{Decision: decision, Attribute: attr, Group: group, Metric: metric, Finding: class,
			Ratio: ratio(r), RefGroup: "White", JudgedLo: ratio(r - 0.1), JudgedHi: ratio(r + 0.1)}
	}
	tests := []struct {
		name string
		ds   []fairness.Disparity
		want []string
	}{
		{"no audit", nil, nil},
		{"one finding among others", []fairness.Disparity{
			disp("selected", "ethnicity5", "Asian", "tpr", fairness.ClassFinding, 0.4),
			disp("selected", "ethnicity5", "Black", "tpr", fairness.ClassWithin, 0.95),
			disp("selected", "ethnicity5", "Mixed", "ppv", fairness.ClassFinding, 0.3), // not a primary metric
			disp("selected", "sex", "F", "tpr", fairness.ClassFinding, 0.3),            // not a headline attribute
		}, []string{"selected/ethnicity5/Asian/tpr"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			run := t.TempDir()
			if tc.ds != nil {
				b, err := json.Marshal(fairness.Result{Rows: 100, Disparities: tc.ds})
				if err != nil {
					t.Fatal(err)
				}
				if err := os.MkdirAll(filepath.Join(run, "audit"), 0o750); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(run, "audit", "audit.json"), b, 0o640); err != nil {
					t.Fatal(err)
				}
			}
			fs, err := auditFindings(run)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range fs {
				got = append(got, f.Key)
				if !strings.Contains(f.Text, "group Asian of ethnicity5") {
					t.Errorf("finding text %q does not say the comparison", f.Text)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("findings %v; want %v", got, tc.want)
			}
		})
	}
}
