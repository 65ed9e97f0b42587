package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"sort"
	"strconv"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/rs/zerolog"

	"earlyhelp/connectors"
	"earlyhelp/pipeline"
	"earlyhelp/pipeline/config"
	"earlyhelp/pipeline/rundir"
)

// commonFlags are the flags every pipeline command takes.
type commonFlags struct {
	configPath string
	logFormat  string
	logLevel   string
	cpuProfile string
	memProfile string
}

// withConfig adds the --config flag, for commands that read a council's
// configuration.
func (c *commonFlags) withConfig(fs *flag.FlagSet) {
	fs.StringVar(&c.configPath, "config", "", "configuration file (required)")
}

// load checks --config was given, then builds the logger and loads the
// configuration.
func (c *commonFlags) load(stderr io.Writer) (*config.Config, zerolog.Logger, error) {
	if c.configPath == "" {
		return nil, zerolog.Logger{}, &usageError{"--config is required"}
	}
	log, err := logger(stderr, c.logFormat, c.logLevel)
	if err != nil {
		return nil, zerolog.Logger{}, err
	}
	cfg, err := config.Load(c.configPath)
	if err != nil {
		return nil, zerolog.Logger{}, err
	}
	return cfg, log, nil
}

func (c *commonFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.logFormat, "log-format", "console", "log format on stderr: console or json")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn, error")
}

// parseFlags parses args, turning flag errors into usage errors.
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) error {
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return &usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}

func parseDate(flagName, s string) (time.Time, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, &usageError{fmt.Sprintf("--%s %q: want a date as yyyy-mm-dd", flagName, s)}
	}
	return t, nil
}

func runRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	asOfFlag := fs.String("as-of", "", "as-of date yyyy-mm-dd (default today)")
	retrain := fs.Bool("retrain", false, "train a new model even if the saved one is recent enough")
	pushURL := fs.String("pushgateway", "", "Prometheus Pushgateway URL to push the run's metrics to (job \"earlyhelp\")")
	var cf commonFlags
	cf.withConfig(fs)
	cf.register(fs)
	cf.profiled(fs)
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if cf.configPath == "" {
		return &usageError{"--config is required"}
	}
	asOf := time.Now().UTC().Truncate(24 * time.Hour)
	if *asOfFlag != "" {
		var err error
		if asOf, err = parseDate("as-of", *asOfFlag); err != nil {
			return err
		}
	}
	cfg, log, err := cf.load(stderr)
	if err != nil {
		return err
	}
	stop, err := cf.profile()
	if err != nil {
		return err
	}
	defer stop()
	man, err := batchPush(ctx, cfg, asOf, log, *pushURL, func(o *runSetup) { o.train.Retrain = *retrain })
	if man != nil {
		fmt.Fprintf(stdout, "run %s %s: %s\n", man.RunID, man.Status, rundir.ForID(cfg.DataDir, man.RunID).Dir)
	}
	return err
}

// batch runs the pipeline once for cfg.
// with, if set, adjusts the wired options.
func batch(ctx context.Context, cfg *config.Config, asOf time.Time, log zerolog.Logger, with func(*runSetup)) (*pipeline.Manifest, error) {
	setup, err := setupRun(cfg, asOf, log, time.Now, memory.DefaultAllocator)
	if err != nil {
		return nil, err
	}
	defer setup.unlock()
	if with != nil {
		with(setup)
	}
	defer returnMemory()
	return setup.run(ctx)
}

// returnMemory gives the operating system back the heap a finished run
// freed. The runtime returns it only gradually, so a daemon that had just
// retrained (9 GB at 300,000 children) held most of that all week, and the
// next run's peak came on top of what the last one left behind.
func returnMemory() { debug.FreeOSMemory() }

func runIngest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ingest", flag.ContinueOnError)
	var cf commonFlags
	cf.withConfig(fs)
	cf.register(fs)
	cf.profiled(fs)
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	cfg, log, err := cf.load(stderr)
	if err != nil {
		return err
	}
	stop, err := cf.profile()
	if err != nil {
		return err
	}
	defer stop()
	now := time.Now().UTC()
	setup, err := setupRun(cfg, now, log, time.Now, memory.DefaultAllocator)
	if err != nil {
		return err
	}
	defer setup.unlock()
	setup.only = "ingest"
	man, err := setup.run(ctx)
	if man != nil {
		for _, name := range cfg.SourceNames() {
			if s := man.Sources[name]; s != nil {
				fmt.Fprintf(stdout, "%-24s read %d, loaded %d, quarantined %d\n", name, s.Read, s.Loaded, s.Quarantined)
			}
		}
		fmt.Fprintf(stdout, "ingest %s %s: %s\n", man.RunID, man.Status, rundir.ForID(cfg.DataDir, man.RunID).Dir)
	}
	return err
}

func runValidate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "configuration file (required)")
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if *cfgPath == "" {
		return &usageError{"--config is required"}
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	p, err := pseudonymiser(cfg)
	if err != nil {
		return err
	}
	srcs, err := sources(cfg, p)
	if err != nil {
		return err
	}
	// Every file is read through its connector exactly as a run would, into
	// a sink that only counts: nothing is written anywhere.
	for _, s := range srcs {
		d := &dryRun{}
		if err := s.Source.Read(ctx, memory.DefaultAllocator, d); err != nil {
			var he *connectors.HeaderError
			if errors.As(err, &he) {
				printColumnMap(stdout, s.Name, cfg.Sources[s.Name].Columns, he)
			}
			return fmt.Errorf("%s: %w", s.Name, err)
		}
		fmt.Fprintf(stdout, "%-24s files %d, rows read %d, would load %d, would quarantine %d\n",
			s.Name, d.files, d.read, d.loaded, d.rejected)
		if d.skipped > 0 || d.mojibake > 0 {
			fmt.Fprintf(stdout, "%-24s lines skipped (preamble, summary) %d, rows that look doubly encoded %d\n",
				s.Name, d.skipped, d.mojibake)
		}
		if d.nulled > 0 {
			fmt.Fprintf(stdout, "%-24s unreadable optional cells that would be stored as null (rows kept) %d\n", s.Name, d.nulled)
		}
	}
	fmt.Fprintf(stdout, "%s is valid\n", cfg.File())
	return nil
}

// printColumnMap prints, for a source whose header did not match, the
// columns: map to check and paste under sources.<name> (block style): the
// config's own entries and the closest header of each column that matched
// none. A column with nothing close is left as a comment to fill in.
func printColumnMap(w io.Writer, source string, have map[string]string, he *connectors.HeaderError) {
	m := map[string]string{}
	for col, h := range have {
		m[col] = h
	}
	for col, h := range he.Suggested {
		if _, ok := m[col]; !ok {
			m[col] = h
		}
	}
	fmt.Fprintf(w, "%s: the file's headers do not match the contract's columns. Suggested map: check each header, then put it under sources.%s in the config:\n", source, source)
	fmt.Fprintln(w, "    columns:")
	cols := make([]string, 0, len(m))
	for col := range m {
		cols = append(cols, col)
	}
	sort.Strings(cols)
	for _, col := range cols {
		fmt.Fprintf(w, "      %s: %s\n", col, strconv.Quote(m[col]))
	}
	for _, col := range he.Missing {
		if _, ok := m[col]; !ok {
			fmt.Fprintf(w, "      # %s: \"?\"  (no header is close: which of the file's columns is it?)\n", col)
		}
	}
}

// dryRun is a pipeline.Sink that counts and keeps nothing.
type dryRun struct {
	files                          int
	read, loaded, rejected, inFile int64
	skipped, mojibake              int64
	nulled                         int64 // optional cells unreadable, rows kept
}

func (d *dryRun) Shape(_ pipeline.FileRef, s pipeline.FileShape) error {
	d.skipped += s.SkippedLines
	d.mojibake += s.MojibakeRows
	return nil
}

func (d *dryRun) Begin(pipeline.FileRef) (bool, error) { d.files++; d.inFile = 0; return true, nil }
func (d *dryRun) Emit(rec arrow.Record) error {
	d.loaded += rec.NumRows()
	d.inFile += rec.NumRows()
	return nil
}
func (d *dryRun) Reject(pipeline.Rejected) error    { d.rejected++; d.inFile++; return nil }
func (d *dryRun) Reid(string, string, string) error { return nil }
func (d *dryRun) Nulled(pipeline.NulledCell) error  { d.nulled++; return nil }
func (d *dryRun) End(f pipeline.FileRef, rows int64) error {
	if rows != d.inFile {
		return fmt.Errorf("file %s: %d rows read but %d accounted for", f.Name, rows, d.inFile)
	}
	d.read += rows
	return nil
}
