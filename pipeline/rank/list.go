package rank

import (
	"earlyhelp/pipeline"
	"earlyhelp/pipeline/atomicfile"
	"earlyhelp/pipeline/rundir"
	"errors"
	"fmt"
	"math"
	"sort"
	"time"
)

// listed is a household chosen for the list, by its position in the
// ranked order.
type listed struct {
	pos         int // position in the ranked order, 0 = highest score
	status      string
	weeksOnList int
}

// selectList applies the list rules to households in ranked order (best
// first): cool-off, the stability rule, quotas and capacity. prev is last
// week's state (nil for the first list).
//
// fit, when given, says whether the household at a position may be listed
// at all (it has a reason of its own to give); one that may not is passed
// over as if it were not there, and counted in the second result.
func selectList(lr pipeline.ListRules, households, localities []string, prev *pipeline.ListState, decisions map[string]pipeline.Decision, asOf time.Time, fit func(pos int) bool) ([]listed, int) {
	unfit := map[int]bool{}
	cooling := func(pos int) bool {
		h := households[pos]
		d, ok := decisions[h]
		if ok && lr.CooloffWeeks > 0 && asOf.Sub(d.At) < time.Duration(lr.CooloffWeeks)*7*24*time.Hour {
			return true
		}
		if fit == nil {
			return false
		}
		bad, seen := unfit[pos]
		if !seen {
			bad = !fit(pos)
			unfit[pos] = bad
		}
		return bad
	}
	onLast := func(h string) (pipeline.ListedRecord, bool) {
		if prev == nil {
			return pipeline.ListedRecord{}, false
		}
		rec, ok := prev.Listed[h]
		return rec, ok && rec.LastListed == prev.AsOf
	}
	margin := lr.KeepMargin
	if margin < 1 {
		margin = 1
	}
	keepUpTo := int(math.Ceil(margin * float64(lr.Capacity)))
	chosen := map[int]bool{}
	perLocality := map[string]int{}
	take := func(pos int) bool {
		loc := localities[pos]
		if q, ok := lr.Quotas[loc]; ok && perLocality[loc] >= q {
			return false
		}
		chosen[pos] = true
		perLocality[loc]++
		return true
	}
	// Incumbents first, within the margin and best first, then the rest in
	// rank order until the list is full.
	eligible := 0
	for pos, h := range households {
		if len(chosen) >= lr.Capacity || eligible >= keepUpTo {
			break
		}
		if cooling(pos) {
			continue
		}
		eligible++
		if _, ok := onLast(h); ok {
			take(pos)
		}
	}
	// With the lottery the margin's households below the capacity are
	// chosen too, under the same rules, for the draw among them.
	limit := lr.Capacity
	if lr.Lottery != nil {
		limit += lr.Lottery.Margin
	}
	for pos := range households {
		if len(chosen) >= limit {
			break
		}
		if chosen[pos] || cooling(pos) {
			continue
		}
		take(pos)
	}
	passed := 0
	for _, bad := range unfit {
		if bad {
			passed++
		}
	}
	out := make([]listed, 0, len(chosen))
	for pos := range chosen {
		h := households[pos]
		l := listed{pos: pos, status: pipeline.StatusNew, weeksOnList: 1}
		if rec, ok := onLast(h); ok {
			l.status, l.weeksOnList = pipeline.StatusContinuing, rec.WeeksOnList+1
		} else if prev != nil {
			if _, ok := prev.Listed[h]; ok {
				l.status = pipeline.StatusReturning
			}
		}
		out = append(out, l)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].pos < out[b].pos })
	return out, passed
}

// nextState is prev with this week's list added.
func nextState(prev *pipeline.ListState, asOf string, households []string, sel []listed) *pipeline.ListState {
	st := &pipeline.ListState{AsOf: asOf, Listed: map[string]pipeline.ListedRecord{}}
	if prev != nil {
		for h, rec := range prev.Listed {
			st.Listed[h] = rec
		}
	}
	for _, l := range sel {
		h := households[l.pos]
		rec := st.Listed[h]
		if rec.FirstListed == "" {
			rec.FirstListed = asOf
		}
		rec.LastListed, rec.WeeksOnList = asOf, l.weeksOnList
		st.Listed[h] = rec
	}
	return st
}

// churn is the share of this week's list that was not on last week's.
func churn(sel []listed) float64 {
	if len(sel) == 0 {
		return 0
	}
	n := 0
	for _, l := range sel {
		if l.status != pipeline.StatusContinuing {
			n++
		}
	}
	return float64(n) / float64(len(sel))
}

// previousListState reads the list state of the run whose list came before
// this one (rundir.Previous); nil when there is none.
func previousListState(dir string, asOf time.Time) (*pipeline.ListState, error) {
	prev, err := rundir.Previous(rundir.Open(dir), asOf)
	if errors.Is(err, rundir.ErrNoRun) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var st pipeline.ListState
	if err := atomicfile.ReadJSON(prev.ListStateJSON(), &st); err != nil {
		return nil, fmt.Errorf("run %s list state: %w", prev.ID(), err)
	}
	return &st, nil
}
