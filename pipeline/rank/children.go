package rank

import (
	"bufio"
	"context"
	"earlyhelp/pipeline"
	"earlyhelp/pipeline/atomicfile"
	"earlyhelp/pipeline/contract"
	"earlyhelp/pipeline/rundir"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"
)

// scoredChildrenHeader is CONTRACTS §4's evaluation/scored_children.csv,
// with the equality analysis's age_band, sex and sen_status added at the
// end (issue 21): a reader by column name is unaffected.
var scoredChildrenHeader = []string{"as_of", "model", contract.ColPersonID, contract.ColHouseholdID, "score", "selected", "label",
	"ethnicity5", contract.ColEthnicity, contract.ColIMDDecile, "age_band", contract.ColSex, contract.ColSENStatus}

// scoredChildrenColumnsBefore21 is how many columns the file had before
// the equality columns: a training run of an older build wrote that many,
// and a weekly run reusing its model still copies its backtest rows.
const scoredChildrenColumnsBefore21 = 10

// writeScoredChildren writes every child of every household the chosen
// model scored: the backtest's test households with their known outcomes,
// then this week's households with a blank label (not yet known) and
// selected meaning on the list.
//
// Rows go to the file as they are made rather than being gathered first: a
// weekly run copies the training run's backtest rows, a dozen dates of every
// child, and holding them all as strings was 85 MB of its live heap at
// 60,000 children, second only to the attendance index.
func (r *run) writeScoredChildren(ctx context.Context, now *pipeline.FeatureTable, scores []float64, listed map[int]bool) error {
	path := rundir.Open(r.Dir).ScoredChildrenCSV()
	err := atomicfile.Write(path, 0o640, func(w io.Writer) error {
		// The CSV writer writes into bw itself (csv.NewWriter keeps a
		// bufio.Writer it is given), so rows copied as they are (see
		// copyBacktestChildren) go in between its own in order.
		bw := bufio.NewWriterSize(w, 1<<16)
		cw := csv.NewWriter(bw)
		if err := cw.Write(scoredChildrenHeader); err != nil {
			return err
		}
		if err := r.streamScoredChildren(ctx, cw, bw, r.Features, now, scores, listed); err != nil {
			return err
		}
		cw.Flush()
		return cw.Error()
	})
	return err
}

// streamScoredChildren writes writeScoredChildren's rows after the header.
func (r *run) streamScoredChildren(ctx context.Context, cw *csv.Writer, raw io.Writer, ca pipeline.ChildAuditor, now *pipeline.FeatureTable, scores []float64, listed map[int]bool) error {
	name := r.Man.Model.Kind
	row := make([]string, len(scoredChildrenHeader))
	add := func(t *pipeline.FeatureTable, hh func(int) string, score func(int) (float64, bool), selected func(int) bool, labelled bool) error {
		kids, err := ca.AuditChildren(ctx, t, r.HorizonWeeks)
		if err != nil {
			return err
		}
		asOf := t.AsOf.Format(time.DateOnly)
		for _, c := range kids {
			s, ok := score(c.Row)
			if !ok {
				continue
			}
			label := ""
			if labelled {
				label = flag(c.Label)
			}
			e5 := ""
			if r.opts.Ethnicity5 != nil {
				e5 = r.opts.Ethnicity5(c.Ethnicity)
			}
			imd := ""
			if c.IMDDecile > 0 {
				imd = strconv.Itoa(c.IMDDecile)
			}
			row = append(row[:0], asOf, name, c.Person, hh(c.Row), strconv.FormatFloat(s, 'g', -1, 64),
				flag(selected(c.Row)), label, e5, c.Ethnicity, imd, c.AgeBand, c.Sex, c.SENStatus)
			if err := cw.Write(row); err != nil {
				return err
			}
		}
		return nil
	}
	for _, f := range r.Folds {
		sc := f.Scores[name]
		hh, err := pipeline.StringColumn(f.Table.Record, pipeline.ColHousehold)
		if err != nil {
			return err
		}
		// pos is each table row's index in the test group, -1 outside it.
		pos := make([]int32, f.Table.Record.NumRows())
		for i := range pos {
			pos[i] = -1
		}
		for j, i := range f.Rows {
			pos[i] = int32(j)
		}
		top := foldTop(f.Rows, sc, hh.Value, f.K, len(pos))
		err = add(f.Table, hh.Value, func(i int) (float64, bool) {
			if i < 0 || i >= len(pos) || pos[i] < 0 {
				return 0, false
			}
			return sc[pos[i]], true
		}, func(i int) bool { return top[i] }, true)
		if err != nil {
			return fmt.Errorf("backtest %s: %w", f.AsOf.Format(time.DateOnly), err)
		}
	}
	if err := r.copyBacktestChildren(cw, raw); err != nil {
		return fmt.Errorf("backtest rows of the training run: %w", err)
	}
	hh, err := pipeline.StringColumn(now.Record, pipeline.ColHousehold)
	if err != nil {
		return err
	}
	return add(now, hh.Value, func(i int) (float64, bool) { return scores[i], true }, func(i int) bool { return listed[i] }, false)
}

// foldTop marks, of a table of n rows, the test rows (scores in the same
// order) the fold's list of k took: highest score first, ties by
// household id, then in the rows' order. Sorting copies of the keys, not
// the rows through a map, was three CPU-seconds of a 300,000-child cold
// run's score stage, on its one busy core.
func foldTop(rows []int, scores []float64, hh func(int) string, k, n int) []bool {
	type ranked struct {
		score float64
		hh    string
		row   int
	}
	rs := make([]ranked, len(rows))
	for j, i := range rows {
		rs[j] = ranked{scores[j], hh(i), i}
	}
	before := func(a, b *ranked) bool {
		if a.score != b.score {
			return a.score > b.score
		}
		return a.hh < b.hh
	}
	slices.SortStableFunc(rs, func(a, b ranked) int {
		switch {
		case before(&a, &b):
			return -1
		case before(&b, &a):
			return 1
		}
		return 0
	})
	top := make([]bool, n)
	for _, r := range rs[:min(k, len(rs))] {
		top[r.row] = true
	}
	return top
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// copyBacktestChildren copies the labelled rows of the training run's
// scored_children.csv, so a run with a reused model is audited over the
// same backtest as the run that trained it. Rows are read one at a time
// into the same slice and written straight on to cw.
//
// With raw set (the writer cw writes into) and a file of today's columns,
// lines are copied as they stand: parsing and writing again the
// backtest's million and more rows was most of a large council's weekly
// score stage after its features. Lines encoding/csv reads (from one with
// a quote in it on) are written again by cw.
func (r *run) copyBacktestChildren(cw *csv.Writer, raw io.Writer) error {
	if r.Reused == nil {
		return nil
	}
	path := rundir.Open(filepath.Join(filepath.Dir(r.Dir), r.Reused.RunID)).ScoredChildrenCSV()
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		r.Log.Warn().Str("trained_in", r.Reused.RunID).Msg("the training run's backtest rows are gone; auditing this week's list only")
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<16)
	// csv.Reader reads from br itself, a line at a time, so after the
	// header br is at the first row (see rundir.CSVLines).
	cr := csv.NewReader(br)
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	label := -1
	for i, h := range head {
		if h == "label" {
			label = i
		}
	}
	// An older build's file lacks the equality columns at the end: its
	// rows are padded with blanks (not recorded) rather than refused.
	if label < 0 || (len(head) != len(scoredChildrenHeader) && len(head) != scoredChildrenColumnsBefore21) {
		return fmt.Errorf("%s: not a scored_children file", path)
	}
	pad := len(scoredChildrenHeader) - len(head)
	lines := rundir.NewCSVLines(br, len(head))
	asLines := raw != nil && pad == 0
	newline := []byte{'\n'}
	if asLines {
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
	}
	for {
		err := lines.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if len(lines.Field(label)) == 0 {
			continue
		}
		if line := lines.Line(); asLines && line != nil {
			if _, err := raw.Write(line); err != nil {
				return err
			}
			if _, err := raw.Write(newline); err != nil {
				return err
			}
			continue
		}
		rec := lines.Record()
		for range pad {
			rec = append(rec, "")
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
}
