package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"earlyhelp/connectors/synthetic"
	"earlyhelp/pipeline"
	"earlyhelp/pipeline/atomicfile"
	"earlyhelp/pipeline/config"
	"earlyhelp/pipeline/contract"
)

// BenchStage is one timed stage of bench.json.
type BenchStage struct {
	Stage      string  `json:"stage"`
	Seconds    float64 `json:"seconds"`
	Items      int64   `json:"items,omitempty"`
	Unit       string  `json:"unit,omitempty"` // what Items counts
	PerSecond  float64 `json:"per_second,omitempty"`
	PeakRSSMiB float64 `json:"peak_rss_mib"`
	// CPUSeconds is the user and system CPU the process used during the
	// stage, on all its threads: the work done, which on a shared
	// machine moves far less than the wall time does (a cold run's
	// ingest took 47 to 82 s on the bench machine in one day, for the
	// same work). Absent where the system does not say.
	CPUSeconds float64 `json:"cpu_seconds,omitempty"`
}

// BenchReport is bench.json (CONTRACTS §8).
type BenchReport struct {
	Children  int        `json:"children"`
	Seed      uint64     `json:"seed"`
	Weeks     int        `json:"weeks"`
	CPUs      int        `json:"cpus"`
	GoVersion string     `json:"go_version"`
	StartedAt string     `json:"started_at"`
	Generate  BenchStage `json:"generate"`
	// HoldBack is the harness splitting the last week off for the
	// incremental run: not the product, but the process's memory.
	HoldBack    BenchStage   `json:"hold_back"`
	Cold        []BenchStage `json:"cold_run"`
	ColdTotal   BenchStage   `json:"cold_run_total"`
	Incremental []BenchStage `json:"incremental_run"`
	IncrTotal   BenchStage   `json:"incremental_run_total"`
	NewRows     int64        `json:"incremental_new_rows"`
	// IncrIndex says how the incremental run read its attendance index:
	// "resumed" from the cold run's cache with the week's deliveries, or
	// "read in full" (and why, when a cache was refused).
	IncrIndex string `json:"incremental_attendance_index"`
	MaxMemory string `json:"max_memory,omitempty"` // backtest.max_memory of both runs

	Note string `json:"note"`
}

const benchNote = "cold run: ingest of all history, backtest, train, score and list, audit; the generated extracts are synced to disk before it starts (not timed). " +
	"incremental run: the last week of attendance and rent snapshots held back from the cold run and " +
	"delivered a week later, the saved model reused (no backtest or training), features as of the new date, score, list, audit. " +
	"peak RSS is the process's high-water mark within each stage (reset between stages through /proc/self/clear_refs), " +
	"what earlier stages of the run left resident included; each run starts with the memory earlier runs freed returned. " +
	"cpu_seconds is the process's user and system CPU time within each stage, on all its threads."

// runBench is `earlyhelp bench` (CONTRACTS §8): a council of N children
// with two years of history, a full cold run and a weekly incremental run,
// each stage timed with its throughput and peak memory.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	children := fs.Int("children", 300000, "children in the synthetic council")
	seed := fs.Uint64("seed", 1, "random seed")
	weeks := fs.Int("weeks", 104, "weeks of history")
	dir := fs.String("dir", "", "working folder (default: a temporary folder, removed afterwards)")
	out := fs.String("out", "bench.json", "where to write the report")
	maxMemory := fs.String("max-memory", "", "the runs' backtest.max_memory, a soft memory limit such as 3500MiB (default: none)")
	var cf commonFlags
	cf.register(fs)
	cf.profiled(fs)
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if *children < 100 {
		return &usageError{"--children must be at least 100"}
	}
	if _, err := config.ParseBytes(*maxMemory); err != nil {
		return &usageError{"--max-memory " + err.Error()}
	}
	log, err := logger(stderr, cf.logFormat, cf.logLevel)
	if err != nil {
		return err
	}
	stop, err := cf.profile()
	if err != nil {
		return err
	}
	defer stop()
	work := *dir
	if work != "" {
		// A folder an earlier bench used still holds its store and the week
		// it delivered: the cold run would not be cold, and the week would
		// be read twice.
		if entries, err := os.ReadDir(work); err == nil && len(entries) > 0 {
			return &usageError{fmt.Sprintf("--dir %s is not empty: the bench needs a new or empty folder", work)}
		} else if err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("bench: %w", err)
		}
	}
	if work == "" {
		if work, err = os.MkdirTemp("", "earlyhelp-bench-"); err != nil {
			return err
		}
		defer os.RemoveAll(work)
	}
	rep := &BenchReport{
		Children: *children, Seed: *seed, Weeks: *weeks, CPUs: runtime.NumCPU(), GoVersion: runtime.Version(),
		StartedAt: time.Now().UTC().Format(time.RFC3339), Note: benchNote,
	}
	mark := newRSSMark()
	start := time.Now()
	scfg := synthetic.Config{Out: work, Children: *children, Seed: *seed, Weeks: *weeks, End: synthetic.DefaultEnd, Defects: "light"}
	if _, err := synthesise(ctx, scfg); err != nil {
		return err
	}
	rep.Generate = BenchStage{Stage: "generate", Seconds: time.Since(start).Seconds(), Items: int64(*children), Unit: "children", PeakRSSMiB: mark.peak()}
	rep.Generate.PerSecond = float64(rep.Generate.Items) / rep.Generate.Seconds
	// Hold back the last week of the weekly sources for the incremental run.
	held := filepath.Join(work, "held")
	lastWeek := scfg.End.AddDate(0, 0, -6)
	mark.reset()
	start = time.Now()
	if rep.NewRows, err = holdBack(work, held, lastWeek); err != nil {
		return fmt.Errorf("bench: holding back the last week: %w", err)
	}
	rep.HoldBack = BenchStage{Stage: "hold back", Seconds: time.Since(start).Seconds(), Items: rep.NewRows, Unit: "rows held", PeakRSSMiB: mark.peak()}
	rep.HoldBack.PerSecond = float64(rep.HoldBack.Items) / rep.HoldBack.Seconds
	// The extracts are on disk before the cold run reads them, as a
	// council's are before its nightly run. Still being written back,
	// the generator's 6 GB (at 300,000 children) were the disk's work
	// while the ingest read them and synced the store's files: its
	// ingest took 63-82 s where a run of its own over the same files,
	// written long before, took 47-50 s.
	syncDisks()
	cfg, err := config.Load(filepath.Join(work, "earlyhelp.yaml"))
	if err != nil {
		return err
	}
	cfg.Backtest.MaxMemory, rep.MaxMemory = *maxMemory, *maxMemory
	coldAsOf := lastWeek
	if rep.Cold, rep.ColdTotal, _, err = benchRun(ctx, cfg, coldAsOf, true, log); err != nil {
		return fmt.Errorf("bench: cold run: %w", err)
	}
	if err := release(held, filepath.Join(work, "incoming")); err != nil {
		return fmt.Errorf("bench: delivering the last week: %w", err)
	}
	if rep.Incremental, rep.IncrTotal, rep.IncrIndex, err = benchRun(ctx, cfg, coldAsOf.AddDate(0, 0, 7), false, log); err != nil {
		return fmt.Errorf("bench: incremental run: %w", err)
	}
	printBench(stdout, rep)
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(*out, append(b, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s\n", *out)
	return nil
}

// benchRun runs the pipeline once and turns its manifest into stage rows;
// index says how the run read its attendance index.
func benchRun(ctx context.Context, cfg *config.Config, asOf time.Time, retrain bool, log zerolog.Logger) (stages []BenchStage, total BenchStage, index string, err error) {
	mark := newRSSMark()
	peaks, cpu := map[string]float64{}, map[string]float64{}
	start := time.Now()
	cpu0, cpuKnown := processCPU()
	var stageCPU time.Duration
	var stageKnown bool
	var setup *runSetup
	man, err := batch(ctx, cfg, asOf, log, func(o *runSetup) {
		setup = o
		o.train.Retrain = retrain
		o.opts.OnStage = func(stage string, done bool, _ *pipeline.State) {
			if !done {
				mark.reset()
				stageCPU, stageKnown = processCPU()
				return
			}
			peaks[stage] = mark.peak()
			if now, ok := processCPU(); ok && stageKnown {
				cpu[stage] = (now - stageCPU).Seconds()
			}
		}
	})
	if err != nil {
		return nil, BenchStage{}, "", err
	}
	total = BenchStage{Stage: "total", Seconds: time.Since(start).Seconds(), PeakRSSMiB: mark.max}
	if now, ok := processCPU(); ok && cpuKnown {
		total.CPUSeconds = (now - cpu0).Seconds()
	}
	index = setup.attendance.LastRead().String()
	var read int64
	for _, s := range man.Sources {
		read += s.Read
	}
	var out []BenchStage
	for _, st := range man.Stages {
		bs := BenchStage{Stage: st.Stage, Seconds: st.Seconds, PeakRSSMiB: peaks[st.Stage], CPUSeconds: cpu[st.Stage]}
		switch st.Stage {
		case "ingest":
			bs.Items, bs.Unit = read, "rows"
		case "train":
			if man.Model != nil && man.Model.ReusedFrom == "" {
				bs.Items, bs.Unit = int64(man.Model.TrainingRows), "training rows"
			}
		case "score":
			if man.Households != nil {
				bs.Items, bs.Unit = int64(man.Households.Scored), "households"
			}
		}
		if bs.Items > 0 && bs.Seconds > 0 {
			bs.PerSecond = float64(bs.Items) / bs.Seconds
		}
		out = append(out, bs)
	}
	return out, total, index, nil
}

func printBench(w io.Writer, r *BenchReport) {
	limit := ""
	if r.MaxMemory != "" {
		limit = ", backtest.max_memory " + r.MaxMemory
	}
	fmt.Fprintf(w, "earlyhelp bench: %d children, %d weeks, seed %d, %d CPUs, %s%s\n\n", r.Children, r.Weeks, r.Seed, r.CPUs, r.GoVersion, limit)
	row := func(run string, s BenchStage) {
		rate := ""
		if s.PerSecond > 0 {
			rate = fmt.Sprintf("%.0f %s/s", s.PerSecond, s.Unit)
		}
		fmt.Fprintf(w, "%-12s %-10s %9.1f s  %10.0f MiB  %s\n", run, s.Stage, s.Seconds, s.PeakRSSMiB, rate)
	}
	fmt.Fprintf(w, "%-12s %-10s %11s  %14s  %s\n", "run", "stage", "wall", "peak RSS", "throughput")
	row("synthetic", r.Generate)
	row("synthetic", r.HoldBack)
	for _, s := range r.Cold {
		row("cold", s)
	}
	row("cold", r.ColdTotal)
	for _, s := range r.Incremental {
		row("incremental", s)
	}
	row("incremental", r.IncrTotal)
	fmt.Fprintf(w, "\nincremental delivery: %d new rows\n", r.NewRows)
	fmt.Fprintf(w, "incremental run's attendance index: %s\n", r.IncrIndex)
	// CPU time below the table, whose columns scripts may read by place.
	cpu := func(run string, stages []BenchStage, total BenchStage) {
		if total.CPUSeconds <= 0 {
			return
		}
		fmt.Fprintf(w, "%s run's CPU time (user and system, all threads):", run)
		for _, s := range stages {
			fmt.Fprintf(w, " %s %.1f s,", s.Stage, s.CPUSeconds)
		}
		fmt.Fprintf(w, " total %.1f s\n", total.CPUSeconds)
	}
	cpu("cold", r.Cold, r.ColdTotal)
	cpu("incremental", r.Incremental, r.IncrTotal)
}

// weeklySources are the sources split at the held-back week, by the column
// that dates a row.
var weeklySources = map[string]string{
	contract.AttendanceSessions: contract.ColSessionDate,
	contract.RentAccounts:       contract.ColSnapshotDate,
}

// holdBack moves the rows of weeklySources dated on or after from out of
// their extract files into held/<source>/<source>_lastweek.csv. It returns
// the number of rows held back. It streams: holding a month of a
// million-child council's attendance as rows took 10 GB, more than the
// runs it prepares.
func holdBack(root, held string, from time.Time) (int64, error) {
	var n int64
	cut := from.Format(time.DateOnly)
	for src, col := range weeklySources {
		dir := filepath.Join(root, "incoming", src)
		files, err := filepath.Glob(filepath.Join(dir, "*.csv"))
		if err != nil {
			return 0, err
		}
		sort.Strings(files)
		var late *heldRows
		for _, f := range files {
			moved, err := splitCSV(f, col, cut, func(head []string) (*csv.Writer, error) {
				if late == nil {
					late = &heldRows{path: filepath.Join(held, src, src+"_lastweek.csv")}
					if err := late.open(head); err != nil {
						return nil, err
					}
				}
				return late.cw, nil
			})
			if err != nil {
				if late != nil {
					late.abort()
				}
				return 0, fmt.Errorf("%s: %w", f, err)
			}
			n += moved
		}
		if late != nil {
			if err := late.close(); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

// heldRows is a source's held-back file as it is written.
type heldRows struct {
	path string
	f    *os.File
	bw   *bufio.Writer
	cw   *csv.Writer
}

func (h *heldRows) open(head []string) error {
	if err := os.MkdirAll(filepath.Dir(h.path), 0o750); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(h.path), ".held-*")
	if err != nil {
		return err
	}
	h.f, h.bw = f, bufio.NewWriterSize(f, 1<<20)
	h.cw = csv.NewWriter(h.bw)
	return h.cw.Write(head)
}

func (h *heldRows) close() error {
	h.cw.Flush()
	err := errors.Join(h.cw.Error(), h.bw.Flush(), h.f.Close())
	if err == nil {
		err = os.Rename(h.f.Name(), h.path)
	}
	if err != nil {
		os.Remove(h.f.Name())
	}
	return err
}

func (h *heldRows) abort() {
	h.f.Close()
	os.Remove(h.f.Name())
}

// splitCSV moves the rows of a file whose column col is on or after cut
// (ISO dates compare as strings) to the writer hold returns, given the
// file's header, and rewrites the file with the others. A file with no such
// row is left as it is, unwritten: one pass reads it to find out.
func splitCSV(path, col, cut string, hold func(head []string) (*csv.Writer, error)) (int64, error) {
	each := func(fn func(head, rec []string, late bool) error) error {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		r := csv.NewReader(bufio.NewReaderSize(f, 1<<20))
		r.FieldsPerRecord = -1
		r.ReuseRecord = true
		head, err := r.Read()
		if err != nil {
			return err
		}
		head = slices.Clone(head)
		idx := -1
		for i, h := range head {
			if strings.TrimPrefix(h, "\ufeff") == col {
				idx = i
			}
		}
		if idx < 0 {
			return fmt.Errorf("no %s column", col)
		}
		if err := fn(head, nil, false); err != nil {
			return err
		}
		for {
			rec, err := r.Read()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if err := fn(head, rec, idx < len(rec) && rec[idx] >= cut); err != nil {
				return err
			}
		}
	}
	var moved int64
	err := each(func(_, rec []string, late bool) error {
		if late {
			moved++
		}
		return nil
	})
	if err != nil || moved == 0 {
		return 0, err
	}
	var out *csv.Writer
	err = atomicfile.Write(path, 0o640, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 1<<20)
		keep := csv.NewWriter(bw)
		err := each(func(head, rec []string, late bool) error {
			switch {
			case rec == nil:
				var err error
				if out, err = hold(head); err != nil {
					return err
				}
				return keep.Write(head)
			case late:
				return out.Write(rec)
			default:
				return keep.Write(rec)
			}
		})
		if err != nil {
			return err
		}
		keep.Flush()
		if err := keep.Error(); err != nil {
			return err
		}
		return bw.Flush()
	})
	return moved, err
}

// release moves the held-back files into the incoming folders.
func release(held, incoming string) error {
	return filepath.WalkDir(held, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(held, path)
		if err != nil {
			return err
		}
		return os.Rename(path, filepath.Join(incoming, rel))
	})
}

// rssMark reads the process's resident-set high-water mark from
// /proc/self/status; reset lowers it to the current size through
// /proc/self/clear_refs, so each stage's peak is its own.
type rssMark struct {
	max float64 // the highest peak seen, MiB
}

// newRSSMark starts a mark for a run, first giving the operating system
// back what earlier runs of the process freed, as a run of its own
// process would start.
func newRSSMark() *rssMark {
	debug.FreeOSMemory()
	m := &rssMark{}
	m.reset()
	return m
}

// reset starts a stage's peak from the memory the process holds now, what
// earlier stages left resident included. Returning it first made the
// stage take it back from the operating system, page by page, which a run
// does not do: on this machine that cost a weekly run's audit 1.1 to 1.6 s
// of its 2.6 to 3.1.
func (m *rssMark) reset() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// peak is the high-water mark since the last reset, in MiB; 0 where
// /proc is not available.
func (m *rssMark) peak() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			p := kb / 1024
			m.max = max(m.max, p)
			return p
		}
	}
	return 0
}
