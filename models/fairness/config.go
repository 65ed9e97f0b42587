package fairness

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// Config holds the audit settings of §4.1 with their defaults in
// DefaultConfig. Audit validates it; the zero Config is invalid on purpose so
// a forgotten field cannot silently turn off a verdict rule.
type Config struct {
	// Attributes to audit, in output order. DefaultAttributes gives the
	// §4.1 set: ethnicity5, ethnicity19, imd_decile, imd_quintile and the
	// ethnicity5×imd_quintile intersection.
	Attributes []Attribute
	// Reference per attribute name: "largest" (default), "overall",
	// "predefined:<group>" or just "<group>" (CONTRACTS §3 writes Q5).
	Reference map[string]string
	// Capacities are top-K what-ifs; CapacityFractions are rank_pct what-ifs
	// with K = floor(p·n); Thresholds select score >= t (§4.3).
	Capacities        []int
	CapacityFractions []float64
	Thresholds        []float64
	// Tau = TauNum/TauDen, the tolerance band [τ, 1/τ], inclusive (§4.6.3).
	TauNum, TauDen int64
	MinDenDisplay  int // 10: rates with smaller denominators are not published
	MinDenVerdict  int // 30: the brief's MinGroupSize; below it a verdict is insufficient_data
	SuppressMax    int // 5: counts 1..SuppressMax are published as c
	Secondary      bool
	// CalibrationBins is the number of uniform, right-closed bins (§4.8).
	CalibrationBins int
	// Bootstrap is B (0 turns the bootstrap off); Seed seeds PCG.
	Bootstrap int
	Seed      uint64
	CILevel   float64
	// Haldane adds 0.5 to each cell of a Katz ratio's 2×2 table instead of
	// returning zero_count (§4.5, optional variant).
	Haldane bool
	// Workers bounds bootstrap parallelism; 0 means GOMAXPROCS. Results do
	// not depend on it.
	Workers int
	// Decisions, when set, gives the run's listed households with their
	// latest navigators' decisions (locality included); AuditRun fills in
	// each one's ethnicity5 and IMD quintile from this week's rows and
	// audits the decisions by group (audit/decisions.csv).
	Decisions func(runDir string) ([]DecisionRow, error) `json:"-"`
	// CacheDir, when set, keeps AuditRun's backtest audit by a digest of
	// its rows and settings, so a weekly run over the same backtest reads
	// it back instead of bootstrapping again (see cache.go).
	CacheDir string
	// FreshBacktest says the run's backtest was made in that run, so the
	// cache is unlikely to hold its audit: AuditRun then reads the scored
	// rows while it digests the file for the cache's key, instead of after
	// (a second at 300,000 children). A cache that holds it anyway is
	// still used.
	FreshBacktest bool
	// Provenance is recorded in audit_manifest.json and used in nothing.
	Provenance Provenance
}

// DefaultConfig returns the §4.1 defaults.
func DefaultConfig() Config {
	return Config{
		Attributes:      DefaultAttributes(),
		Reference:       map[string]string{},
		TauNum:          4,
		TauDen:          5,
		MinDenDisplay:   10,
		MinDenVerdict:   30,
		SuppressMax:     5,
		Secondary:       true,
		CalibrationBins: 10,
		Bootstrap:       1000,
		Seed:            20240101,
		CILevel:         0.95,
	}
}

func (c *Config) validate() error {
	var errs []error
	if len(c.Attributes) == 0 {
		errs = append(errs, errors.New("attributes: none"))
	}
	seen := map[string]bool{}
	for _, a := range c.Attributes {
		if a.Name == "" || a.of == nil || len(a.Groups) == 0 {
			errs = append(errs, fmt.Errorf("attribute %q: build it with NewAttribute or Intersect", a.Name))
		}
		if seen[a.Name] {
			errs = append(errs, fmt.Errorf("attribute %q: listed twice", a.Name))
		}
		seen[a.Name] = true
	}
	for name, ref := range c.Reference {
		if !seen[name] {
			errs = append(errs, fmt.Errorf("reference: unknown attribute %q", name))
			continue
		}
		if ref == "largest" || ref == "overall" {
			continue
		}
		g := strings.TrimPrefix(ref, "predefined:")
		if a := c.attribute(name); a.groupIndex(g) < 0 || g == Unknown {
			errs = append(errs, fmt.Errorf("reference %s: %q is not a known group", name, ref))
		}
	}
	for _, k := range c.Capacities {
		if k < 0 {
			errs = append(errs, fmt.Errorf("capacities: %d is negative", k))
		}
	}
	for _, p := range c.CapacityFractions {
		if !(p >= 0 && p <= 1) {
			errs = append(errs, fmt.Errorf("capacity_fractions: %v outside [0,1]", p))
		}
	}
	if c.TauNum <= 0 || c.TauDen <= 0 || c.TauNum > c.TauDen {
		errs = append(errs, fmt.Errorf("tau %d/%d: want 0 < tau <= 1", c.TauNum, c.TauDen))
	}
	if c.MinDenDisplay < 0 || c.MinDenVerdict < 0 || c.SuppressMax < 0 {
		errs = append(errs, errors.New("min_den_display, min_den_verdict and suppress_max must be >= 0"))
	}
	if c.CalibrationBins < 1 {
		errs = append(errs, fmt.Errorf("calibration_bins %d: want >= 1", c.CalibrationBins))
	}
	if c.Bootstrap < 0 {
		errs = append(errs, fmt.Errorf("bootstrap %d: want >= 0", c.Bootstrap))
	}
	if !(c.CILevel > 0 && c.CILevel < 1) {
		errs = append(errs, fmt.Errorf("ci_level %v: want in (0,1)", c.CILevel))
	}
	return errors.Join(errs...)
}

func (c *Config) attribute(name string) *Attribute {
	for i := range c.Attributes {
		if c.Attributes[i].Name == name {
			return &c.Attributes[i]
		}
	}
	return nil
}

// z is the normal quantile for the CI level; §4.5 fixes the 95% value, which
// we use verbatim so golden numbers do not move in the last digit.
func (c *Config) z() float64 {
	if c.CILevel == 0.95 {
		return 1.959963984540054
	}
	return math.Sqrt2 * math.Erfinv(c.CILevel)
}

// settings is the config as recorded in audit.json; attributes by name
// because their key functions are code, not data.
func (c *Config) settings() map[string]any {
	names := make([]string, len(c.Attributes))
	for i, a := range c.Attributes {
		names[i] = a.Name
	}
	return map[string]any{
		"attributes": names, "reference": c.Reference, "capacities": c.Capacities,
		"capacity_fractions": c.CapacityFractions, "thresholds": c.Thresholds,
		"tau": fmt.Sprintf("%d/%d", c.TauNum, c.TauDen), "min_den_display": c.MinDenDisplay,
		"min_den_verdict":  c.MinDenVerdict,
		"sdc":              map[string]any{"suppress_max": c.SuppressMax, "secondary": c.Secondary, "round_base": 0},
		"calibration_bins": c.CalibrationBins, "calibration_strategy": "uniform",
		"bootstrap": map[string]any{"B": c.Bootstrap, "seed": c.Seed, "prng": "math/rand/v2 PCG(seed, resample index)",
			"resamples": "households, all their child-dates together, within each group"},
		"units": map[string]string{
			"child":     "selection_rate, share_of_selected, prevalence, tpr, fnr, accuracy: the child's own outcome",
			"household": "ppv, fdr, fpr, tnr, for, npv, calibration, auc: the household's outcome (any child referred), on each child row",
		},
		"findings": "finding when the ratio's interval lies wholly outside the band; inconclusive when it crosses it; within when point and interval are inside; Benjamini–Hochberg over each decision's comparisons",
		"ci_level": c.CILevel, "haldane": c.Haldane,
		"rank_pct_rule": "K = floor(p·n) on p's shortest decimal form",
		"tie_rule":      "sort by (score desc, id asc); select exactly K",
	}
}
