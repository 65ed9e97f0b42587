package attendance

import (
	"slices"
	"sync"

	"earlyhelp/features"
)

// Running weekly tallies. A backtest builds features for a dozen as-of
// dates and the benchmark for fifty; each date tallied every pupil's
// marks of the 52 weeks before it, mark by mark, and that was most of the
// feature build. The windows are whole weeks before the as-of date, so
// with each pupil's tallies summed week by week, from weeks that end on
// the as-of date's weekday, a window is the difference of two running
// sums. Marks recorded after their own session day are the exception: a
// date before the recording must see the mark as it stood then, so those
// few are kept aside and corrected one by one.

// packed is a tally in 16-bit lanes, so that adding or subtracting two is
// three machine additions. A lane holds at most 14 sessions a week for
// 4,681 weeks before it overflows.
type packed [3]uint64

// Lanes of packed, by tally field.
const (
	lanePossible = iota
	laneAbsent
	laneUnauth
	laneLate
	laneLateAfter
	laneIllness
	laneHoliday
	laneNoReason
	laneNoMark
	laneMonFri
	laneMonFriAbsent
)

func (a packed) plus(b packed) packed { return packed{a[0] + b[0], a[1] + b[1], a[2] + b[2]} }

// minus subtracts lane by lane; every lane of b must be at most a's.
func (a packed) minus(b packed) packed { return packed{a[0] - b[0], a[1] - b[1], a[2] - b[2]} }

func (a packed) lane(i int) int { return int(a[i/4] >> (16 * (i % 4)) & 0xffff) }

func (a *packed) setLane(i, n int) { a[i/4] |= uint64(n) << (16 * (i % 4)) }

func (a packed) tally() tally {
	return tally{
		possible: a.lane(lanePossible), absent: a.lane(laneAbsent), unauth: a.lane(laneUnauth),
		late: a.lane(laneLate), lateAfter: a.lane(laneLateAfter), illness: a.lane(laneIllness),
		holiday: a.lane(laneHoliday), noReason: a.lane(laneNoReason), noMark: a.lane(laneNoMark),
		monFri: a.lane(laneMonFri), monFriAbsent: a.lane(laneMonFriAbsent),
	}
}

func pack(t tally) packed {
	var a packed
	for i, n := range []int{t.possible, t.absent, t.unauth, t.late, t.lateAfter, t.illness, t.holiday, t.noReason, t.noMark, t.monFri, t.monFriAbsent} {
		a.setLane(i, n)
	}
	return a
}

// markTally is one session's mark as a packed tally, by mark and by
// whether the day is a Monday or Friday.
var markTally = func() (out [markKinds][2]packed) {
	for m := range markKinds {
		for mf := range 2 {
			var t tally
			t.add(uint8(m), mf == 1)
			out[m][mf] = pack(t)
		}
	}
	return out
}()

// monFri is 1 on Mondays and Fridays, else 0. 1970-01-01 was a Thursday:
// day+3 mod 7 is 0 on Mondays.
func monFri(d features.Day) int {
	switch ((int(d)+3)%7 + 7) % 7 {
	case 0, 4:
		return 1
	}
	return 0
}

// weekly is every pupil's running tallies by week for as-of dates on one
// weekday.
type weekly struct {
	base  features.Day // the first day of week 0, on the as-of weekday, not after idx.start
	weeks int
	// sums[p*(weeks+1)+w] is pupil p's tally of weeks 0 … w-1.
	sums []packed
	// late[lateAt[p]:lateAt[p+1]] are pupil p's slots whose mark was
	// recorded after its session day, in slot order.
	late   []int32
	lateAt []int32
}

// newWeekly sums idx's marks by week, weeks ending on day's weekday, on
// up to workers goroutines. Pupils are summed apart: each goroutine takes
// a stretch of them, and their late slots are joined in pupil order, so
// the sums are the same for any number. On one core this was five seconds
// of a 300,000-child backtest with the other core idle.
func newWeekly(idx *Index, day features.Day, workers int) *weekly {
	back := ((int(idx.start)-int(day))%7 + 7) % 7
	w := &weekly{base: idx.start - features.Day(back)}
	w.weeks = (back + idx.days + 6) / 7
	n := len(idx.pupils)
	w.sums = make([]packed, n*(w.weeks+1))
	w.lateAt = make([]int32, n+1)
	// What every pupil's day i shares: whether it is a Monday or Friday,
	// and the first second of the next day as a stamp.
	mf, next := make([]uint8, idx.days), make([]int64, idx.days)
	for i := range idx.days {
		d := idx.start + features.Day(i)
		mf[i], next[i] = uint8(monFri(d)), int64(d+1)*86400-stampEpoch
	}
	workers = max(1, min(workers, n))
	lates := make([][]int32, workers)
	var wg sync.WaitGroup
	for j := range workers {
		wg.Go(func() { lates[j] = w.sum(idx, mf, next, back, j*n/workers, (j+1)*n/workers) })
	}
	wg.Wait()
	// Each stretch counted its pupils' late slots from its own start.
	offset := int32(0)
	for j, late := range lates {
		for p := j*n/workers + 1; p <= (j+1)*n/workers; p++ {
			w.lateAt[p] += offset
		}
		offset += int32(len(late))
	}
	w.late = slices.Concat(lates...)
	return w
}

// sum fills the running sums of pupils from to to and lateAt[from+1 …
// to], counting from 0, and returns their late slots.
func (w *weekly) sum(idx *Index, mf []uint8, next []int64, back, from, to int) []int32 {
	var late []int32
	for p := from; p < to; p++ {
		row := w.sums[p*(w.weeks+1) : (p+1)*(w.weeks+1)]
		k0 := p * idx.days * 2
		marks := idx.marks[k0 : k0+2*idx.days]
		var acc packed
		wk, left := 0, 7-back // days left in week wk
		for i := range idx.days {
			f := mf[i]
			am, pm := marks[2*i], marks[2*i+1]
			acc = acc.plus(markTally[am&^stampedBit][f]).plus(markTally[pm&^stampedBit][f])
			if am&stampedBit != 0 && int64(idx.stamps[k0+2*i]) >= next[i] {
				late = append(late, int32(2*i))
			}
			if pm&stampedBit != 0 && int64(idx.stamps[k0+2*i+1]) >= next[i] {
				late = append(late, int32(2*i+1))
			}
			if left--; left == 0 {
				wk++
				row[wk], left = acc, 7
			}
		}
		for wk < w.weeks { // the last week ends after the last day
			wk++
			row[wk] = acc
		}
		w.lateAt[p+1] = int32(len(late))
	}
	return late
}

// fits reports whether the windows before end fall on w's weeks.
func (w *weekly) fits(end features.Day) bool { return (int(end-w.base)%7+7)%7 == 0 }

// tallies is Index.tallies from the running sums; end must fit w and
// cutoff be positive.
func (w *weekly) tallies(idx *Index, p int32, end features.Day, cutoff uint32) [len(windows)]tally {
	week := func(d features.Day) int { return min(max(int(d-w.base)/7, 0), w.weeks) }
	row := w.sums[int(p)*(w.weeks+1):]
	hi := row[week(end)]
	// Marks recorded after their day and at or after the cutoff did not
	// stand yet: take them out, and the mark as it stood then in.
	var add, sub [len(windows)]packed
	k0 := int(p) * idx.days * 2
	for _, rel := range w.late[w.lateAt[p]:w.lateAt[p+1]] {
		k := k0 + int(rel)
		d := idx.start + features.Day(rel/2)
		if d >= end || idx.stamp(k) < cutoff {
			continue
		}
		mf := monFri(d)
		now, then := markTally[idx.marks[k]&^stampedBit][mf], markTally[idx.asAt(k, cutoff)][mf]
		for i, wks := range windows {
			if d >= end-features.Day(7*wks) {
				add[i], sub[i] = add[i].plus(then), sub[i].plus(now)
			}
		}
	}
	var out [len(windows)]tally
	for i, wks := range windows {
		out[i] = hi.minus(row[week(end-features.Day(7*wks))]).plus(add[i]).minus(sub[i]).tally()
	}
	return out
}
