package pipeline

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"time"
)

// Arms of the capacity-margin lottery.
const (
	ArmOffered    = "offered"
	ArmNotOffered = "not_offered"
)

// Lottery is the capacity-margin evaluation (list.evaluation): of the 2m
// households ranked around the week's capacity K, m are listed, chosen
// uniformly at random; the K−m above them are always listed. Their scores
// differ by less than the score's own noise, so the draw changes only an
// order the model cannot really tell apart, and the council learns whether
// the offer changes outcomes.
type Lottery struct {
	Margin int
	// Seed, with the run's as-of date, fixes the draw: the same week's list
	// drawn again with the same seed is the same list.
	Seed int64
}

// AllocationFile, beside the list, records the draw: one row per household
// in the lottery with its arm. Pseudonyms only.
const AllocationFile = "evaluation_allocation.csv"

// Allocation is one household's draw.
type Allocation struct {
	Household string // pseudonym
	Rank      int    // in the week's ranked order, 1 = highest score
	Arm       string // ArmOffered or ArmNotOffered
}

// MarginDraw is the lottery over n households eligible for the list, in
// list order (after cool-off, quotas and the stability rule), at capacity k
// and margin m: Always are the positions listed whatever the draw, Offered
// and NotOffered the lottery's arms, each in ascending order. Exactly
// min(n, k) positions are listed (Always and Offered). With n ≤ k everyone
// is listed and there is no lottery: nobody eligible goes unlisted, so
// there is nothing to randomise.
type MarginDraw struct {
	Always, Offered, NotOffered []int
}

// DrawMargin draws the lottery. It is deterministic for (seed, asOf) and
// uniform: each of the C(pool, m) ways to choose the offered households is
// equally likely. m must be in [1, k).
func DrawMargin(n, k, m int, seed int64, asOf time.Time) (MarginDraw, error) {
	if k < 1 || m < 1 || m >= k || n < 0 {
		return MarginDraw{}, fmt.Errorf("margin lottery: want 1 ≤ margin < capacity, got margin %d and capacity %d", m, k)
	}
	var d MarginDraw
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
func (lr ListRules) drawList(sel []listed, households []string, asOf time.Time) ([]listed, []Allocation, error) {
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
	var alloc []Allocation
	arm := func(idx []int, name string) {
		for _, i := range idx {
			alloc = append(alloc, Allocation{Household: households[sel[i].pos], Rank: sel[i].pos + 1, Arm: name})
		}
	}
	arm(d.Offered, ArmOffered)
	arm(d.NotOffered, ArmNotOffered)
	for _, i := range d.Offered {
		out = append(out, sel[i])
	}
	slices.SortFunc(out, func(a, b listed) int { return a.pos - b.pos })
	slices.SortFunc(alloc, func(a, b Allocation) int { return a.Rank - b.Rank })
	return out, alloc, nil
}

// AllocationColumns is the header of list/AllocationFile.
func AllocationColumns() []string {
	return []string{"run_id", "as_of", "household_id", "rank", "arm", "margin", "seed"}
}

// writeAllocation writes list/AllocationFile atomically.
func writeAllocation(runDir, runID string, asOf time.Time, l *Lottery, alloc []Allocation) error {
	return WriteAtomic(filepath.Join(runDir, "list", AllocationFile), 0o640, func(w io.Writer) error {
		cw := csv.NewWriter(w)
		cw.Write(AllocationColumns())
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
func (r *run) recordAllocation(ctx context.Context, l *Lottery, alloc []Allocation) error {
	if l == nil {
		return nil
	}
	if err := writeAllocation(r.runDir, r.opts.RunID, r.opts.AsOf, l, alloc); err != nil {
		return fmt.Errorf("evaluation allocation: %w", err)
	}
	r.output("list/" + AllocationFile)
	if r.opts.RecordAllocation != nil {
		if err := r.opts.RecordAllocation(ctx, r.opts.RunID, r.opts.AsOf, *l, alloc); err != nil {
			return fmt.Errorf("evaluation allocation: %w", err)
		}
	}
	return nil
}
