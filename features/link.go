package features

import "time"

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

	// Set by Link: the household's number in the roster, its members'
	// numbers (children, then adults, as Members lists them) and its
	// area's deprivation decile.
	number  int32
	members []PersonIndex
	imd     int8
}

// Child is a child of a household on the as-of date.
type Child struct {
	Person string // person pseudonym
	UPN    string // UPN pseudonym, "" when the child has none
	Age    int
}

// PersonIndex is a person's number in the roster, from 0 to
// Roster.People()-1. Builders key what they load by it once, so a build
// indexes a slice for each member of each household instead of hashing a
// pseudonym.
type PersonIndex int32

// Link places every child in the household whose spell covers the as-of
// date. A child with two overlapping spells (a late update not yet closing
// the old one) goes to the spell that started last.
func (r *Roster) Link(asOf time.Time) *Link {
	d := DayOf(asOf)
	today := ymdOf(d)
	// First pass: each person's spell on the date, and how many children
	// and adults each household has. People go in pseudonym order, so the
	// second pass lays each household's children and adults out sorted.
	cur := make([]int32, len(r.byName)) // a span, or -1
	nHH := len(r.households)
	kids, adults := make([]int32, nHH), make([]int32, nHH)
	lead := make([]PersonIndex, nHH) // the household's child first in the roster
	leadArea := make([]int32, nHH)
	for k := range r.byName {
		n := &r.byName[k]
		cur[k] = -1
		s := r.spanOn(n, d)
		if s < 0 {
			continue
		}
		sp := &r.spans[s]
		if !sp.child {
			cur[k] = s
			adults[sp.hh]++
			continue
		}
		if n.dob == openEnded || n.dob >= d {
			continue // unborn on the date, or unknown to the person register
		}
		cur[k] = s
		// The household's area is that of its child first in the roster's
		// order, whatever the pseudonyms' order.
		if kids[sp.hh] == 0 || n.person < lead[sp.hh] {
			lead[sp.hh], leadArea[sp.hh] = n.person, sp.area
		}
		kids[sp.hh]++
	}
	// Households with a child, in pseudonym order (their numbers' order),
	// each given its stretch of the shared backing arrays.
	slot := make([]int32, nHH)
	var nKids, nAdults, n int
	for h := range slot {
		slot[h] = -1
		if kids[h] > 0 {
			slot[h] = int32(n)
			n++
			nKids += int(kids[h])
			nAdults += int(adults[h])
		}
	}
	l := &Link{AsOf: asOf, Day: d, roster: r, Households: make([]Household, n)}
	children := make([]Child, nKids)
	grown := make([]string, nAdults)
	members := make([]PersonIndex, nKids+nAdults)
	var ck, ak, mk int
	for h, i := range slot {
		if i < 0 {
			continue
		}
		ar := &r.areas[leadArea[h]]
		k, a := int(kids[h]), int(adults[h])
		l.Households[i] = Household{
			ID: r.households[h], LSOA: ar.lsoa, Locality: ar.locality, Children: children[ck : ck : ck+k],
			number: int32(h), members: members[mk : mk+k : mk+k+a], imd: ar.imd,
		}
		if a > 0 { // nil otherwise, as an unset field is
			l.Households[i].Adults = grown[ak : ak : ak+a]
		}
		ck, ak, mk = ck+k, ak+a, mk+k+a
	}
	for k, s := range cur {
		if s < 0 {
			continue
		}
		sp := &r.spans[s]
		i := slot[sp.hh]
		if i < 0 {
			continue // an adult in a household with no child on the date
		}
		h := &l.Households[i]
		n := &r.byName[k]
		if sp.child {
			h.Children = append(h.Children, Child{Person: n.id, UPN: n.upn, Age: ageOn(n.born, today)})
			h.members[len(h.Children)-1] = n.person
		} else {
			h.Adults = append(h.Adults, n.id)
			h.members = append(h.members, n.person)
		}
	}
	return l
}

// spanOn returns n's span that covers day d, the one that started last if
// several do, or -1.
func (r *Roster) spanOn(n *named, d Day) int32 {
	for i := n.hi - 1; i >= n.lo; i-- {
		if s := &r.spans[i]; s.from <= d && d <= s.to {
			return i
		}
	}
	return -1
}

// IMDDecile is the deprivation decile of a household's area, 0 if unknown.
func (l *Link) IMDDecile(h *Household) int {
	return int(h.imd)
}

// openCase reports whether any child of h has a social-care case open on
// the as-of date: referred before it, not closed by it, and not closed with
// no further action. Such families are already known to services.
func (l *Link) openCase(h *Household) bool {
	for _, p := range h.childIndices() {
		for _, ref := range l.roster.referralsOf(p) {
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
	for _, p := range h.members {
		if covers(r.objectionList[r.objectionsAt[p]:r.objectionsAt[p+1]], d) {
			return true
		}
	}
	return false
}

// episodesOf returns a household's early-help episodes.
func (r *Roster) episodesOf(h *Household) []period {
	return r.episodeList[r.episodesAt[h.number]:r.episodesAt[h.number+1]]
}

// openEarlyHelp reports whether h had an early-help episode open on the
// as-of date: such a family is already supported.
func (l *Link) openEarlyHelp(h *Household) bool {
	for _, p := range l.roster.episodesOf(h) {
		if p.from < l.Day && l.Day <= p.to {
			return true
		}
	}
	return false
}

// outcomeIn reports whether any child of h was referred in w with an
// outcome of assessment or above.
func (l *Link) outcomeIn(h *Household, w Window) bool {
	for _, p := range h.childIndices() {
		for _, ref := range l.roster.referralsOf(p) {
			if w.Contains(ref.date) && ref.outcome >= outcomeAssessment {
				return true
			}
		}
	}
	return false
}

// referralsOf returns a person's referrals, oldest first.
func (r *Roster) referralsOf(p PersonIndex) []referral {
	return r.referrals[r.referralsAt[p]:r.referralsAt[p+1]]
}

// People is how many people the roster numbers: the length of a slice
// indexed by PersonIndex.
func (r *Roster) People() int { return len(r.persons) }

// UPNOf is person p's UPN pseudonym, "" if they have none: a Child's UPN
// for the child numbered p.
func (r *Roster) UPNOf(p PersonIndex) string { return r.persons[p].upn }

// IndexOfNHS returns the number of the person behind an NHS number
// pseudonym.
func (r *Roster) IndexOfNHS(nhs string) (PersonIndex, bool) {
	p, ok := r.byNHS[nhs]
	return PersonIndex(p), ok
}

// IndexOf returns the number of a person pseudonym.
func (r *Roster) IndexOf(personID string) (PersonIndex, bool) {
	p, ok := r.byID[personID]
	return PersonIndex(p), ok
}

// BirthDayOf is person p's date of birth, if the register has it.
func (r *Roster) BirthDayOf(p PersonIndex) (Day, bool) {
	dob := r.persons[p].dob
	return dob, dob != openEnded
}

// Roster is the roster the link was made from: builders key what they load
// by its PersonIndex numbers.
func (l *Link) Roster() *Roster { return l.roster }

// Members lists everyone in h on the link's date: children, then adults
// (person pseudonyms).
func (h *Household) Members() []string {
	out := make([]string, 0, len(h.Children)+len(h.Adults))
	for _, c := range h.Children {
		out = append(out, c.Person)
	}
	return append(out, h.Adults...)
}

// MemberIndices numbers everyone in h, in the order of Members: children
// first, so the first len(h.Children) are theirs. The slice is h's own and
// must not be changed. It is empty for a Household not made by Link.
func (h *Household) MemberIndices() []PersonIndex { return h.members }

func (h *Household) childIndices() []PersonIndex { return h.members[:len(h.Children)] }
