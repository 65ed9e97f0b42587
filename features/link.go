package features

import (
	"sort"
	"time"
)

// Link is who lived where on one as-of date: every household with at least
// one child, in a stable order, and its children.
type Link struct {
	AsOf       time.Time
	Day        Day
	Households []Household
	roster     *Roster
}

// Household is one linked household.
type Household struct {
	ID       string // pseudonym
	LSOA     string
	Locality string
	Children []Child
	// Adults are the other members (parents, carers, other adults) on the
	// date, as person pseudonyms: they count for objections.
	Adults []string
}

// Child is a child of a household on the as-of date.
type Child struct {
	Person string // person pseudonym
	UPN    string // UPN pseudonym, "" when the child has none
	Age    int
}

// Link places every child in the household whose spell covers the as-of
// date. A child with two overlapping spells (a late update not yet closing
// the old one) goes to the spell that started last.
func (r *Roster) Link(asOf time.Time) *Link {
	d := DayOf(asOf)
	byHH := map[string]*Household{}
	adults := map[string][]string{}
	for i := 0; i < len(r.spells); {
		j := i
		var cur *spell
		for ; j < len(r.spells) && r.spells[j].person == r.spells[i].person; j++ {
			s := &r.spells[j]
			if s.from <= d && d <= s.to {
				cur = s
			}
		}
		i = j
		if cur == nil {
			continue
		}
		if cur.role != "child" {
			adults[cur.household] = append(adults[cur.household], r.persons[cur.person].id)
			continue
		}
		p := r.persons[cur.person]
		if p.dob == openEnded || p.dob >= d {
			continue // unborn on the date, or unknown to the person register
		}
		h := byHH[cur.household]
		if h == nil {
			h = &Household{ID: cur.household, LSOA: cur.lsoa, Locality: cur.locality}
			byHH[cur.household] = h
		}
		h.Children = append(h.Children, Child{Person: p.id, UPN: p.upn, Age: AgeOn(p.dob, d)})
	}
	l := &Link{AsOf: asOf, Day: d, roster: r, Households: make([]Household, 0, len(byHH))}
	for _, h := range byHH {
		sort.Slice(h.Children, func(a, b int) bool { return h.Children[a].Person < h.Children[b].Person })
		h.Adults = adults[h.ID]
		sort.Strings(h.Adults)
		l.Households = append(l.Households, *h)
	}
	sort.Slice(l.Households, func(a, b int) bool { return l.Households[a].ID < l.Households[b].ID })
	return l
}

// IMDDecile is the deprivation decile of a household's area, 0 if unknown.
func (l *Link) IMDDecile(h *Household) int {
	return int(l.roster.imd[h.LSOA])
}

// openCase reports whether any child of h has a social-care case open on
// the as-of date: referred before it, not closed by it, and not closed with
// no further action. Such families are already known to services.
func (l *Link) openCase(h *Household) bool {
	for _, c := range h.Children {
		for _, ref := range l.roster.referralsOf(c.Person) {
			if ref.date < l.Day && ref.closed >= l.Day && ref.outcome != outcomeNFA {
				return true
			}
		}
	}
	return false
}

// objection reports whether a member of h objected to profiling and the
// objection stood on day d.
func (l *Link) objection(h *Household, d Day) bool {
	r := l.roster
	for _, c := range h.Children {
		if covers(r.objections[r.byID[c.Person]], d) {
			return true
		}
	}
	for _, a := range h.Adults {
		if covers(r.objections[r.byID[a]], d) {
			return true
		}
	}
	return false
}

// openEarlyHelp reports whether h had an early-help episode open on the
// as-of date: such a family is already supported.
func (l *Link) openEarlyHelp(h *Household) bool {
	for _, p := range l.roster.episodes[h.ID] {
		if p.from < l.Day && l.Day <= p.to {
			return true
		}
	}
	return false
}

// outcomeIn reports whether any child of h was referred in w with an
// outcome of assessment or above.
func (l *Link) outcomeIn(h *Household, w Window) bool {
	for _, c := range h.Children {
		for _, ref := range l.roster.referralsOf(c.Person) {
			if w.Contains(ref.date) && ref.outcome >= outcomeAssessment {
				return true
			}
		}
	}
	return false
}

// referralsOf returns a person's referrals, oldest first.
func (r *Roster) referralsOf(personID string) []referral {
	p, ok := r.byID[personID]
	if !ok {
		return nil
	}
	i := sort.Search(len(r.referrals), func(i int) bool { return r.referrals[i].person >= p })
	j := i
	for j < len(r.referrals) && r.referrals[j].person == p {
		j++
	}
	return r.referrals[i:j]
}

// PersonOfUPN returns the person pseudonym behind a UPN pseudonym.
func (r *Roster) PersonOfUPN(upn string) (string, bool) {
	p, ok := r.byUPN[upn]
	if !ok {
		return "", false
	}
	return r.persons[p].id, true
}

// Members lists everyone in h on the link's date: children, then adults
// (person pseudonyms).
func (h *Household) Members() []string {
	out := make([]string, 0, len(h.Children)+len(h.Adults))
	for _, c := range h.Children {
		out = append(out, c.Person)
	}
	return append(out, h.Adults...)
}

// PersonOfNHS returns the person pseudonym behind an NHS number pseudonym.
func (l *Link) PersonOfNHS(nhs string) (string, bool) {
	p, ok := l.roster.byNHS[nhs]
	if !ok {
		return "", false
	}
	return l.roster.persons[p].id, true
}
