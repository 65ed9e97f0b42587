package housing

import (
	"cmp"
	"slices"
	"sort"

	"earlyhelp/features"
)

// people are each numbered person's records, as they were read: a build
// finds a member's by number rather than by hashing a pseudonym, and their
// latest rent snapshots by binary search.
type people struct {
	roster       *features.Roster
	casesAt      []int32 // person p's cases are cases[casesAt[p]:casesAt[p+1]]
	cases        []homelessCase
	placementsAt []int32 // likewise
	placements   []placement
	// rent is person p's snapshots, in the order they were read: the
	// lists read holds, not a copy laid end to end like cases, since
	// snapshots are most of what housing holds (a copy was ~30 MB of a
	// weekly run's live heap at 60,000 children).
	rent   [][]snapshot
	rentAt []int32 // person p's stretch of rentByDay is rentByDay[rentAt[p]:rentAt[p+1]]
	// rentByDay is each person's snapshots, as indices into rent[p], in
	// date order; snapshots of one day stay in the order they were read.
	rentByDay []int32
}

// peopleOf returns the records by person number of l's roster, making them
// on first use.
func (b *Builder) peopleOf(l *features.Link) *people {
	b.mu.Lock()
	defer b.mu.Unlock()
	if r := l.Roster(); b.people == nil || b.people.roster != r {
		b.people = b.number(r)
	}
	return b.people
}

// number lays the records read out by r's person numbers. Lead people the
// register does not know are left out: no household has them.
func (b *Builder) number(r *features.Roster) *people {
	ps := &people{roster: r}
	ps.casesAt, ps.cases = byNumber(r, b.cases)
	ps.placementsAt, ps.placements = byNumber(r, b.placements)
	ps.rent = make([][]snapshot, r.People())
	ps.rentAt = make([]int32, r.People()+1)
	for id, ss := range b.rent {
		if p, ok := r.IndexOf(id); ok {
			ps.rent[p] = ss
		}
	}
	for p, ss := range ps.rent {
		ps.rentAt[p+1] = ps.rentAt[p] + int32(len(ss))
	}
	ps.rentByDay = make([]int32, ps.rentAt[len(ps.rent)])
	for p, ss := range ps.rent {
		idx := ps.rentByDay[ps.rentAt[p]:ps.rentAt[p+1]]
		for k := range idx {
			idx[k] = int32(k)
		}
		slices.SortStableFunc(idx, func(a, b int32) int { return cmp.Compare(ss[a].day, ss[b].day) })
	}
	return ps
}

// byNumber lays out lists keyed by person pseudonym end to end by person
// number, with where each person's starts.
func byNumber[T any](r *features.Roster, byID map[string][]T) ([]int32, []T) {
	lists := make([][]T, r.People())
	n := 0
	for id, xs := range byID {
		if p, ok := r.IndexOf(id); ok {
			lists[p] = xs
			n += len(xs)
		}
	}
	at := make([]int32, len(lists)+1)
	all := make([]T, 0, n)
	for p, xs := range lists {
		all = append(all, xs...)
		at[p+1] = int32(len(all))
	}
	return at, all
}

func (ps *people) casesOf(p features.PersonIndex) []homelessCase {
	return ps.cases[ps.casesAt[p]:ps.casesAt[p+1]]
}

func (ps *people) placementsOf(p features.PersonIndex) []placement {
	return ps.placements[ps.placementsAt[p]:ps.placementsAt[p+1]]
}

// rentOf returns person p's snapshots in the order they were read.
func (ps *people) rentOf(p features.PersonIndex) []snapshot {
	return ps.rent[p]
}

// latestBefore returns person p's latest snapshot dated before d, the
// first read of that day's, or nil.
func (ps *people) latestBefore(p features.PersonIndex, d features.Day) *snapshot {
	idx, ss := ps.rentByDay[ps.rentAt[p]:ps.rentAt[p+1]], ps.rent[p]
	day := func(k int) features.Day { return ss[idx[k]].day }
	n := sort.Search(len(idx), func(k int) bool { return day(k) >= d })
	if n == 0 {
		return nil
	}
	last := day(n - 1)
	first := sort.Search(n, func(k int) bool { return day(k) >= last })
	return &ss[idx[first]]
}

// unpaidWeeks counts the weeks of the n before d in which person p's rent
// account rose by the week's whole rent: a week nothing was paid. Unlike
// the balance, which arrangements and catch-up payments pull back, it
// counts every missed week. Snapshots a week apart on one tenancy are
// compared (the first read of a day, as latestBefore takes it).
func (ps *people) unpaidWeeks(p features.PersonIndex, d features.Day, n int) int {
	idx, ss := ps.rentByDay[ps.rentAt[p]:ps.rentAt[p+1]], ps.rent[p]
	day := func(k int) features.Day { return ss[idx[k]].day }
	from := d - features.Day(7*n)
	lo := sort.Search(len(idx), func(k int) bool { return day(k) >= from-7 })
	hi := sort.Search(len(idx), func(k int) bool { return day(k) >= d })
	unpaid := 0
	var prev *snapshot
	for k := lo; k < hi; k++ {
		s := &ss[idx[k]]
		if prev != nil && s.day == prev.day {
			continue
		}
		if prev != nil && s.day >= from && s.day-prev.day == 7 && s.tenancy == prev.tenancy &&
			s.rent > 0 && s.balance-prev.balance >= 0.99*s.rent {
			unpaid++
		}
		prev = s
	}
	return unpaid
}
