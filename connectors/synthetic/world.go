package synthetic

import (
	"math"
	"math/rand/v2"
	"slices"
)

// noDay marks an open end (a membership still current at End).
const noDay day = math.MaxInt32

// Council constants.
const (
	childrenPerLSOA     = 330  // §4.2: ≈1,500 residents per LSOA
	lsoasPerPrimary     = 2.5  // ≈300 pupils per primary school
	lsoasPerSecondary   = 10.0 // ≈900 pupils per secondary school
	laCode              = 873  // DfE LA number on the council's UPNs
	householdMoveShare  = 0.08 // households that move address once in the window
	childMoveShare      = 0.02 // children who change household in the window
	moveAfterCrisisRate = 0.4  // moves preceded by a housing crisis
)

var localityNames = []string{"North", "South", "East", "West", "Central", "Riverside"}

type lsoa struct {
	code               string
	imd, idaci         int
	locality           int
	primary, secondary int // school indexes
}

type school struct {
	urn, la, estab int
}

// address is one spell of a household at a dwelling.
type address struct {
	from day
	uprn int64
	lsoa int
}

type member struct {
	person   int
	from, to day // to is noDay while still a member at End
}

type household struct {
	addr    []address // in time order
	form    day       // when the council first recorded the household
	dep     int       // IMD decile of the first address; drives baseline need
	lone    bool
	large   bool // three or more children
	tenure  uint8
	eth     int
	mu      float64 // baseline latent need
	absence float64 // log-odds absence effect shared by siblings
	crisis  day     // a housing crisis shortly before the move (0: none)
	members []member
}

// uprnAt is the household's address on day d.
func (h *household) uprnAt(d day) int64 {
	u := h.addr[0].uprn
	for _, a := range h.addr[1:] {
		if d >= a.from {
			u = a.uprn
		}
	}
	return u
}

// lsoaAt is the household's LSOA on day d.
func (h *household) lsoaAt(d day) int {
	l := h.addr[0].lsoa
	for _, a := range h.addr[1:] {
		if d >= a.from {
			l = a.lsoa
		}
	}
	return l
}

type person struct {
	dob   day
	child int32 // index into world.children, -1 for adults
	eth   uint8 // index into ethnicities
	sex   byte
	nhs   int64 // ten digits
	upn   string
}

type child struct {
	person    int
	hh, hh2   int // household; the one joined on a move (-1: none)
	move      day // day the child joins hh2
	primary   int // school indexes, from the first address
	secondary int
	reception int    // academic year of the reception class
	birthdays [5]day // 1st, 5th, 10th, 16th and 18th
}

// ageBand counts the birthdays passed by d: 0 under 1, 1 aged 1–4, 2 aged
// 5–9, 3 aged 10–15, 4 aged 16–17, 5 adult.
func (c *child) ageBand(d day) int {
	n := 0
	for _, b := range c.birthdays {
		if d >= b {
			n++
		}
	}
	return n
}

// householdAt is the child's household on day d.
func (c *child) householdAt(d day) int {
	if c.hh2 >= 0 && d >= c.move {
		return c.hh2
	}
	return c.hh
}

// world is the council at the start of the simulation: places, schools,
// people and the household changes scheduled within the window.
type world struct {
	prof        *profile
	wp          worldParams // the world's mechanics (worlds.go)
	first, last day         // the window, first a Monday
	lsoas       []lsoa
	localities  []string
	schools     []school
	households  []household
	persons     []person
	children    []child
	// hhChildren lists, per household, every child who lives there at some
	// point of the window (CSR layout: children of h are
	// hhChildIdx[hhChildStart[h]:hhChildStart[h+1]]).
	hhChildStart, hhChildIdx []int
	// meanNeed is the mean baseline need of children; absence and outcome
	// severity are shifted by need relative to it.
	meanNeed float64
	// lead is each household's first adult (the housing applicant and
	// tenant); mother its first adult woman, -1 if none.
	lead, mother []int
}

func newWorld(cfg Config, first, last day) (*world, error) {
	prof, err := lookupProfile(cfg.Profile)
	if err != nil {
		return nil, err
	}
	wp, err := lookupWorld(cfg.World)
	if err != nil {
		return nil, err
	}
	r := newRand(cfg.Seed, streamWorld)
	w := &world{prof: prof, wp: wp, first: first, last: last}
	// Sized for the usual mix (≈1.8 children and ≈1.7 adults per
	// household) so that the big slices rarely grow.
	w.children = make([]child, 0, cfg.Children)
	w.households = make([]household, 0, cfg.Children*6/10)
	w.persons = make([]person, 0, cfg.Children*2+cfg.Children/10)
	w.buildPlaces(r, cfg.Children)
	w.buildHouseholds(r, cfg.Children)
	w.scheduleMoves(r)
	w.scheduleFamilyChanges(newRand(cfg.Seed, streamFamily))
	w.assignUPRNs()
	w.findLeads()
	if err := w.assignIdentifiers(); err != nil {
		return nil, err
	}
	w.indexChildren()
	return w, nil
}

// buildPlaces lays out LSOAs (deciles by quota so children land at §4.2's
// shares), localities (contiguous runs of LSOAs sorted by deprivation, so
// areas differ as real ones do) and schools (contiguous runs too).
func (w *world) buildPlaces(r *rand.Rand, children int) {
	n := max(1, int(math.Round(float64(children)/childrenPerLSOA)))
	deciles := make([]int, 0, n)
	var rem [10]float64
	for d, s := range w.prof.decileShare {
		q := float64(n) * s / 100
		k := int(q)
		rem[d] = q - float64(k)
		for range k {
			deciles = append(deciles, d+1)
		}
	}
	for len(deciles) < n { // largest remainders
		best := 0
		for d := range rem {
			if rem[d] > rem[best] {
				best = d
			}
		}
		deciles = append(deciles, best+1)
		rem[best] = -1
	}
	type placed struct {
		imd int
		key float64
	}
	ps := make([]placed, n)
	for i, d := range deciles {
		ps[i] = placed{d, float64(d) + 3*(r.Float64()-0.5)}
	}
	slices.SortStableFunc(ps, func(a, b placed) int { return cmpFloat(a.key, b.key) })

	nLoc := min(n, 4)
	if n >= 60 {
		nLoc++
	}
	if n >= 150 {
		nLoc++
	}
	w.localities = localityNames[:nLoc]
	nPrim := max(1, int(math.Round(float64(n)/lsoasPerPrimary)))
	nSec := max(1, int(math.Round(float64(n)/lsoasPerSecondary)))
	for i := range nPrim {
		// Primary establishment numbers run 2001–3999 (DfE's primary
		// range); a council too large for them spills into further LA codes.
		w.schools = append(w.schools, school{urn: schoolURN(i), la: laCode + i/1999, estab: 2001 + i%1999})
	}
	for i := range nSec {
		w.schools = append(w.schools, school{urn: schoolURN(nPrim + i), la: laCode + i/999, estab: 4001 + i%999})
	}
	w.lsoas = make([]lsoa, n)
	for i, p := range ps {
		idaci := p.imd
		switch u := r.Float64(); {
		case u < 0.2:
			idaci--
		case u < 0.4:
			idaci++
		}
		w.lsoas[i] = lsoa{
			code:      lsoaCode(i),
			imd:       p.imd,
			idaci:     min(10, max(1, idaci)),
			locality:  i * nLoc / n,
			primary:   i * nPrim / n,
			secondary: nPrim + i*nSec/n,
		}
	}
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (w *world) indexChildren() {
	counts := make([]int, len(w.households)+1)
	for _, c := range w.children {
		counts[c.hh+1]++
		if c.hh2 >= 0 {
			counts[c.hh2+1]++
		}
	}
	for i := 1; i < len(counts); i++ {
		counts[i] += counts[i-1]
	}
	w.hhChildStart = counts
	w.hhChildIdx = make([]int, counts[len(counts)-1])
	next := slices.Clone(counts[:len(counts)-1])
	for ci, c := range w.children {
		w.hhChildIdx[next[c.hh]] = ci
		next[c.hh]++
		if c.hh2 >= 0 {
			w.hhChildIdx[next[c.hh2]] = ci
			next[c.hh2]++
		}
	}
}

// childrenOf returns the indexes of every child who lives in household h at
// some point of the window.
func (w *world) childrenOf(h int) []int {
	return w.hhChildIdx[w.hhChildStart[h]:w.hhChildStart[h+1]]
}
