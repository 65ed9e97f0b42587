package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"earlyhelp/models/fairness"
	"earlyhelp/pipeline"
	"earlyhelp/pipeline/config"
	"earlyhelp/pipeline/rundir"
)

// auditConfig maps the configuration's audit section onto the audit's
// settings: reference groups per attribute, and the smallest group a
// verdict is given for.
func auditConfig(cfg *config.Config) fairness.Config {
	ac := fairness.DefaultConfig()
	// A what-if at a tenth of children: at a weekly capacity
	// of a few dozen families a group's recall rests on a handful of
	// children, and these show whether a difference holds further down
	// the ranking.
	ac.CapacityFractions = []float64{0.1}
	// No top-K what-if at the list's capacity: "selected" is the list at
	// capacity on each date already, and K over the backtest's pooled dates
	// would mean nothing.
	ac.Capacities = nil
	// The IoD vintage is the audited run's (runFacts); until it is
	// read, the manifest would say it is not known.
	ac.Provenance = fairness.Provenance{IoDVintage: "unknown", CodeVersion: codeVersion()}
	if cfg == nil {
		return ac
	}
	ac.Provenance.ConfigSHA256, ac.Provenance.HorizonWeeks = cfg.SHA256(), cfg.Model.HorizonWeeks
	for attr, ref := range cfg.Audit.Reference {
		ac.Reference[attr] = ref
	}
	if cfg.Audit.MinGroupSize > 0 {
		ac.MinDenVerdict = cfg.Audit.MinGroupSize
	}
	return ac
}

// auditHook is the run's audit stage: it audits the finished run folder,
// sets the fairness gauges and returns the headline for the manifest and
// the model card.
func auditHook(cfg *config.Config, m *pipeline.Metrics) func(context.Context, string) (string, error) {
	ac := auditConfig(cfg)
	// Weekly runs reusing a model audit the same backtest as the run that
	// trained it: its result is kept here and read back.
	ac.CacheDir = filepath.Join(cfg.DataDir, "cache", "audit")
	ac.Decisions = decisionRowsFor(cfg.DataDir)
	return func(ctx context.Context, runDir string) (string, error) {
		ac := ac // each run's own vintage
		vintage, reused := runFacts(runDir)
		ac.Provenance.IoDVintage, ac.FreshBacktest = vintage, !reused
		a, err := fairness.AuditRun(runDir, ac)
		if err != nil {
			return "", err
		}
		setFairnessGauges(m, a)
		return a.Headline(), nil
	}
}

func setFairnessGauges(m *pipeline.Metrics, a *fairness.RunAudit) {
	if m == nil {
		return
	}
	ratios, outside := a.Gauges()
	m.FairnessRatio.Reset()
	for _, g := range ratios {
		m.FairnessRatio.WithLabelValues(g.Attribute, g.Group, g.Metric).Set(g.Ratio)
	}
	m.FairnessOutside.Reset()
	for k, n := range outside {
		m.FairnessOutside.WithLabelValues(k[0], k[1]).Set(float64(n))
	}
}

// runAudit is `earlyhelp audit --run DIR`: it recomputes DIR/audit/ from the
// run's evaluation/scored_children.csv. Without --config, --bootstrap or
// --seed it takes the settings of DIR/audit/audit_manifest.json when there
// is one, so the audit is reproduced byte for byte.
func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fset := flag.NewFlagSet("audit", flag.ContinueOnError)
	dir := fset.String("run", "", "a finished run's folder, data_dir/runs/<run_id> (required)")
	cfgPath := fset.String("config", "", "configuration whose audit settings to use (default: the audit's defaults)")
	boot := fset.Int("bootstrap", -1, "bootstrap resamples (default 1000; 0 turns it off)")
	seed := fset.Uint64("seed", 0, "bootstrap seed (default: the audit's fixed seed)")
	var cf commonFlags
	cf.profiled(fset)
	if err := parseFlags(fset, args, stderr); err != nil {
		return err
	}
	if *dir == "" {
		return &usageError{"--run is required"}
	}
	if _, err := os.Stat(rundir.Open(*dir).ScoredChildrenCSV()); errors.Is(err, fs.ErrNotExist) {
		return &usageError{fmt.Sprintf("--run %s: no evaluation/scored_children.csv (is it a finished run's folder?)", *dir)}
	}
	var cfg *config.Config
	if *cfgPath != "" {
		var err error
		if cfg, err = config.Load(*cfgPath); err != nil {
			return err
		}
	}
	ac := auditConfig(cfg)
	ac.Provenance.IoDVintage, _ = runFacts(*dir)
	if cfg == nil && *boot < 0 && *seed == 0 {
		m, ok, err := fairness.ReadManifest(*dir)
		if err != nil {
			return err
		}
		if ok {
			m.Apply(&ac)
		}
	}
	if *boot >= 0 {
		ac.Bootstrap = *boot
	}
	if *seed != 0 {
		ac.Seed = *seed
	}
	// The decisions are the data folder's, as the run's audit read them:
	// runs/<id> sits in data_dir/runs.
	ac.Decisions = decisionRowsFor(rundir.Open(*dir).DataDir())
	stop, err := cf.profile()
	if err != nil {
		return err
	}
	defer stop()
	a, err := fairness.AuditRun(*dir, ac)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "fairness: %s\n", a.Headline())
	fmt.Fprintf(stdout, "audit written to %s\n", rundir.Open(*dir).AuditDir())
	return nil
}

// runFacts is what the audit takes from a run's manifest.json (written
// after each stage, so the run's own audit stage finds it): the IoD
// vintage its features used, "unknown" for a run that recorded none, and
// whether it reused a saved model, and with it the backtest that chose it
// (false when the manifest cannot tell).
func runFacts(runDir string) (vintage string, reused bool) {
	b, err := os.ReadFile(rundir.Open(runDir).ManifestPath())
	if err != nil {
		return "unknown", false
	}
	var m struct {
		IoDVintage string `json:"iod_vintage"`
		Model      struct {
			ReusedFrom string `json:"reused_from_run"`
		} `json:"model"`
	}
	if json.Unmarshal(b, &m) != nil {
		return "unknown", false
	}
	return cmp.Or(m.IoDVintage, "unknown"), m.Model.ReusedFrom != ""
}
