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
// mu is the baseline (deprivation, lone parent, family size and a household
// effect), y a unit-variance AR(1) and c the decaying trace of crises J_t
// (about 3% of households a year). Absence responds to z_t at once; the
// referral hazard to z_{t-referralLag}, so attendance falls before referrals.
const (
	needPersistence = 0.97
	crisisRate      = 0.03 / 52
	crisisSize      = 1.5
	crisisDecay     = 0.92
	referralLag     = 4
)

var needShock = math.Sqrt(1 - needPersistence*needPersistence)

// needState is every household's latent need, advanced a week at a time.
type needState struct {
	r    *rand.Rand
	mu   []float64
	y, c []float64
	// hist keeps z for the last referralLag+1 weeks: z_t is at
	// hist[h*histLen + (t+referralLag)%histLen].
	hist []float64
}

const histLen = referralLag + 1

func newNeedState(w *world, seed uint64) *needState {
	n := len(w.households)
	s := &needState{
		r:    newRand(seed, streamNeed),
		mu:   make([]float64, n),
		y:    make([]float64, n),
		c:    make([]float64, n),
		hist: make([]float64, n*histLen),
	}
	for h := range n {
		s.mu[h] = w.households[h].mu
		s.y[h] = s.r.NormFloat64()
		if s.r.Float64() < crisisRate*52 { // a crisis within the past year
			s.c[h] = crisisSize * math.Pow(crisisDecay, float64(s.r.IntN(52)))
		}
	}
	// Burn in referralLag weeks so the lagged need exists from week 0.
	for t := -referralLag; t < 0; t++ {
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
	}
	s.hist[h*histLen+(t+referralLag)%histLen] = s.mu[h] + s.y[h] + s.c[h]
}

// z is household h's need in week t, for t within referralLag weeks back.
func (s *needState) z(h, t int) float64 {
	return s.hist[h*histLen+(t+referralLag)%histLen]
}

// simulate runs the weeks in order. Per-week state is per child and per
// household only, so memory does not grow with the number of weeks.
func (g *generator) simulate(ctx context.Context) error {
	need := newNeedState(g.w, g.cfg.Seed)
	att, err := g.newAttendance(need)
	if err != nil {
		return err
	}
	ref, err := g.newReferrals(need)
	if err != nil {
		return err
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
		if err := att.week(t, ws, we); err != nil {
			return err
		}
		ref.week(t, ws, we)
		tr.week(t, ws)
	}
	if err := att.finish(); err != nil {
		return err
	}
	g.referrals = ref.n
	g.rows[connectors.CSCReferrals] = ref.f.rows
	g.oracleAUC = tr.auc()
	return nil
}
