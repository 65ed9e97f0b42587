package main

import (
	"context"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"earlyhelp/connectors"
	"earlyhelp/connectors/csvdir"
	"earlyhelp/connectors/parquetdir"
	"earlyhelp/connectors/postgres"
	"earlyhelp/features"
	"earlyhelp/features/attendance"
	"earlyhelp/features/health"
	"earlyhelp/features/housing"
	"earlyhelp/features/rules"
	"earlyhelp/models"
	"earlyhelp/models/evaluate"
	"earlyhelp/models/fairness"
	"earlyhelp/pipeline"
	"earlyhelp/pipeline/config"
	"earlyhelp/pipeline/contract"
	"earlyhelp/pipeline/export"
	"earlyhelp/pipeline/ingest"
	"earlyhelp/pipeline/rank"
	"earlyhelp/pipeline/store"
	"earlyhelp/pipeline/train"
)

// Training defaults: every snapshot four weeks apart whose outcome is known
// (up to 21, over 80 weeks: all of two years' history once a horizon and
// half a year are set aside), none with less than half a year of stored
// history behind it, so that the 52-week attendance figures mean something.
const (
	trainingSnapshots = 20
	snapshotStepWeeks = 4
	minHistoryWeeks   = 26
	// maxTrainingRows bounds a model's training rows: beyond it every row
	// with the outcome is kept and a share of the rest (issue 25). The
	// demo council's 103,000 rows are under it and untouched. Model fits
	// were 42% of a 300,000-child cold run's CPU, in proportion to their
	// rows. On 60,000-child councils, bounding at 100,000 rows (a third to
	// a half of each fold's) moved the chosen model's AUC by at most 0.001
	// and its AUC within IMD deciles 1–2 not at all, on the school and home
	// worlds; 200,000 keeps a margin.
	maxTrainingRows = 200_000
	// ridgeCPerRow is logistic_ridge's C per training row: a fold of a
	// 20,000-child council trains on 30,000–60,000 rows, so C is 1.3e-4 to
	// 2.7e-4 there. Chosen by the backtest over three seeds of each world
	// (issue 16): with a fixed C of 1e-4 or 3e-4 beside logistic_l1, the
	// chosen model's precision@60 on the home world rose from a mean of
	// 0.116 to 0.14 and fell on no seed of any world. Alone it ranks worse
	// (AUC 0.01–0.03 lower): it is a candidate, not the model.
	ridgeCPerRow = 8
	// signedCPerRow is logistic_signed's C per training row: a light
	// penalty (about 3% of a weight's pull at the demo's size), since it is
	// the bounds, not the penalty, that keep its weights from chasing
	// noise. Over five seeds of each world (issue 16), C per row 100 and
	// 1000 gave the same means within 0.005 of AUC and precision@60 on the
	// home world.
	signedCPerRow = 1000
)

// keyEnv holds the pseudonym key (hex) when no key file is configured.
const keyEnv = "EARLYHELP_PSEUDONYM_KEY"

// pseudonymiser loads the key from the configured file or the environment.
func pseudonymiser(cfg *config.Config) (*connectors.Pseudonymiser, error) {
	var key []byte
	var err error
	switch {
	case cfg.PseudonymKeyFile != "":
		key, err = connectors.LoadKey(cfg.PseudonymKeyFile)
	case os.Getenv(keyEnv) != "":
		env := strings.TrimSpace(os.Getenv(keyEnv))
		if key, err = hex.DecodeString(env); err != nil {
			err = fmt.Errorf("%s is not hex", keyEnv)
		}
	default:
		return nil, cfg.Errorf("pseudonym_key_file", "is required (or set %s)", keyEnv)
	}
	if err != nil {
		return nil, fmt.Errorf("pseudonym key: %w", err)
	}
	return connectors.NewPseudonymiser(key)
}

// sources builds one connector per configured source: one switch per kind
// of plug-in, so every wiring decision can be found here.
func sources(cfg *config.Config, p *connectors.Pseudonymiser) ([]pipeline.SourceSpec, error) {
	var out []pipeline.SourceSpec
	for _, name := range cfg.SourceNames() {
		sc := cfg.Sources[name]
		spec, err := connectors.Lookup(name)
		if err != nil {
			return nil, cfg.Errorf("sources."+name, "%v", err)
		}
		if err := cfg.CheckColumns(name, spec.ColumnNames()); err != nil {
			return nil, err
		}
		var src pipeline.Source
		switch sc.Kind {
		case "csvdir":
			src, err = csvdir.New(csvdir.Config{
				Path: sc.Path, Encoding: sc.Encoding, BalanceSign: sc.BalanceSign,
				Columns: sc.Columns, Delimiter: sc.Delimiter,
			}, spec, p)
		case "parquetdir":
			src, err = parquetdir.New(parquetdir.Config{Path: sc.Path, BalanceSign: sc.BalanceSign}, spec, p)
		case "postgres":
			src, err = postgres.New(postgres.Config{DSNEnv: sc.DSNEnv, Query: sc.Query, BalanceSign: sc.BalanceSign}, spec, p)
		default:
			err = fmt.Errorf("kind %q is not supported by this build", sc.Kind)
		}
		if err != nil {
			return nil, cfg.Errorf("sources."+name, "%v", err)
		}
		out = append(out, pipeline.SourceSpec{Name: name, Columns: spec.ColumnNames(), Source: src, ExpectedEvery: sc.ExpectedInterval()})
	}
	return out, nil
}

// The store is the features' Tables as it is, unwrapped: this keeps its
// ScanSince reaching the attendance builder, which would silently fall
// back to reading every delivery if a wrapper hid it.
var _ features.SinceScanner = (*store.Store)(nil)

// scoreGCPercent is the collector's GOGC from the score stage on (see
// runSetup.run).
const scoreGCPercent = 30

// runSetup is everything a batch run needs, wired from a config: the
// loop's options and each stage's own configuration, which a command may
// adjust (retrain, a backtest window, stop after ingest) before run.
type runSetup struct {
	opts       pipeline.Options
	ingest     ingest.Config
	train      train.Config
	rank       rank.Config
	audit      func(ctx context.Context, runDir string) (headline string, err error)
	governance func(ctx context.Context, in pipeline.GovernanceInput) (*pipeline.ShouldRun, error)
	// only, when "ingest" or "backtest", stops the run after that stage:
	// the nightly ingest job and earlyhelp backtest.
	only string
	// memLimit is backtest.max_memory in bytes (0: none), the process's
	// soft memory limit while the run goes.
	memLimit int64

	// attendance is the run's attendance builder and features its feature
	// set: how they read the attendance index and the roster is logged
	// once the run ends.
	attendance *attendance.Builder
	features   *features.Set

	store  *store.Store
	reg    *prometheus.Registry
	unlock func()
}

// stages lists the run's stages in order, each with its configuration.
func (s *runSetup) stages() ([]pipeline.Stage, error) {
	out := []pipeline.Stage{ingest.New(s.ingest)}
	if s.only == "ingest" {
		return out, nil
	}
	tr, err := train.New(s.train)
	if err != nil {
		return nil, err
	}
	out = append(out, tr...)
	if s.only == "backtest" {
		return out[:2], nil
	}
	sc, err := rank.New(s.rank)
	if err != nil {
		return nil, err
	}
	out = append(out, sc)
	if s.audit != nil {
		out = append(out, pipeline.Audit(s.audit))
	}
	if s.governance != nil {
		out = append(out, pipeline.Governance(s.governance))
	}
	return out, nil
}

// run runs the wired stages.
func (s *runSetup) run(ctx context.Context) (*pipeline.Manifest, error) {
	// A run that will train reads the whole attendance history for its
	// backtest; it starts once attendance has loaded, on a core the
	// smaller sources after it leave idle (a third of the last 12 s of a
	// 300,000-child council's ingest). It is stopped and waited for
	// when the run ends, however it ends.
	var early sync.WaitGroup
	earlyCtx, stopEarly := context.WithCancel(ctx)
	defer func() { stopEarly(); early.Wait() }()
	if s.attendance != nil && s.only != "ingest" {
		s.ingest.Ingested = func(_ context.Context, st *pipeline.State, source string) {
			if source != attendance.Source {
				return
			}
			early.Go(func() {
				if trains, err := train.Trains(earlyCtx, s.train, st); err != nil || !trains {
					return // the backtest stage says why, or reuses the model
				}
				start := time.Now()
				if err := s.attendance.PreloadHistory(earlyCtx); err != nil {
					st.Log.Debug().Err(err).Msg("attendance history not read ahead; the backtest reads it")
					return
				}
				st.Log.Info().Float64("seconds", time.Since(start).Seconds()).Msg("attendance history read ahead for the backtest")
			})
		}
	}
	stages, err := s.stages()
	if err != nil {
		return nil, fmt.Errorf("run options: %w", err)
	}
	opts := s.opts
	opts.Stages, opts.Job = stages, s.only
	if s.memLimit > 0 {
		// Process-wide, so put back what was there (GOMEMLIMIT's, or
		// none) for whatever the process does next.
		prev := debug.SetMemoryLimit(s.memLimit)
		defer debug.SetMemoryLimit(prev)
		opts.Log.Info().Int64("bytes", s.memLimit).Msg("soft memory limit set from backtest.max_memory")
	}
	if os.Getenv("GOGC") == "" {
		// From scoring on, a run holds one date's features, read in a few
		// seconds from much more that is soon garbage: at 300,000 children
		// a weekly run peaked at 1.85 GB with the default (100), 1.5 at 50
		// and 1.35-1.38 at 30, for half a second more each time. A run
		// that trained keeps the default: its peak is its backtest's live
		// data, which a tighter collector afterwards does not lower, and
		// at 30 its audit took 17.2-17.5 s against 15.5-15.6. An
		// operator's GOGC is left alone.
		gcBefore := -1 // to put back, once scoring set its own
		on := opts.OnStage
		opts.OnStage = func(stage string, done bool, st *pipeline.State) {
			if stage == "score" && !done && st.Reused != nil {
				gcBefore = debug.SetGCPercent(scoreGCPercent)
			}
			if on != nil {
				on(stage, done, st)
			}
		}
		defer func() {
			if gcBefore >= 0 {
				debug.SetGCPercent(gcBefore)
			}
		}()
	}
	man, err := pipeline.Run(ctx, opts)
	s.logCacheReads()
	return man, err
}

// logCacheReads says whether the attendance index and the roster came
// from the store's cache, so an engineer can tell why a weekly run was
// slow.
func (s *runSetup) logCacheReads() {
	if s.features != nil {
		r := s.features.RosterRead()
		if r.Cached {
			s.opts.Log.Info().Msg("roster read from the store's cache")
		}
		if r.CacheErr != nil {
			s.opts.Log.Warn().Err(r.CacheErr).Msg("roster read from the store: its cache could not be used")
		}
		if r.KeepErr != nil {
			s.opts.Log.Warn().Err(r.KeepErr).Msg("roster not cached: the next run reads the store")
		}
	}
	if s.attendance == nil {
		return
	}
	r := s.attendance.LastRead()
	switch {
	case r.Resumed:
		s.opts.Log.Info().Int("new_deliveries", r.NewDeliveries).Msg("attendance index resumed from the store's cache with the deliveries since")
	case r.CacheErr != nil:
		s.opts.Log.Warn().Err(r.CacheErr).Msg("attendance index read from the store in full: its cache could not be used")
	}
	if r.KeepErr != nil {
		s.opts.Log.Warn().Err(r.KeepErr).Msg("attendance index not cached: the next weekly run reads the store in full")
	}
}

// setupRun opens the store, takes its lock, reserves a run folder and wires
// the plug-ins. The caller calls unlock when the run ends.
func setupRun(cfg *config.Config, asOf time.Time, log zerolog.Logger, now func() time.Time, mem memory.Allocator) (*runSetup, error) {
	p, err := pseudonymiser(cfg)
	if err != nil {
		return nil, err
	}
	srcs, err := sources(cfg, p)
	if err != nil {
		return nil, err
	}
	st, err := store.Open(cfg.DataDir, now)
	if err != nil {
		return nil, err
	}
	unlock, err := st.Lock()
	if err != nil {
		return nil, err
	}
	// Holding the lock, any run still "running" was left by a process that
	// died: say so in its manifest rather than leave it running forever.
	if n, err := st.MarkAbandoned(); err != nil {
		log.Warn().Err(err).Msg("marking abandoned runs")
	} else if n > 0 {
		log.Warn().Int("runs", n).Msg("runs left running by a dead process marked abandoned")
	}
	id, dir, err := st.NewRun(now())
	if err != nil {
		unlock()
		return nil, err
	}
	reg := prometheus.NewRegistry()
	metrics, err := pipeline.NewMetrics(reg)
	if err != nil {
		unlock()
		return nil, err
	}
	exp, err := export.New(st)
	if err != nil {
		unlock()
		return nil, err
	}
	schools, err := readSchools(cfg.List.SchoolsFile)
	if err != nil {
		unlock()
		return nil, cfg.Errorf("list.schools_file", "%v", err)
	}
	exp.WithPack(cfg.List.ProtectiveMarking, schools)
	cands, err := candidates(cfg)
	if err != nil {
		unlock()
		return nil, err
	}
	var comparisons []pipeline.Candidate
	deprived := ""
	if *cfg.Model.UseDeprivation {
		deprived = features.FeatAreaDeprivation
		comparisons = withoutDeprivation(cands)
	}
	gov, err := governanceHook(cfg)
	if err != nil {
		unlock()
		return nil, err
	}
	listRules := pipeline.ListRules{
		CooloffWeeks: cfg.List.CooloffWeeks, Quotas: cfg.List.LocalityQuotas, KeepMargin: cfg.List.KeepMargin,
		VeryHigh: cfg.List.Bands.VeryHigh, High: cfg.List.Bands.High,
		Lottery: lotteryOf(cfg),
	}
	att := attendance.New(st, mem)
	fs := features.NewSet(st, features.Options{UseDeprivation: *cfg.Model.UseDeprivation, IoDVintage: cfg.Model.IodVintage, RunDate: asOf, RosterCache: st},
		att, health.New(st, mem), housing.New(st, mem))
	setup := &runSetup{
		opts: pipeline.Options{
			RunID: id, RunDir: dir, AsOf: asOf, Council: cfg.Council,
			CodeVersion: codeVersion(), ConfigSHA256: cfg.SHA256(),
			MissingSourcesAccepted: cfg.MissingSourcesAccepted,
			Features:               fs, HorizonWeeks: cfg.Model.HorizonWeeks,
			Mem: mem, Log: log, Metrics: metrics, Gatherer: reg, Now: now,
		},
		ingest: ingest.Config{
			Sources: srcs, Store: st, MaxQuarantineRatio: *cfg.MaxQuarantineRatio,
			MaxNulledRatio: *cfg.MaxNulledRatio,
		},
		train: train.Config{
			Candidates: cands, Rules: rules.New(), Calibrate: calibrate,
			Comparisons: comparisons, DeprivedFeature: deprived,
			Snapshots: trainingSnapshots, StepWeeks: snapshotStepWeeks, MinHistoryWeeks: minHistoryWeeks, MaxTrainingRows: maxTrainingRows,
			Evaluate: evaluate.Compute, Capacity: cfg.List.Capacity, ListRules: listRules,
			Models: newFileModels(cfg.DataDir),
		},
		rank: rank.Config{
			Capacity: cfg.List.Capacity, Exporter: exp, ListRules: listRules,
			Reasons:          rank.ReasonRules{MaxAgeWeeks: cfg.List.ReasonMaxAgeWeeks, SafetyText: cfg.List.ContactSafety},
			Ethnicity5:       func(code string) string { g, _ := fairness.GroupOf5(code); return g },
			Decisions:        decisionsFor(cfg.DataDir),
			RecordAllocation: allocationRecorder(cfg.DataDir, now),
			Allocations:      pastAllocations(cfg.DataDir), CompareArms: compareArms,
		},
		audit:      auditHook(cfg, metrics),
		governance: gov,
		store:      st, reg: reg, unlock: unlock,
		memLimit: cfg.Backtest.MaxMemoryBytes(), attendance: att, features: fs,
	}
	return setup, nil
}

// candidates builds a trainer per configured model name.
func candidates(cfg *config.Config) ([]pipeline.Candidate, error) {
	var out []pipeline.Candidate
	for _, name := range cfg.Model.Candidates {
		var c pipeline.Candidate
		switch name {
		case "logistic":
			c = logistic(models.LogisticTrainer{})
		case "logistic_l1":
			c = logistic(models.LogisticTrainer{Penalty: models.PenaltyL1})
		case "logistic_ridge":
			c = logistic(models.LogisticTrainer{CPerRow: ridgeCPerRow})
		case "logistic_signed":
			c = logistic(models.LogisticTrainer{CPerRow: signedCPerRow, NonNegative: contract.RaisesNeed})
		case "forest":
			c = pipeline.Candidate{Trainer: models.ForestTrainer{Seed: 1}}
		default:
			return nil, cfg.Errorf("model.candidates", "%q is not a model this build can train", name)
		}
		c.Name = name
		out = append(out, c)
	}
	return out, nil
}

// logistic is a logistic candidate whose backtest fits start from the
// fold before's.
func logistic(t models.LogisticTrainer) pipeline.Candidate {
	return pipeline.Candidate{Trainer: t, StartFrom: t.StartFrom}
}

// withoutDeprivation is the comparison the backtest reports beside the
// candidates: the first candidate (by default logistic_signed, the model
// most often chosen) trained without area deprivation. One model, not one
// per candidate: the comparison is there to show what the family's own
// signals add, and each costs a backtest's worth of fits.
func withoutDeprivation(cands []pipeline.Candidate) []pipeline.Candidate {
	if len(cands) == 0 {
		return nil
	}
	base := cands[0]
	left := []string{features.FeatAreaDeprivation}
	c := pipeline.Candidate{
		Name:    base.Name + "_without_deprivation",
		Trainer: models.Without{Trainer: base.Trainer, Features: left},
	}
	if base.StartFrom != nil {
		c.StartFrom = func(prev pipeline.Model) pipeline.Trainer {
			return models.Without{Trainer: base.StartFrom(prev), Features: left}
		}
	}
	return []pipeline.Candidate{c}
}

// calibrate fits Platt scaling to a model's probabilities and isotonic
// steps to the rules baseline's flag counts, whose few values Platt's curve
// would smooth over.
func calibrate(ctx context.Context, m pipeline.Model, feats arrow.Record, labels []bool, weights []float64) (pipeline.Model, error) {
	method := models.Platt
	if _, ok := m.(rules.Model); ok {
		method = models.Isotonic
	}
	return models.CalibrateWeighted(ctx, m, feats, labels, weights, method)
}

// codeVersion names the build: the module version, or the VCS revision
// when the binary was built from a checkout with VCS stamping.
func codeVersion() string {
	v := readVersion()
	out := v.Module
	if v.Revision != "" {
		out += "+" + v.Revision[:min(12, len(v.Revision))]
		if v.Modified {
			out += "-dirty"
		}
	}
	return out + " " + v.Go
}

// linkedRevision and linkedModified are set by the Dockerfile's -ldflags
// (-X main.linkedRevision=...) where the build has no .git to read.
var linkedRevision, linkedModified string

// buildVersion is what `earlyhelp version` prints.
type buildVersion struct {
	Module, Go, Revision, Time string
	Modified                   bool
}

func readVersion() buildVersion {
	v := buildVersion{Module: "unknown", Revision: linkedRevision, Modified: linkedModified == "true"}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	v.Module, v.Go = bi.Main.Version, bi.GoVersion
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Revision = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		case "vcs.time":
			v.Time = s.Value
		}
	}
	return v
}

// runVersion is `earlyhelp version`: the module version, the VCS revision
// the binary was built from (and whether the tree had changes), and Go's.
func runVersion(_ context.Context, _ []string, stdout, _ io.Writer) error {
	v := readVersion()
	rev := v.Revision
	if rev == "" {
		rev = "unknown (built without VCS information: use go build in a git checkout, or -ldflags -X main.linkedRevision=...)"
	} else if v.Modified {
		rev += " (with uncommitted changes)"
	}
	fmt.Fprintf(stdout, "earlyhelp %s\nrevision %s\n", v.Module, rev)
	if v.Time != "" {
		fmt.Fprintf(stdout, "committed %s\n", v.Time)
	}
	fmt.Fprintf(stdout, "go %s\n", v.Go)
	return nil
}

// logger builds the zerolog logger: console by default, JSON when asked.
func logger(w io.Writer, format, level string) (zerolog.Logger, error) {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil {
		return zerolog.Logger{}, &usageError{fmt.Sprintf("--log-level %q: %v", level, err)}
	}
	// A run's stages log from several goroutines at once (the backtest's
	// folds); a writer other than a file (a buffer, a pipe wrapper) may not
	// take concurrent writes, so they are made one at a time.
	w = zerolog.SyncWriter(w)
	switch format {
	case "json":
		return zerolog.New(w).Level(lvl).With().Timestamp().Logger(), nil
	case "console", "":
		cw := zerolog.ConsoleWriter{Out: w, TimeFormat: time.TimeOnly, NoColor: true}
		return zerolog.New(cw).Level(lvl).With().Timestamp().Logger(), nil
	}
	return zerolog.Logger{}, &usageError{fmt.Sprintf("--log-format %q: want console or json", format)}
}

// readSchools reads the council's school lookup (list.schools_file: CSV
// with columns urn and name), so family pages can name a child's school.
// No file configured gives none.
func readSchools(path string) (map[string]string, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cr := csv.NewReader(f)
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("schools file header: %w", err)
	}
	iu, in := -1, -1
	for i, h := range header {
		switch strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))) {
		case "urn":
			iu = i
		case "name":
			in = i
		}
	}
	if iu < 0 || in < 0 {
		return nil, fmt.Errorf("schools file: want columns urn and name")
	}
	out := map[string]string{}
	for n := 2; ; n++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("schools file: row %d: %w", n, err)
		}
		out[strings.TrimSpace(rec[iu])] = strings.TrimSpace(rec[in])
	}
}
