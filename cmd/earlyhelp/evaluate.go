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
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"earlyhelp/models/evaluate"
	"earlyhelp/pipeline"
	"earlyhelp/pipeline/atomicfile"
	"earlyhelp/pipeline/contract"
	"earlyhelp/pipeline/rundir"
	"earlyhelp/pipeline/store"
)

// runEvaluate is `earlyhelp evaluate --run DIR --truth D/truth`: for a
// synthetic council only, it holds a finished run's backtest scores
// against the council's latent need and true probabilities, on the same
// households and labels, and writes DIR/evaluation/oracle.json. It is the
// one command that reads truth/: the pipeline never does.
func runEvaluate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fset := flag.NewFlagSet("evaluate", flag.ContinueOnError)
	dir := fset.String("run", "", "a finished run's folder, data_dir/runs/<run_id> (required)")
	truth := fset.String("truth", "", "the synthetic council's truth/ folder (required)")
	if err := parseFlags(fset, args, stderr); err != nil {
		return err
	}
	if *dir == "" || *truth == "" {
		return &usageError{"--run and --truth are required"}
	}
	o, err := evaluateRun(ctx, *dir, *truth)
	if err != nil {
		return err
	}
	printOracle(stdout, o)
	fmt.Fprintf(stdout, "written to %s\n", rundir.Open(*dir).OracleJSON())
	return nil
}

// evaluateRun computes and writes a run's oracle.
func evaluateRun(ctx context.Context, runDir, truthDir string) (*evaluate.Oracle, error) {
	var bt pipeline.Backtest
	if err := atomicfile.ReadJSON(rundir.Open(runDir).BacktestJSON(), &bt); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("evaluate: the run has no backtest: %w", err)
	} else if err != nil {
		return nil, fmt.Errorf("evaluate: %w", err)
	}
	k := map[string]int{}
	for _, f := range bt.Folds {
		k[f.AsOf] = f.K
	}
	hh, err := backtestHouseholds(rundir.Open(runDir).ScoredChildrenCSV(), bt.Chosen, k)
	if err != nil {
		return nil, fmt.Errorf("evaluate: %w", err)
	}
	// scored_children holds pseudonyms; the truth, the council's own ids.
	st, err := store.Open(filepath.Dir(filepath.Dir(runDir)), time.Now)
	if err != nil {
		return nil, fmt.Errorf("evaluate: store: %w", err)
	}
	byRef := map[string][]int{}
	for i := range hh {
		ref, err := st.Reidentify(contract.NSHousehold, hh[i].pseudonym)
		if err != nil {
			return nil, fmt.Errorf("evaluate: a backtest household cannot be re-identified: %w", err)
		}
		byRef[ref] = append(byRef[ref], i)
	}
	if err := readTruth(filepath.Join(truthDir, "household_weeks.csv"), hh, byRef); err != nil {
		return nil, fmt.Errorf("evaluate: %w", err)
	}
	rows := make([]evaluate.OracleRow, 0, len(hh))
	missing := 0
	for _, h := range hh {
		if !h.found {
			missing++
			continue
		}
		rows = append(rows, h.OracleRow)
	}
	if missing > len(hh)/100 {
		return nil, fmt.Errorf("evaluate: %d of %d backtest households have no truth on their date: is %s this council's?", missing, len(hh), truthDir)
	}
	o := evaluate.ComputeOracle(bt.Chosen, rows, k)
	if n := len(bt.Folds); n > 0 {
		// The run date's list has the capacity of the latest backtest date.
		// A run that stopped after its backtest scored no household.
		o.RunDate, err = runDateFigures(ctx, runDir, truthDir, st, bt.Folds[n-1].K)
		if errors.Is(err, fs.ErrNotExist) {
			o.RunDate = nil
		} else if err != nil {
			return nil, fmt.Errorf("evaluate: the run date: %w", err)
		}
	}
	out, err := json.MarshalIndent(o, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(rundir.Open(runDir).OracleJSON(), out, 0o640); err != nil {
		return nil, err
	}
	return o, nil
}

// oracleHousehold is one backtest household on one date.
type oracleHousehold struct {
	evaluate.OracleRow
	pseudonym string
	lastDay   time.Time // the day before its as-of date: the truth week holding it is the one read
	found     bool
}

// backtestHouseholds reads the chosen model's backtest rows of
// scored_children.csv, one per household and date: its score, its
// outcome (any child's) and its area's decile.
func backtestHouseholds(path, model string, dates map[string]int) ([]oracleHousehold, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cr := csv.NewReader(bufio.NewReaderSize(f, 1<<20))
	cr.ReuseRecord = true
	col, err := csvHeader(cr, "as_of", "model", contract.ColHouseholdID, "score", "label", contract.ColIMDDecile)
	if err != nil {
		return nil, fmt.Errorf("scored_children.csv: %w", err)
	}
	at := map[[2]string]int{}
	var out []oracleHousehold
	for n := 2; ; n++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("scored_children.csv: row %d: %w", n, err)
		}
		asOf := rec[col["as_of"]]
		if _, ok := dates[asOf]; !ok || rec[col["model"]] != model || rec[col["label"]] == "" {
			continue
		}
		key := [2]string{asOf, rec[col[contract.ColHouseholdID]]}
		i, ok := at[key]
		if !ok {
			score, err := strconv.ParseFloat(rec[col["score"]], 64)
			if err != nil {
				return nil, fmt.Errorf("scored_children.csv: row %d: score: %w", n, err)
			}
			d, err := time.Parse(time.DateOnly, asOf)
			if err != nil {
				return nil, fmt.Errorf("scored_children.csv: row %d: as_of: %w", n, err)
			}
			dec, _ := strconv.Atoi(rec[col[contract.ColIMDDecile]])
			i = len(out)
			at[key] = i
			out = append(out, oracleHousehold{OracleRow: evaluate.OracleRow{AsOf: asOf, Score: score, IMDDecile: dec},
				pseudonym: key[1], lastDay: d.AddDate(0, 0, -1)})
		}
		if rec[col["label"]] == "1" {
			out[i].Label = true
		}
	}
}

// readTruth sets each household's need and true probability from the
// truth's week holding the day before its date.
func readTruth(path string, hh []oracleHousehold, byRef map[string][]int) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	cr := csv.NewReader(bufio.NewReaderSize(f, 1<<20))
	cr.ReuseRecord = true
	col, err := csvHeader(cr, contract.ColHouseholdID, "week_start", "need", "p_referral_26w")
	if err != nil {
		return fmt.Errorf("household_weeks.csv: %w", err)
	}
	for n := 2; ; n++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("household_weeks.csv: row %d: %w", n, err)
		}
		is, ok := byRef[rec[col[contract.ColHouseholdID]]]
		if !ok {
			continue
		}
		start, err := time.Parse(time.DateOnly, rec[col["week_start"]])
		if err != nil {
			return fmt.Errorf("household_weeks.csv: row %d: week_start: %w", n, err)
		}
		end := start.AddDate(0, 0, 7)
		for _, i := range is {
			if day := hh[i].lastDay; day.Before(start) || !day.Before(end) {
				continue
			}
			need, err1 := strconv.ParseFloat(rec[col["need"]], 64)
			p, err2 := strconv.ParseFloat(rec[col["p_referral_26w"]], 64)
			if err := errors.Join(err1, err2); err != nil {
				return fmt.Errorf("household_weeks.csv: row %d: %w", n, err)
			}
			hh[i].Need, hh[i].TrueP, hh[i].found = need, p, true
		}
	}
}

// printOracle prints the means and the model's ratios to the need.
func printOracle(w io.Writer, o *evaluate.Oracle) {
	fmt.Fprintf(w, "against the council's truth (%d backtest dates, model %s, mean over dates):\n", len(o.Dates), o.Model)
	fmt.Fprintf(w, "  %-17s %7s %7s %7s %12s %10s %10s\n", "ranker", "AUC", "AP", "P@K", "AUC IMD 1-2", "top mean", "top rate")
	names := []string{evaluate.RankerModel, evaluate.RankerNeed, evaluate.RankerTrueP}
	for _, n := range names {
		m := o.Mean[n]
		fmt.Fprintf(w, "  %-17s %7s %7s %7s %12s %10s %10s\n", n, f3(m.AUC), f3(m.AveragePrecision), f3(m.PrecisionAtK), f3(m.AUCDeprived), f3(m.TopMeanScore), f3(m.TopRate))
	}
	keys := make([]string, 0, len(o.RatioToNeed))
	for k := range o.RatioToNeed {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Fprint(w, "  the model as a share of the need:")
	for _, k := range keys {
		if v := o.RatioToNeed[k]; v != nil {
			fmt.Fprintf(w, " %s %.2f", k, *v)
		}
	}
	fmt.Fprintln(w)
	if o.RunDate != nil {
		printRunDate(w, o.RunDate)
	}
}

func f3(v float64) string {
	if math.IsNaN(v) {
		return "—"
	}
	return strconv.FormatFloat(v, 'f', 3, 64)
}

// csvHeader reads a CSV file's header and returns each column's index,
// failing when a column the caller needs is missing.
func csvHeader(r *csv.Reader, need ...string) (map[string]int, error) {
	header, err := r.Read()
	if err != nil {
		return nil, err
	}
	col := make(map[string]int, len(header))
	for i, h := range header {
		col[h] = i
	}
	for _, want := range need {
		if _, ok := col[want]; !ok {
			return nil, fmt.Errorf("no %s column", want)
		}
	}
	return col, nil
}
