package synthetic

import (
	"math"
	"math/rand/v2"

	"earlyhelp/connectors"
	"earlyhelp/pipeline/contract"
)

const (
	homelessnessFile = "incoming/homelessness_cases/homelessness_cases.csv"
	taFile           = "incoming/temporary_accommodation/temporary_accommodation.csv"
)

// Homelessness model (domain-data §3.1–3.2). Approaches are observations:
// a housing crisis leads to one within a few weeks with probability
// approachAfterCrisis, and need raises a background hazard. Families owed
// the relief duty are mostly placed in temporary accommodation; placements
// last taWeeks on average (geometric). Visibility bias scales the recording
// of approaches, never need or outcomes.
const (
	approachAfterCrisis = 0.6
	approachPerYear     = 0.012 // background, per family, at average need
	approachNeed        = 0.5   // log hazard per unit of need
	taWeeks             = 60.0
	caseDutyDays        = 56 // prevention and relief duties run 56 days
)

// Approach hazard by tenure: owners rarely lose their home, private
// renters most often (end of an assured shorthold tenancy, §3.2).
var tenureHomeless = [3]float64{0.25, 2.2, 1.0}

// Loss-of-home reasons by crisis kind, and for background approaches by
// tenure.
var (
	reasonNames = []string{
		"end_of_ast", "family_friends_no_longer_willing", "domestic_abuse", "rent_arrears",
		"relationship_breakdown", "end_of_social_tenancy", "other",
	}
	reasonByShock = [4][]float64{
		cumulative([]float64{0.45, 0.3, 0, 0.1, 0.05, 0.05, 0.05}), // housing
		cumulative([]float64{0, 0.05, 0.85, 0, 0.1, 0, 0}),         // domestic abuse
		cumulative([]float64{0.2, 0.35, 0, 0.15, 0.2, 0, 0.1}),     // mental ill-health
		cumulative([]float64{0.25, 0.15, 0, 0.5, 0.05, 0.0, 0.05}), // job loss
	}
	reasonByTenure = [3][]float64{
		cumulative([]float64{0, 0.45, 0.1, 0.15, 0.2, 0, 0.1}),       // owner (mortgage arrears as rent_arrears)
		cumulative([]float64{0.55, 0.15, 0.07, 0.13, 0.05, 0, 0.05}), // private
		cumulative([]float64{0, 0.25, 0.15, 0.3, 0.1, 0.1, 0.1}),     // social
	}
	dutyNames   = contract.DutiesOwed()
	dutyCrisis  = cumulative([]float64{0.4, 0.55, 0.04, 0.01})
	dutyBackgr  = cumulative([]float64{0.6, 0.26, 0.11, 0.03})
	taTypeNames = []string{"bnb", "hostel", "nightly_paid", "private_sector_leased", "la_stock"}
	taTypeCum   = cumulative([]float64{0.08, 0.08, 0.4, 0.24, 0.2})
)

// P(placed in TA) by duty owed.
var taGivenDuty = [4]float64{0.12, 0.8, 0, 0}

type housing struct {
	g       *generator
	need    *needState
	r       *rand.Rand
	cases   *csvFile
	ta      *csvFile
	nCase   int
	nTA     int
	weekly  float64   // background hazard per week at need meanNeed
	vis     []float64 // per household: visibility factor × profile rate
	pending []int32   // week an approach is due after a crisis (-1 none)
	busyTo  []day     // open case or placement until (exclusive)
	buf     []byte
	ref     []byte // the current case_ref
}

func (g *generator) newHousing(need *needState) (*housing, error) {
	cases, err := g.out.create(homelessnessFile, 0o644, false, g.columns(connectors.HomelessnessCases)...)
	if err != nil {
		return nil, err
	}
	ta, err := g.out.create(taFile, 0o644, false, g.columns(connectors.TemporaryAccom)...)
	if err != nil {
		return nil, err
	}
	n := len(g.w.households)
	s := &housing{
		g: g, need: need, cases: cases, ta: ta,
		r:       newRand(g.cfg.Seed, streamHousing),
		weekly:  approachPerYear / 52,
		vis:     make([]float64, n),
		pending: make([]int32, n),
		busyTo:  make([]day, n),
	}
	for h := range n {
		hh := &g.w.households[h]
		s.vis[h] = g.bias.factor(BiasVisibility, hh.eth, g.w.lsoas[hh.lsoaAt(g.w.first)].imd) * g.w.prof.homeless
		s.pending[h] = -1
		s.busyTo[h] = math.MinInt32
	}
	s.seedPlacements()
	return s, nil
}

// seedPlacements places families already in TA when the window opens, so
// the stock starts near its steady state: with geometric spells the time
// already spent and the time left are both geometric with the same mean.
func (s *housing) seedPlacements() {
	w := s.g.w
	pTA := (approachAfterCrisis*crisisRate*0.45 + s.weekly) * 0.5 // ≈ P(entering TA) a week
	for h := range w.households {
		hh := &w.households[h]
		if len(w.childrenOf(h)) == 0 {
			continue
		}
		rate := pTA * tenureHomeless[hh.tenure] * s.vis[h] * math.Exp(w.wp.housingNeed*approachNeed*(hh.mu-w.meanNeed))
		if s.r.Float64() >= rate*s.taWeeks() {
			continue
		}
		start := w.first - day(7*geometric(s.r, s.taWeeks(), 520))
		approach := start - day(s.r.IntN(15))
		if w.persons[w.lead[h]].dob+18*366 > approach || hh.form > approach {
			continue // the family did not exist yet
		}
		s.approach(h, approach, 1, pick(s.r.Float64(), reasonByTenure[hh.tenure]), true, start)
	}
}

func (s *housing) taWeeks() float64 { return taWeeks * s.g.w.prof.taLength }

func (s *housing) week(t int, ws, we day) {
	w := s.g.w
	n := s.need
	for h := range w.households {
		if s.g.kids[h] == 0 || s.busyTo[h] > ws {
			continue
		}
		if int(n.shockWeek[h]) == t && n.shock[h] != shockMental && s.pending[h] < 0 {
			p := approachAfterCrisis
			if n.shock[h] != shockHousing {
				p *= 0.25
			}
			if s.r.Float64() < p*s.vis[h] {
				s.pending[h] = int32(t + s.r.IntN(4))
			}
		}
		if s.pending[h] == int32(t) {
			s.pending[h] = -1
			reason := pick(s.r.Float64(), reasonByShock[n.shock[h]])
			s.approach(h, ws+day(s.r.IntN(7)), pick(s.r.Float64(), dutyCrisis), reason, false, 0)
			continue
		}
		lam := s.weekly * tenureHomeless[w.households[h].tenure] * s.vis[h] * math.Exp(w.wp.housingNeed*approachNeed*(n.z(h, t)-w.meanNeed))
		if s.r.Float64() < lam {
			reason := pick(s.r.Float64(), reasonByTenure[w.households[h].tenure])
			s.approach(h, ws+day(s.r.IntN(7)), pick(s.r.Float64(), dutyBackgr), reason, false, 0)
		}
	}
	_ = we
}

// approach writes a case opened on day d and, when the family is placed,
// its placement (start on day taStart when forced, as for seeded
// placements). Dates after End are written blank, as an extract taken at
// End would hold them.
func (s *housing) approach(h int, d day, duty, reason int, forceTA bool, taStart day) {
	w := s.g.w
	last := w.last
	placed := forceTA || s.r.Float64() < taGivenDuty[duty]
	var taEnd day
	if placed {
		if !forceTA {
			taStart = d + day(s.r.IntN(15))
		}
		taEnd = taStart + day(7*geometric(s.r, s.taWeeks(), 1040)) - day(s.r.IntN(7))
	}
	decision, closed := "", d+day(14+s.r.IntN(60))
	switch {
	case duty == 1 && placed:
		decision, closed = "main_duty", taEnd
		if s.r.Float64() < 0.1 {
			decision = "intentionally_homeless"
		}
	case duty == 1:
		decision, closed = "not_priority", d+caseDutyDays+day(s.r.IntN(30))
	}
	if duty == 1 && d+caseDutyDays > last {
		decision = ""
	}
	s.busyTo[h] = max(closed, taEnd)
	s.nCase++
	s.ref = appendRef(s.ref[:0], "HC", s.nCase, 6)
	b := append(s.buf[:0], s.ref...)
	b = append(b, ',')
	b = appendISO(b, d)
	b = append(b, ',')
	b = appendID(b, 'P', w.lead[h]+1)
	b = append(b, ',')
	b = appendUPRN(b, w.households[h].uprnAt(d))
	b = append(b, ',')
	b = append(b, dutyNames[duty]...)
	b = append(b, ',')
	b = append(b, reasonNames[reason]...)
	b = append(b, ',')
	b = append(b, decision...)
	b = append(b, ',')
	if closed <= last {
		b = appendISO(b, closed)
	}
	s.buf = append(b, '\n')
	s.cases.end(s.buf)
	s.g.links.add(connectors.HomelessnessCases, s.ref, w.lead[h], h)
	if !placed || taStart > last {
		return
	}
	s.nTA++
	b = appendRef(s.buf[:0], "TA", s.nTA, 5)
	idLen := len(b)
	b = append(b, ',')
	b = append(b, s.ref...)
	b = append(b, ',')
	b = appendISO(b, taStart)
	b = append(b, ',')
	if taEnd <= last {
		b = appendISO(b, taEnd)
	}
	b = append(b, ',')
	b = append(b, taTypeNames[pick(s.r.Float64(), taTypeCum)]...)
	b = append(b, ',')
	b = appendBool(b, s.r.Float64() < 0.3*w.prof.outOfArea)
	s.buf = append(b, '\n')
	s.ta.end(s.buf)
	s.g.links.add(connectors.TemporaryAccom, s.buf[:idLen], w.lead[h], h)
}

func (s *housing) finish() {
	s.g.rows[connectors.HomelessnessCases] = s.cases.rows
	s.g.rows[connectors.TemporaryAccom] = s.ta.rows
}
