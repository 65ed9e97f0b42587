package health

import (
	"cmp"
	"slices"
	"sort"

	"earlyhelp/features"
	"earlyhelp/pipeline/contract"
)

// people are the contacts of each person the roster numbers, and what the
// mandated-review features need from them: none of it depends on the date,
// so a build only cuts each member's contacts at its window.
type people struct {
	roster   *features.Roster
	at       []int32   // person p's contacts are contacts[at[p]:at[p+1]]
	contacts []contact // each person's in date order
	reviews  []reviewDays
}

// peopleOf returns the contacts by person number of l's roster, making
// them on first use.
func (b *Builder) peopleOf(l *features.Link) *people {
	b.mu.Lock()
	defer b.mu.Unlock()
	if r := l.Roster(); b.people == nil || b.people.roster != r {
		b.people = newPeople(b.byNHS, r)
	}
	return b.people
}

func newPeople(byNHS map[string][]contact, r *features.Roster) *people {
	// NHS numbers in order, so someone with two has their contacts of one
	// day in the same order every run.
	nhs := make([]string, 0, len(byNHS))
	for k := range byNHS {
		nhs = append(nhs, k)
	}
	sort.Strings(nhs)
	// Laid out end to end in one pass sized first: gathered in a list per
	// person and appended together, the contacts were copied twice, and the
	// copies were a tenth of a 300,000-child weekly run's peak of memory.
	n := r.People()
	ps := &people{roster: r, at: make([]int32, n+1), reviews: make([]reviewDays, n)}
	owner := make([]int32, len(nhs)) // nhs[i]'s person, -1 if unknown
	for i, k := range nhs {
		owner[i] = -1
		if p, ok := r.IndexOfNHS(k); ok {
			owner[i] = int32(p)
			ps.at[p+1] += int32(len(byNHS[k]))
		}
	}
	for p := range n {
		ps.at[p+1] += ps.at[p]
	}
	ps.contacts = make([]contact, ps.at[n])
	next := slices.Clone(ps.at[:n])
	for i, k := range nhs {
		if p := owner[i]; p >= 0 {
			next[p] += int32(copy(ps.contacts[next[p]:], byNHS[k]))
		}
	}
	for p := range n {
		cs := ps.contacts[ps.at[p]:ps.at[p+1]]
		slices.SortStableFunc(cs, func(a, b contact) int { return cmp.Compare(a.day, b.day) })
		if born, ok := r.BirthDayOf(features.PersonIndex(p)); ok {
			ps.reviews[p] = summarise(cs, born)
		}
	}
	return ps
}

// of returns person p's contacts, in date order.
func (ps *people) of(p features.PersonIndex) []contact {
	return ps.contacts[ps.at[p]:ps.at[p+1]]
}

// in returns person p's contacts dated in w.
func (ps *people) in(p features.PersonIndex, w features.Window) []contact {
	cs := ps.of(p)
	lo := sort.Search(len(cs), func(i int) bool { return cs[i].day >= w.From })
	hi := lo + sort.Search(len(cs)-lo, func(i int) bool { return cs[lo+i].day >= w.To })
	return cs[lo:hi]
}

// reviewDays are, for one child, their date of birth, the first day each
// mandated review was held (an attended contact of its type), and the
// first day a new-birth visit was held late; open when there was none. A
// review was held before a date if its first day is before it, whatever
// came after.
type reviewDays struct {
	birth features.Day
	born  bool // birth is known; there are no reviews to count otherwise
	held  [len(mandated)]features.Day
	late  features.Day
}

// summarise works out the reviewDays of a child born on born from their
// contacts.
func summarise(cs []contact, born features.Day) reviewDays {
	rd := reviewDays{birth: born, born: true, late: open}
	for j := range rd.held {
		rd.held[j] = open
	}
	for _, c := range cs {
		if !c.attended {
			continue
		}
		for j, m := range mandated {
			if c.kind == m.kind {
				rd.held[j] = min(rd.held[j], c.day)
			}
		}
		if c.kind == contract.ContactNewBirth && c.day-born > newBirthOnTimeDays {
			rd.late = min(rd.late, c.day)
		}
	}
	return rd
}

// count returns how many of a child's mandated reviews came overdue in the
// year before day with none held before day, and whether a new-birth visit
// before day came late (for a child under one).
func (rd *reviewDays) count(day features.Day) (missed, late int) {
	born := rd.birth
	for j, m := range mandated {
		due := born + m.dueDays
		if due >= day || due < day-365 {
			continue // not yet overdue, or overdue long ago
		}
		if rd.held[j] >= day {
			missed++
		}
	}
	if day-born < 365 && rd.late < day {
		late = 1
	}
	return missed, late
}
