package rank

import (
	"context"
	"earlyhelp/pipeline"
	"earlyhelp/pipeline/atomicfile"
	"earlyhelp/pipeline/rundir"
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"
)

// DrawMargin draws the lottery. It is deterministic for (seed, asOf) and
// uniform: each of the C(pool, m) ways to choose the offered households is
// equally likely. m must be in [1, k).
func DrawMargin(n, k, m int, seed int64, asOf time.Time) (pipeline.MarginDraw, error) {
	if k < 1 || m < 1 || m >= k || n < 0 {
		return pipeline.MarginDraw{}, fmt.Errorf("margin lottery: want 1 ≤ margin < capacity, got margin %d and capacity %d", m, k)
	}
	var d pipeline.MarginDraw
	top := min(n, k-m)
	for i := range top {
		d.Always = append(d.Always, i)
	}
	if n <= k {
		for i := top; i < n; i++ {
			d.Always = append(d.Always, i)
		}
		return d, nil
	}
	// The pool is positions k−m … k+m−1 (ranks K−m+1 … K+m), cut to n; of
	// it, m are listed so that k are listed in all.
	pool := make([]int, 0, 2*m)
	for i := k - m; i < min(n, k+m); i++ {
		pool = append(pool, i)
	}
	// The week's draw is seeded by the council's seed and the as-of day,
	// so each week draws afresh and a rerun of a week draws the same.
	rng := rand.New(rand.NewPCG(uint64(seed), uint64(asOf.UTC().Unix()/86400)))
	// A partial Fisher–Yates shuffle: the first m of pool are a uniform
	// m-subset.
	for i := range m {
		j := i + rng.IntN(len(pool)-i)
		pool[i], pool[j] = pool[j], pool[i]
	}
	d.Offered = slices.Clone(pool[:m])
	d.NotOffered = slices.Clone(pool[m:])
	slices.Sort(d.Offered)
	slices.Sort(d.NotOffered)
	return d, nil
}

// drawList applies the lottery to the list rules' choice at capacity plus
// margin (sel, in rank order): it returns the households listed this week
// and the allocation of the lottery's households, ranks from households'
// ranked order.
func drawList(lr pipeline.ListRules, sel []listed, households []string, asOf time.Time) ([]listed, []pipeline.Allocation, error) {
	if lr.Lottery == nil {
		return sel, nil, nil
	}
	d, err := DrawMargin(len(sel), lr.Capacity, lr.Lottery.Margin, lr.Lottery.Seed, asOf)
	if err != nil {
		return nil, nil, err
	}
	out := make([]listed, 0, len(d.Always)+len(d.Offered))
	for _, i := range d.Always {
		out = append(out, sel[i])
	}
	var alloc []pipeline.Allocation
	arm := func(idx []int, name string) {
		for _, i := range idx {
			alloc = append(alloc, pipeline.Allocation{Household: households[sel[i].pos], Rank: sel[i].pos + 1, Arm: name})
		}
	}
	arm(d.Offered, pipeline.ArmOffered)
	arm(d.NotOffered, pipeline.ArmNotOffered)
	for _, i := range d.Offered {
		out = append(out, sel[i])
	}
	slices.SortFunc(out, func(a, b listed) int { return a.pos - b.pos })
	slices.SortFunc(alloc, func(a, b pipeline.Allocation) int { return a.Rank - b.Rank })
	return out, alloc, nil
}

// writeAllocation writes list/AllocationFile atomically.
func writeAllocation(runDir, runID string, asOf time.Time, l *pipeline.Lottery, alloc []pipeline.Allocation) error {
	return atomicfile.Write(rundir.Open(runDir).AllocationCSV(), 0o640, func(w io.Writer) error {
		cw := csv.NewWriter(w)
		cw.Write(pipeline.AllocationColumns())
		for _, a := range alloc {
			cw.Write([]string{runID, asOf.Format(time.DateOnly), a.Household, strconv.Itoa(a.Rank), a.Arm,
				strconv.Itoa(l.Margin), strconv.FormatInt(l.Seed, 10)})
		}
		cw.Flush()
		return cw.Error()
	})
}

// recordAllocation keeps the week's draw: in the run folder, then in the
// decisions database. It runs after the list is exported, so a draw is
// recorded only for a list that exists; a run that fails to record it
// fails, since an offer nobody can trace back to its arm would bias the
// evaluation.
func (r *run) recordAllocation(ctx context.Context, l *pipeline.Lottery, alloc []pipeline.Allocation) error {
	if l == nil {
		return nil
	}
	if err := writeAllocation(r.Dir, r.ID, r.AsOf, l, alloc); err != nil {
		return fmt.Errorf("evaluation allocation: %w", err)
	}
	r.Output(rundir.AllocationFile)
	if r.opts.RecordAllocation != nil {
		if err := r.opts.RecordAllocation(ctx, r.ID, r.AsOf, *l, alloc); err != nil {
			return fmt.Errorf("evaluation allocation: %w", err)
		}
	}
	return nil
}

// evaluationArms writes audit/EvaluationArmsFile: for every household
// first drawn on a date whose horizon has passed by the labels this run
// knows, whether the outcome followed, by arm, with the difference
// offered minus not offered and its interval. Households still within
// their horizon are counted as pending; those no longer scored on their
// draw's date (an objection since, say) as unmatched. Each draw date's
// snapshot is built as the backtest builds one, from data before it, and
// released after unless the run already held it.
func (r *run) evaluationArms(ctx context.Context) error {
	if r.opts.Allocations == nil || r.opts.CompareArms == nil {
		return nil
	}
	past, err := r.opts.Allocations(ctx)
	if err != nil {
		return fmt.Errorf("evaluation allocations: %w", err)
	}
	if len(past) == 0 {
		return nil
	}
	knownTo := r.TrainFor
	if knownTo.IsZero() {
		knownTo = r.AsOf
	}
	knownTo = knownTo.AddDate(0, 0, -7*r.HorizonWeeks)
	byDate := map[time.Time][]pipeline.PastAllocation{}
	pending := 0
	for _, a := range past {
		if a.AsOf.After(knownTo) {
			pending++
			continue
		}
		byDate[a.AsOf] = append(byDate[a.AsOf], a)
	}
	dates := make([]time.Time, 0, len(byDate))
	for d := range byDate {
		dates = append(dates, d)
	}
	slices.SortFunc(dates, func(a, b time.Time) int { return a.Compare(b) })
	var n [2]int      // offered, not offered
	var events [2]int // outcomes by arm
	unmatched := 0
	for _, d := range dates {
		labels, err := r.labelsAt(ctx, d)
		if err != nil {
			return err
		}
		for _, a := range byDate[d] {
			l, ok := labels[a.Household]
			if !ok {
				unmatched++
				continue
			}
			k := 1
			if a.Arm == pipeline.ArmOffered {
				k = 0
			}
			n[k]++
			if l {
				events[k]++
			}
		}
	}
	known := knownTo.Format(time.DateOnly)
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 6, 64) }
	rows := [][]string{pipeline.EvaluationArmsColumns()}
	if n[0] > 0 && n[1] > 0 {
		e, err := r.opts.CompareArms(n[0], events[0], n[1], events[1])
		if err != nil {
			return fmt.Errorf("evaluation arms: %w", err)
		}
		rate := func(k int) float64 { return float64(events[k]) / float64(n[k]) }
		rows = append(rows,
			[]string{pipeline.ArmOffered, strconv.Itoa(n[0]), strconv.Itoa(events[0]), f(rate(0)), f(e.Offered[0]), f(e.Offered[1]), known},
			[]string{pipeline.ArmNotOffered, strconv.Itoa(n[1]), strconv.Itoa(events[1]), f(rate(1)), f(e.NotOffered[0]), f(e.NotOffered[1]), known},
			[]string{"difference_offered_minus_not_offered", strconv.Itoa(n[0] + n[1]), strconv.Itoa(events[0] + events[1]), f(e.Difference), f(e.Low), f(e.High), known})
	} else {
		// Too early to compare: the counts say how far the evaluation has
		// come.
		rows = append(rows,
			[]string{pipeline.ArmOffered, strconv.Itoa(n[0]), strconv.Itoa(events[0]), "", "", "", known},
			[]string{pipeline.ArmNotOffered, strconv.Itoa(n[1]), strconv.Itoa(events[1]), "", "", "", known})
	}
	rows = append(rows,
		[]string{"pending_horizon", strconv.Itoa(pending), "", "", "", "", known},
		[]string{"unmatched", strconv.Itoa(unmatched), "", "", "", "", known})
	if err := atomicfile.WriteCSV(rundir.Open(r.Dir).Audit().EvaluationArmsCSV(), rows); err != nil {
		return fmt.Errorf("evaluation arms: %w", err)
	}
	r.Output(rundir.AuditFolder + "/" + rundir.EvaluationArmsFile)
	return nil
}

// labelsAt maps each household scored on date d to whether the outcome
// followed within the horizon.
func (r *run) labelsAt(ctx context.Context, d time.Time) (map[string]bool, error) {
	_, held := r.Cached(d)
	s, err := r.SnapshotAt(ctx, d)
	if err != nil {
		return nil, fmt.Errorf("evaluation outcomes: %w", err)
	}
	hh, err := pipeline.StringColumn(s.Table.Record, pipeline.ColHousehold)
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, hh.Len())
	for i := 0; i < hh.Len(); i++ {
		out[hh.Value(i)] = s.Labels[i]
	}
	if !held {
		r.Forget(d)
	}
	return out, nil
}
