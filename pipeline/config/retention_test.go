package config

import (
	"testing"
)

// TestRetention: the retention: block's defaults, explicit values and
// refusals. Inline, since the fixtures folder is shared with other keys'
// work.
func TestRetention(t *testing.T) {
	const base = "council: X\ndata_dir: ./var\nsources:\n  persons: {kind: csvdir, path: ./p}\n  csc_referrals: {kind: csvdir, path: ./c}\n  early_help_episodes: {kind: csvdir, path: ./e}\n  objections: {kind: csvdir, path: ./o}\n"
	tests := []struct {
		name, yaml string
		want       Retention
		wantErr    string
	}{
		{"absent: every default", "", Retention{
			RunsWeeks: DefaultRunsWeeks, QuarantineWeeks: DefaultQuarantineWeeks, EvaluationWeeks: DefaultEvaluationWeeks,
			AccessLogWeeks: DefaultAccessLogWeeks, Schedule: DefaultPruneSchedule}, ""},
		{"set", "retention:\n  runs_weeks: 8\n  quarantine_weeks: 4\n  evaluation_weeks: 2\n  access_log_weeks: 156\n  schedule: \"@daily\"\n",
			Retention{RunsWeeks: 8, QuarantineWeeks: 4, EvaluationWeeks: 2, AccessLogWeeks: 156, Schedule: "@daily"}, ""},
		{"partly set", "retention:\n  runs_weeks: 52\n", Retention{
			RunsWeeks: 52, QuarantineWeeks: DefaultQuarantineWeeks, EvaluationWeeks: DefaultEvaluationWeeks,
			AccessLogWeeks: DefaultAccessLogWeeks, Schedule: DefaultPruneSchedule}, ""},
		{"negative runs", "retention:\n  runs_weeks: -1\n", Retention{}, "c.yaml:9: retention.runs_weeks: must be between 1 and 520 weeks, got -1"},
		{"negative quarantine", "retention:\n  quarantine_weeks: -4\n", Retention{}, "c.yaml:9: retention.quarantine_weeks: must be between 1 and 520 weeks, got -4"},
		{"evaluation too long", "retention:\n  evaluation_weeks: 9999\n", Retention{}, "c.yaml:9: retention.evaluation_weeks: must be between 1 and 520 weeks, got 9999"},
		{"access log too long", "retention:\n  access_log_weeks: 521\n", Retention{}, "c.yaml:9: retention.access_log_weeks: must be between 1 and 520 weeks, got 521"},
		{"unknown key", "retention:\n  runs_days: 7\n", Retention{}, "c.yaml:9: runs_days: unknown key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse("c.yaml", []byte(base+tc.yaml))
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("got error %v; want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Retention; got != tc.want {
				t.Errorf("got retention %+v; want %+v", got, tc.want)
			}
		})
	}
}
