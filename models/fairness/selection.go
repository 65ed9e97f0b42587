package fairness

import (
	"cmp"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
)

// Decision is one audited selection (§4.3): the pipeline's own `selected`,
// a capacity what-if top_k=K or rank_pct=p, or a threshold score>=t.
type Decision struct {
	ID   string `json:"decision_id"`
	Rule string `json:"rule"`
	// K is how many rows the decision selects.
	K int64 `json:"k"`
	// KthScore, TiesAtCutoff and TiesInside describe the cut-off of a
	// capacity what-if; ties are reported because (score desc, id asc)
	// decides who is in (§6 pitfall 2).
	KthScore     *float64 `json:"kth_score"`
	TiesAtCutoff int64    `json:"ties_at_cutoff"`
	TiesInside   int64    `json:"ties_inside"`
	sel          []bool
}

// rankOrder returns row indices sorted by (score desc, id asc, as_of asc):
// §4.3's tie rule, with as_of only to make pooled back-test dates total.
func rankOrder(rows []Row) []int32 {
	order := make([]int32, len(rows))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(i, j int32) int {
		a, b := &rows[i], &rows[j]
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		if c := cmp.Compare(a.ID, b.ID); c != 0 {
			return c
		}
		return cmp.Compare(a.AsOf, b.AsOf)
	})
	return order
}

// decisions builds every decision the config asks for, `selected` first.
func decisions(rows []Row, order []int32, cfg *Config) ([]*Decision, error) {
	var out []*Decision
	have := 0
	for i := range rows {
		if rows[i].Selected >= 0 {
			have++
		}
	}
	switch {
	case have == len(rows) && have > 0:
		d := &Decision{ID: "selected", Rule: "the pipeline's audited decision", sel: make([]bool, len(rows))}
		for i := range rows {
			d.sel[i] = rows[i].Selected == 1
			if d.sel[i] {
				d.K++
			}
		}
		out = append(out, d)
	case have > 0:
		return nil, fmt.Errorf("selected: given on %d of %d rows; give it on all or none", have, len(rows))
	}
	for _, k := range cfg.Capacities {
		if k > len(rows) {
			return nil, fmt.Errorf("capacity %d exceeds %d rows", k, len(rows))
		}
		out = append(out, topK(rows, order, int64(k), "top_k="+strconv.Itoa(k),
			"first K by (score desc, id asc); exactly K rows even when scores tie at the cut-off"))
	}
	for _, p := range cfg.CapacityFractions {
		k := floorFraction(p, len(rows))
		ps := strconv.FormatFloat(p, 'g', -1, 64)
		out = append(out, topK(rows, order, k, "rank_pct="+ps,
			fmt.Sprintf("K = floor(%s·n) = %d, then first K by (score desc, id asc)", ps, k)))
	}
	for _, t := range cfg.Thresholds {
		ts := strconv.FormatFloat(t, 'g', -1, 64)
		d := &Decision{ID: "score>=" + ts, Rule: "score >= " + ts, sel: make([]bool, len(rows))}
		for i := range rows {
			d.sel[i] = rows[i].Score >= t
			if d.sel[i] {
				d.K++
			}
		}
		out = append(out, d)
	}
	return out, nil
}

// floorFraction is floor(p·n) on p's shortest decimal form, so 0.29 of 100
// is 29 and not the 28 that binary float multiplication gives.
func floorFraction(p float64, n int) int64 {
	r, ok := new(big.Rat).SetString(strconv.FormatFloat(p, 'g', -1, 64))
	if !ok {
		return int64(math.Floor(p * float64(n)))
	}
	r.Mul(r, new(big.Rat).SetInt64(int64(n)))
	q := new(big.Int).Quo(r.Num(), r.Denom()) // non-negative, so Quo is floor
	return q.Int64()
}

func topK(rows []Row, order []int32, k int64, id, rule string) *Decision {
	d := &Decision{ID: id, Rule: rule, K: k, sel: make([]bool, len(rows))}
	for _, i := range order[:k] {
		d.sel[i] = true
	}
	if k == 0 {
		return d
	}
	kth := rows[order[k-1]].Score
	d.KthScore = ptr(kth)
	for pos, i := range order {
		if rows[i].Score == kth {
			d.TiesAtCutoff++
			if int64(pos) < k {
				d.TiesInside++
			}
		}
	}
	return d
}
