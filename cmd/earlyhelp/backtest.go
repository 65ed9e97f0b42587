package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/pipeline"
	"earlyhelp/pipeline/rundir"
)

// runBacktest is `earlyhelp backtest` (CONTRACTS §5): ingest what is new,
// then test every configured model and both baselines out of time, writing
// runs/<id>/backtest/. It writes no list.
func runBacktest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("backtest", flag.ContinueOnError)
	fromFlag := fs.String("from", "", "first test date yyyy-mm-dd (default: 52 weeks before --to)")
	toFlag := fs.String("to", "", "last test date yyyy-mm-dd (default: the latest whose horizon has passed)")
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
	var from, to time.Time
	var err error
	if *fromFlag != "" {
		if from, err = parseDate("from", *fromFlag); err != nil {
			return err
		}
	}
	if *toFlag != "" {
		if to, err = parseDate("to", *toFlag); err != nil {
			return err
		}
	}
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		return &usageError{"--to is before --from"}
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
	asOf := time.Now().UTC().Truncate(24 * time.Hour)
	setup, err := setupRun(cfg, asOf, log, time.Now, memory.DefaultAllocator)
	if err != nil {
		return err
	}
	defer setup.unlock()
	setup.only = "backtest"
	setup.train.BacktestFrom, setup.train.BacktestTo = from, to
	if !from.IsZero() && !to.IsZero() {
		// An explicit window is tested whole, not only its last 52 weeks.
		setup.train.BacktestWeeks = int(to.Sub(from).Hours()/(24*7)) + 1
	}
	man, err := setup.run(ctx)
	if man != nil {
		printBacktest(stdout, man)
		fmt.Fprintf(stdout, "backtest %s %s: %s\n", man.RunID, man.Status,
			rundir.ForID(cfg.DataDir, man.RunID).BacktestDir())
	}
	return err
}

// printBacktest prints the backtest's means, one line per model.
func printBacktest(w io.Writer, m *pipeline.Manifest) {
	bt := m.Backtest
	if bt == nil {
		return
	}
	fmt.Fprintf(w, "backtest: %d dates from %s to %s, each tested on households the models were not trained on; chosen: %s\n",
		bt.Folds, bt.From, bt.To, bt.Chosen)
	kinds := make([]string, 0, len(bt.Mean))
	for k := range bt.Mean {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		e := bt.Mean[k]
		dep := "—"
		if v, ok := bt.DeprivedAUC[k]; ok {
			dep = fmt.Sprintf("%.3f", v)
		}
		fmt.Fprintf(w, "  %-12s AUC %.3f (IMD 1–2: %s)  average precision %.3f  precision@K %.3f  recall@K %.3f  Brier %.4f  calibration gap %.3f  (base rate %.3f, mean over dates)\n",
			k, e.AUC, dep, e.AveragePrecision, e.PrecisionAtK, e.RecallAtK, e.Brier, bt.CalibrationGap[k], e.BaseRate)
	}
}
