package attendance

import (
	"math"

	"earlyhelp/features"
)

// resumeLoader makes a loader that goes on from idx, an index read from
// some day on or before since, as if its read had begun at since: the
// deliveries read after it then make the index a read of them all from
// since would make.
//
// What a read from since keeps of idx's rows is those dated on or after
// since, in the order they were read, which is what idx's slots from since
// hold: every row makes its slot's mark or an older version of it, and no
// mark is markNone. So the grid is cut to since, and the pupils without a
// mark left go, as no row of theirs would have been read. Pupils keep
// their order but not their numbers, which nothing outside the index sees
// (features, facts and timelines find pupils by pseudonym). Schools seen
// only before since go too; a school's latest day on or after since is the
// same either way.
//
// idx is taken over: the loader's index reuses its maps.
// resumeDays is the room a resumed grid leaves for the days to come.
const resumeDays = 21

func resumeLoader(idx *Index, since features.Day) *loader {
	ld := newLoader(since)
	if idx.days == 0 || len(idx.pupils) == 0 {
		return ld
	}
	keys := make([]string, len(idx.pupils))
	for k, p := range idx.pupils {
		keys[p] = k
	}
	from := max(since, idx.start)             // the first day kept
	end := idx.start + features.Day(idx.days) // the day after the last
	keepDays := max(0, int(end-from))
	// renum[p] is old pupil p's new number, -1 when it goes.
	renum := make([]int32, len(keys))
	rows := int32(0)
	first, last := features.Day(math.MaxInt32), features.Day(math.MinInt32)
	for p := range keys {
		renum[p] = -1
		if keepDays == 0 {
			continue
		}
		k0 := idx.slot(int32(p), from, false)
		lo, hi := -1, -1
		for k, m := range idx.marks[k0 : k0+2*keepDays] {
			if m != markNone {
				if lo < 0 {
					lo = k
				}
				hi = k
			}
		}
		if lo < 0 {
			continue
		}
		renum[p] = rows
		rows++
		first, last = min(first, from+features.Day(lo/2)), max(last, from+features.Day(hi/2))
	}
	g := ld.grid
	// Room for the deliveries to come, which bring a week or two of days
	// and a few new pupils: growing the grid for them would copy it into
	// one of twice the size, and a weekly run's peak of memory is here.
	g.cap = max(growDays, int(end-since)+resumeDays)
	g.rows = int(rows)
	out := ld.idx
	out.days = g.cap
	out.marks = make([]uint8, int(rows)*g.cap*2, (int(rows)+int(rows)/32+64)*g.cap*2)
	shift := int(from - since) // where the kept days begin in a new row
	newSlot := func(k int) (int, bool) {
		p, r := k/(idx.days*2), k%(idx.days*2)
		d := r/2 - int(from-idx.start) // day from `from`
		if renum[p] < 0 || d < 0 {
			return 0, false
		}
		return (int(renum[p])*g.cap+shift+d)*2 + r%2, true
	}
	for p, q := range renum {
		if q < 0 {
			continue
		}
		k0 := idx.slot(int32(p), from, false)
		copy(out.marks[(int(q)*g.cap+shift)*2:], idx.marks[k0:k0+2*keepDays])
		ld.keys = append(ld.keys, keys[p])
		out.pupils[keys[p]] = q
		var seen []schoolSeen
		if p < len(idx.schools) {
			for _, s := range idx.schools[p] {
				if s.last >= since {
					seen = append(seen, s)
				}
			}
		}
		out.schools = append(out.schools, seen)
	}
	for k, st := range idx.stamps {
		if nk, ok := newSlot(k); ok {
			out.stamps[nk] = st
		}
	}
	for k, v := range idx.older {
		if nk, ok := newSlot(k); ok {
			out.older[nk] = v
		}
	}
	ld.after = make([]int32, len(ld.keys))
	for i := range ld.after {
		ld.after[i] = -1
	}
	if rows > 0 {
		ld.minDay, ld.maxDay = first, last
	}
	return ld
}
