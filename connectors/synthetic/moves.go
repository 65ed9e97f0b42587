package synthetic

import (
	"math"
	"math/rand/v2"
)

// scheduleMoves picks the households that move address and the children who
// change household, both leaning towards higher need.
func (w *world) scheduleMoves(r *rand.Rand) {
	span := int(w.last - w.first)
	if span < 1 {
		return
	}
	byLocality := make([][]int, len(w.localities))
	for i, l := range w.lsoas {
		byLocality[l.locality] = append(byLocality[l.locality], i)
	}
	tiltMean := 0.0
	for i := range w.households {
		tiltMean += math.Exp(0.4 * w.households[i].mu)
	}
	tiltMean /= float64(len(w.households))
	nOriginal := len(w.households)
	for i := range nOriginal {
		h := &w.households[i]
		if r.Float64() >= householdMoveShare*math.Exp(0.4*h.mu)/tiltMean {
			continue
		}
		move := w.first + 1 + day(r.IntN(span))
		l := h.addr[0].lsoa
		if r.Float64() < 0.5 {
			near := byLocality[w.lsoas[l].locality]
			l = near[r.IntN(len(near))]
		}
		h.addr = append(h.addr, address{from: move, lsoa: l})
		if r.Float64() < moveAfterCrisisRate {
			if c := move - day(r.IntN(57)); c >= w.first {
				h.crisis = c
			}
		}
	}

	childTilt := 0.0
	for _, c := range w.children {
		childTilt += math.Exp(0.3 * w.households[c.hh].mu)
	}
	childTilt /= float64(len(w.children))
	for ci := range w.children {
		c := &w.children[ci]
		from := &w.households[c.hh]
		if r.Float64() >= childMoveShare*math.Exp(0.3*from.mu)/childTilt {
			continue
		}
		start := max(w.first+1, w.persons[c.person].dob+1)
		if start > w.last {
			continue
		}
		move := start + day(r.IntN(int(w.last-start)+1))
		near := byLocality[w.lsoas[from.lsoaAt(move)].locality]
		l := near[r.IntN(len(near))]
		dep := w.lsoas[l].imd
		h := household{
			dep:     dep,
			eth:     int(w.persons[c.person].eth),
			lone:    true,
			form:    w.first - day(30+r.IntN(3650)),
			absence: 0.45 * r.NormFloat64(),
		}
		h.addr = []address{{from: h.form, lsoa: l}}
		tc := w.prof.tenureCum(dep)
		h.tenure = uint8(pick(r.Float64(), tc[:]))
		h.mu = baselineNeed(dep, true, false, h.tenure) + 0.5*r.NormFloat64()
		childYears := int(float64(w.last-w.persons[c.person].dob) / daysPerYear)
		age := min(55, max(20, childYears+18+r.IntN(16)))
		sex := byte('F')
		if r.Float64() < 0.7 {
			sex = 'M'
		}
		pi := w.addPerson(person{
			dob: w.last - day(float64(age)*daysPerYear) - day(r.IntN(365)),
			sex: sex, eth: uint8(h.eth), child: -1,
		})
		h.members = []member{{person: pi, from: h.form, to: noDay}, {person: c.person, from: move, to: noDay}}
		for mi := range from.members {
			if from.members[mi].person == c.person {
				from.members[mi].to = move - 1
			}
		}
		c.hh2, c.move = len(w.households), move
		w.households = append(w.households, h)
	}
}

// assignUPRNs numbers the addresses in household order so that UPRNs do not
// depend on the order the moves were drawn in.
func (w *world) assignUPRNs() {
	n := 0
	for i := range w.households {
		for a := range w.households[i].addr {
			w.households[i].addr[a].uprn = uprn(n)
			n++
		}
	}
}
