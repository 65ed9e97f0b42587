package config

import (
	"strings"
	"testing"
)

// TestEvaluationMargin: the lottery's margin must leave households above it
// always offered, so it is at least 1 and below the capacity.
func TestEvaluationMargin(t *testing.T) {
	base := `council: "Demo Borough"
data_dir: ./var
pseudonym_key_file: ./secrets/pseudonym.key
sources:
  attendance_sessions: {kind: csvdir, path: ./incoming/attendance_sessions}
  csc_referrals: {kind: csvdir, path: ./incoming/csc_referrals}
  early_help_episodes: {kind: csvdir, path: ./incoming/early_help_episodes}
  objections: {kind: csvdir, path: ./incoming/objections}
list:
  capacity: 20
`
	tests := []struct {
		name    string
		extra   string
		wantErr string // "" for a valid config
	}{
		{"absent", "", ""},
		{"margin inside", "  evaluation: {margin: 5, seed: 7}\n", ""},
		{"margin just below capacity", "  evaluation: {margin: 19}\n", ""},
		{"margin zero", "  evaluation: {margin: 0}\n", "list.evaluation.margin: must be at least 1 and below the capacity 20, got 0"},
		{"margin at capacity", "  evaluation: {margin: 20}\n", "list.evaluation.margin: must be at least 1 and below the capacity 20, got 20"},
		{"margin negative", "  evaluation: {margin: -3}\n", "got -3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse("/tmp/c.yaml", []byte(base+tc.extra))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if tc.extra != "" && c.List.Evaluation == nil {
					t.Fatal("evaluation block not decoded")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v; want it to contain %q", err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), "c.yaml:11") {
				t.Errorf("error %q does not name the line of the key", err)
			}
		})
	}
}
