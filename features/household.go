package features

import (
	"fmt"

	"earlyhelp/pipeline"
	"earlyhelp/pipeline/contract"
)

// Household feature columns, computed from the roster beside the core ones.
const (
	FeatYoungestAge      = contract.FeatYoungestAge
	FeatUnderFive        = contract.FeatUnderFive
	FeatPriorReferrals   = contract.FeatPriorReferrals   // children's referrals closed in the year before the date
	FeatPriorEarlyHelp   = contract.FeatPriorEarlyHelp   // the household's episodes ended in the year before the date
	FeatHouseholdMoves12 = contract.FeatHouseholdMoves12 // a child's moves into a household in the last year
	FeatReferralsRecent  = contract.FeatReferralsRecent
)

var householdColumns = []string{FeatYoungestAge, FeatUnderFive, FeatPriorReferrals, FeatPriorEarlyHelp, FeatHouseholdMoves12, FeatReferralsRecent}

// A move is a spell that starts more than four weeks after the child's
// birth: the first spell of a newborn is not a move.
const birthSpellDays = 28

// householdFeatures fills vals (len(householdColumns)) for h as of l's day,
// from rows dated before it only.
func (l *Link) householdFeatures(h *Household, vals []float64) {
	r, d := l.roster, l.Day
	youngest := -1
	var under5, referrals, moves, recent float64
	for k, c := range h.Children {
		if youngest < 0 || c.Age < youngest {
			youngest = c.Age
		}
		if c.Age < 5 {
			under5++
		}
		p := h.members[k]
		for _, ref := range r.referralsOf(p) {
			// A year, not all history: a count over all history grows with
			// how long the council's extracts go back, so training dates
			// early in the data would see smaller counts than today's.
			if ref.date < d && ref.closed != openEnded && ref.closed < d && ref.closed >= d-365 {
				referrals++
			}
			if ref.date >= d-365 {
				recent += Recency(d, ref.date)
			}
		}
		moves = max(moves, float64(r.movesOf(p, d-365, d)))
	}
	var episodes float64
	for _, p := range r.episodesOf(h) {
		if p.to != openEnded && p.to < d && p.to >= d-365 {
			episodes++
		}
	}
	vals[0] = float64(max(youngest, 0))
	vals[1], vals[2], vals[3], vals[4], vals[5] = under5, referrals, episodes, moves, recent
}

// movesOf counts a person's spells starting in [from, to), other than the
// spell that began at birth.
func (r *Roster) movesOf(p PersonIndex, from, to Day) int {
	n := 0
	for _, s := range r.moveDays[r.movesAt[p]:r.movesAt[p+1]] {
		if s >= from && s < to {
			n++
		}
	}
	return n
}

func describeHousehold(feature string, v float64) (string, bool) {
	switch feature {
	case FeatYoungestAge:
		return fmt.Sprintf("the youngest child is %.0f", v), true
	case FeatUnderFive:
		return fmt.Sprintf("%.0f child(ren) under 5", v), true
	case FeatPriorReferrals:
		return fmt.Sprintf("%.0f referral(s) to children's social care closed in the last year", v), true
	case FeatPriorEarlyHelp:
		return fmt.Sprintf("%.0f early-help episode(s) ended in the last year", v), true
	case FeatHouseholdMoves12:
		return fmt.Sprintf("a child moved household %.0f time(s) in the last year", v), true
	case FeatReferralsRecent:
		return "a child was referred to children's social care recently", true
	}
	return "", false
}

// rosterFacts are h's own facts from the roster as of l's day: children's
// referrals closed and early-help episodes ended in the last year, and
// children's moves. A referral in the last year is a contact-safety fact.
func (l *Link) rosterFacts(h *Household) pipeline.FamilyFacts {
	var out pipeline.FamilyFacts
	r, d := l.roster, l.Day
	yearAgo := d - 365
	on := func(x Day) string { return x.Time().Format("2 Jan 2006") }
	for k, c := range h.Children {
		p := h.members[k]
		for _, ref := range r.referralsOf(p) {
			if ref.date >= d {
				continue
			}
			if ref.date >= yearAgo {
				out.Safety = append(out.Safety, pipeline.SafetyFact{Kind: pipeline.SafetySocialCareReferral, Date: ref.date.Time(), Person: c.Person})
			}
			if ref.closed != openEnded && ref.closed < d && ref.closed >= yearAgo {
				how := ""
				if ref.outcome == outcomeNFA {
					how = " with no further action"
				}
				out.Signals = append(out.Signals, pipeline.Signal{
					Code: FeatPriorReferrals, Features: []string{FeatPriorReferrals, FeatReferralsRecent}, Person: c.Person, Date: ref.closed.Time(),
					Text: fmt.Sprintf("a referral to children's social care made on %s was closed%s on %s", on(ref.date), how, on(ref.closed)), Salience: 0.6,
				})
			}
		}
		for _, m := range r.moveDays[r.movesAt[p]:r.movesAt[p+1]] {
			if m >= yearAgo && m < d {
				out.Signals = append(out.Signals, pipeline.Signal{
					Code: FeatHouseholdMoves12, Features: []string{FeatHouseholdMoves12}, Person: c.Person, Date: m.Time(),
					Text: fmt.Sprintf("moved household on %s", on(m)), Salience: 0.2,
				})
			}
		}
	}
	for _, ep := range r.episodesOf(h) {
		if ep.to != openEnded && ep.to < d && ep.to >= yearAgo {
			out.Signals = append(out.Signals, pipeline.Signal{
				Code: FeatPriorEarlyHelp, Features: []string{FeatPriorEarlyHelp}, Date: ep.to.Time(),
				Text: fmt.Sprintf("an early-help episode ended on %s", on(ep.to)), Salience: 0.3,
			})
		}
	}
	return out
}
