package features

import (
	"sort"
	"strings"
)

// named is a person with a spell, with what Link needs of them at hand:
// Link reads byName and spans from start to end for every date, rather
// than jumping about persons and spells.
type named struct {
	person PersonIndex
	lo, hi int32 // their spells are spans[lo:hi], in the order of spells
	dob    Day
	born   ymd
	id     string
	upn    string
}

// span is the part of a spell that placing a person on a date reads.
type span struct {
	from, to Day
	hh       int32 // the household's number
	area     int32 // in areas
	child    bool  // role is "child"
}

// area is where a spell was lived. There are far fewer areas than spells,
// so a household's is looked up in a table that stays in cache.
type area struct {
	lsoa, locality string
	imd            int8 // deprivation decile, 0 if unknown
}

// index numbers households, groups spells, referrals, objections and
// episodes by person or household, and splits dates of birth into
// calendar dates, once for every as-of date the roster serves.
func (r *Roster) index() {
	number := map[string]int32{}
	for _, s := range r.spells {
		if _, ok := number[s.household]; !ok {
			number[s.household] = 0
			r.households = append(r.households, s.household)
		}
	}
	sort.Strings(r.households)
	pack(r.households)
	for i, h := range r.households {
		number[h] = int32(i)
	}
	spellsAt := offsets(len(r.persons), len(r.spells), func(i int) int32 { return r.spells[i].person })
	// Sized once: grown by append, copying hundreds of thousands of
	// entries again and again was a tenth of a large roster's load.
	r.byName = make([]named, 0, len(r.persons))
	r.spans = make([]span, 0, len(r.spells))
	for p := range r.persons {
		if spellsAt[p+1] > spellsAt[p] {
			pp := &r.persons[p]
			n := named{person: PersonIndex(p), dob: pp.dob, id: pp.id, upn: pp.upn}
			if pp.dob != openEnded {
				n.born = ymdOf(pp.dob)
			}
			r.byName = append(r.byName, n)
		}
	}
	sort.Slice(r.byName, func(a, b int) bool { return r.byName[a].id < r.byName[b].id })
	ids := make([]string, 0, 2*len(r.byName))
	for _, n := range r.byName {
		ids = append(ids, n.id, n.upn)
	}
	pack(ids)
	for k := range r.byName {
		r.byName[k].id, r.byName[k].upn = ids[2*k], ids[2*k+1]
	}
	areas := map[area]int32{}
	for k := range r.byName {
		n := &r.byName[k]
		n.lo = int32(len(r.spans))
		for _, s := range r.spells[spellsAt[n.person]:spellsAt[n.person+1]] {
			a := area{lsoa: s.lsoa, locality: s.locality, imd: r.imd[s.lsoa]}
			ai, ok := areas[a]
			if !ok {
				ai = int32(len(r.areas))
				areas[a] = ai
				r.areas = append(r.areas, a)
			}
			r.spans = append(r.spans, span{from: s.from, to: s.to, hh: number[s.household], area: ai, child: s.role == "child"})
		}
		n.hi = int32(len(r.spans))
	}
	// Moves: spells other than one that began at birth, for
	// household_moves_12m. Spells are in date order within a person.
	r.movesAt = make([]int32, len(r.persons)+1)
	for p := range r.persons {
		born := r.persons[p].dob
		for _, s := range r.spells[spellsAt[p]:spellsAt[p+1]] {
			if born == openEnded || s.from > born+birthSpellDays {
				r.moveDays = append(r.moveDays, s.from)
			}
		}
		r.movesAt[p+1] = int32(len(r.moveDays))
	}
	r.referralsAt = offsets(len(r.persons), len(r.referrals), func(i int) int32 { return r.referrals[i].person })
	// Objections and episodes keep their order of delivery within a person
	// or household; only whether one covers a day, or how many do, is used.
	byPerson := make([][]period, len(r.persons))
	for p, ps := range r.objections {
		byPerson[p] = ps
	}
	r.objectionsAt, r.objectionList = flatten(byPerson)
	byHousehold := make([][]period, len(r.households))
	for h, ps := range r.episodes {
		if i, ok := number[h]; ok {
			byHousehold[i] = ps
		} // else a household with no spell, never linked
	}
	r.episodesAt, r.episodeList = flatten(byHousehold)
	r.objections, r.episodes = nil, nil // read through the lists from here on
}

// pack copies strs end to end into one string and points each at its
// copy. Strings then sit in memory in the order a build reads them, rather
// than wherever their record put them.
func pack(strs []string) {
	n := 0
	for _, s := range strs {
		n += len(s)
	}
	var b strings.Builder
	b.Grow(n)
	for _, s := range strs {
		b.WriteString(s)
	}
	all, at := b.String(), 0
	for i, s := range strs {
		strs[i] = all[at : at+len(s)]
		at += len(s)
	}
}

// offsets returns, for n keys 0..n-1 and m items sorted by key(i), where
// each key's run of items starts: key k's are [at[k], at[k+1]).
func offsets(n, m int, key func(i int) int32) []int32 {
	at := make([]int32, n+1)
	for i := 0; i < m; i++ {
		at[key(i)+1]++
	}
	for k := 1; k <= n; k++ {
		at[k] += at[k-1]
	}
	return at
}

// flatten lays lists out end to end, with where each starts.
func flatten(lists [][]period) ([]int32, []period) {
	at := make([]int32, len(lists)+1)
	var all []period
	for i, ps := range lists {
		all = append(all, ps...)
		at[i+1] = int32(len(all))
	}
	return at, all
}

// ymd is a calendar date, for ages in whole years without a time.Time per
// child per date.
type ymd struct {
	year       int32
	month, day int8
}

func ymdOf(d Day) ymd {
	y, m, dd := d.Time().Date()
	return ymd{year: int32(y), month: int8(m), day: int8(dd)}
}

// ageOn is AgeOn on calendar dates.
func ageOn(born, on ymd) int {
	age := int(on.year - born.year)
	if on.month < born.month || (on.month == born.month && on.day < born.day) {
		age--
	}
	return age
}
