package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/rs/zerolog"

	"earlyhelp/pipeline/config"
	"earlyhelp/pipeline/review"
	"earlyhelp/pipeline/rundir"
	"earlyhelp/pipeline/store"
)

// week is retention's unit: the config counts weeks, as the schedule does.
const week = 7 * 24 * time.Hour

// runPrune applies the retention: block to the data folder once:
//
//	earlyhelp prune --config F
//
// It takes the data folder's run lock, so no run writes while it prunes.
// The access log is left alone while serve runs: serve holds it open and
// trims it itself on retention.schedule.
func runPrune(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("prune", flag.ContinueOnError)
	var cf commonFlags
	cf.withConfig(fs)
	cf.register(fs)
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	cfg, _, err := cf.load(stderr)
	if err != nil {
		return err
	}
	unlock, err := lockData(cfg.DataDir)
	if err != nil {
		return fmt.Errorf("prune: %w", err)
	}
	defer unlock()
	trim := func(keepFrom time.Time) (review.TrimResult, error) {
		return review.TrimAccessLog(reviewPath(cfg.DataDir, accessLogFile), keepFrom)
	}
	release, busy, err := takeServing(cfg.DataDir)
	if err != nil {
		return fmt.Errorf("prune: %w", err)
	}
	if busy {
		trim = nil
	} else {
		defer release()
	}
	rep, err := prune(ctx, cfg, time.Now(), trim)
	rep.print(stdout, cfg.Retention)
	if err != nil {
		return fmt.Errorf("prune: %w", err)
	}
	return nil
}

// lockData takes the data folder's run lock, as every writer does.
func lockData(dataDir string) (func(), error) {
	st, err := store.Open(dataDir, time.Now)
	if err != nil {
		return nil, err
	}
	return st.Lock()
}

// pruneReport is what one prune removed.
type pruneReport struct {
	Cutoffs              struct{ Runs, Quarantine, Evaluation, AccessLog time.Time }
	RunsPruned, RunsKept int
	RunsBytes            int64
	Protected            []string // run ids kept whatever their age
	QuarantineFiles      int
	QuarantineBytes      int64
	EvaluationFolders    int
	EvaluationBytes      int64
	AccessLog            review.TrimResult
	AccessLogLeft        string // why the access log was not trimmed; "" when it was
}

func (r pruneReport) print(w io.Writer, ret config.Retention) {
	day := func(t time.Time) string { return t.UTC().Format(time.DateOnly) }
	fmt.Fprintf(w, "prune: runs started before %s (%d weeks): %d reduced to their manifests (%d bytes); %d runs kept whole\n",
		day(r.Cutoffs.Runs), ret.RunsWeeks, r.RunsPruned, r.RunsBytes, r.RunsKept)
	if len(r.Protected) > 0 {
		fmt.Fprintf(w, "prune: kept whatever their age: %v (the last successful run, the last run with a list, the current model's run)\n", r.Protected)
	}
	fmt.Fprintf(w, "prune: quarantine files of runs before %s (%d weeks): %d removed (%d bytes)\n",
		day(r.Cutoffs.Quarantine), ret.QuarantineWeeks, r.QuarantineFiles, r.QuarantineBytes)
	fmt.Fprintf(w, "prune: evaluation/ folders of runs before %s (%d weeks): %d removed (%d bytes)\n",
		day(r.Cutoffs.Evaluation), ret.EvaluationWeeks, r.EvaluationFolders, r.EvaluationBytes)
	if r.AccessLogLeft != "" {
		fmt.Fprintf(w, "prune: access log not trimmed: %s\n", r.AccessLogLeft)
		return
	}
	fmt.Fprintf(w, "prune: access log entries before %s (%d weeks): %d dropped (%d bytes), %d kept\n",
		day(r.Cutoffs.AccessLog), ret.AccessLogWeeks, r.AccessLog.Dropped, r.AccessLog.Bytes, r.AccessLog.Kept)
}

// prune applies cfg's retention as of now. The caller holds the run lock.
// trim trims the access log to the entries from a time on; nil leaves the
// log alone (serve has it open).
//
// A run started before runs_weeks ago is reduced to its manifest.json,
// unless it is the newest successful run, the newest successful run with a
// list (the next run reads its list state, and the site shows it) or the
// run that trained the current model (weekly runs copy its backtest rows
// into their audit). Of the runs kept whole, the quarantine/ and
// evaluation/ folders of runs older than their own retention go; the
// protected runs keep evaluation/, which the site and the audit read.
//
// A run's age is its id's time (CONTRACTS §4): the folder's modification
// time changes with every file written into it. Folders not named as run
// ids are left alone.
func prune(ctx context.Context, cfg *config.Config, now time.Time, trim func(time.Time) (review.TrimResult, error)) (pruneReport, error) {
	var rep pruneReport
	ret := cfg.Retention
	rep.Cutoffs.Runs = now.Add(-time.Duration(ret.RunsWeeks) * week)
	rep.Cutoffs.Quarantine = now.Add(-time.Duration(ret.QuarantineWeeks) * week)
	rep.Cutoffs.Evaluation = now.Add(-time.Duration(ret.EvaluationWeeks) * week)
	rep.Cutoffs.AccessLog = now.Add(-time.Duration(ret.AccessLogWeeks) * week)

	runs, err := listRuns(cfg.DataDir)
	if err != nil {
		return rep, err
	}
	protected := protectedRuns(runs, currentModelRun(cfg.DataDir))
	for id := range protected {
		rep.Protected = append(rep.Protected, id)
	}
	sort.Strings(rep.Protected)
	for _, r := range runs {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		if r.started.Before(rep.Cutoffs.Runs) && !protected[r.id] {
			n, err := reduceToManifest(r.dir)
			rep.RunsBytes += n
			if err != nil {
				return rep, fmt.Errorf("run %s: %w", r.id, err)
			}
			if n > 0 {
				rep.RunsPruned++
			}
			continue
		}
		rep.RunsKept++
		if r.started.Before(rep.Cutoffs.Quarantine) {
			files, n, err := removeTree(rundir.Open(r.dir).QuarantineDir())
			rep.QuarantineFiles += files
			rep.QuarantineBytes += n
			if err != nil {
				return rep, fmt.Errorf("run %s: quarantine: %w", r.id, err)
			}
		}
		if r.started.Before(rep.Cutoffs.Evaluation) && !protected[r.id] {
			files, n, err := removeTree(rundir.Open(r.dir).EvaluationDir())
			if files > 0 {
				rep.EvaluationFolders++
			}
			rep.EvaluationBytes += n
			if err != nil {
				return rep, fmt.Errorf("run %s: evaluation: %w", r.id, err)
			}
		}
	}
	if trim == nil {
		rep.AccessLogLeft = "serve is running and holds it open; serve trims it on retention.schedule"
		return rep, nil
	}
	rep.AccessLog, err = trim(rep.Cutoffs.AccessLog)
	return rep, err
}

// runFolder is one run folder and what its manifest says.
type runFolder struct {
	id, dir   string
	started   time.Time
	succeeded bool
	hasList   bool
}

// listRuns lists the run folders of dataDir, oldest first. A run whose
// manifest cannot be read is listed as not succeeded: it protects nothing.
func listRuns(dataDir string) ([]runFolder, error) {
	all, err := rundir.All(dataDir)
	if err != nil {
		return nil, err
	}
	var out []runFolder
	for _, run := range all {
		started, err := time.Parse(store.RunIDFormat, run.ID())
		if err != nil {
			continue
		}
		r := runFolder{id: run.ID(), dir: run.Dir, started: started}
		if m, err := run.Manifest(); err == nil {
			r.succeeded = m.Status == rundir.Succeeded
			r.hasList = m.List != nil
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].started.Before(out[j].started) })
	return out, nil
}

// protectedRuns are the run ids kept whole whatever their age.
func protectedRuns(runs []runFolder, modelRun string) map[string]bool {
	keep := map[string]bool{}
	var lastOK, lastList string
	for _, r := range runs {
		if r.succeeded {
			lastOK = r.id
			if r.hasList {
				lastList = r.id
			}
		}
	}
	for _, id := range []string{lastOK, lastList, modelRun} {
		if id != "" {
			keep[id] = true
		}
	}
	return keep
}

// currentModelRun is the run that trained models/current.json; "" when
// there is none or it cannot be read.
func currentModelRun(dataDir string) string {
	b, err := os.ReadFile(newFileModels(dataDir).path)
	if err != nil {
		return ""
	}
	var sf struct {
		RunID string `json:"run_id"`
	}
	if json.Unmarshal(b, &sf) != nil {
		return ""
	}
	return sf.RunID
}

// reduceToManifest removes everything in a run folder but its
// manifest.json, returning the bytes removed.
func reduceToManifest(dir string) (int64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	var bytes int64
	for _, e := range entries {
		if e.Name() == rundir.ManifestFile { // at the top of the run folder
			continue
		}
		_, n, err := removeTree(filepath.Join(dir, e.Name()))
		bytes += n
		if err != nil {
			return bytes, err
		}
	}
	return bytes, nil
}

// removeTree removes path and everything under it, returning how many
// regular files and bytes went. A missing path is no error.
func removeTree(path string) (files int, bytes int64, err error) {
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				files++
				bytes += fi.Size()
			}
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, err
	}
	if err := os.RemoveAll(path); err != nil {
		return 0, 0, err
	}
	return files, bytes, nil
}

// accessLogTrimmer is the serving site's access log, trimmed in place.
type accessLogTrimmer interface {
	TrimAccessLog(keepFrom time.Time) (review.TrimResult, error)
}

// startRetention runs prune on retention.schedule while serve runs, and
// marks the data folder as served (takeServing) until the returned stop is
// called, so restore and a command-line prune know the site holds its
// files open. A prune that finds a run holding the lock is skipped until
// the next time: it only removes, and nothing is lost by its waiting.
func startRetention(ctx context.Context, cfg *config.Config, site accessLogTrimmer, log zerolog.Logger) (stop func(), err error) {
	sched, err := cronParser.Parse(cfg.Retention.Schedule)
	if err != nil {
		return nil, cfg.Errorf("retention.schedule", "%q: %v", cfg.Retention.Schedule, err)
	}
	release, err := holdServing(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		release()
		return nil, fmt.Errorf("time zone: %w", err)
	}
	log = log.With().Str("job", "prune").Logger()
	c := newCron(loc, log)
	c.Schedule(sched, cron.NewChain(cron.SkipIfStillRunning(cronLogger{log: log})).Then(cron.FuncJob(func() {
		unlock, err := lockData(cfg.DataDir)
		if err != nil {
			log.Warn().Err(err).Msg("prune skipped until its next time")
			return
		}
		defer unlock()
		var trim func(time.Time) (review.TrimResult, error)
		if site != nil {
			trim = site.TrimAccessLog
		}
		rep, err := prune(ctx, cfg, time.Now(), trim)
		ev := log.Info()
		if err != nil {
			ev = log.Error().Err(err)
		}
		ev.Int("runs_pruned", rep.RunsPruned).Int64("runs_bytes", rep.RunsBytes).
			Int("quarantine_files", rep.QuarantineFiles).Int64("quarantine_bytes", rep.QuarantineBytes).
			Int("evaluation_folders", rep.EvaluationFolders).Int64("evaluation_bytes", rep.EvaluationBytes).
			Int("access_log_dropped", rep.AccessLog.Dropped).Msg("pruned")
	})))
	c.Start()
	log.Info().Str("spec", cfg.Retention.Schedule).Time("next", sched.Next(time.Now().In(loc))).Msg("scheduled")
	return func() {
		<-c.Stop().Done()
		release()
	}, nil
}
