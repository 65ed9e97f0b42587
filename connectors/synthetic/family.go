package synthetic

import (
	"math"
	"math/rand/v2"
)

// Family changes other than births and moves (§5.1: households are not
// fixed): a parent of a two-parent family leaves and sets up alone, or a
// new partner joins a lone parent. Rates are per year of the window and
// lean towards higher need.
const (
	separationPerYear = 0.03
	newPartnerPerYear = 0.04
)

func (w *world) scheduleFamilyChanges(r *rand.Rand) {
	span := int(w.last - w.first)
	if span < 2 {
		return
	}
	years := float64(span) / daysPerYear
	ethAll := ethnicityShares(w.prof.ethnicShares())
	nOriginal := len(w.households)
	for hi := range nOriginal {
		h := &w.households[hi]
		tilt := math.Exp(0.3 * (h.mu - w.meanNeed))
		d := w.first + 1 + day(r.IntN(span))
		if d <= h.form || len(h.addr) > 1 && d >= h.addr[1].from-1 && d <= h.addr[1].from+1 {
			r.Float64() // keep the draws per household fixed
			continue
		}
		switch {
		case !h.lone && len(h.members) > 1 && w.persons[h.members[1].person].child < 0:
			if r.Float64() >= separationPerYear*years*tilt {
				continue
			}
			leaver := h.members[1].person
			h.members[1].to = d - 1
			l := h.lsoaAt(d)
			nh := household{
				dep: w.lsoas[l].imd, eth: h.eth, lone: true, form: d,
				tenure: tenurePrivate, absence: 0.45 * r.NormFloat64(),
			}
			nh.addr = []address{{from: d, lsoa: l}}
			nh.mu = baselineNeed(nh.dep, true, false, nh.tenure) + 0.5*r.NormFloat64()
			nh.members = []member{{person: leaver, from: d, to: noDay}}
			w.households = append(w.households, nh)
		case h.lone:
			if r.Float64() >= newPartnerPerYear*years*tilt {
				continue
			}
			parent := w.persons[h.members[0].person]
			eth := h.eth
			if r.Float64() < 0.15 {
				eth = pick(r.Float64(), ethAll)
			}
			sex := byte('M')
			if parent.sex == 'M' || r.Float64() < 0.03 {
				sex = 'F'
			}
			pi := w.addPerson(person{
				dob: parent.dob + day(r.IntN(3650)) - 1825,
				sex: sex, eth: uint8(eth), child: -1,
			})
			h = &w.households[hi] // addPerson does not move households, but be plain
			h.members = append(h.members, member{person: pi, from: d, to: noDay})
		default:
			r.Float64()
		}
	}
}

// findLeads sets each household's lead adult and mother.
func (w *world) findLeads() {
	w.lead = make([]int, len(w.households))
	w.mother = make([]int, len(w.households))
	for hi := range w.households {
		w.lead[hi], w.mother[hi] = -1, -1
		for _, m := range w.households[hi].members {
			p := &w.persons[m.person]
			if p.child >= 0 {
				continue
			}
			if w.lead[hi] < 0 {
				w.lead[hi] = m.person
			}
			if w.mother[hi] < 0 && p.sex == 'F' {
				w.mother[hi] = m.person
			}
		}
	}
}
