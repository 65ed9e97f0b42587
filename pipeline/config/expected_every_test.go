package config

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestExpectedEvery reads sources.<name>.expected_every: whole days or
// weeks or a Go duration, refused (naming the key and its line) when it is
// unreadable or out of bounds, and no expectation when it is absent.
func TestExpectedEvery(t *testing.T) {
	tests := []struct {
		name, value string
		want        time.Duration
		err         string // the whole error; "" when valid
	}{
		{"absent", "", 0, ""},
		{"days", "7d", 7 * 24 * time.Hour, ""},
		{"weeks", "2w", 14 * 24 * time.Hour, ""},
		{"hours", "24h", 24 * time.Hour, ""},
		{"hours and minutes", "36h30m", 36*time.Hour + 30*time.Minute, ""},
		{"IoD, every few years", "1830d", 1830 * 24 * time.Hour, ""},
		{"fractional days", "1.5d", 0, `/c.yaml:10: sources.persons.expected_every: "1.5d": want whole days (7d), weeks (1w) or a duration such as 24h`},
		{"words", "weekly", 0, `/c.yaml:10: sources.persons.expected_every: "weekly": want whole days (7d), weeks (1w) or a duration such as 24h`},
		{"no number", "d", 0, `/c.yaml:10: sources.persons.expected_every: "d": want whole days (7d), weeks (1w) or a duration such as 24h`},
		{"zero", "0d", 0, `/c.yaml:10: sources.persons.expected_every: "0d": must be between 1h and 3660d`},
		{"negative", "-24h", 0, `/c.yaml:10: sources.persons.expected_every: "-24h": must be between 1h and 3660d`},
		{"too often to judge", "10m", 0, `/c.yaml:10: sources.persons.expected_every: "10m": must be between 1h and 3660d`},
		{"too rare", "4000d", 0, `/c.yaml:10: sources.persons.expected_every: "4000d": must be between 1h and 3660d`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			every := ""
			if tc.value != "" {
				every = "\n    expected_every: " + tc.value
			}
			text := "council: X\ndata_dir: ./var\nsources:\n" +
				"  csc_referrals: {kind: csvdir, path: ./c}\n  early_help_episodes: {kind: csvdir, path: ./e}\n  objections: {kind: csvdir, path: ./o}\n" +
				"  persons:\n    kind: csvdir\n    path: ./p" + every + "\n"
			cfg, err := Parse(filepath.Join(t.TempDir(), "c.yaml"), []byte(text))
			if tc.err != "" {
				if err == nil || !strings.HasSuffix(err.Error(), tc.err) {
					t.Fatalf("err = %v; want one ending %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v; want none", err)
			}
			if got := cfg.Sources["persons"].ExpectedInterval(); got != tc.want {
				t.Errorf("ExpectedInterval() = %s; want %s", got, tc.want)
			}
			if got := cfg.Sources["objections"].ExpectedInterval(); got != 0 {
				t.Errorf("objections, with no expected_every: ExpectedInterval() = %s; want 0", got)
			}
		})
	}
}
