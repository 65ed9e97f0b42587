package synthetic

import "math/rand/v2"

// children per household: 1–4, mean ≈1.8.
var childrenCum = cumulative([]float64{0.45, 0.35, 0.14, 0.06})

// daysPerYear converts ages to days.
const daysPerYear = 365.2425

// maxChildDays bounds a child's age at End: any younger than 6,574 days
// (the shortest 18 years) is still 17.
const maxChildDays = 6574

// buildHouseholds draws households until the council has nChildren
// children: an LSOA, then ethnicity given its deprivation, family structure,
// the children's ages and parents old enough for them.
func (w *world) buildHouseholds(r *rand.Rand, nChildren int) {
	shares := w.prof.ethnicShares()
	ethByDecile := ethnicityByDecile(w.prof.decileShare, shares)
	ethAll := ethnicityShares(shares)
	end := w.last
	for len(w.children) < nChildren {
		l := r.IntN(len(w.lsoas))
		dep := w.lsoas[l].imd
		k := min(1+pick(r.Float64(), childrenCum), nChildren-len(w.children))
		h := household{
			dep:   dep,
			eth:   pick(r.Float64(), ethByDecile[dep-1]),
			lone:  r.Float64() < 0.15+0.035*float64(10-dep),
			large: k >= 3,
			form:  w.first - day(30+r.IntN(3650)),
		}
		h.addr = []address{{from: h.form, lsoa: l}}
		tc := w.prof.tenureCum(dep)
		h.tenure = uint8(pick(r.Float64(), tc[:]))
		h.mu = baselineNeed(dep, h.lone, h.large, h.tenure) + 0.5*r.NormFloat64()
		h.absence = w.wp.absenceSD * r.NormFloat64()
		hi := len(w.households)

		ages := make([]int, k) // days before End
		oldest := 0
		for i := range ages {
			ages[i] = r.IntN(maxChildDays)
			oldest = max(oldest, ages[i])
		}
		oldestYears := int(float64(oldest) / daysPerYear)
		parents := 2
		if h.lone {
			parents = 1
		}
		age1 := min(55, max(20, oldestYears+18+r.IntN(16)))
		for p := range parents {
			age := age1
			sex := byte('F')
			if p == 1 {
				age = min(55, max(20, oldestYears+18, age1+r.IntN(11)-4))
				if r.Float64() < 0.95 {
					sex = 'M'
				}
			} else if !h.lone && r.Float64() < 0.05 || h.lone && r.Float64() < 0.1 {
				sex = 'M'
			}
			pi := w.addPerson(person{
				dob: end - day(float64(age)*daysPerYear) - day(r.IntN(365)),
				sex: sex, eth: uint8(h.eth), child: -1,
			})
			h.members = append(h.members, member{person: pi, from: h.form, to: noDay})
		}
		for _, a := range ages {
			eth := h.eth
			if r.Float64() < 0.1 {
				eth = pick(r.Float64(), ethAll)
			}
			sex := byte('F')
			if r.Float64() < 0.51 {
				sex = 'M'
			}
			dob := end - day(a)
			pi := w.addChild(dob, sex, eth, hi)
			h.members = append(h.members, member{person: pi, from: max(h.form, dob), to: noDay})
		}
		w.households = append(w.households, h)
	}
	sum := 0.0
	for _, c := range w.children {
		sum += w.households[c.hh].mu
	}
	w.meanNeed = sum / float64(len(w.children))
}

// baselineNeed shifts latent need by deprivation (+0.35 SD per decile step
// towards decile 1, centred on the middle), tenure, lone parenthood and
// family size (domain-data §7.2).
func baselineNeed(dep int, lone, large bool, tenure uint8) float64 {
	mu := 0.35*(5.5-float64(dep)) + tenureNeed[tenure]
	if lone {
		mu += 0.3
	}
	if large {
		mu += 0.25
	}
	return mu
}

func (w *world) addPerson(p person) int {
	w.persons = append(w.persons, p)
	return len(w.persons) - 1
}

func (w *world) addChild(dob day, sex byte, eth, hh int) int {
	pi := w.addPerson(person{dob: dob, sex: sex, eth: uint8(eth), child: int32(len(w.children))})
	y, m, d := dob.civil()
	c := child{person: pi, hh: hh, hh2: -1}
	for i, age := range [...]int{1, 5, 10, 16, 18} {
		c.birthdays[i] = dayOf(y+age, m, d)
	}
	// Children born September to August share a school year and start
	// reception in the September after they turn four.
	cohort := y
	if m < 9 {
		cohort--
	}
	c.reception = cohort + 5
	w.children = append(w.children, c)
	return pi
}
