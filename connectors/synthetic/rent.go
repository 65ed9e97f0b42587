package synthetic

import (
	"fmt"
	"math"
	"math/rand/v2"

	"earlyhelp/connectors"
	"earlyhelp/pipeline/contract"
)

const rentDir = "incoming/rent_accounts"

// Rent-account model (domain-data §3.3) for social tenancies. Each Monday
// the week's rent is charged and a payment drawn: missed more often at high
// need and after a job loss, with catch-up payments when in arrears. The
// arrears stage escalates with the weeks of rent owed and the time spent at
// each stage, and drops back to none once the account is clear. Targets:
// 25–35% of accounts in arrears, 6–10% owing 8+ weeks, 1.5–3% with a live
// notice of seeking possession.
const (
	rentMiss     = 0.07 // P(no payment) in a week at average need
	rentMissNeed = 0.6
	rentBurnIn   = 104 // weeks simulated before the window
)

var stageNames = contract.ArrearsStages()

const (
	stageNone = iota
	stageLetter1
	stageLetter2
	stageNOSP
	stageClaim
	stageSuspended
	stageOutright
	stageWarrant
	stageEvicted
)

type tenancy struct {
	h       int
	rent    float64 // weekly, pounds
	balance float64 // positive = arrears
	stage   int8
	atStage int16 // weeks at the current stage
}

type rentAccounts struct {
	g       *generator
	need    *needState
	r       *rand.Rand
	ten     []tenancy
	f       *csvFile
	fileKey int
	buf     []byte
}

func (g *generator) newRent(need *needState) (*rentAccounts, error) {
	s := &rentAccounts{g: g, need: need, r: newRand(g.cfg.Seed, streamRent), fileKey: -1}
	w := g.w
	for h := range w.households {
		if w.households[h].tenure == tenureSocial && len(w.childrenOf(h)) > 0 {
			rent := (85 + 60*s.r.Float64()) * w.prof.rent
			s.ten = append(s.ten, tenancy{h: h, rent: math.Round(rent*100) / 100})
		}
	}
	// Burn in with need at its baseline plus today's persistent part so
	// the stages start near their steady state.
	for range rentBurnIn {
		for i := range s.ten {
			t := &s.ten[i]
			s.step(t, w.wp.rentNeed*(need.mu[t.h]+need.y[t.h]-w.meanNeed), false)
		}
	}
	return s, nil
}

// step advances one tenancy by a week given its need x relative to the
// mean; jobLoss marks a recent job loss.
func (s *rentAccounts) step(t *tenancy, x float64, jobLoss bool) {
	if t.stage == stageEvicted {
		return
	}
	r := s.r
	t.balance += t.rent
	lo := min(logit(0.3), logit(rentMiss)+rentMissNeed*x)
	if jobLoss {
		lo += 2
	}
	switch u := r.Float64(); {
	case u < logistic(lo):
		// nothing paid
	case u < logistic(lo)+0.1:
		t.balance -= t.rent * r.Float64() // part paid
	default:
		pay := t.rent
		if t.balance > 2*t.rent && r.Float64() < 0.65 {
			// An arrangement (or a benefit deduction) to clear arrears,
			// larger the more is owed.
			pay += t.rent * min(0.7, 0.15+0.05*t.balance/t.rent)
		} else if t.balance > 0 && t.balance <= 2*t.rent && r.Float64() < 0.7 {
			pay += t.balance // a small shortfall made up
		}
		t.balance -= pay
	}
	t.balance = math.Round(t.balance*100) / 100
	weeks := t.balance / t.rent
	t.atStage++
	next := t.stage
	switch {
	case weeks < 0.5:
		next = stageNone // cleared, or near enough that action stops
	case t.stage >= stageNOSP && t.stage <= stageSuspended && weeks < 3:
		next = stageLetter1 // the notice lapses or the order is complied with
	case t.stage == stageNone && weeks >= 2:
		next = stageLetter1
	case t.stage == stageLetter1 && weeks >= 4 && t.atStage >= 2:
		next = stageLetter2
	case t.stage == stageLetter2 && weeks >= 8 && t.atStage >= 4:
		next = stageNOSP
	case t.stage == stageNOSP && weeks >= 8 && t.atStage >= 12:
		next = stageClaim
	case t.stage == stageClaim && t.atStage >= 10 && weeks >= 6:
		next = stageSuspended
		if weeks >= 12 && r.Float64() < 0.25 {
			next = stageOutright
		}
	case t.stage == stageSuspended && weeks >= 14 && t.atStage >= 8 && r.Float64() < 0.1:
		next = stageOutright
	case t.stage == stageOutright && t.atStage >= 6:
		next = stageWarrant
	case t.stage == stageWarrant && t.atStage >= 4 && r.Float64() < 0.5:
		next = stageEvicted
	}
	if next != t.stage {
		t.stage, t.atStage = next, 0
	}
}

// week writes every tenancy's snapshot for the Monday ws.
func (s *rentAccounts) week(wk int, ws day) error {
	y, m, _ := ws.civil()
	if key := y*12 + m - 1; key != s.fileKey {
		if err := s.closeFile(); err != nil {
			return err
		}
		f, err := s.g.out.create(fmt.Sprintf("%s/rent_accounts_%04d-%02d.csv", rentDir, y, m), 0o644, false, s.g.columns(connectors.RentAccounts)...)
		if err != nil {
			return err
		}
		s.f, s.fileKey = f, key
	}
	// Rents rise on the first Monday of April.
	april := m == 4 && ws.monday() == firstMonday(y, 4)
	n := s.need
	for i := range s.ten {
		t := &s.ten[i]
		if t.stage == stageEvicted && t.atStage > 0 {
			continue // the account closed after the eviction week
		}
		if april {
			t.rent = math.Round(t.rent*102.7) / 100
		}
		job := n.shock[t.h] == shockJobLoss && wk-int(n.shockWeek[t.h]) < 26
		s.step(t, s.g.w.wp.rentNeed*(n.z(t.h, wk)-s.g.w.meanNeed), job)
		if t.stage == stageEvicted {
			t.atStage++ // write the eviction once
		}
		b := appendRef(s.buf[:0], "T", i+1, 7)
		b = append(b, ',')
		b = appendID(b, 'P', s.g.w.lead[t.h]+1)
		b = append(b, ',')
		b = appendISO(b, ws)
		b = append(b, ',')
		b = appendMoney(b, t.balance)
		b = append(b, ',')
		b = appendMoney(b, t.rent)
		b = append(b, ',')
		b = append(b, stageNames[t.stage]...)
		s.buf = append(b, '\n')
		s.f.end(s.buf)
	}
	return nil
}

func (s *rentAccounts) closeFile() error {
	if s.f == nil {
		return nil
	}
	s.g.rows[connectors.RentAccounts] += s.f.rows
	err := s.f.close()
	s.f = nil
	return err
}

func (s *rentAccounts) finish() error {
	if err := s.closeFile(); err != nil {
		return err
	}
	// The tenancy references are fixed, so their links are written once.
	for i, t := range s.ten {
		s.buf = appendRef(s.buf[:0], "T", i+1, 7)
		s.g.links.add(connectors.RentAccounts, s.buf, s.g.w.lead[t.h], t.h)
	}
	return nil
}

// appendMoney appends pounds with two decimals.
func appendMoney(b []byte, v float64) []byte {
	p := int64(math.Round(v * 100))
	if p < 0 {
		b = append(b, '-')
		p = -p
	}
	b = appendInt(b, int(p/100))
	return append(b, '.', byte('0'+p%100/10), byte('0'+p%10))
}
