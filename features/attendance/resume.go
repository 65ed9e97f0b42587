package attendance

import (
	"errors"
	"fmt"
	"math"

	"earlyhelp/features"
	"earlyhelp/pipeline/cachefile"
)

// resumeDays is the room a resumed grid leaves for the days to come.
const resumeDays = 21

// decodeResumed reads a cache's body after its magic and format into a
// loader that goes on from the index it holds, read from some day on or
// before since, as if its read had begun at since: the deliveries read
// after it then make the index a read of them all from since would make.
// The cached grid is never held: each pupil's row is read straight into
// its place in the loader's (holding both was a weekly run's peak of
// memory, two years of marks after a retrain).
//
// What a read from since keeps of the index's rows is those dated on or
// after since, in the order they were read, which is what its slots from
// since hold: every row makes its slot's mark or an older version of it,
// and no mark is markNone. So the grid is cut to since, and the pupils
// without a mark left go, as no row of theirs would have been read.
// Pupils keep their order but not their numbers, which nothing outside the
// index sees (features, facts and timelines find pupils by pseudonym).
// Schools seen only before since go too; a school's latest day on or after
// since is the same either way.
//
// Anything wrong with what it reads is an error, never a panic.
func decodeResumed(d *cachefile.Decoder, since features.Day) (cached, *loader, error) {
	var c cached
	if err := decodeHead(d, &c); err != nil {
		return c, nil, err
	}
	if since < c.since || since == features.Day(math.MinInt32) {
		return c, nil, fmt.Errorf("read from day %d, resumed from %d", c.since, since)
	}
	start := features.Day(d.Day())
	days := int(d.Uvarint())
	if d.Err() == nil && (days > maxCacheDays || c.since != features.Day(math.MinInt32) && days > 0 && start < c.since) {
		return c, nil, fmt.Errorf("%d days from day %d, read from day %d", days, start, c.since)
	}
	// The resumed grid runs from since to the cached grid's end: a grid
	// said to end more than a century after since would have the grid
	// sized (and its day numbers overflow) by a damaged file's word. The
	// fuzzer found it: allocations of many gigabytes that, run after run,
	// stalled the process.
	if span := int64(start) + int64(days) - int64(since); d.Err() == nil && span > maxCacheDays {
		return c, nil, fmt.Errorf("%d days from day %d, resumed from day %d", days, start, since)
	}
	keys := make([]string, d.Length(1))
	for p := range keys {
		keys[p] = d.Str()
	}
	n := d.Length(1)
	if err := d.Err(); err != nil {
		return c, nil, err
	}
	if n != len(keys)*days*2 {
		return c, nil, fmt.Errorf("%d slots for %d pupils over %d days", n, len(keys), days)
	}
	from := max(since, start)                  // the first day kept
	end := start + features.Day(days)          // the day after the last
	skip := min(days, max(0, int(from-start))) // days of a row before from
	keepDays := days - skip
	// Room for the deliveries to come, which bring a week or two of days
	// and a few new pupils: growing the grid for them would copy it into
	// one of twice the size.
	ld := newLoader(since, max(growDays, int(end-since)+resumeDays))
	g := ld.grid
	out := ld.idx
	pupils := len(keys)
	// Sized for every pupil, before it is known who stays: the room of
	// those who go is never written, so it costs no memory.
	out.marks = make([]uint8, pupils*g.cap*2, (pupils+pupils/32+64)*g.cap*2)
	shift := int(from - since) // where the kept days begin in a new row
	// renum[p] is cached pupil p's new number, -1 when it goes.
	renum := make([]int32, pupils)
	rows := 0
	first, last := features.Day(math.MaxInt32), features.Day(math.MinInt32)
	for p := range keys {
		renum[p] = -1
		d.Discard(2 * skip)
		row := out.marks[(rows*g.cap+shift)*2 : (rows*g.cap+shift+keepDays)*2]
		d.Fill(row)
		lo, hi := -1, -1
		for k, m := range row {
			if m&^stampedBit > markMissing {
				return c, nil, fmt.Errorf("no mark %d", m)
			}
			if m != markNone {
				if lo < 0 {
					lo = k
				}
				hi = k
			}
		}
		if lo < 0 {
			continue // all markNone: the next pupil's row goes here
		}
		renum[p] = int32(rows)
		rows++
		first, last = min(first, from+features.Day(lo/2)), max(last, from+features.Day(hi/2))
	}
	if err := d.Err(); err != nil {
		return c, nil, err
	}
	out.marks = out.marks[:rows*g.cap*2]
	g.rows = rows
	// newSlot is where cached slot k is in the loader's grid; false when
	// its pupil or day is not kept.
	newSlot := func(k uint64) (int, bool) {
		if d.Err() != nil || k >= uint64(n) {
			return 0, false // n > 0 here: days > 0
		}
		p, r := int(k)/(days*2), int(k)%(days*2)
		dd := r/2 - skip // day from `from`
		if renum[p] < 0 || dd < 0 {
			return 0, false
		}
		return (int(renum[p])*g.cap+shift+dd)*2 + r%2, true
	}
	for range d.Length(2) {
		k, st := d.Uvarint(), d.Uvarint()
		if d.Err() == nil && (k >= uint64(n) || st > 1<<32-1) {
			return c, nil, fmt.Errorf("a stamp out of place at slot %d", k)
		}
		if nk, ok := newSlot(k); ok {
			if out.marks[nk]&stampedBit == 0 {
				return c, nil, fmt.Errorf("a stamp out of place at slot %d", k)
			}
			out.stamps[nk] = uint32(st)
		}
	}
	for range d.Length(2) {
		k := d.Uvarint()
		vs := make([]version, d.Length(2))
		for i := range vs {
			m, st := d.Uvarint(), d.Uvarint()
			if d.Err() == nil && (m > uint64(markMissing) || st > 1<<32-1) {
				return c, nil, errors.New("an older version out of range")
			}
			vs[i] = version{uint8(m), uint32(st)}
		}
		if d.Err() == nil && k >= uint64(n) {
			return c, nil, fmt.Errorf("older versions out of place at slot %d", k)
		}
		if nk, ok := newSlot(k); ok {
			out.older[nk] = vs
		}
	}
	schools := d.Length(1)
	if d.Err() == nil && schools > pupils {
		return c, nil, fmt.Errorf("schools for %d pupils of %d", schools, pupils)
	}
	out.schools = make([][]schoolSeen, rows)
	for p := range schools {
		var seen []schoolSeen
		for range d.Length(2) {
			s := schoolSeen{urn: int32(d.Varint()), last: features.Day(d.Day())}
			if renum[p] >= 0 && s.last >= since {
				seen = append(seen, s)
			}
		}
		if renum[p] >= 0 {
			out.schools[renum[p]] = seen
		}
	}
	if err := d.Err(); err != nil {
		return c, nil, err
	}
	for p, q := range renum {
		if q >= 0 {
			ld.keys = append(ld.keys, keys[p])
			out.pupils[keys[p]] = q
		}
	}
	ld.after = make([]int32, len(ld.keys))
	for i := range ld.after {
		ld.after[i] = -1
	}
	if rows > 0 {
		ld.minDay, ld.maxDay = first, last
	}
	if days == 0 || pupils == 0 {
		return c, newLoader(since, growDays), nil // nothing to go on from
	}
	return c, ld, nil
}
