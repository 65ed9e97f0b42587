package synthetic

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"earlyhelp/connectors"
)

// Latent need (domain-data §7.2). Each household's need is
//
//	z_t = mu + y_t + c_t,  y_t = φ y_{t-1} + sqrt(1-φ²) ε_t,  c_t = δ c_{t-1} + 1.5 J_t
//
// mu is the baseline (deprivation, tenure, lone parent, family size and a
// household effect), y a unit-variance AR(1) and c the decaying trace of
// crises J_t (about 6% of households a year). Each crisis has a kind — a
// housing crisis, domestic abuse, parental mental ill-health or a job loss —
// that decides which signals it shows in (housing.go, hv.go, rent.go); all
// kinds raise need alike, so the truth's closed form needs no kinds.
// Absence responds to z_t at once; the referral hazard to z_{t-lag}, the
// world's referralLag (worlds.go), so attendance falls before referrals.
const (
	needPersistence = 0.97
	crisisRate      = 0.06 / 52
	crisisSize      = 1.3
	crisisDecay     = 0.92
)

// Crisis kinds.
const (
	shockHousing = iota
	shockAbuse
	shockMental
	shockJobLoss
)

// shockMix is the cumulative mix of crisis kinds by tenure: private renters'
// crises are mostly about their home, owners' about work and health.
var shockMix = [3][]float64{
	cumulative([]float64{0.15, 0.25, 0.3, 0.3}), // owner
	cumulative([]float64{0.45, 0.2, 0.2, 0.15}), // private rent
	cumulative([]float64{0.35, 0.2, 0.25, 0.2}), // social rent
}

// noWeek marks a household that has had no crisis.
const noWeek = -1 << 20

var needShock = math.Sqrt(1 - needPersistence*needPersistence)

// needState is every household's latent need, advanced a week at a time.
type needState struct {
	r    *rand.Rand
	mu   []float64
	y, c []float64
	// The last crisis of each household: its kind and week (noWeek: none).
	shock     []uint8
	shockWeek []int32
	tenure    []uint8
	// lag is the world's referral lag; hist keeps z for the last
	// maxReferralLag+1 weeks: z_t is at
	// hist[h*histLen + (t+maxReferralLag)%histLen].
	lag  int
	hist []float64
}

const histLen = maxReferralLag + 1

func newNeedState(w *world, seed uint64) *needState {
	n := len(w.households)
	s := &needState{
		r:    newRand(seed, streamNeed),
		lag:  w.wp.referralLag,
		mu:   make([]float64, n),
		y:    make([]float64, n),
		c:    make([]float64, n),
		hist: make([]float64, n*histLen),

		shock:     make([]uint8, n),
		shockWeek: make([]int32, n),
		tenure:    make([]uint8, n),
	}
	for h := range n {
		s.mu[h] = w.households[h].mu
		s.tenure[h] = w.households[h].tenure
		s.y[h] = s.r.NormFloat64()
		s.shockWeek[h] = noWeek
		if s.r.Float64() < crisisRate*52 { // a crisis within the past year
			ago := s.r.IntN(52)
			s.c[h] = crisisSize * math.Pow(crisisDecay, float64(ago))
			s.shockWeek[h] = int32(-s.lag - ago)
			s.shock[h] = uint8(pick(s.r.Float64(), shockMix[s.tenure[h]]))
		}
	}
	// Burn in lag weeks so the lagged need exists from week 0.
	for t := -s.lag; t < 0; t++ {
		for h := range n {
			s.step(h, t, false)
		}
	}
	return s
}

// step advances household h to week t; crisis forces a crisis shock (a
// housing crisis scheduled before a move).
func (s *needState) step(h, t int, crisis bool) {
	s.y[h] = needPersistence*s.y[h] + needShock*s.r.NormFloat64()
	s.c[h] *= crisisDecay
	if s.r.Float64() < crisisRate || crisis {
		s.c[h] += crisisSize
		s.shockWeek[h] = int32(t)
		s.shock[h] = shockHousing
		if !crisis {
			s.shock[h] = uint8(pick(s.r.Float64(), shockMix[s.tenure[h]]))
		}
	}
	s.hist[h*histLen+(t+maxReferralLag)%histLen] = s.mu[h] + s.y[h] + s.c[h]
}

// z is household h's need in week t, for t within maxReferralLag weeks back.
func (s *needState) z(h, t int) float64 {
	return s.hist[h*histLen+(t+maxReferralLag)%histLen]
}

// simulate runs the weeks in order. Per-week state is per child and per
// household only, so memory does not grow with the number of weeks.
func (g *generator) simulate(ctx context.Context) error {
	var err error
	if g.bias, err = parseBiases(g.cfg.Bias); err != nil {
		return err
	}
	if g.links, err = g.newLinks(); err != nil {
		return err
	}
	if err := g.writeObjections(); err != nil {
		return fmt.Errorf("objections: %w", err)
	}
	g.kids = make([]int32, len(g.w.households))
	need := newNeedState(g.w, g.cfg.Seed)
	att, err := g.newAttendance(need)
	if err != nil {
		return err
	}
	eh, err := g.newEarlyHelp(need)
	if err != nil {
		return fmt.Errorf("early help: %w", err)
	}
	ref, err := g.newReferrals(need, eh)
	if err != nil {
		return err
	}
	hv, err := g.newHV(need)
	if err != nil {
		return fmt.Errorf("health visiting: %w", err)
	}
	hs, err := g.newHousing(need)
	if err != nil {
		return fmt.Errorf("housing: %w", err)
	}
	rent, err := g.newRent(need)
	if err != nil {
		return fmt.Errorf("rent accounts: %w", err)
	}
	tr, err := g.newTruthWeeks(need, ref)
	if err != nil {
		return err
	}
	for t := range g.cfg.Weeks {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("week %d: %w", t+1, err)
		}
		ws := g.w.first + day(7*t)
		we := min(ws+6, g.w.last)
		for h := range g.w.households {
			crisis := g.w.households[h].crisis
			need.step(h, t, crisis >= ws && crisis <= we)
		}
		g.countKids(we)
		if err := att.week(t, ws, we); err != nil {
			return err
		}
		ref.week(t, ws, we)
		hv.week(t, ws, we)
		hs.week(t, ws, we)
		if err := rent.week(t, ws); err != nil {
			return fmt.Errorf("rent accounts: %w", err)
		}
		eh.week(t, ws, we)
		tr.week(t, ws)
	}
	if err := att.finish(); err != nil {
		return err
	}
	if err := rent.finish(); err != nil {
		return fmt.Errorf("rent accounts: %w", err)
	}
	// Months left by an earlier, longer run would be loaded with this one.
	if err := g.out.removeStale(rentDir, "rent_accounts_????-??.csv"); err != nil {
		return fmt.Errorf("rent accounts: %w", err)
	}
	hs.finish()
	hv.finish()
	eh.finish()
	g.referrals = ref.n
	g.rows[connectors.CSCReferrals] = ref.f.rows
	g.oracleAUC = tr.auc()
	return nil
}

// countKids sets g.kids to the children (born, under 18) living in each
// household on day d.
func (g *generator) countKids(d day) {
	clear(g.kids)
	w := g.w
	for ci := range w.children {
		c := &w.children[ci]
		if w.persons[c.person].dob <= d && c.ageBand(d) < 5 {
			g.kids[c.householdAt(d)]++
		}
	}
}
