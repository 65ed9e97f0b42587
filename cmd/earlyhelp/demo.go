package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"github.com/rs/zerolog"

	"earlyhelp/connectors/synthetic"
	"earlyhelp/pipeline"
	"earlyhelp/pipeline/config"
	"earlyhelp/pipeline/contract"
	"earlyhelp/pipeline/rundir"
)

// demoMarker marks a folder as the demo's own, so a second demo may clear it
// and no other folder is ever cleared.
const demoMarker = ".earlyhelp-demo"

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fset := flag.NewFlagSet("demo", flag.ContinueOnError)
	dir := fset.String("dir", "./earlyhelp-demo", "folder for the synthetic council and its outputs")
	serveSite := fset.Bool("serve", false, "after the run, serve the review site until interrupted")
	listen := fset.String("listen", "127.0.0.1:8080", "address for --serve")
	var sf synthFlags
	sf.register(fset, synthetic.DefectsLight)
	var cf commonFlags
	cf.register(fset)
	cf.profiled(fset)
	if err := parseFlags(fset, args, stderr); err != nil {
		return err
	}
	stop, err := cf.profile()
	if err != nil {
		return err
	}
	defer stop()
	scfg, err := sf.config(*dir)
	if err != nil {
		return err
	}
	log, err := logger(stderr, cf.logFormat, cf.logLevel)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := prepareDemoDir(*dir); err != nil {
		return err
	}
	sum, err := synthesise(ctx, scfg)
	if err != nil {
		return err
	}
	genTime := time.Since(start)
	printSynth(stdout, scfg, sum)
	fmt.Fprintf(stdout, "generated in %.1fs\n\n", genTime.Seconds())
	cfg, err := config.Load(filepath.Join(*dir, "earlyhelp.yaml"))
	if err != nil {
		return err
	}
	// The list is for the Monday after the extracts end.
	asOf := scfg.End.AddDate(0, 0, 1)
	// The demo always trains (and so backtests), and its model card shows
	// the synthetic council's true-risk AUC as the ceiling.
	oracle := sum.OracleAUC
	man, err := batch(ctx, cfg, asOf, log, func(o *runSetup) {
		o.train.Retrain = true
		if oracle > 0 {
			o.opts.OracleAUC = &oracle
		}
	})
	if man != nil {
		printSummary(stdout, cfg, man)
	}
	if err != nil {
		return err
	}
	// The synthetic council's truth is a yardstick: only evaluate reads it,
	// after the run, on the backtest's own households and labels.
	o, err := evaluateRun(ctx, rundir.ForID(cfg.DataDir, man.RunID).Dir, filepath.Join(*dir, "truth"))
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout)
	printOracle(stdout, o)
	fmt.Fprintf(stdout, "\ndemo finished in %.1fs\n", time.Since(start).Seconds())
	locs, err := listLocalities(rundir.ForID(cfg.DataDir, man.RunID).ListCSV())
	if err != nil {
		return err
	}
	accounts, err := demoAccounts(cfg.DataDir, locs)
	if err != nil {
		return fmt.Errorf("demo accounts: %w", err)
	}
	fmt.Fprintln(stdout, "\nreview site accounts (demo only; passwords are new each run):")
	for _, a := range accounts {
		fmt.Fprintf(stdout, "  %-15s %-9s %s\n", a[0], a[1], a[2])
	}
	if !*serveSite {
		fmt.Fprintf(stdout, "serve the review site with: earlyhelp demo --serve, or earlyhelp serve --config %s\n", filepath.Join(*dir, "earlyhelp.yaml"))
		return nil
	}
	return serveDemo(ctx, cfg.DataDir, *listen, stdout, log)
}

// listLocalities returns the localities of a list, for the demo
// navigator's account.
func listLocalities(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) == 0 {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	col := slices.Index(rows[0], contract.ColLocality)
	seen := map[string]bool{}
	var out []string
	for _, r := range rows[1:] {
		if col >= 0 && col < len(r) && !seen[r[col]] {
			seen[r[col]] = true
			out = append(out, r[col])
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		out = []string{"North"}
	}
	return out, nil
}

// serveDemo serves the review site over the demo's data_dir until ctx
// ends (Ctrl-C).
func serveDemo(ctx context.Context, dataDir, addr string, stdout io.Writer, log zerolog.Logger) error {
	site, closeSite, err := openSite(dataDir, false, sitePack{}, nil, log)
	if err != nil {
		return err
	}
	defer closeSite()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", addr, err)
	}
	srv := &http.Server{Handler: site, ReadHeaderTimeout: readHeaderTimeout, ReadTimeout: readTimeout,
		WriteTimeout: writeTimeout, IdleTimeout: idleTimeout}
	fmt.Fprintf(stdout, "review site on http://%s (Ctrl-C to stop)\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	}
	grace, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	return srv.Shutdown(grace)
}

// prepareDemoDir makes dir ready for a fresh council: created if missing,
// cleared if it holds an earlier demo, refused if it holds anything else.
func prepareDemoDir(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("demo folder: %w", err)
	case len(entries) > 0:
		if _, err := os.Stat(filepath.Join(dir, demoMarker)); err != nil {
			return &usageError{fmt.Sprintf("--dir %s is not empty and was not made by earlyhelp demo", dir)}
		}
		for _, e := range entries {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return fmt.Errorf("demo folder: %w", err)
			}
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("demo folder: %w", err)
	}
	return os.WriteFile(filepath.Join(dir, demoMarker), []byte("made by earlyhelp demo; cleared by the next one\n"), 0o644)
}

// printSummary prints CONTRACTS §1's demo summary from a run's manifest.
func printSummary(w io.Writer, cfg *config.Config, m *pipeline.Manifest) {
	fmt.Fprintf(w, "%s: run %s as of %s: %s\n", m.Council, m.RunID, m.AsOf, m.Status)
	if m.Error != "" {
		fmt.Fprintf(w, "  error: %s\n", oneLine(m.Error))
	}
	names := make([]string, 0, len(m.Sources))
	for n := range m.Sources {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintf(w, "\n%-24s %12s %12s %12s  %s\n", "source", "read", "loaded", "quarantined", "by reason")
	for _, n := range names {
		s := m.Sources[n]
		fmt.Fprintf(w, "%-24s %12d %12d %12d  %s\n", n, s.Read, s.Loaded, s.Quarantined, reasons(s.ByReason))
	}
	if len(m.LinkMatch) > 0 {
		srcs := make([]string, 0, len(m.LinkMatch))
		for src := range m.LinkMatch {
			srcs = append(srcs, src)
		}
		sort.Strings(srcs)
		fmt.Fprint(w, "link match (records of the last year whose person is in a household):")
		for i, src := range srcs {
			sep := ","
			if i == 0 {
				sep = ""
			}
			fmt.Fprintf(w, "%s %s %.1f%%", sep, src, 100*m.LinkMatch[src])
		}
		fmt.Fprintln(w)
	}
	if mm := m.Model; mm != nil {
		fmt.Fprintf(w, "\nmodel %s (%s): trained on %d household snapshots, %d with the outcome, as of %v\n",
			mm.ID, mm.Kind, mm.TrainingRows, mm.Positives, mm.TrainingDates)
	}
	printBacktest(w, m)
	if h := m.Households; h != nil {
		fmt.Fprintf(w, "\nhouseholds scored: %d; left out: %s\n", h.Scored, reasonsInt(h.Excluded))
	}
	if l := m.List; l != nil {
		fmt.Fprintf(w, "list: %d households for a capacity of %d (%s); passed over for want of a reason of their own: %d\n",
			l.Households, l.Capacity, reasonsInt(l.Bands), l.NoFamilySignal)
	}
	if bt := m.Backtest; bt != nil && bt.TopOfList != nil && bt.TopOfList.Listed.Households > 0 {
		top := bt.TopOfList
		fmt.Fprintf(w, "top of the list in the backtest (each date corrected by the dates before it): mean score %.3f, corrected %.3f, outcome rate %.3f over %d listed households;",
			top.Listed.MeanScore, top.Listed.Corrected, top.Listed.ObservedRate, top.Listed.Households)
		for _, b := range top.Bands {
			fmt.Fprintf(w, " %s %.3f against %.3f (%d)", b.Band, b.Corrected, b.ObservedRate, b.Households)
		}
		fmt.Fprintln(w)
	}
	if m.Fairness != "" {
		fmt.Fprintf(w, "fairness: %s\n", m.Fairness)
	} else {
		fmt.Fprintln(w, "fairness: no audit was run")
	}
	rd := rundir.ForID(cfg.DataDir, m.RunID)
	fmt.Fprintln(w, "\noutputs:")
	fmt.Fprintf(w, "  manifest  %s\n", rd.ManifestPath())
	fmt.Fprintf(w, "  store     %s\n", filepath.Join(cfg.DataDir, "store"))
	for _, o := range m.Outputs {
		fmt.Fprintf(w, "  %-9s %s\n", outputLabel(o), rd.Path(o))
	}
}

func outputLabel(rel string) string {
	switch filepath.Ext(rel) {
	case ".csv", ".html":
		return "list"
	case ".parquet":
		return "table"
	case ".prom":
		return "metrics"
	}
	return "file"
}

func reasons(m map[string]int64) string {
	conv := make(map[string]int, len(m))
	for k, v := range m {
		conv[k] = int(v)
	}
	return reasonsInt(conv)
}

func reasonsInt(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	s := ""
	for i, k := range keys {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s %d", k, m[k])
	}
	return s
}
