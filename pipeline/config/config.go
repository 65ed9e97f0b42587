// Package config reads earlyhelp's YAML configuration (CONTRACTS §3)
// strictly: an unknown key, a wrong type or an invalid value is an error
// that names the key and the file:line it stands on.
package config

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is one council's configuration.
type Config struct {
	Council            string            `yaml:"council"`
	DataDir            string            `yaml:"data_dir"`
	PseudonymKeyFile   string            `yaml:"pseudonym_key_file"`
	Sources            map[string]Source `yaml:"sources"`
	MaxQuarantineRatio *float64          `yaml:"max_quarantine_ratio"`
	// MissingSourcesAccepted names safety sources (SafetySources) the
	// council cannot supply, each with the written reason it accepts the
	// run without: the reason goes into every manifest and model card.
	MissingSourcesAccepted map[string]string `yaml:"missing_sources_accepted"`
	// MaxNulledRatio bounds, per column, the share of a source's loaded
	// cells that were unreadable and stored as null (CONTRACTS §2 cell
	// policy); above it the source fails.
	MaxNulledRatio *float64 `yaml:"max_nulled_ratio"`
	Schedule       Schedule `yaml:"schedule"`
	Model          Model    `yaml:"model"`
	List           List     `yaml:"list"`
	Audit          Audit    `yaml:"audit"`
	Server         Server   `yaml:"server"`
	// Governance, optional, holds the owner, the review date, the targets
	// set before go-live and the switch-off criteria checked every run
	// (issue 21). Without it a run still works, and the model card and the
	// transparency record say that no targets were set.
	Governance *Governance `yaml:"governance"`
	// Retention says how long runs, quarantine files, evaluation outputs
	// and the access log are kept (`earlyhelp prune`).
	Retention Retention `yaml:"retention"`
	// Backtest bounds what the model-making may use (issue 25).
	Backtest Backtest `yaml:"backtest"`

	file  string
	lines map[string]int // dotted key path → line
	sum   string
}

// Backtest bounds the backtest, where a run's memory peaks.
type Backtest struct {
	// MaxMemory is a soft limit on the run's memory, such as "4GiB" or
	// "3500MiB" (units B, KiB, MiB, GiB; KB, MB, GB are powers of ten).
	// While a run goes, Go's collector works harder as the heap nears it
	// (runtime/debug.SetMemoryLimit) rather than let the heap grow to
	// twice what is live. It is soft: a run whose live data exceed it
	// still finishes, slowly. Empty: no limit but GOMEMLIMIT's.
	MaxMemory string `yaml:"max_memory"`
}

// MaxMemoryBytes is MaxMemory in bytes, 0 when unset. Load has checked it.
func (b Backtest) MaxMemoryBytes() int64 {
	n, _ := ParseBytes(b.MaxMemory)
	return n
}

// ParseBytes reads a size such as "4GiB", "3500MiB" or "6GB"; "" is 0.
func ParseBytes(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	units := []struct {
		suffix string
		scale  float64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1}}
	for _, u := range units {
		num, ok := strings.CutSuffix(s, u.suffix)
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) || v*u.scale > math.MaxInt64/2 {
			break
		}
		return int64(v * u.scale), nil
	}
	return 0, fmt.Errorf("%q: want a size such as 4GiB or 3500MiB", s)
}

// Source is where one source's extracts come from.
type Source struct {
	Kind   string `yaml:"kind"` // csvdir, parquetdir or postgres
	Path   string `yaml:"path"`
	DSNEnv string `yaml:"dsn_env"`
	Query  string `yaml:"query"`
	// Encoding (csvdir): auto (default), utf-8 or windows-1252.
	Encoding string `yaml:"encoding"`
	// BalanceSign (rent_accounts): positive_arrears (default) or
	// negative_arrears for a housing system that shows arrears as negative.
	BalanceSign string `yaml:"balance_sign"`
	// Columns (csvdir) maps the contract's column names to the headers the
	// council's system writes, e.g. {school_urn: "School URN"}.
	Columns map[string]string `yaml:"columns"`
	// Delimiter (csvdir): auto (default), ",", ";", "\t" or "|".
	Delimiter string `yaml:"delimiter"`
	// ExpectedEvery is how often a new file is expected (e.g. "7d", "24h");
	// a source with none for longer raises the stale-source alert.
	ExpectedEvery string `yaml:"expected_every"`
}

// Schedule holds robfig/cron specs, read in Europe/London.
type Schedule struct {
	Ingest     string `yaml:"ingest"`
	WeeklyList string `yaml:"weekly_list"`
	Retrain    string `yaml:"retrain"`
	// Retries is how often serve retries a failed job before marking it
	// failed; RetryBackoff is the first wait, doubled for each retry.
	Retries      *int          `yaml:"retries"`
	RetryBackoff time.Duration `yaml:"retry_backoff"`
	// JobTimeout cancels a scheduled job that runs longer.
	JobTimeout time.Duration `yaml:"job_timeout"`
	// MaxWait is how long a scheduled job keeps trying for the data
	// folder's lock while another process holds it before it is skipped.
	MaxWait time.Duration `yaml:"max_wait"`
}

// Model configures the label and the candidate models.
type Model struct {
	HorizonWeeks   int      `yaml:"horizon_weeks"`
	Candidates     []string `yaml:"candidates"`
	UseDeprivation *bool    `yaml:"use_deprivation"`
	// IodVintage chooses the Indices of Deprivation release ("2019",
	// "2025"); default: the newest present in the deprivation source.
	IodVintage string `yaml:"iod_vintage"`
}

// List sizes the navigator list.
type List struct {
	Capacity     int `yaml:"capacity"`
	CooloffWeeks int `yaml:"cooloff_weeks"`
	// LocalityQuotas caps the households listed per locality (optional).
	LocalityQuotas map[string]int `yaml:"locality_quotas"`
	// KeepMargin: last week's households stay on while ranked within
	// keep_margin × capacity (default 1.25; 1 turns it off).
	KeepMargin float64 `yaml:"keep_margin"`
	// Bands are the thresholds of "very high" and "high" as multiples of
	// the base rate (defaults 5 and 3).
	Bands Bands `yaml:"bands"`
	// ReasonMaxAgeWeeks: nothing older is offered as a reason (default 52).
	ReasonMaxAgeWeeks int `yaml:"reason_max_age_weeks"`
	// ProtectiveMarking heads and foots every printed page (default
	// OFFICIAL-SENSITIVE).
	ProtectiveMarking string `yaml:"protective_marking"`
	// ContactSafety overrides the instruction shown for a contact-safety
	// kind (domestic_abuse, perinatal_mental_health, possession_or_eviction,
	// social_care_referral).
	ContactSafety map[string]string `yaml:"contact_safety"`
	// SchoolsFile, optional, is a CSV with columns urn and name: the family
	// page names a child's school rather than giving its URN alone.
	SchoolsFile string `yaml:"schools_file"`
	// PrivacyNoticeFile, optional, is the plain text the navigators'
	// guidance page gives for explaining to a family why they were
	// contacted; a default text is shown without it.
	PrivacyNoticeFile string `yaml:"privacy_notice_file"`
	// Evaluation, optional, turns on a seeded lottery at the capacity
	// margin so the council can learn whether the offer changes outcomes.
	Evaluation *Evaluation `yaml:"evaluation"`
}

// Evaluation is the capacity-margin lottery: households ranked K−Margin+1
// to K+Margin are equally likely to be offered this week; those above the
// margin always are.
type Evaluation struct {
	Margin int    `yaml:"margin"`
	Seed   *int64 `yaml:"seed"`
}

// Governance is what a council signs off: who owns the tool, when it is
// reviewed, the targets set in advance and when it must be switched off.
type Governance struct {
	Owner      string    `yaml:"owner"`
	Contact    string    `yaml:"contact"`
	ReviewDate string    `yaml:"review_date"` // YYYY-MM-DD
	Targets    Targets   `yaml:"targets"`
	SwitchOff  SwitchOff `yaml:"switch_off"`
}

// Targets are set before go-live; an absent target is not checked.
type Targets struct {
	PrecisionAtKFloor      *float64 `yaml:"precision_at_k_floor"`
	RecallAtKFloor         *float64 `yaml:"recall_at_k_floor"`
	MaxFairnessFindings    *int     `yaml:"max_fairness_findings"`
	MinOfferAcceptanceRate *float64 `yaml:"min_offer_acceptance_rate"`
}

// SwitchOff are the decommission criteria, checked every run.
type SwitchOff struct {
	// PrecisionBelowFloorWeeks: precision@K below its floor for this many
	// consecutive weekly runs (default 8).
	PrecisionBelowFloorWeeks int `yaml:"precision_below_floor_weeks"`
	// FindingUnresolvedWeeks: a fairness finding standing this many weeks
	// (default 12).
	FindingUnresolvedWeeks int `yaml:"finding_unresolved_weeks"`
	// ReviewDatePassed: the review date has passed (default true).
	ReviewDatePassed *bool `yaml:"review_date_passed"`
}

// Retention is how long a data folder keeps what it writes.
type Retention struct {
	// RunsWeeks: runs older than this are pruned, keeping their manifest
	// and always the last successful run (default 26).
	RunsWeeks int `yaml:"runs_weeks"`
	// QuarantineWeeks: quarantine files older than this go (default 13).
	QuarantineWeeks int `yaml:"quarantine_weeks"`
	// EvaluationWeeks: evaluation/ folders older than this go (default 13).
	EvaluationWeeks int `yaml:"evaluation_weeks"`
	// AccessLogWeeks: access-log entries kept (default 104, two years).
	AccessLogWeeks int `yaml:"access_log_weeks"`
	// Schedule: a cron spec on which serve prunes (default "30 4 * * *").
	Schedule string `yaml:"schedule"`
}

// Bands are the list's band thresholds.
type Bands struct {
	VeryHigh float64 `yaml:"very_high"`
	High     float64 `yaml:"high"`
}

// Audit configures the fairness audit.
type Audit struct {
	Reference    map[string]string `yaml:"reference"`
	MinGroupSize int               `yaml:"min_group_size"`
}

// Server configures `earlyhelp serve`.
type Server struct {
	Listen    string `yaml:"listen"`
	UsersFile string `yaml:"users_file"`
}

// Error is a configuration error at a place in a file.
type Error struct {
	File string
	Line int // 0 when the key is absent from the file
	Key  string
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Load reads, decodes, defaults and validates a configuration file.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{File: path, Msg: strings.TrimPrefix(err.Error(), "open "+path+": ")}
	}
	return Parse(path, b)
}

var yamlLine = regexp.MustCompile(`line (\d+): (.*)`)
var unknownField = regexp.MustCompile(`field (\S+) not found in type`)

// Parse decodes a configuration held in memory; path names it in errors and
// anchors its relative paths.
func Parse(path string, data []byte) (*Config, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlError(path, err, nil)
	}
	c := &Config{file: path, lines: map[string]int{}}
	if len(root.Content) == 0 {
		return nil, &Error{File: path, Msg: "empty configuration"}
	}
	indexLines(root.Content[0], "", c.lines)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil {
		return nil, yamlError(path, err, c.lines)
	}
	sum := sha256.Sum256(data)
	c.sum = hex.EncodeToString(sum[:])
	c.defaults()
	c.resolve(filepath.Dir(path))
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// yamlError turns yaml.v3's messages into one line per problem, file:line
// first, naming an unknown key as such and a badly typed value by its key.
func yamlError(path string, err error, lines map[string]int) error {
	var te *yaml.TypeError
	msgs := []string{strings.TrimPrefix(err.Error(), "yaml: ")}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	m := yamlLine.FindStringSubmatch(msgs[0])
	if m == nil {
		return &Error{File: path, Msg: msgs[0]}
	}
	line, _ := strconv.Atoi(m[1])
	msg := m[2]
	if u := unknownField.FindStringSubmatch(msg); u != nil {
		return &Error{File: path, Line: line, Key: u[1], Msg: "unknown key"}
	}
	key := ""
	for k, l := range lines {
		if l == line && (key == "" || len(k) > len(key)) {
			key = k
		}
	}
	return &Error{File: path, Line: line, Key: key, Msg: msg}
}

// indexLines records the line of every mapping key by dotted path.
func indexLines(n *yaml.Node, prefix string, out map[string]int) {
	if n.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		path := k.Value
		if prefix != "" {
			path = prefix + "." + k.Value
		}
		out[path] = k.Line
		indexLines(n.Content[i+1], path, out)
	}
}

// File is the path the configuration was read from.
func (c *Config) File() string { return c.file }

// SHA256 is the hex digest of the configuration file's bytes.
func (c *Config) SHA256() string { return c.sum }

// Errorf builds an Error for a dotted key path, at the key's line.
func (c *Config) Errorf(key, format string, args ...any) error {
	line := c.lines[key]
	for k := key; line == 0 && strings.Contains(k, "."); {
		k = k[:strings.LastIndex(k, ".")]
		line = c.lines[k]
	}
	return &Error{File: c.file, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)}
}
