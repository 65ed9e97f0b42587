package housing

import (
	"context"
	"fmt"

	"earlyhelp/features"
	"earlyhelp/pipeline"
)

var _ features.Signaller = (*Builder)(nil)

// Arrears stages that mean court action is under way: from a possession
// claim to a warrant. An eviction is one too while it is recent.
const (
	stageClaim   = 4
	stageEvicted = 8
)

// Signals are h's own housing facts as of l's date, from records dated
// before it. They are the household's, not a child's. A possession claim,
// order or warrant standing at the latest rent snapshot, or an eviction,
// is a contact-safety fact.
func (b *Builder) Signals(l *features.Link, h *features.Household) pipeline.FamilyFacts {
	var out pipeline.FamilyFacts
	if err := b.load(context.Background()); err != nil {
		return out
	}
	ps := b.peopleOf(l)
	d := l.Day
	year := features.Before(l.AsOf, 52)
	add := func(code string, feats []string, day features.Day, salience float64, text string) {
		out.Signals = append(out.Signals, pipeline.Signal{Code: code, Features: feats, Date: day.Time(), Text: text, Salience: salience})
	}
	for _, m := range h.MemberIndices() {
		for _, c := range ps.casesOf(m) {
			if c.duty && c.approach < d && c.closed >= d {
				add(OpenDuty, []string{OpenDuty, Approaches12m, ApproachRecent}, d-1, 0.7,
					fmt.Sprintf("a homelessness prevention or relief duty has been open since %s (still open on %s)", date(c.approach), date(d-1)))
			} else if year.Contains(c.approach) {
				add(Approaches12m, []string{Approaches12m, ApproachRecent}, c.approach, 0.6,
					fmt.Sprintf("approached the council as homeless on %s", date(c.approach)))
			}
		}
		for _, p := range ps.placementsOf(m) {
			if p.start < d && p.end >= d {
				where, feats := "", []string{WeeksInTA}
				if p.outOfArea {
					where, feats = ", out of the area", []string{WeeksInTA, OutOfArea}
				}
				add(WeeksInTA, feats, d-1, 0.7,
					fmt.Sprintf("in temporary accommodation since %s%s (still there on %s)", date(p.start), where, date(d-1)))
			}
		}
		latest := ps.latestBefore(m, d)
		if latest == nil {
			continue
		}
		if latest.arrearsWeeks() >= 1 && year.Contains(latest.day) {
			add(ArrearsWeeks, []string{ArrearsWeeks}, latest.day, min(latest.arrearsWeeks()/8, 1)*0.6,
				fmt.Sprintf("rent arrears of %.1f weeks' rent on %s", latest.arrearsWeeks(), date(latest.day)))
		}
		if before := ps.latestBefore(m, d-56); before != nil && latest.balance > before.balance && latest.balance > 0 && year.Contains(latest.day) {
			add(ArrearsRising8w, []string{ArrearsRising8w, Unpaid13w}, latest.day, 0.4,
				fmt.Sprintf("rent arrears rose from £%.0f to £%.0f between %s and %s", max(before.balance, 0), latest.balance, date(before.day), date(latest.day)))
		}
		if latest.stage() < 1 {
			continue
		}
		reached := ps.stageReached(m, latest, d)
		name := stageNames[latest.stage()]
		if year.Contains(reached) {
			add(ArrearsStage, []string{ArrearsStage, ActionRecent}, reached, latest.stage()/8,
				fmt.Sprintf("rent arrears action reached %s on %s", name, date(reached)))
		}
		switch {
		case latest.stage() >= stageClaim && latest.stage() < stageEvicted && year.Contains(latest.day):
			out.Safety = append(out.Safety, pipeline.SafetyFact{Kind: pipeline.SafetyHousingAction, Date: latest.day.Time()})
		case latest.stage() == stageEvicted && year.Contains(reached):
			out.Safety = append(out.Safety, pipeline.SafetyFact{Kind: pipeline.SafetyHousingAction, Date: reached.Time()})
		}
	}
	return out
}

// stageReached is the first day, before d, of the run of snapshots of
// latest's tenancy at latest's stage that ends with latest: when the
// action it stands at was taken.
func (ps *people) stageReached(p features.PersonIndex, latest *snapshot, d features.Day) features.Day {
	idx, ss := ps.rentByDay[ps.rentAt[p]:ps.rentAt[p+1]], ps.rent[p]
	reached := latest.day
	for k := len(idx) - 1; k >= 0; k-- {
		s := &ss[idx[k]]
		if s.day >= d || s.tenancy != latest.tenancy {
			continue
		}
		if !s.staged() || s.stage() != latest.stage() {
			if s.day < reached {
				break
			}
			continue
		}
		reached = min(reached, s.day)
	}
	return reached
}
