package synthetic

import (
	"encoding/hex"
	"math"
	"strconv"

	"earlyhelp/pipeline/contract"
)

const (
	horizonWeeks       = 26
	householdWeeksFile = "truth/household_weeks.csv"
	truthPersonsFile   = "truth/persons.csv"
	defectsFile        = "truth/defects.csv"
	keyFile            = "secrets/pseudonym.key"
)

// truthWeeks streams truth/household_weeks.csv: per household and week with
// at least one child, the latent need and p_referral_26w, the probability
// that a child of the household gets a referral with outcome assessment or
// above in the next 26 weeks.
//
// The probability uses only what is known at the end of week t: the current
// need components, the lagged need already realised, the children's ages
// and their open cases. Future need is integrated in closed form: the hazard
// of week t+k uses z_{t+k-lag}; when that lies in the future, h steps ahead,
// z is Gaussian with mean mu + φ^h y_t + δ^h c_t and variance 1 - φ^{2h},
// plus a Bernoulli crisis trace, so E[exp(b z)] has a closed form. Then
// p = 1 - exp(-Σ_k Σ_children E[λ_severe]), the expected-hazard approximation.
type truthWeeks struct {
	g    *generator
	need *needState
	ref  *referrals
	f    *csvFile
	// Closed-form constants per step h = 1..horizon: φ^h, δ^h and
	// exp(b²(1-φ^{2h})/2)·E[exp(b·new crises)].
	phiPow, deltaPow, spread [horizonWeeks + 1]float64
	ageFactor                [6]float64 // exp(ageSevere), 0 for adults
	// scores holds the last horizon weeks' p per household (-1: none) for
	// the oracle AUC; labels resolve when a score's horizon has passed.
	scores   []float32
	pos, neg []int64 // score histograms over log10(p)
	buf      []byte
}

const aucBins = 8000 // log10(p) from -8 to 0

func (g *generator) newTruthWeeks(need *needState, ref *referrals) (*truthWeeks, error) {
	f, err := g.out.create(householdWeeksFile, 0o644, false, contract.ColHouseholdID, "week_start", "need", "p_referral_26w")
	if err != nil {
		return nil, err
	}
	t := &truthWeeks{
		g: g, need: need, ref: ref, f: f,
		scores: make([]float32, len(g.w.households)*horizonWeeks),
		pos:    make([]int64, aucBins+1),
		neg:    make([]int64, aucBins+1),
	}
	for i := range t.scores {
		t.scores[i] = -1
	}
	b := severeNeed
	for h := 0; h <= horizonWeeks; h++ {
		t.phiPow[h] = math.Pow(needPersistence, float64(h))
		t.deltaPow[h] = math.Pow(crisisDecay, float64(h))
		t.spread[h] = math.Exp(b*b*(1-t.phiPow[h]*t.phiPow[h])/2) * crisisFactor(b, h)
	}
	for i, a := range ageSevere {
		t.ageFactor[i] = math.Exp(a)
	}
	return t, nil
}

func (t *truthWeeks) week(wk int, ws day) {
	w := t.g.w
	we := ws + 6
	for h := range w.households {
		t.resolve(h, wk)
		kids := 0
		var sum float64 // Σ_k E[exp(b z)] × Σ_children factor
		var perK [horizonWeeks + 1]float64
		for _, ci := range w.childrenOf(h) {
			c := &w.children[ci]
			if c.householdAt(we) != h || w.persons[c.person].dob > we || c.ageBand(we) == 5 {
				continue
			}
			kids++
			base := t.ref.m.baseSevere * t.ref.m.childEffect[ci] * t.ref.m.hhEffect[h]
			open := t.ref.openUntil[ci] > we
			var openAt int
			var openNow float64
			if open {
				openAt = int(we + 1 - t.ref.caseStart[ci])
				openNow = caseSurvival(int(t.ref.caseKind[ci]), openAt)
			}
			// Most children keep one age band over the horizon: look it up
			// twice rather than 26 times.
			bandFirst, bandLast := c.ageBand(ws+7), c.ageBand(ws+day(7*horizonWeeks))
			for k := 1; k <= horizonWeeks; k++ {
				d := ws + day(7*k)
				band := bandFirst
				if bandFirst != bandLast {
					band = c.ageBand(d)
				}
				f := base * t.ageFactor[band]
				if open && openNow > 0 {
					s := caseSurvival(int(t.ref.caseKind[ci]), openAt+7*(k-1)) / openNow
					f *= openCaseFactor*s + (1 - s)
				}
				perK[k] += f
			}
		}
		if kids == 0 {
			continue
		}
		if w.wp.perHousehold {
			for k := range perK {
				perK[k] /= float64(kids)
			}
		}
		n := t.need
		for k := 1; k <= horizonWeeks; k++ {
			if perK[k] == 0 {
				continue
			}
			var e float64
			if ahead := k - n.lag; ahead <= 0 {
				e = math.Exp(severeNeed * n.z(h, wk+ahead))
			} else {
				m := n.mu[h] + t.phiPow[ahead]*n.y[h] + t.deltaPow[ahead]*n.c[h]
				e = math.Exp(severeNeed*m) * t.spread[ahead]
			}
			sum += e * perK[k]
		}
		p := -math.Expm1(-sum)
		b := appendID(t.buf[:0], 'H', h+1)
		b = append(b, ',')
		b = appendISO(b, ws)
		b = append(b, ',')
		b = strconv.AppendFloat(b, n.z(h, wk), 'f', 4, 64)
		b = append(b, ',')
		b = strconv.AppendFloat(b, p, 'f', 6, 64)
		t.buf = append(b, '\n')
		t.f.end(t.buf)
		t.scores[h*horizonWeeks+wk%horizonWeeks] = float32(p)
	}
}

// resolve labels household h's score of week wk-horizon, whose horizon
// (weeks wk-horizon+1 … wk) is now over, and frees its slot for week wk.
// The label is positive when the household had a severe referral in the
// horizon; week wk's referrals are drawn before this runs.
func (t *truthWeeks) resolve(h, wk int) {
	slot := h*horizonWeeks + wk%horizonWeeks
	if p := t.scores[slot]; p >= 0 {
		if t.ref.lastSevere[h] > wk-horizonWeeks {
			t.pos[aucBin(float64(p))]++
		} else {
			t.neg[aucBin(float64(p))]++
		}
	}
	t.scores[slot] = -1
}

func (t *truthWeeks) auc() float64 {
	var p, n int64
	for i := range t.pos {
		p += t.pos[i]
		n += t.neg[i]
	}
	if p == 0 || n == 0 {
		return 0
	}
	var area float64
	var negBelow int64
	for i := range t.pos {
		area += float64(t.pos[i]) * (float64(negBelow) + float64(t.neg[i])/2)
		negBelow += t.neg[i]
	}
	return area / (float64(p) * float64(n))
}

func aucBin(p float64) int {
	if p <= 1e-8 {
		return 0
	}
	return min(aucBins, int((math.Log10(p)+8)*aucBins/8))
}

// writeTruthPersons writes each person's household at End, ethnicity and
// the IMD decile they live in at End.
func (g *generator) writeTruthPersons() error {
	f, err := g.out.create(truthPersonsFile, 0o644, false, contract.ColPersonID, contract.ColHouseholdID, contract.ColEthnicity, contract.ColIMDDecile)
	if err != nil {
		return err
	}
	hhAtEnd := make([]int, len(g.w.persons))
	for h, hh := range g.w.households {
		for _, m := range hh.members {
			if m.to == noDay {
				hhAtEnd[m.person] = h
			}
		}
	}
	var b []byte
	for i, p := range g.w.persons {
		h := hhAtEnd[i]
		b = appendID(b[:0], 'P', i+1)
		b = append(b, ',')
		b = appendID(b, 'H', h+1)
		b = append(b, ',')
		b = append(b, ethnicities[p.eth].code...)
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(g.w.lsoas[g.w.households[h].lsoaAt(g.w.last)].imd), 10)
		f.end(append(b, '\n'))
	}
	return nil
}

// writeKey writes the demo pseudonym key: 32 bytes from the seed, hex, on
// one line, readable by the owner only.
func (g *generator) writeKey() error {
	f, err := g.out.create(keyFile, 0o600, false)
	if err != nil {
		return err
	}
	r := newRand(g.cfg.Seed, streamKey)
	var key [32]byte
	for i := range key {
		key[i] = byte(r.Uint32())
	}
	f.w.WriteString(hex.EncodeToString(key[:]) + "\n")
	return nil
}
