package synthetic

import (
	"math"
	"math/rand/v2"

	"earlyhelp/connectors"
	"earlyhelp/pipeline/contract"
)

// Referral model (domain-data §4.4). Each child has two weekly hazards, for
// a referral that ends at assessment or above ("severe", the model's label)
// and for one that ends in no further action or early help ("milder"):
//
//	λ = base × exp(b·z_{t-lag} + age + ethnicity + deprivation) × (0.1 while a case is open)
//
// The severe hazard rises faster with need, so higher need brings more
// severe outcomes. The bases are calibrated at start-up to
// referralsPerChildYear.
const (
	referralsPerChildYear = 0.05 // ≈500 per 10,000 children a year
	severeShare           = 0.76 // assessment, CIN, CP and looked after (of all referrals)
	severeNeed            = 0.6
	milderNeed            = 0.35
	depPerDecile          = 0.06 // direct deprivation effect per decile step
	openCaseFactor        = 0.1
	// openCaseAllowance offsets, in the calibration, the hazard lost while
	// cases are open.
	openCaseAllowance = 1.15
)

// Log hazard by age band (under 1, 1–4, 5–9, 10–15, 16–17): infants and
// teenagers are referred most.
var (
	ageSevere = [5]float64{0.5, 0, -0.15, 0.05, -0.2}
	ageMilder = [5]float64{0.3, 0, -0.05, 0.1, -0.1}
)

// Outcomes in order of severity; the first two are the milder ones.
var outcomes = [6]string{contract.OutcomeNFA, contract.OutcomeEarlyHelp, contract.OutcomeAssessment, contract.OutcomeCINPlan, contract.OutcomeCPPlan, contract.OutcomeLookedAfter}

const firstSevere = 2

// caseDays bounds how long a case stays open, in days, by outcome;
// indefinite is the share that stays open (children who remain looked after).
// Plans last about a year, so that with the cases already open when the
// window starts about 3.3% of children are in need on a day (§4.4).
var caseDays = [6]struct {
	lo, hi     int
	indefinite float64
}{
	{7, 28, 0}, {14, 56, 0}, {28, 84, 0}, {270, 900, 0}, {240, 720, 0}, {365, 1095, 0.6},
}

// caseSurvival is P(a case of outcome o is still open x days after the
// referral).
func caseSurvival(o int, x int) float64 {
	cd := caseDays[o]
	s := 1.0
	if x > cd.lo {
		s = math.Max(0, float64(cd.hi-x+1)/float64(cd.hi-cd.lo+1))
	}
	return cd.indefinite + (1-cd.indefinite)*s
}

const referralsFile = "incoming/csc_referrals/csc_referrals.csv"

// Referral sources (police 28%, schools 21% nationally, §4.4); schools do
// not refer under-fives.
var (
	sourceNames   = []string{"school", "police", "health", "la", "individual", "other"}
	sourcesUnder5 = cumulative([]float64{0, 0.30, 0.30, 0.17, 0.10, 0.13})
	sourcesSchool = cumulative([]float64{0.26, 0.27, 0.12, 0.15, 0.08, 0.12})
)

// Outcome mix given a referral: weights at need one unit above the
// council's mean, and how fast each rises with need. Calibrated to nfa 15%,
// early help 10%, assessment 45%, CIN plan 20%, CP plan 7%, looked after 3%.
var (
	sevWeights     = [4]float64{0.66, 0.255, 0.069, 0.028} // assessment … looked_after
	sevGradients   = [4]float64{0, 0.3, 0.5, 0.7}
	milderWeights  = [2]float64{0.6, 0.4} // nfa, early_help
	milderGradient = 0.3
)

// hazardModel holds the per-child and per-household constants of the
// hazards.
type hazardModel struct {
	baseSevere, baseMilder float64
	childEffect            []float64 // exp(ethnicity effect)
	hhEffect               []float64 // exp(deprivation effect)
}

func newHazardModel(w *world, seed uint64) *hazardModel {
	m := &hazardModel{childEffect: make([]float64, len(w.children)), hhEffect: make([]float64, len(w.households))}
	for ci, c := range w.children {
		m.childEffect[ci] = math.Exp(ethnicities[w.persons[c.person].eth].referral)
	}
	hidden := w.hiddenEffect(seed)
	for h, hh := range w.households {
		m.hhEffect[h] = math.Exp(depPerDecile * (5.5 - float64(hh.dep)))
		if hidden != nil {
			m.hhEffect[h] *= hidden[h]
		}
	}
	// A world whose children share their household's hazard divides each
	// child's by the children at home; calibrate with the same shares.
	share := func(int) float64 { return 1 }
	if w.wp.perHousehold {
		mid := w.first + (w.last-w.first)/2
		kids := make([]int32, len(w.households))
		for _, c := range w.children {
			if w.persons[c.person].dob <= mid && c.ageBand(mid) < 5 {
				kids[c.householdAt(mid)]++
			}
		}
		share = func(h int) float64 { return 1 / float64(max(1, kids[h])) }
	}
	// Calibrate on the children present at mid-window, taking need at its
	// stationary distribution (mu + N(0,1) + crisis trace).
	mid := w.first + (w.last-w.first)/2
	var sumS, sumM float64
	n := 0
	crisisS, crisisM := crisisFactor(severeNeed, 520), crisisFactor(milderNeed, 520)
	for ci, c := range w.children {
		band := c.ageBand(mid)
		if w.persons[c.person].dob > mid || band == 5 {
			continue
		}
		h := c.householdAt(mid)
		mu := w.households[h].mu
		common := m.childEffect[ci] * m.hhEffect[h] * share(h)
		sumS += common * math.Exp(severeNeed*mu+severeNeed*severeNeed/2+ageSevere[band]) * crisisS
		sumM += common * math.Exp(milderNeed*mu+milderNeed*milderNeed/2+ageMilder[band]) * crisisM
		n++
	}
	weekly := referralsPerChildYear / 52 * openCaseAllowance
	m.baseSevere = severeShare * weekly * float64(max(n, 1)) / math.Max(sumS, 1e-300)
	m.baseMilder = (1 - severeShare) * weekly * float64(max(n, 1)) / math.Max(sumM, 1e-300)
	return m
}

// crisisFactor is E[exp(b·c)] for the crisis trace built by h weeks of
// Bernoulli crises starting from none: Π_j (1 - r + r·exp(b·1.5·δ^j)).
func crisisFactor(b float64, h int) float64 {
	f := 1.0
	for j := range h {
		f *= 1 - crisisRate + crisisRate*math.Exp(b*crisisSize*math.Pow(crisisDecay, float64(j)))
	}
	return f
}

// referrals draws each child's referrals week by week and streams
// csc_referrals.csv.
type referrals struct {
	g    *generator
	eh   *earlyHelp
	need *needState
	m    *hazardModel
	r    *rand.Rand
	f    *csvFile
	n    int // referrals written
	// Per child: the open case (close day, noDay if it stays open; referral
	// day; outcome).
	openUntil  []day
	caseStart  []day
	caseKind   []int8
	lastSevere []int // per household: last week with a severe referral (-1 none)
	blankAt    int   // light profile: the referral written without person_id
	buf        []byte
}

func (g *generator) newReferrals(need *needState, eh *earlyHelp) (*referrals, error) {
	f, err := g.out.create(referralsFile, 0o644, false, g.columns(connectors.CSCReferrals)...)
	if err != nil {
		return nil, err
	}
	nc := len(g.w.children)
	r := &referrals{
		g: g, eh: eh, need: need, m: newHazardModel(g.w, g.cfg.Seed), f: f,
		r:          newRand(g.cfg.Seed, streamReferrals),
		openUntil:  make([]day, nc),
		caseStart:  make([]day, nc),
		caseKind:   make([]int8, nc),
		lastSevere: make([]int, len(g.w.households)),
	}
	for i := range r.openUntil {
		r.openUntil[i] = -1 << 30
	}
	for i := range r.lastSevere {
		r.lastSevere[i] = -1 << 30
	}
	// The light profile blanks one referral's person_id, when there are
	// enough referrals (100) for one bad row to stay within a 5% tolerance.
	if expected := float64(nc) * float64(g.cfg.Weeks) / 52 * referralsPerChildYear; g.light() && expected >= 100 {
		r.blankAt = 1 + g.rDef.IntN(int(expected/2))
	}
	r.seedOpenCases()
	return r, nil
}

func (r *referrals) week(t int, ws, we day) {
	w := r.g.w
	for ci := range w.children {
		c := &w.children[ci]
		dob := w.persons[c.person].dob
		band := c.ageBand(ws)
		if dob > we || band == 5 {
			continue
		}
		h := c.householdAt(ws)
		z := r.need.z(h, t-r.need.lag)
		common := r.m.childEffect[ci] * r.m.hhEffect[h]
		if w.wp.perHousehold {
			common /= float64(max(1, r.g.kids[h]))
		}
		if r.openUntil[ci] >= ws {
			common *= openCaseFactor
		}
		lamS := r.m.baseSevere * common * math.Exp(severeNeed*z+ageSevere[band])
		lamM := r.m.baseMilder * common * math.Exp(milderNeed*z+ageMilder[band])
		pS := -math.Expm1(-lamS)
		u := r.r.Float64()
		var o int
		switch {
		case u < pS:
			o = r.severeOutcome(z)
			r.lastSevere[h] = t
		case u < pS+(1-pS)*-math.Expm1(-lamM):
			o = r.milderOutcome(z)
		default:
			continue
		}
		r.write(ci, o, band, max(ws, dob), we)
	}
}

func (r *referrals) severeOutcome(z float64) int {
	x := z - r.g.w.meanNeed - 1
	var w [4]float64
	sum := 0.0
	for i := range w {
		w[i] = sevWeights[i] * math.Exp(sevGradients[i]*x)
		sum += w[i]
	}
	u := r.r.Float64() * sum
	for i := range w {
		if u < w[i] {
			return firstSevere + i
		}
		u -= w[i]
	}
	return len(outcomes) - 1
}

func (r *referrals) milderOutcome(z float64) int {
	x := z - r.g.w.meanNeed - 1
	eh := milderWeights[1] * math.Exp(milderGradient*x)
	if r.r.Float64()*(milderWeights[0]+eh) < milderWeights[0] {
		return 0
	}
	return 1
}

// write records a referral made on a day between lo and hi (mostly a
// weekday) and opens the child's case.
func (r *referrals) write(ci, o, band int, lo, hi day) {
	d := lo + day(r.r.IntN(int(hi-lo)+1))
	if r.r.Float64() < 0.9 { // move weekend referrals to a weekday when there is one
		for try := 0; try < 7 && d.weekday() >= 5; try++ {
			d = lo + day(r.r.IntN(int(hi-lo)+1))
		}
	}
	cd := caseDays[o]
	closed := d + day(cd.lo+r.r.IntN(cd.hi-cd.lo+1))
	if r.r.Float64() < cd.indefinite {
		closed = noDay
	}
	r.openUntil[ci], r.caseStart[ci], r.caseKind[ci] = closed, d, int8(o)
	if o == 1 { // early help: the family's episode starts within three weeks
		r.eh.open(r.g.w.children[ci].householdAt(d), d+day(3+r.r.IntN(19)))
	}
	r.record(ci, o, band, d, closed)
}

// record writes one referral row.
func (r *referrals) record(ci, o, band int, d, closed day) {
	src := sourcesSchool
	if band <= 1 {
		src = sourcesUnder5
	}
	r.n++
	b := appendID(r.buf[:0], 'R', r.n)
	b = append(b, ',')
	blank := r.n == r.blankAt
	if !blank {
		b = appendID(b, 'P', r.g.w.children[ci].person+1)
	}
	b = append(b, ',')
	b = appendISO(b, d)
	b = append(b, ',')
	b = append(b, sourceNames[pick(r.r.Float64(), src)]...)
	b = append(b, ',')
	b = append(b, outcomes[o]...)
	b = append(b, ',')
	if closed <= r.g.w.last {
		b = appendISO(b, closed)
	}
	b = append(b, '\n')
	r.buf = b
	row := r.f.end(b)
	if blank {
		r.g.defects.add(referralsFile, row, contract.ColPersonID, defectMissing, false)
	}
}
