package rank

import (
	"context"
	"earlyhelp/pipeline"
	"earlyhelp/pipeline/atomicfile"
	"earlyhelp/pipeline/rundir"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
)

// score scores every eligible household as of the run date, ranks them and
// exports the list.
func (r *run) score(ctx context.Context) error {
	defer r.Features.DropCaches()
	s, err := r.SnapshotAt(ctx, r.AsOf)
	if err != nil {
		return err
	}
	t := s.Table
	r.Man.Households = &pipeline.HouseholdCounts{Scored: int(t.Record.NumRows()), Excluded: t.Excluded}
	r.Man.IoDVintage = t.IoDVintage
	// The link match rates read a year of the sources again, most of a
	// second on one core at 300,000 children: they are worked out beside
	// the scoring and the list, and joined before anything is written.
	var (
		linked  sync.WaitGroup
		rates   map[string]float64
		rateErr error
	)
	linked.Go(func() { rates, rateErr = r.Features.LinkMatch(ctx, r.Mem, r.AsOf) })
	defer linked.Wait()
	if err := pipeline.CheckFeatures(r.Model, t.Record); err != nil {
		return err
	}
	scores, err := r.Model.Score(ctx, t.Record)
	if err != nil {
		return err
	}
	hh, err := pipeline.StringColumn(t.Record, pipeline.ColHousehold)
	if err != nil {
		return err
	}
	order := make([]int, len(scores))
	for i := range order {
		order[i] = i
	}
	// Ties go to the household pseudonym so the order is reproducible.
	sort.SliceStable(order, func(a, b int) bool {
		ia, ib := order[a], order[b]
		if scores[ia] != scores[ib] {
			return scores[ia] > scores[ib]
		}
		return hh.Value(ia) < hh.Value(ib)
	})
	rank := make([]int, len(scores))
	for pos, i := range order {
		rank[i] = pos + 1
	}
	// Every household's reasons: scores.parquet carries their codes, and
	// the list their text.
	why, err := pipeline.ExplainAll(ctx, r.Model, t.Record, 3)
	if err != nil {
		return fmt.Errorf("reasons: %w", err)
	}
	codes := make([]string, len(scores))
	for i := range scores {
		codes[i] = reasonCodes(why[i])
	}
	loc, _ := pipeline.StringColumn(t.Record, pipeline.ColLocality)
	kids, _ := pipeline.StringColumn(t.Record, pipeline.ColChildren)
	ranked := make([]string, len(order))
	locs := make([]string, len(order))
	for pos, i := range order {
		ranked[pos] = hh.Value(i)
		if loc != nil {
			locs[pos] = loc.Value(i)
		}
	}
	rules := r.opts.ListRules
	rules.Capacity = r.opts.Capacity
	prev, err := previousListState(r.Dir, r.AsOf)
	if err != nil {
		return fmt.Errorf("last week's list: %w", err)
	}
	var decisions map[string]pipeline.Decision
	if r.opts.Decisions != nil {
		if decisions, err = r.opts.Decisions(ctx); err != nil {
			return fmt.Errorf("navigators' decisions: %w", err)
		}
	}
	// A household is listed only with a reason of its own: a dated signal
	// from its records within the age limit. Its facts are gathered only
	// for the households the list reaches, in rank order.
	facts := map[int]*pipeline.FamilyFacts{}
	factsOf := func(i int) *pipeline.FamilyFacts {
		if f, ok := facts[i]; ok {
			return f
		}
		ff := r.Features.Facts(t, i)
		f := &ff
		f.Signals = r.opts.Reasons.Recent(f.Signals, r.AsOf)
		facts[i] = f
		return f
	}
	fit := func(pos int) bool { return len(factsOf(order[pos]).Signals) > 0 }
	sel, passed := selectList(rules, ranked, locs, prev, decisions, r.AsOf, fit)
	sel, alloc, err := drawList(rules, sel, ranked, r.AsOf)
	if err != nil {
		return err
	}
	l := &pipeline.List{Council: r.Council, RunID: r.ID, AsOf: r.AsOf, Capacity: r.opts.Capacity}
	listed := make(map[int]bool, len(sel))
	for _, s := range sel {
		i := order[s.pos]
		listed[i] = true
		reasons := why[i]
		band, likely := rules.BandOf(r.topOfList(), scores[i], r.BaseRate)
		e := pipeline.ListEntry{
			// The list's score is corrected for the top's over-confidence in
			// the backtest; scores.parquet keeps the model's own.
			Rank: s.pos + 1, Household: hh.Value(i), Band: band, Score: r.topOfList().Correct(scores[i]),
			Status: s.status, WeeksOnList: s.weeksOnList, Reasons: reasons, Locality: locs[s.pos],
			Likelihood: likely,
		}
		if d, ok := decisions[e.Household]; ok {
			e.LastDecision, e.LastDecisionAt = d.Decision, d.At
		}
		if kids != nil {
			if e.Children, err = parseChildren(kids.Value(i)); err != nil {
				return err
			}
		}
		ages := map[string]int{}
		for _, c := range e.Children {
			ages[c.Person] = c.Age
		}
		f := factsOf(i)
		// Every feature's part, not only the top three: a family's own
		// signal may rank below the area's deprivation in the model.
		all := r.Model.Explain(t.Record, i, 1<<10)
		for _, s := range r.opts.Reasons.Choose(all, f.Signals) {
			lr := pipeline.ListReason{Code: s.Code, Person: s.Person, Date: s.Date, Text: s.Text}
			if s.Person != "" {
				lr.Age = ages[s.Person]
			}
			e.Why = append(e.Why, lr)
			e.ReasonTexts = append(e.ReasonTexts, lr.Text)
		}
		e.Safety, e.ContactSafety = r.opts.Reasons.Safety(f.Safety, r.AsOf)
		e.Context = contextOf(r.Features, all)
		e.Signals, e.Schools = f.Signals, f.Schools
		line := r.Features.Timeline(t, i)
		e.Timeline = &line
		l.Entries = append(l.Entries, e)
	}
	if linked.Wait(); rateErr != nil {
		return fmt.Errorf("link match rates: %w", rateErr)
	}
	for src, v := range rates {
		r.Man.LinkMatch[src] = v
		if r.Metrics != nil {
			r.Metrics.LinkMatch.WithLabelValues(src).Set(v)
		}
	}
	state := nextState(prev, r.AsOf.Format(time.DateOnly), ranked, sel)
	b, err := json.Marshal(state)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(rundir.Open(r.Dir).ListStateJSON(), b, 0o640); err != nil {
		return err
	}
	r.Output(rundir.ListStateFile)
	// The scored children, a quarter of a gigabyte at 300,000 children
	// with the backtest's rows, are written beside the features and the
	// scores: one after the other, each left a core idle. Joined before
	// the list goes out, so a run that could not write them exports
	// nothing, and on every return. The scores go beside the features
	// likewise.
	var (
		children, scored   sync.WaitGroup
		childErr, scoreErr error
	)
	children.Go(func() { childErr = r.writeScoredChildren(ctx, t, scores, listed) })
	defer children.Wait()
	scored.Go(func() { scoreErr = r.writeScores(hh, scores, rank, codes) })
	defer scored.Wait()
	if err := atomicfile.WriteParquet(rundir.Open(r.Dir).FeaturesParquet(), t.Record); err != nil {
		return err
	}
	r.Output(rundir.FeaturesFile)
	if scored.Wait(); scoreErr != nil {
		return scoreErr
	}
	r.Output(rundir.ScoresFile)
	r.featurePSI(t)
	if children.Wait(); childErr != nil {
		return fmt.Errorf("scored children: %w", childErr)
	}
	r.Output(rundir.ScoredChildrenFile)
	paths, err := r.opts.Exporter.Export(ctx, r.Dir, l)
	if err != nil {
		return fmt.Errorf("list: %w", err)
	}
	for _, p := range paths {
		r.Output(p)
	}
	if err := r.recordAllocation(ctx, rules.Lottery, alloc); err != nil {
		return err
	}
	if err := r.evaluationArms(ctx); err != nil {
		return err
	}
	lm := &pipeline.ListManifest{Capacity: r.opts.Capacity, Households: len(l.Entries), Bands: map[string]int{},
		Statuses: map[string]int{}, Churn: churn(sel), PreviousAsOf: "", NoFamilySignal: passed,
		ReasonMaxAgeWeeks: r.opts.Reasons.MaxAgeWeeks}
	if prev != nil {
		lm.PreviousAsOf = prev.AsOf
	}
	if lt := rules.Lottery; lt != nil {
		lm.Evaluation = &pipeline.EvaluationManifest{Margin: lt.Margin, Seed: lt.Seed}
		for _, a := range alloc {
			if a.Arm == pipeline.ArmOffered {
				lm.Evaluation.Offered++
			} else {
				lm.Evaluation.NotOffered++
			}
		}
	}
	for _, e := range l.Entries {
		lm.Bands[e.Band]++
		lm.Statuses[e.Status]++
	}
	r.Man.List = lm
	if r.Metrics != nil {
		r.Metrics.ListHouseholds.Set(float64(len(l.Entries)))
		r.Metrics.ListCapacity.Set(float64(lm.Capacity))
		if prev != nil { // a first list is all new, which is no churn
			r.Metrics.ListChurn.Set(lm.Churn)
		}
	}
	return nil
}

func reasonCodes(rs []pipeline.Reason) string {
	names := make([]string, len(rs))
	for j, x := range rs {
		names[j] = x.Feature
	}
	return strings.Join(names, ";")
}

func parseChildren(s string) ([]pipeline.ChildRef, error) {
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, ";")
	out := make([]pipeline.ChildRef, 0, len(parts))
	for _, p := range parts {
		id, age, ok := strings.Cut(p, ":")
		n, err := strconv.Atoi(age)
		if !ok || err != nil {
			return nil, fmt.Errorf("feature table: malformed %s entry", pipeline.ColChildren)
		}
		out = append(out, pipeline.ChildRef{Person: id, Age: n})
	}
	return out, nil
}

func (r *run) writeScores(hh *array.String, scores []float64, rank []int, codes []string) error {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: pipeline.ColHousehold, Type: arrow.BinaryTypes.String},
		{Name: "score", Type: arrow.PrimitiveTypes.Float64},
		{Name: "rank", Type: arrow.PrimitiveTypes.Int32},
		{Name: "reason_codes", Type: arrow.BinaryTypes.String},
	}, nil)
	b := array.NewRecordBuilder(r.Mem, schema)
	defer b.Release()
	for i := range scores {
		b.Field(0).(*array.StringBuilder).Append(hh.Value(i))
		b.Field(1).(*array.Float64Builder).Append(scores[i])
		b.Field(2).(*array.Int32Builder).Append(int32(rank[i]))
		b.Field(3).(*array.StringBuilder).Append(codes[i])
	}
	rec := b.NewRecord()
	defer rec.Release()
	return atomicfile.WriteParquet(rundir.Open(r.Dir).ScoresParquet(), rec)
}

// topOfList is the backtest's calibration of the list by band, from this
// run's backtest or the saved model's; nil when neither has one.
func (r *run) topOfList() *pipeline.TopOfList {
	if r.Man.Backtest == nil {
		return nil
	}
	return r.Man.Backtest.TopOfList
}
