package synthetic

import "math"

// Cases open when the window starts: children's social care extracts hold
// every open case, so children already on a plan or in care appear with
// referral dates before the window. Without them the number in need would
// climb from zero through the window instead of sitting near §4.4's 3.3%.
// Shares of children at the start, relative to an average child; the
// deprivation and ethnicity gradients follow the severe hazard.
const (
	seedCIN = 0.018 // child in need plans
	seedCP  = 0.004 // child protection plans
	seedLA  = 0.007 // looked after
)

func (r *referrals) seedOpenCases() {
	w := r.g.w
	first := w.first
	// Weight each child by the severe hazard at baseline need, normalised
	// to a mean of one over the children present at the start.
	weight := make([]float64, len(w.children))
	sum, n := 0.0, 0
	for ci, c := range w.children {
		dob := w.persons[c.person].dob
		band := c.ageBand(first)
		if dob > first-60 || band == 5 {
			continue
		}
		h := c.householdAt(first)
		weight[ci] = r.m.childEffect[ci] * r.m.hhEffect[h] * math.Exp(severeNeed*w.households[h].mu+ageSevere[band])
		sum += weight[ci]
		n++
	}
	if n == 0 {
		return
	}
	scale := float64(n) / sum
	total := seedCIN + seedCP + seedLA
	for ci, c := range w.children {
		if weight[ci] == 0 || r.r.Float64() >= min(0.9, total*weight[ci]*scale) {
			continue
		}
		dob := w.persons[c.person].dob
		var o int
		var back, left int // days since the referral, days still open
		switch u := r.r.Float64() * total; {
		case u < seedCIN:
			o, back, left = 3, 14+r.r.IntN(600), 1+r.r.IntN(900)
		case u < seedCIN+seedCP:
			o, back, left = 4, 14+r.r.IntN(500), 1+r.r.IntN(700)
		default:
			o, back, left = 5, 30+r.r.IntN(1500), 1+r.r.IntN(1400)
		}
		d := max(first-day(back), dob+1)
		closed := first + day(left)
		if o == 5 && r.r.Float64() < 0.6 {
			closed = noDay
		}
		r.openUntil[ci], r.caseStart[ci], r.caseKind[ci] = closed, d, int8(o)
		r.record(ci, o, c.ageBand(d), d, closed)
	}
}
