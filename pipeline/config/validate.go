package config

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"earlyhelp/pipeline"
	"earlyhelp/pipeline/contract"
)

// Defaults of CONTRACTS §3.
const (
	DefaultMaxQuarantineRatio = 0.05
	DefaultMaxNulledRatio     = pipeline.DefaultMaxNulledRatio
	DefaultHorizonWeeks       = 26
	DefaultCapacity           = 60
	DefaultCooloffWeeks       = 12
	DefaultKeepMargin         = 1.25
	DefaultBandVeryHigh       = 5
	DefaultBandHigh           = 3
	DefaultMinGroupSize       = 30
	DefaultReasonMaxAgeWeeks  = 52
	DefaultProtectiveMarking  = "OFFICIAL-SENSITIVE"
	DefaultListen             = "127.0.0.1:8080"
	DefaultRetries            = 2
	DefaultRetryBackoff       = 5 * time.Minute
	DefaultJobTimeout         = 6 * time.Hour
	DefaultMaxWait            = 2 * time.Hour
)

// Retention defaults (issue 20). The access log is kept longest: it is the
// record of who saw which family, and a subject-access request or a
// complaint can come long after the list that prompted the view.
const (
	DefaultRunsWeeks       = 26
	DefaultQuarantineWeeks = 13
	DefaultEvaluationWeeks = 13
	DefaultAccessLogWeeks  = 104
	DefaultPruneSchedule   = "30 4 * * *"
	// maxRetentionWeeks bounds every retention key: ten years.
	maxRetentionWeeks = 520
)

// Kinds of source this build can read (CONTRACTS §3).
var supportedKinds = map[string]bool{"csvdir": true, "parquetdir": true, "postgres": true}

// Models this build can train.
var supportedModels = map[string]bool{"logistic": true, "logistic_l1": true, "logistic_ridge": true, "logistic_signed": true, "forest": true}

// names lists a table's names, sorted, for an error message: written out
// by hand, the message fell behind the table when a model was added.
func names(supported map[string]bool) string {
	return strings.Join(slices.Sorted(maps.Keys(supported)), ", ")
}

// minMaxMemory is the least backtest.max_memory may be.
const minMaxMemory = 256 << 20

func (c *Config) defaults() {
	c.Governance.defaults()
	if c.MaxQuarantineRatio == nil {
		v := DefaultMaxQuarantineRatio
		c.MaxQuarantineRatio = &v
	}
	if c.MaxNulledRatio == nil {
		v := DefaultMaxNulledRatio
		c.MaxNulledRatio = &v
	}
	if c.Model.HorizonWeeks == 0 {
		c.Model.HorizonWeeks = DefaultHorizonWeeks
	}
	// The forest is a candidate on request only: on the synthetic councils
	// it ranks below the logistic models and doubles the backtest's time.
	if len(c.Model.Candidates) == 0 {
		c.Model.Candidates = []string{"logistic_signed", "logistic_ridge"}
	}
	if c.Model.UseDeprivation == nil {
		t := true
		c.Model.UseDeprivation = &t
	}
	if c.List.Capacity == 0 {
		c.List.Capacity = DefaultCapacity
	}
	if c.List.CooloffWeeks == 0 {
		c.List.CooloffWeeks = DefaultCooloffWeeks
	}
	if c.List.KeepMargin == 0 {
		c.List.KeepMargin = DefaultKeepMargin
	}
	if c.List.Bands.VeryHigh == 0 {
		c.List.Bands.VeryHigh = DefaultBandVeryHigh
	}
	if c.List.Bands.High == 0 {
		c.List.Bands.High = DefaultBandHigh
	}
	if c.List.ReasonMaxAgeWeeks == 0 {
		c.List.ReasonMaxAgeWeeks = DefaultReasonMaxAgeWeeks
	}
	if c.List.ProtectiveMarking == "" {
		c.List.ProtectiveMarking = DefaultProtectiveMarking
	}
	if c.Audit.MinGroupSize == 0 {
		c.Audit.MinGroupSize = DefaultMinGroupSize
	}
	if c.Server.Listen == "" {
		c.Server.Listen = DefaultListen
	}
	if c.Schedule.Retries == nil {
		n := DefaultRetries
		c.Schedule.Retries = &n
	}
	if c.Schedule.RetryBackoff == 0 {
		c.Schedule.RetryBackoff = DefaultRetryBackoff
	}
	if c.Schedule.JobTimeout == 0 {
		c.Schedule.JobTimeout = DefaultJobTimeout
	}
	if c.Schedule.MaxWait == 0 {
		c.Schedule.MaxWait = DefaultMaxWait
	}
	c.Retention.defaults()
}

func (r *Retention) defaults() {
	if r.RunsWeeks == 0 {
		r.RunsWeeks = DefaultRunsWeeks
	}
	if r.QuarantineWeeks == 0 {
		r.QuarantineWeeks = DefaultQuarantineWeeks
	}
	if r.EvaluationWeeks == 0 {
		r.EvaluationWeeks = DefaultEvaluationWeeks
	}
	if r.AccessLogWeeks == 0 {
		r.AccessLogWeeks = DefaultAccessLogWeeks
	}
	if r.Schedule == "" {
		r.Schedule = DefaultPruneSchedule
	}
}

// validateRetention checks the retention: block. Zero means the default, so
// only negative or absurd values reach here. retention.schedule is parsed
// where the other schedules are, by serve (cron belongs to cmd).
func (c *Config) validateRetention() error {
	r := c.Retention
	for _, k := range []struct {
		key   string
		weeks int
	}{
		{"retention.runs_weeks", r.RunsWeeks},
		{"retention.quarantine_weeks", r.QuarantineWeeks},
		{"retention.evaluation_weeks", r.EvaluationWeeks},
		{"retention.access_log_weeks", r.AccessLogWeeks},
	} {
		if k.weeks < 1 || k.weeks > maxRetentionWeeks {
			return c.Errorf(k.key, "must be between 1 and %d weeks, got %d", maxRetentionWeeks, k.weeks)
		}
	}
	return nil
}

// resolve makes relative paths relative to the configuration's folder.
func (c *Config) resolve(base string) {
	abs := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(base, *p)
		}
	}
	abs(&c.DataDir)
	abs(&c.PseudonymKeyFile)
	abs(&c.Server.UsersFile)
	abs(&c.List.SchoolsFile)
	abs(&c.List.PrivacyNoticeFile)
	for name, s := range c.Sources {
		abs(&s.Path)
		c.Sources[name] = s
	}
}

// SourceNames lists the configured sources in a stable order.
func (c *Config) SourceNames() []string {
	names := make([]string, 0, len(c.Sources))
	for n := range c.Sources {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Validate checks every value; the first problem is returned.
func (c *Config) Validate() error {
	if c.Council == "" {
		return c.Errorf("council", "is required")
	}
	if c.DataDir == "" {
		return c.Errorf("data_dir", "is required")
	}
	if len(c.Sources) == 0 {
		return c.Errorf("sources", "at least one source is required")
	}
	for _, name := range c.SourceNames() {
		s := c.Sources[name]
		key := "sources." + name
		switch {
		case s.Kind == "":
			return c.Errorf(key+".kind", "is required")
		case !supportedKinds[s.Kind]:
			return c.Errorf(key+".kind", "%q is not a source kind (known: %s)", s.Kind, names(supportedKinds))
		case s.Kind != "postgres" && s.Path == "":
			return c.Errorf(key+".path", "is required for kind %s", s.Kind)
		case s.Kind == "postgres" && s.DSNEnv == "":
			return c.Errorf(key+".dsn_env", "is required for kind postgres (the name of the environment variable holding the DSN)")
		case s.Kind == "postgres" && s.Query == "":
			return c.Errorf(key+".query", "is required for kind postgres")
		case s.Encoding != "" && (s.Kind != "csvdir" || !oneOf(s.Encoding, "auto", "utf-8", "windows-1252")):
			return c.Errorf(key+".encoding", "%q: want auto, utf-8 or windows-1252, for kind csvdir only", s.Encoding)
		case s.BalanceSign != "" && !oneOf(s.BalanceSign, "positive_arrears", "negative_arrears"):
			return c.Errorf(key+".balance_sign", "%q: want positive_arrears or negative_arrears", s.BalanceSign)
		case s.Delimiter != "" && (s.Kind != "csvdir" || !oneOf(s.Delimiter, "auto", ",", ";", "\t", "|")):
			return c.Errorf(key+".delimiter", "%q: want auto, \",\", \";\", \"\\t\" or \"|\", for kind csvdir only", s.Delimiter)
		case len(s.Columns) > 0 && s.Kind != "csvdir":
			return c.Errorf(key+".columns", "is for kind csvdir only (a query or a Parquet file names its columns itself)")
		}
		if err := c.checkColumnHeaders(key, s.Columns); err != nil {
			return err
		}
	}
	if err := c.validateExpectedEvery(); err != nil {
		return err
	}
	if r := *c.MaxQuarantineRatio; r < 0 || r > 1 {
		return c.Errorf("max_quarantine_ratio", "must be between 0 and 1, got %g", r)
	}
	if r := *c.MaxNulledRatio; r < 0 || r > 1 {
		return c.Errorf("max_nulled_ratio", "must be between 0 and 1, got %g", r)
	}
	if h := c.Model.HorizonWeeks; h < 1 || h > 104 {
		return c.Errorf("model.horizon_weeks", "must be between 1 and 104, got %d", h)
	}
	for _, m := range c.Model.Candidates {
		if !supportedModels[m] {
			return c.Errorf("model.candidates", "%q is not a model this build can train (supported: %s)", m, names(supportedModels))
		}
	}
	if v, ok := iodVintage(c.Model.IodVintage); ok {
		c.Model.IodVintage = v
	} else {
		return c.Errorf("model.iod_vintage", "%q: want 2019 or 2025 (IoD2019, IoD2025), or leave it out for the newest the deprivation source holds", c.Model.IodVintage)
	}
	if n, err := ParseBytes(c.Backtest.MaxMemory); err != nil {
		return c.Errorf("backtest.max_memory", "%v", err)
	} else if n > 0 && n < minMaxMemory {
		return c.Errorf("backtest.max_memory", "%s is under %d MiB: too little for any council's run", c.Backtest.MaxMemory, minMaxMemory>>20)
	}
	if n := c.List.Capacity; n < 1 || n > 100000 {
		return c.Errorf("list.capacity", "must be between 1 and 100000, got %d", n)
	}
	if n := c.List.CooloffWeeks; n < 0 || n > 104 {
		return c.Errorf("list.cooloff_weeks", "must be between 0 and 104, got %d", n)
	}
	if m := c.List.KeepMargin; m < 1 || m > 3 {
		return c.Errorf("list.keep_margin", "must be between 1 and 3, got %g", m)
	}
	if b := c.List.Bands; b.High <= 1 || b.VeryHigh <= b.High {
		return c.Errorf("list.bands", "want 1 < high < very_high, got high %g and very_high %g", b.High, b.VeryHigh)
	}
	for loc, q := range c.List.LocalityQuotas {
		if q < 0 || q > c.List.Capacity {
			return c.Errorf("list.locality_quotas."+loc, "must be between 0 and the capacity %d, got %d", c.List.Capacity, q)
		}
	}
	// The lottery draws from the 2m households around the cut-off and
	// always lists the K−m above them, so m must leave at least one
	// household always offered.
	if e := c.List.Evaluation; e != nil && (e.Margin < 1 || e.Margin >= c.List.Capacity) {
		return c.Errorf("list.evaluation.margin", "must be at least 1 and below the capacity %d, got %d", c.List.Capacity, e.Margin)
	}
	if n := c.List.ReasonMaxAgeWeeks; n < 1 || n > 260 {
		return c.Errorf("list.reason_max_age_weeks", "must be between 1 and 260, got %d", n)
	}
	if m := c.List.ProtectiveMarking; len(m) > 80 || strings.ContainsAny(m, "\r\n") {
		return c.Errorf("list.protective_marking", "must be one line of at most 80 characters")
	}
	known := pipeline.DefaultSafetyText()
	for kind, text := range c.List.ContactSafety {
		if _, ok := known[kind]; !ok {
			return c.Errorf("list.contact_safety."+kind, "is not a contact-safety kind (known: %s)", strings.Join(pipeline.SafetyKinds(), ", "))
		}
		if strings.TrimSpace(text) == "" {
			return c.Errorf("list.contact_safety."+kind, "must not be empty: the instruction is what keeps contact safe")
		}
	}
	if err := c.validateGovernance(); err != nil {
		return err
	}
	if n := c.Audit.MinGroupSize; n < 1 {
		return c.Errorf("audit.min_group_size", "must be at least 1, got %d", n)
	}
	if n := *c.Schedule.Retries; n < 0 || n > 10 {
		return c.Errorf("schedule.retries", "must be between 0 and 10, got %d", n)
	}
	if d := c.Schedule.RetryBackoff; d < time.Second {
		return c.Errorf("schedule.retry_backoff", "must be at least 1s, got %s", d)
	}
	if d := c.Schedule.JobTimeout; d < time.Second {
		return c.Errorf("schedule.job_timeout", "must be at least 1s, got %s", d)
	}
	if d := c.Schedule.MaxWait; d < time.Second {
		return c.Errorf("schedule.max_wait", "must be at least 1s, got %s", d)
	}
	if err := c.validateRetention(); err != nil {
		return err
	}
	// Last, so a config's other mistakes are named first.
	for name, why := range c.MissingSourcesAccepted {
		if _, ok := c.Sources[name]; ok {
			return c.Errorf("missing_sources_accepted."+name, "the source is configured: remove it from missing_sources_accepted")
		}
		if strings.TrimSpace(why) == "" {
			return c.Errorf("missing_sources_accepted."+name, "needs a written reason: it goes into every manifest and model card")
		}
	}
	for _, name := range SafetySources {
		_, configured := c.Sources[name]
		_, accepted := c.MissingSourcesAccepted[name]
		if !configured && !accepted {
			return c.Errorf("sources", "%s is not configured: without it %s. Configure it, or list it under missing_sources_accepted with a written reason", name, safetyWhy[name])
		}
	}
	return nil
}

// SafetySources are the sources a run must not be without, unless the
// config accepts their absence in writing: without them a run would score
// people who objected, list families already in early help, or learn from
// no outcomes.
var SafetySources = []string{contract.Objections, contract.EarlyHelpEpisodes, contract.CSCReferrals}

var safetyWhy = map[string]string{
	contract.Objections:        "the run would score and list people who objected to profiling (UK GDPR Art. 21)",
	contract.EarlyHelpEpisodes: "the run would list families already in early help",
	contract.CSCReferrals:      "the run has no outcomes to learn from and would list families with an open social-care case",
}

func oneOf(v string, options ...string) bool {
	for _, o := range options {
		if v == o {
			return true
		}
	}
	return false
}

// Bounds of sources.<name>.expected_every: the ingest cannot see a file
// sooner than its own schedule allows, and nothing is delivered less often
// than the Indices of Deprivation (every few years).
const (
	minExpectedEvery = time.Hour
	maxExpectedEvery = 3660 * 24 * time.Hour
)

// validateExpectedEvery checks each source's expected_every, in the
// sources' order.
func (c *Config) validateExpectedEvery() error {
	for _, name := range c.SourceNames() {
		v := c.Sources[name].ExpectedEvery
		if v == "" {
			continue
		}
		d, err := ParseEvery(v)
		if err == nil && (d < minExpectedEvery || d > maxExpectedEvery) {
			err = fmt.Errorf("must be between 1h and 3660d")
		}
		if err != nil {
			return c.Errorf("sources."+name+".expected_every", "%q: %v", v, err)
		}
	}
	return nil
}

// checkColumnHeaders checks a source's column map on its own: every
// header named, and no header given to two columns (a file's column can
// only be one of them). Whether each key is a column of the source is
// CheckColumns', which needs the source's contract.
func (c *Config) checkColumnHeaders(key string, columns map[string]string) error {
	cols := make([]string, 0, len(columns))
	for col := range columns {
		cols = append(cols, col)
	}
	sort.Strings(cols)
	seen := map[string]string{}
	for _, col := range cols {
		h := strings.ToLower(strings.TrimSpace(columns[col]))
		if h == "" {
			return c.Errorf(key+".columns."+col, "needs the header the file writes for %s", col)
		}
		if other, ok := seen[h]; ok {
			return c.Errorf(key+".columns."+col, "header %q is already mapped to %s", columns[col], other)
		}
		seen[h] = col
	}
	return nil
}

// ParseEvery reads an expected_every value: whole days ("7d") or weeks
// ("2w"), which a council's extract schedule is written in, or a Go
// duration ("24h", "36h"). time.ParseDuration alone has no day unit.
func ParseEvery(v string) (time.Duration, error) {
	if n, unit := strings.TrimSuffix(v, "d"), 24*time.Hour; n != v {
		return wholeUnits(n, unit)
	}
	if n, unit := strings.TrimSuffix(v, "w"), 7*24*time.Hour; n != v {
		return wholeUnits(n, unit)
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("want whole days (7d), weeks (1w) or a duration such as 24h")
	}
	return d, nil
}

func wholeUnits(n string, unit time.Duration) (time.Duration, error) {
	k, err := strconv.Atoi(n)
	if err != nil || k < 0 || k > 100000 {
		return 0, fmt.Errorf("want whole days (7d), weeks (1w) or a duration such as 24h")
	}
	return time.Duration(k) * unit, nil
}

// ExpectedInterval is how often a new file of the source is expected: 0
// when expected_every is unset (no staleness alert) or invalid, which
// Validate refuses.
func (s Source) ExpectedInterval() time.Duration {
	if s.ExpectedEvery == "" {
		return 0
	}
	d, err := ParseEvery(s.ExpectedEvery)
	if err != nil {
		return 0
	}
	return d
}

// iodVintage reads model.iod_vintage as the deprivation source's vintage
// column spells it (IoD2019, IoD2025), so the feature set compares like
// with like; "" (the newest present) stays "". Only the releases the
// deprivation source can hold are accepted: any other year could never
// match a row.
func iodVintage(v string) (string, bool) {
	s := strings.TrimSpace(v)
	if len(s) == 7 && strings.EqualFold(s[:3], "iod") {
		s = s[3:]
	}
	switch s {
	case "":
		return "", v == ""
	case "2019", "2025":
		return "IoD" + s, true
	}
	return "", false
}

// CheckColumns reports a key of sources.<source>.columns that is not one
// of the source's contract columns (CONTRACTS §2), naming it and its
// line. The contract lives with the connectors, so the caller that wires
// them passes it in.
func (c *Config) CheckColumns(source string, contract []string) error {
	s, ok := c.Sources[source]
	if !ok {
		return nil
	}
	known := map[string]bool{}
	for _, col := range contract {
		known[col] = true
	}
	cols := make([]string, 0, len(s.Columns))
	for col := range s.Columns {
		cols = append(cols, col)
	}
	sort.Strings(cols)
	for _, col := range cols {
		if !known[col] {
			return c.Errorf("sources."+source+".columns."+col, "%q is not a column of %s (its columns: %s)", col, source, strings.Join(contract, ", "))
		}
	}
	return nil
}
