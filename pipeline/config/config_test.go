package config

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

const fixtures = "../../testdata/config"

// Every *.bad.yaml fixture must appear here with the error it gives, so a new
// fixture without an expectation fails the test.
var badConfigs = map[string]string{
	"unknown_key.bad.yaml":       "unknown_key.bad.yaml:7: capacty_per_locality: unknown key",
	"unknown_top_key.bad.yaml":   "unknown_top_key.bad.yaml:3: datadir: unknown key",
	"bad_type.bad.yaml":          "bad_type.bad.yaml:6: model.horizon_weeks: cannot unmarshal !!str `six months` into int",
	"bad_ratio.bad.yaml":         "bad_ratio.bad.yaml:5: max_quarantine_ratio: must be between 0 and 1, got 1.5",
	"no_sources.bad.yaml":        "no_sources.bad.yaml: sources: at least one source is required",
	"missing_council.bad.yaml":   "missing_council.bad.yaml: council: is required",
	"unsupported_kind.bad.yaml":  `unsupported_kind.bad.yaml:5: sources.persons.kind: "ftp" is not a source kind (known: csvdir, parquetdir, postgres)`,
	"unsupported_model.bad.yaml": `unsupported_model.bad.yaml:6: model.candidates: "xgboost" is not a model this build can train (supported: forest, logistic, logistic_l1, logistic_ridge, logistic_signed)`,
	"postgres_no_query.bad.yaml": "postgres_no_query.bad.yaml:4: sources.persons.query: is required for kind postgres",
	"bad_encoding.bad.yaml":      `bad_encoding.bad.yaml:4: sources.persons.encoding: "latin-9": want auto, utf-8 or windows-1252, for kind csvdir only`,
	"missing_path.bad.yaml":      "missing_path.bad.yaml:4: sources.persons.path: is required for kind csvdir",
	"bad_horizon.bad.yaml":       "bad_horizon.bad.yaml:6: model.horizon_weeks: must be between 1 and 104, got 200",
	"bad_capacity.bad.yaml":      "bad_capacity.bad.yaml:6: list.capacity: must be between 1 and 100000, got -5",
	"bad_bands.bad.yaml":         "bad_bands.bad.yaml:7: list.bands: want 1 < high < very_high, got high 3 and very_high 2",
	"bad_yaml.bad.yaml":          "bad_yaml.bad.yaml:1: did not find expected ',' or ']'",
	"bad_retries.bad.yaml":       "bad_retries.bad.yaml:7: schedule.retries: must be between 0 and 10, got -1",
	"bad_timeout.bad.yaml":       "bad_timeout.bad.yaml:7: schedule.job_timeout: must be at least 1s, got 10ms",
	"small_max_memory.bad.yaml":  "small_max_memory.bad.yaml:6: backtest.max_memory: 100MiB is under 256 MiB: too little for any council's run",
	"bad_max_memory.bad.yaml":    `bad_max_memory.bad.yaml:6: backtest.max_memory: "4 gigs": want a size such as 4GiB or 3500MiB`,
	// The safety sources, each refused on its own (issue 20).
	"no_objections.bad.yaml":          "no_objections.bad.yaml:3: sources: objections is not configured: without it the run would score and list people who objected to profiling (UK GDPR Art. 21). Configure it, or list it under missing_sources_accepted with a written reason",
	"no_early_help_episodes.bad.yaml": "no_early_help_episodes.bad.yaml:3: sources: early_help_episodes is not configured: without it the run would list families already in early help. Configure it, or list it under missing_sources_accepted with a written reason",
	"no_csc_referrals.bad.yaml":       "no_csc_referrals.bad.yaml:3: sources: csc_referrals is not configured: without it the run has no outcomes to learn from and would list families with an open social-care case. Configure it, or list it under missing_sources_accepted with a written reason",
	"accepted_no_reason.bad.yaml":     "accepted_no_reason.bad.yaml:8: missing_sources_accepted.early_help_episodes: needs a written reason: it goes into every manifest and model card",
}

func TestBadConfigs(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(fixtures, "*.bad.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no bad fixtures found: %v", err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			want, ok := badConfigs[name]
			if !ok {
				t.Fatalf("fixture %s has no expected error in badConfigs", name)
			}
			_, err := Load(f)
			if err == nil {
				t.Fatalf("Load(%s) succeeded; want error %q", name, want)
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("Load(%s) error %T; want *config.Error", name, err)
			}
			got := strings.TrimPrefix(err.Error(), fixtures+"/")
			if got != want {
				t.Errorf("got  %q\nwant %q", got, want)
			}
			if strings.Contains(got, "\n") {
				t.Errorf("error spans lines: %q", got)
			}
		})
	}
	// And the other way: an expectation whose fixture is missing (say, one
	// never committed) would otherwise pass without testing anything.
	for name := range badConfigs {
		if _, err := os.Stat(filepath.Join(fixtures, name)); err != nil {
			t.Errorf("badConfigs expects %s, which is not a fixture: %v", name, err)
		}
	}
}

func TestGoodConfigs(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(fixtures, "*.good.yaml"))
	if len(files) < 2 {
		t.Fatalf("want at least 2 good fixtures, found %d", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			c, err := Load(f)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			abs, _ := filepath.Abs(fixtures)
			if got := c.DataDir; got != filepath.Join(fixtures, "var") && got != filepath.Join(abs, "var") {
				t.Errorf("data_dir = %q; want it resolved against the config folder", got)
			}
			if len(c.SHA256()) != 64 {
				t.Errorf("SHA256 = %q", c.SHA256())
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	c, err := Load(filepath.Join(fixtures, "minimal.good.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		got, want any
	}{
		{"max_quarantine_ratio", *c.MaxQuarantineRatio, DefaultMaxQuarantineRatio},
		{"max_nulled_ratio", *c.MaxNulledRatio, DefaultMaxNulledRatio},
		{"horizon_weeks", c.Model.HorizonWeeks, DefaultHorizonWeeks},
		{"capacity", c.List.Capacity, DefaultCapacity},
		{"use_deprivation", *c.Model.UseDeprivation, true},
		{"candidates", strings.Join(c.Model.Candidates, ","), "logistic_signed,logistic_ridge"},
		{"listen", c.Server.Listen, DefaultListen},
		{"schedule.retries", *c.Schedule.Retries, DefaultRetries},
		{"schedule.retry_backoff", c.Schedule.RetryBackoff, DefaultRetryBackoff},
		{"schedule.job_timeout", c.Schedule.JobTimeout, DefaultJobTimeout},
		{"schedule.max_wait", c.Schedule.MaxWait, DefaultMaxWait},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s = %v; want %v", tc.name, tc.got, tc.want)
		}
	}
	full, err := Load(filepath.Join(fixtures, "full.good.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if *full.Model.UseDeprivation || full.List.Capacity != 40 {
		t.Errorf("explicit values lost: use_deprivation=%v capacity=%d", *full.Model.UseDeprivation, full.List.Capacity)
	}
	if l := full.List; l.KeepMargin != 1.5 || l.LocalityQuotas["South"] != 25 || l.Bands.VeryHigh != 6 || l.Bands.High != 3 {
		t.Errorf("list rules lost: %+v", l)
	}
	if got := full.Backtest.MaxMemoryBytes(); got != 3500<<20 {
		t.Errorf("backtest.max_memory = %d bytes; want 3500 MiB", got)
	}
	names := full.SourceNames()
	if !sort.StringsAreSorted(names) || len(names) != 12 {
		t.Errorf("SourceNames = %v", names)
	}
}

func TestMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("err = %v; want one naming the missing file", err)
	}
	if _, statErr := os.Stat("nope.yaml"); statErr == nil {
		t.Fatal("unexpected file")
	}
}

// TestDeployExample keeps deploy/'s example configuration loadable.
func TestDeployExample(t *testing.T) {
	c, err := Load("../../deploy/earlyhelp.example.yaml")
	if err != nil {
		t.Fatalf("deploy example: %v", err)
	}
	if c.DataDir != "/var/lib/earlyhelp" || len(c.Sources) != 12 {
		t.Errorf("deploy example read as data_dir %q with %d sources", c.DataDir, len(c.Sources))
	}
}

// TestMaxWait: schedule.max_wait is read as a duration and refused below a
// second. Inline, since the fixtures folder is shared with other keys' work.
func TestMaxWait(t *testing.T) {
	const base = "council: X\ndata_dir: ./var\nsources:\n  persons: {kind: csvdir, path: ./p}\n  csc_referrals: {kind: csvdir, path: ./c}\n  early_help_episodes: {kind: csvdir, path: ./e}\n  objections: {kind: csvdir, path: ./o}\nschedule:\n"
	tests := []struct {
		name, yaml string
		want       time.Duration
		wantErr    string
	}{
		{"set", "  max_wait: 30m\n", 30 * time.Minute, ""},
		{"default", "  retries: 1\n", DefaultMaxWait, ""},
		{"too short", "  max_wait: 10ms\n", 0, "c.yaml:9: schedule.max_wait: must be at least 1s, got 10ms"},
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
			if got := c.Schedule.MaxWait; got != tc.want {
				t.Errorf("got max_wait %s; want %s", got, tc.want)
			}
		})
	}
}

func TestParseBytes(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"", 0, true},
		{"4GiB", 4 << 30, true},
		{"3500MiB", 3500 << 20, true},
		{" 1.5 GiB ", 3 << 29, true},
		{"6GB", 6e9, true},
		{"512KiB", 512 << 10, true},
		{"1000B", 1000, true},
		{"4", 0, false},
		{"4 gigs", 0, false},
		{"-1GiB", 0, false},
		{"GiB", 0, false},
		{"1e30GiB", 0, false},
	}
	for _, tc := range tests {
		got, err := ParseBytes(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
