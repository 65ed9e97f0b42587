package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// govBase is a minimal valid config the governance cases append to.
const govBase = `council: "Demo Borough"
data_dir: ./var
sources:
  attendance_sessions: {kind: csvdir, path: ./in/a}
  csc_referrals: {kind: csvdir, path: ./in/c}
  early_help_episodes: {kind: csvdir, path: ./in/e}
  objections: {kind: csvdir, path: ./in/o}
`

func loadGovernance(t *testing.T, block string) (*Config, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "earlyhelp.yaml")
	if err := os.WriteFile(path, []byte(govBase+block), 0o644); err != nil {
		t.Fatal(err)
	}
	return Load(path)
}

func TestGovernanceConfigErrors(t *testing.T) {
	tests := []struct {
		name, block, want string
	}{
		{"review date not a date", "governance:\n  review_date: 1/9/2027\n",
			`earlyhelp.yaml:9: governance.review_date: "1/9/2027": want a date as yyyy-mm-dd`},
		{"impossible review date", "governance:\n  review_date: 2027-02-30\n",
			`earlyhelp.yaml:9: governance.review_date: "2027-02-30": want a date as yyyy-mm-dd`},
		{"precision floor above 1", "governance:\n  targets:\n    precision_at_k_floor: 65\n",
			"earlyhelp.yaml:10: governance.targets.precision_at_k_floor: must be between 0 and 1, got 65"},
		{"negative recall floor", "governance:\n  targets:\n    recall_at_k_floor: -0.1\n",
			"earlyhelp.yaml:10: governance.targets.recall_at_k_floor: must be between 0 and 1, got -0.1"},
		{"acceptance rate above 1", "governance:\n  targets:\n    min_offer_acceptance_rate: 1.5\n",
			"earlyhelp.yaml:10: governance.targets.min_offer_acceptance_rate: must be between 0 and 1, got 1.5"},
		{"negative findings", "governance:\n  targets:\n    max_fairness_findings: -1\n",
			"earlyhelp.yaml:10: governance.targets.max_fairness_findings: must not be negative, got -1"},
		{"negative weeks", "governance:\n  switch_off:\n    precision_below_floor_weeks: -2\n",
			"earlyhelp.yaml:10: governance.switch_off.precision_below_floor_weeks: must be between 1 and 104, got -2"},
		{"too many weeks", "governance:\n  switch_off:\n    finding_unresolved_weeks: 500\n",
			"earlyhelp.yaml:10: governance.switch_off.finding_unresolved_weeks: must be between 1 and 104, got 500"},
		{"owner over two lines", "governance:\n  owner: \"A\\nB\"\n",
			"earlyhelp.yaml:9: governance.owner: must be one line of at most 200 characters"},
		{"unknown key", "governance:\n  targets:\n    precision_floor: 0.5\n",
			"earlyhelp.yaml:10: precision_floor: unknown key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadGovernance(t, tc.block)
			if err == nil {
				t.Fatalf("loaded; want error %q", tc.want)
			}
			if got := err.Error(); !strings.HasSuffix(got, "/"+tc.want) {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestGovernanceConfigDefaults(t *testing.T) {
	c, err := loadGovernance(t, "governance:\n  owner: DCS\n  review_date: 2027-09-01\n  targets:\n    precision_at_k_floor: 0.3\n")
	if err != nil {
		t.Fatal(err)
	}
	g := c.Governance
	tests := []struct {
		name      string
		got, want any
	}{
		{"precision_below_floor_weeks", g.SwitchOff.PrecisionBelowFloorWeeks, DefaultPrecisionBelowFloorWeeks},
		{"finding_unresolved_weeks", g.SwitchOff.FindingUnresolvedWeeks, DefaultFindingUnresolvedWeeks},
		{"review_date_passed", *g.SwitchOff.ReviewDatePassed, true},
		{"precision_at_k_floor", *g.Targets.PrecisionAtKFloor, 0.3},
		{"recall_at_k_floor unset", g.Targets.RecallAtKFloor == nil, true},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s = %v; want %v", tc.name, tc.got, tc.want)
		}
	}
	// Without the block nothing is invented: the run says no targets were set.
	c, err = loadGovernance(t, "")
	if err != nil {
		t.Fatal(err)
	}
	if c.Governance != nil {
		t.Errorf("governance = %+v without a block; want nil", c.Governance)
	}
	// An explicit false is kept, not defaulted to true.
	c, err = loadGovernance(t, "governance:\n  switch_off:\n    review_date_passed: false\n")
	if err != nil {
		t.Fatal(err)
	}
	if *c.Governance.SwitchOff.ReviewDatePassed {
		t.Error("review_date_passed: false was defaulted to true")
	}
}

func TestGovernanceFixture(t *testing.T) {
	c, err := Load(filepath.Join(fixtures, "governance.good.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	g := c.Governance
	if g == nil || g.ReviewDate != "2027-09-01" || g.Targets.MaxFairnessFindings == nil || *g.Targets.MaxFairnessFindings != 0 {
		t.Errorf("governance = %+v; want the fixture's review date and targets", g)
	}
}
