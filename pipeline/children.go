package pipeline

import (
	"context"
	"earlyhelp/pipeline/atomicfile"
	"encoding/csv"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strconv"
	"time"
)

// AuditChild is a child of a scored household, for the fairness audit:
// the audit counts children, not households, and needs the child's own
// ethnicity and area, which are never features.
type AuditChild struct {
	Row       int    // the household's row in the feature table
	Person    string // pseudonym
	Ethnicity string // recorded code; "" when not recorded
	IMDDecile int    // 1..10; 0 when the area is not known
	// AgeBand (ChildAgeBand of the child's age on the table's date), Sex
	// (M, F) and SENStatus (none, sen_support, ehcp) are for the equality
	// analysis, as ethnicity is; "" when not recorded.
	AgeBand   string
	Sex       string
	SENStatus string
	// Label is the child's own outcome within the horizon after the
	// table's as-of date; meaningless when that horizon has not passed.
	Label bool
}

// A ChildAuditor lists the children of a feature table's households. A
// FeatureSet that is one gets evaluation/scored_children.csv written.
type ChildAuditor interface {
	AuditChildren(ctx context.Context, t *FeatureTable, horizonWeeks int) ([]AuditChild, error)
}

// scoredChildrenHeader is CONTRACTS §4's evaluation/scored_children.csv,
// with the equality analysis's age_band, sex and sen_status added at the
// end (issue 21): a reader by column name is unaffected.
var scoredChildrenHeader = []string{"as_of", "model", "person_id", "household_id", "score", "selected", "label",
	"ethnicity5", "ethnicity", "imd_decile", "age_band", "sex", "sen_status"}

// scoredChildrenColumnsBefore21 is how many columns the file had before
// the equality columns: a training run of an older build wrote that many,
// and a weekly run reusing its model still copies its backtest rows.
const scoredChildrenColumnsBefore21 = 10

// ChildAgeBands are the bands of ChildAgeBand in order: the early years,
// primary school, secondary school, and 16 and over.
var ChildAgeBands = []string{"0-4", "5-10", "11-15", "16+"}

// ChildAgeBand is the band of a child's age in whole years; "" for an
// unknown (negative) age.
func ChildAgeBand(age int) string {
	switch {
	case age < 0:
		return ""
	case age < 5:
		return ChildAgeBands[0]
	case age < 11:
		return ChildAgeBands[1]
	case age < 16:
		return ChildAgeBands[2]
	}
	return ChildAgeBands[3]
}

// writeScoredChildren writes every child of every household the chosen
// model scored: the backtest's test households with their known outcomes,
// then this week's households with a blank label (not yet known) and
// selected meaning on the list.
//
// Rows go to the file as they are made rather than being gathered first: a
// weekly run copies the training run's backtest rows, a dozen dates of every
// child, and holding them all as strings was 85 MB of its live heap at
// 60,000 children, second only to the attendance index.
func (r *run) writeScoredChildren(ctx context.Context, now *FeatureTable, scores []float64, listed map[int]bool) error {
	ca, ok := r.opts.Features.(ChildAuditor)
	if !ok {
		return nil
	}
	path := filepath.Join(r.runDir, "evaluation", "scored_children.csv")
	err := atomicfile.Write(path, 0o640, func(w io.Writer) error {
		cw := csv.NewWriter(w)
		if err := cw.Write(scoredChildrenHeader); err != nil {
			return err
		}
		if err := r.streamScoredChildren(ctx, cw, ca, now, scores, listed); err != nil {
			return err
		}
		cw.Flush()
		return cw.Error()
	})
	if err != nil {
		return err
	}
	r.output("evaluation/scored_children.csv")
	return nil
}

// streamScoredChildren writes writeScoredChildren's rows after the header.
func (r *run) streamScoredChildren(ctx context.Context, cw *csv.Writer, ca ChildAuditor, now *FeatureTable, scores []float64, listed map[int]bool) error {
	name := r.man.Model.Kind
	row := make([]string, len(scoredChildrenHeader))
	add := func(t *FeatureTable, hh func(int) string, score func(int) (float64, bool), selected func(int) bool, labelled bool) error {
		kids, err := ca.AuditChildren(ctx, t, r.opts.HorizonWeeks)
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
	for _, f := range r.folds {
		sc := f.scores[name]
		hh, err := stringColumn(f.table.Record, ColHousehold)
		if err != nil {
			return err
		}
		pos := make(map[int]int, len(f.rows)) // table row → index in the test group
		for j, i := range f.rows {
			pos[i] = j
		}
		order := append([]int(nil), f.rows...)
		sort.SliceStable(order, func(a, b int) bool {
			sa, sb := sc[pos[order[a]]], sc[pos[order[b]]]
			if sa != sb {
				return sa > sb
			}
			return hh.Value(order[a]) < hh.Value(order[b])
		})
		top := map[int]bool{}
		for _, i := range order[:min(f.k, len(order))] {
			top[i] = true
		}
		err = add(f.table, hh.Value, func(i int) (float64, bool) {
			j, ok := pos[i]
			if !ok {
				return 0, false
			}
			return sc[j], true
		}, func(i int) bool { return top[i] }, true)
		if err != nil {
			return fmt.Errorf("backtest %s: %w", f.asOf.Format(time.DateOnly), err)
		}
	}
	if err := r.copyBacktestChildren(cw); err != nil {
		return fmt.Errorf("backtest rows of the training run: %w", err)
	}
	hh, err := stringColumn(now.Record, ColHousehold)
	if err != nil {
		return err
	}
	return add(now, hh.Value, func(i int) (float64, bool) { return scores[i], true }, func(i int) bool { return listed[i] }, false)
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// audit runs the configured fairness audit over the finished run folder and
// puts its headline on the model card.
func (r *run) audit(ctx context.Context) error {
	if r.opts.Audit == nil {
		return nil
	}
	headline, err := r.opts.Audit(ctx, r.runDir)
	if err != nil {
		return err
	}
	r.fairness = headline
	r.man.Fairness = headline
	r.output("audit/")
	return r.writeModelCard()
}

// writeCSV writes rows to path atomically.
func writeCSV(path string, rows [][]string) error {
	return atomicfile.Write(path, 0o640, func(w io.Writer) error {
		cw := csv.NewWriter(w)
		if err := cw.WriteAll(rows); err != nil {
			return err
		}
		return cw.Error()
	})
}
