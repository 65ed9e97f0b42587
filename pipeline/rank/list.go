package rank

import (
	"earlyhelp/pipeline"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
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

const listStateFile = "list_state.json"

// previousListState reads the list state of the latest succeeded run in
// runsDir before asOf, other than the current one; nil when there is none.
func previousListState(runsDir, current string, asOf time.Time) (*pipeline.ListState, error) {
	entries, err := os.ReadDir(runsDir)
	if err != nil {
		return nil, fmt.Errorf("runs folder: %w", err)
	}
	// Run ids sort by start time; walk back from the newest.
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		if !e.IsDir() || e.Name() == current {
			continue
		}
		b, err := os.ReadFile(filepath.Join(runsDir, e.Name(), "manifest.json"))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("run %s: %w", e.Name(), err)
		}
		var m struct {
			Status string    `json:"status"`
			AsOf   string    `json:"as_of"`
			List   *struct{} `json:"list"`
		}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("run %s manifest: %w", e.Name(), err)
		}
		d, err := time.Parse(time.DateOnly, m.AsOf)
		if m.Status != "succeeded" || m.List == nil || err != nil || !d.Before(asOf) {
			continue
		}
		b, err = os.ReadFile(filepath.Join(runsDir, e.Name(), "list", listStateFile))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("run %s: %w", e.Name(), err)
		}
		var st pipeline.ListState
		if err := json.Unmarshal(b, &st); err != nil {
			return nil, fmt.Errorf("run %s list state: %w", e.Name(), err)
		}
		return &st, nil
	}
	return nil, nil
}
