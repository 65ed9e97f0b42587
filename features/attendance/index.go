package attendance

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"maps"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/features"
	"earlyhelp/pipeline/contract"
	"earlyhelp/pipeline/recycle"
)

// Marks in the grid, from the connector's statistical category and, for
// lateness, the code itself.
const (
	markNone uint8 = iota
	markPresent
	markLate // L: arrived before registers closed; counts as present
	markAEA
	markAuth
	markUnauth
	markLateAfter // U: arrived after registers closed; unauthorised absence
	markIllness   // I: authorised, illness
	markHoliday   // G: unauthorised holiday in term time
	markNoReason  // N, O: unauthorised, no reason yet or none given
	markNotCounted
	markMissing
)

// Index holds every pupil's marks as a grid of days × AM/PM, with the time
// each mark was recorded, so the newest mark of a session wins and a mark
// recorded after an as-of date can be ignored for that date.
type Index struct {
	pupils map[string]int32 // UPN pseudonym → row
	start  features.Day
	days   int
	marks  []uint8 // row*days*2 + day*2 + session; stampedBit set when the slot has a stamp
	// stamps holds the time each stamped slot's mark was recorded, in
	// seconds since stampEpoch. Extracts state it for a fraction of a per
	// cent of marks, and a []uint32 beside marks was four fifths of the
	// grid, almost all zeros.
	stamps map[int]uint32
	// older keeps the marks a later one replaced, by slot, so a date before
	// the amendment still sees the mark as it stood then. Amendments are a
	// few per cent of marks, so this stays small.
	older map[int][]version
	// weekly, once made (see Builder.Build), tallies windows from running
	// sums for as-of dates on its weekday.
	weekly atomic.Pointer[weekly]
	// schools are each pupil's schools, for the family page: noted once a
	// run of a pupil's rows, not once a mark, so the load barely notices.
	schools [][]schoolSeen
}

// schoolSeen is a school a pupil had marks at, and the last day it was
// seen with one.
type schoolSeen struct {
	urn  int32
	last features.Day
}

// note records that pupil p had a mark at school urn on day d.
func (idx *Index) note(p int32, urn int32, d features.Day) {
	for int(p) >= len(idx.schools) {
		idx.schools = append(idx.schools, nil)
	}
	ss := idx.schools[p]
	for i := range ss {
		if ss[i].urn == urn {
			ss[i].last = max(ss[i].last, d)
			return
		}
	}
	idx.schools[p] = append(ss, schoolSeen{urn, d})
}

// School is the URN of the school of pupil p's latest mark before day,
// or 0 when none is known.
func (idx *Index) School(p int32, day features.Day) int32 {
	if int(p) >= len(idx.schools) {
		return 0
	}
	// Only a year back, as every feature reads: the index may hold more
	// (a backtest's whole history) or less, and the school shown must not
	// depend on which. On the same day, the lower URN, whatever the order
	// the schools were first seen in.
	var urn int32
	best := day - lookbackDays - 1
	for _, s := range idx.schools[p] {
		if s.last < day && (s.last > best || s.last == best && urn != 0 && s.urn < urn) {
			urn, best = s.urn, s.last
		}
	}
	return urn
}

// stampedBit, in a slot of Index.marks, says that Index.stamps holds the
// slot's stamp; the mark is the slot's other bits. A slot without it has no
// stated stamp (0).
const stampedBit uint8 = 0x80

// stamp is slot k's stamp, 0 if not stated.
func (idx *Index) stamp(k int) uint32 { return idx.stampAt(idx.marks[k], k) }

// stampAt is the stamp of slot k, whose raw grid byte is raw.
func (idx *Index) stampAt(raw uint8, k int) uint32 {
	if raw&stampedBit == 0 {
		return 0
	}
	return idx.stamps[k]
}

// set puts mark m, recorded at stamp st, in slot k.
func (idx *Index) set(k int, m uint8, st uint32) { idx.setAt(&idx.marks[k], k, m, st) }

// setAt puts mark m, recorded at stamp st, in slot k, whose grid byte is
// at c: in idx.marks, or in a growing grid's block (see grower).
func (idx *Index) setAt(c *uint8, k int, m uint8, st uint32) {
	if st == 0 {
		if *c&stampedBit != 0 {
			delete(idx.stamps, k)
		}
		*c = m
		return
	}
	*c = m | stampedBit
	idx.stamps[k] = st
}

// markAt is the mark of slot k, whose raw grid byte is raw, as it stood at
// cutoff: its own mark unless it was recorded at or after cutoff.
func (idx *Index) markAt(k int, raw uint8, cutoff uint32) uint8 {
	if raw&stampedBit != 0 && idx.stamps[k] >= cutoff {
		return idx.asAt(k, cutoff)
	}
	return raw &^ stampedBit
}

type version struct {
	mark  uint8
	stamp uint32
}

type entry struct {
	pupil int32
	day   features.Day
	pm    bool
	mark  uint8
	stamp uint32
}

// Load reads the attendance of the store into an index.
func Load(ctx context.Context, mem memory.Allocator, t features.Tables) (*Index, error) {
	return LoadSince(ctx, mem, t, features.Day(math.MinInt32))
}

// LoadSince reads the marks of sessions on or after since only: the grid
// is days × pupils, so a year of it is half the memory of two. A store that
// knows its deliveries' dates does not even decode those wholly before
// since (a weekly run's older year); rows before since in the deliveries it
// does read are skipped here.
func LoadSince(ctx context.Context, mem memory.Allocator, t features.Tables, since features.Day) (*Index, error) {
	ld := newLoader(since, growDays)
	reuse := reusing(mem)
	defer reuse.Close()
	if err := features.ScanSince(ctx, reuse, t, Source, contract.ColSessionDate, since, ld.record); err != nil {
		return nil, fmt.Errorf("attendance: %w", err)
	}
	return ld.finish(), nil
}

// reusing is mem for one read of the store's attendance: a record's
// buffers, released once the loader has read it (the loader copies what
// it keeps), go to the records after it rather than to the collector.
// Decoded into new heap, the two years a backtest reads at 300,000
// children were 4.3 GB allocated in 32,768-row records, faulted in page
// by page where the collector or a memory limit had given it back. Close
// it when the read ends.
func reusing(mem memory.Allocator) *recycle.Recycler { return recycle.New(mem, readKeep) }

// readKeep bounds the buffers a read keeps for reuse: the records the
// store decodes ahead, a few dozen of about a megabyte each.
const readKeep = 64 << 20

// loadSpan reads the whole history, which the store says runs from first
// to last, as LoadSince would from the beginning of time, but with every
// mark placed into a grid of those days as it is read. Gathered first,
// the marks of a 300,000-child council were 1.2 GB of entries beside the
// grid, at the end of the ingest, where the run's live heap peaked. A mark
// before first (a store whose dates were wrong) is not dropped: the
// history is read again from the beginning of time, and again says so.
func loadSpan(ctx context.Context, mem memory.Allocator, t features.Tables, first, last features.Day) (idx *Index, again bool, err error) {
	whole := func() (*Index, bool, error) {
		idx, err := LoadSince(ctx, mem, t, features.Day(math.MinInt32))
		return idx, true, err
	}
	if last < first {
		return whole()
	}
	ld := newLoader(first, int(last-first)+1)
	reuse := reusing(mem)
	defer reuse.Close()
	if err := features.ScanSince(ctx, reuse, t, Source, contract.ColSessionDate, first, ld.record); err != nil {
		return nil, false, fmt.Errorf("attendance: %w", err)
	}
	if ld.early > 0 {
		return whole()
	}
	// The grid grew in blocks and is laid out once, with exact room (see
	// grower), so a grid kept through a backtest carries no spare room.
	return ld.finish(), false, nil
}

// loader reads attendance records into an index, in load order.
type loader struct {
	idx   *Index
	since features.Day
	early int // rows dated before since, left out
	// From a known first day, marks go straight into a grid that grows
	// (see grower); from the beginning of time they are gathered first, to
	// size the grid from their first and last days.
	grid *grower
	// Entries are kept in fixed-size chunks: one slice grown by append would
	// copy tens of millions of entries again and again, and a copy that large
	// cannot be preempted, so the garbage collector's workers spin waiting
	// for it (seen in profiles as most of the load's CPU).
	chunks         [][]entry
	entries        []entry
	minDay, maxDay features.Day
	// Extracts list a school's pupils in the same order day after day, so
	// the pupil who followed the last one the time before is most often the
	// next one: checking them first saves most map lookups, which were the
	// load's largest cost. keys[p] is pupil p's UPN pseudonym, after[p]
	// the pupil seen after p last time (-1: none yet).
	keys  []string
	after []int32
	prev  int32
	// packs[p] is pupil p's pseudonym as a packed column holds it ("" until
	// a packed record names them, and past its end for pupils a resumed
	// index brought), so a packed row is compared as it is stored and
	// spelled out in hex only to be looked up.
	packs []string
	// pupilOf is each row's pupil in the record being read, -1 for a row
	// dated before since.
	pupilOf []int32
	// The run of rows of one pupil at one school being read, noted as a
	// school seen once it ends rather than row by row.
	runP    int32
	runURN  int32
	runLast features.Day
	// A record's rows' sessions and marks (decode), and the mark of each
	// pair of places in the code's and the category's lists, reused record
	// to record; the lists, parsed once a file (Getter.Lists).
	pms    []bool
	marks  []uint8
	markOf []uint8
	lists  map[string][]string
}

// chunk is how many entries a chunk holds.
const chunk = 1 << 20

// newLoader reads marks dated on or after since; from a known day, into a
// grid with room for days days a pupil at first.
func newLoader(since features.Day, days int) *loader {
	ld := &loader{
		idx:    &Index{pupils: map[string]int32{}, older: map[int][]version{}, stamps: map[int]uint32{}},
		since:  since,
		minDay: features.Day(math.MaxInt32), maxDay: features.Day(math.MinInt32),
		prev: -1, runP: -1, lists: map[string][]string{},
	}
	if since != features.Day(math.MinInt32) {
		ld.grid = newGrower(ld.idx, since, days)
	}
	return ld
}

// record reads one record's rows, skipping those dated before since.
func (ld *loader) record(rec arrow.Record) error {
	g := features.Getter{Lists: ld.lists}
	upn, date, sess := g.Pseudonyms(rec, contract.ColUPN), g.Date(rec, contract.ColSessionDate), g.Coded(rec, contract.ColSession)
	code, cat, upd := g.Coded(rec, contract.ColAttendanceCode), g.Coded(rec, contract.ColCategory), g.Timestamp(rec, contract.ColMarkUpdatedAt)
	urn := g.Int32(rec, contract.ColSchoolURN)
	if g.Err != nil {
		return g.Err
	}
	n := int(rec.NumRows())
	pms, marks := ld.decode(sess, code, cat, n)
	pupils := ld.pupils(upn, date, n)
	for i, p := range pupils {
		if p < 0 {
			continue
		}
		day := features.Day(date.Value(i))
		// A pupil's school is the one of their latest mark there, whatever
		// the order rows come in, so it does not depend on where a read
		// began (a weekly run's year, or a resumed index, see resume.go).
		if u := urn.Value(i); p != ld.runP || u != ld.runURN {
			ld.endRun()
			ld.runP, ld.runURN, ld.runLast = p, u, day
		} else if day > ld.runLast {
			ld.runLast = day
		}
		e := entry{pupil: p, day: day, pm: pms[i], mark: marks[i]}
		if upd.IsValid(i) {
			if s := int64(upd.Value(i)) - stampEpoch; s > 0 && s < math.MaxUint32 {
				e.stamp = uint32(s)
			}
		}
		ld.minDay, ld.maxDay = min(ld.minDay, e.day), max(ld.maxDay, e.day)
		if ld.grid != nil {
			ld.grid.add(e)
			continue
		}
		if len(ld.entries) == cap(ld.entries) {
			if ld.entries != nil {
				ld.chunks = append(ld.chunks, ld.entries)
			}
			ld.entries = make([]entry, 0, chunk)
		}
		ld.entries = append(ld.entries, e)
	}
	return nil
}

// pupils finds each of a record's n rows' pupil, numbering pupils new to
// the index; a row dated before since is -1, and counted as left out.
// Extracts list a pupil's sessions together (AM and PM at least), so the
// last pupil seen is checked first of all, and then the one who followed
// them the time before.
func (ld *loader) pupils(upn features.Pseudonyms, date *array.Date32, n int) []int32 {
	ld.pupilOf = slices.Grow(ld.pupilOf[:0], n)[:n]
	out := ld.pupilOf
	packed, w, isPacked := upn.Packed()
	var spelt [2 * features.MaxPacked]byte // a packed pseudonym in hex, to look up
	lastU, lastP := "", int32(-1)
	for i := range out {
		if features.Day(date.Value(i)) < ld.since {
			ld.early++
			out[i] = -1
			continue
		}
		var u string // as the record holds it
		if isPacked {
			u = unsafe.String(&packed[i*w], w)
		} else {
			u = upn.Value(i)
		}
		if lastP >= 0 && sameKey(u, lastU) {
			out[i] = lastP
			continue
		}
		p := int32(-1)
		if ld.prev >= 0 {
			if q := ld.after[ld.prev]; q >= 0 && (isPacked && int(q) < len(ld.packs) && sameKey(ld.packs[q], u) || !isPacked && ld.keys[q] == u) {
				p = q
			}
		}
		if p < 0 {
			key := u
			if isPacked {
				hex.Encode(spelt[:], packed[i*w:(i+1)*w])
				key = unsafe.String(&spelt[0], 2*w)
			}
			var ok bool
			if p, ok = ld.idx.pupils[key]; !ok {
				p = int32(len(ld.keys))
				// A copy: key points into the record's buffer of every
				// row's pseudonym (or at spelt), which it would keep alive.
				k := strings.Clone(key)
				ld.idx.pupils[k] = p
				ld.keys, ld.after = append(ld.keys, k), append(ld.after, -1)
			}
			if isPacked {
				for len(ld.packs) <= int(p) {
					ld.packs = append(ld.packs, "")
				}
				if ld.packs[p] == "" {
					ld.packs[p] = strings.Clone(u)
				}
			}
		}
		if ld.prev >= 0 {
			ld.after[ld.prev] = p
		}
		ld.prev = p
		lastU, lastP = u, p
		out[i] = p
	}
	return out
}

// sameKey says whether pseudonyms a and b are equal. Packed, their
// width of 8 to 16 bytes (ten in practice) is compared as two overlapping
// words: the runtime's compare of two strings is a call, and the loader
// makes one or two a row.
func sameKey(a, b string) bool {
	n := len(a)
	if n != len(b) || n < 8 || n > 16 {
		return a == b
	}
	x, y := unsafe.Slice(unsafe.StringData(a), n), unsafe.Slice(unsafe.StringData(b), n)
	le := binary.LittleEndian
	return le.Uint64(x) == le.Uint64(y) && le.Uint64(x[n-8:]) == le.Uint64(y[n-8:])
}

// decode works out each of a record's n rows' session and mark: once for
// each value of the coded columns' lists, and then by each row's places;
// or from each row's text, in a store written before codes were kept as
// places, or where a damaged file holds a null.
func (ld *loader) decode(sess, code, cat features.Coded, n int) (pms []bool, marks []uint8) {
	ld.pms, ld.marks = slices.Grow(ld.pms[:0], n)[:n], slices.Grow(ld.marks[:0], n)[:n]
	pms, marks = ld.pms, ld.marks
	if places, words, ok := sess.Places(); ok {
		var pm [math.MaxInt8 + 1]bool
		for w, s := range words {
			pm[w] = s == contract.SessionPM
		}
		for i, p := range places[:n] {
			pms[i] = pm[uint8(p)]
		}
	} else {
		for i := range n {
			pms[i] = sess.Value(i) == contract.SessionPM
		}
	}
	codes, codeWords, okCode := code.Places()
	cats, catWords, okCat := cat.Places()
	if !okCode || !okCat {
		for i := range n {
			marks[i] = markOf(cat.Value(i), code.Value(i))
		}
		return pms, marks
	}
	k := len(catWords)
	ld.markOf = slices.Grow(ld.markOf[:0], len(codeWords)*k)[:len(codeWords)*k]
	for c, cw := range codeWords {
		for a, aw := range catWords {
			ld.markOf[c*k+a] = markOf(aw, cw)
		}
	}
	for i := range n {
		marks[i] = ld.markOf[int(codes[i])*k+int(cats[i])]
	}
	return pms, marks
}

// endRun notes the school of the run of rows just read.
func (ld *loader) endRun() {
	if ld.runP >= 0 {
		ld.idx.note(ld.runP, ld.runURN, ld.runLast)
	}
	ld.runP = -1
}

// finish lays the marks read out as the index.
func (ld *loader) finish() *Index {
	ld.endRun()
	idx := ld.idx
	if ld.grid != nil {
		if ld.minDay > ld.maxDay {
			return &Index{pupils: idx.pupils, older: idx.older, stamps: idx.stamps, schools: idx.schools}
		}
		ld.grid.finish(ld.minDay, ld.maxDay)
		return idx
	}
	if len(ld.entries) > 0 {
		ld.chunks = append(ld.chunks, ld.entries)
	}
	if len(ld.chunks) == 0 {
		return idx
	}
	idx.start, idx.days = ld.minDay, int(ld.maxDay-ld.minDay)+1
	n := len(idx.pupils) * idx.days * 2
	idx.marks = make([]uint8, n)
	// Rows arrive in load order, so on equal stamps the later delivery wins.
	idx.placeAll(ld.chunks, runtime.GOMAXPROCS(0))
	return idx
}

// placeAll puts the chunks' entries, in load order, into the grid, on
// up to workers goroutines. Worker k places the pupils p with p % workers
// = k, in load order, so each slot sees its entries in the same order as
// on one goroutine; a pupil's slots are its own stretch of the grid, and
// each worker keeps the stamps and older versions of its slots apart, so
// nothing is shared but the entries, which are only read. Placing was a
// run's longest stretch on one core: four seconds at 300,000 children.
func (idx *Index) placeAll(chunks [][]entry, workers int) {
	if workers <= 1 {
		for _, part := range chunks {
			idx.place(part)
		}
		return
	}
	subs := make([]*Index, workers)
	var wg sync.WaitGroup
	for k := range subs {
		sub := &Index{start: idx.start, days: idx.days, marks: idx.marks, older: map[int][]version{}, stamps: map[int]uint32{}}
		subs[k] = sub
		wg.Go(func() {
			for _, part := range chunks {
				for _, e := range part {
					if int(e.pupil)%workers == k {
						sub.placeOne(e)
					}
				}
			}
		})
	}
	wg.Wait()
	for _, sub := range subs {
		maps.Copy(idx.older, sub.older)
		maps.Copy(idx.stamps, sub.stamps)
	}
}

// place puts entries, in load order, into the grid.
func (idx *Index) place(entries []entry) {
	for _, e := range entries {
		idx.placeOne(e)
	}
}

// placeOne puts one entry into the grid: the newest mark of a session
// wins, and the later delivery on equal stamps; the other is kept as an
// older version.
func (idx *Index) placeOne(e entry) {
	k := idx.slot(e.pupil, e.day, e.pm)
	idx.placeAt(&idx.marks[k], k, e)
}

// placeAt is placeOne for slot k, whose grid byte is at c.
func (idx *Index) placeAt(c *uint8, k int, e entry) {
	if *c == markNone {
		idx.setAt(c, k, e.mark, e.stamp)
		return
	}
	switch cur := idx.stampAt(*c, k); {
	case e.stamp >= cur:
		idx.older[k] = append(idx.older[k], version{*c &^ stampedBit, cur})
		idx.setAt(c, k, e.mark, e.stamp)
	default:
		idx.older[k] = append(idx.older[k], version{e.mark, e.stamp})
	}
}

func (idx *Index) slot(p int32, d features.Day, pm bool) int {
	k := (int(p)*idx.days + int(d-idx.start)) * 2
	if pm {
		k++
	}
	return k
}

// markOf reads a stored mark: its category, as the vocabulary classified
// it at ingestion, split further only by the codes the vocabulary names
// for the features (contract.CodeLate, …), so no code is classified twice.
func markOf(category, code string) uint8 {
	switch category {
	case contract.CategoryPresent:
		if code == contract.CodeLate {
			return markLate
		}
		return markPresent
	case contract.CategoryAEA:
		return markAEA
	case contract.CategoryAuth:
		if code == contract.CodeIllness {
			return markIllness
		}
		return markAuth
	case contract.CategoryUnauth:
		switch code {
		case contract.CodeLateAfterClose:
			return markLateAfter
		case contract.CodeHoliday:
			return markHoliday
		case contract.CodeNoReasonYet, contract.CodeUnauthOther:
			return markNoReason
		}
		return markUnauth
	case contract.CategoryNotCounted:
		return markNotCounted
	}
	return markMissing
}

// tally counts sessions of one pupil in a window (domain-data §1.3).
type tally struct {
	possible, absent, unauth, late, lateAfter int
	illness, holiday, noReason, noMark        int
	// Monday and Friday sessions, and absences among them.
	monFri, monFriAbsent int
}

func (t tally) minus(o tally) tally {
	return tally{t.possible - o.possible, t.absent - o.absent, t.unauth - o.unauth, t.late - o.late, t.lateAfter - o.lateAfter,
		t.illness - o.illness, t.holiday - o.holiday, t.noReason - o.noReason, t.noMark - o.noMark,
		t.monFri - o.monFri, t.monFriAbsent - o.monFriAbsent}
}

// lateRate is the share of possible sessions marked late, before (L) or
// after (U) the register closed.
func (t tally) lateRate() float64 { return rate(t.late+t.lateAfter, t.possible) }

// unauthShare is the unauthorised share of absences other than illness,
// drawn towards two thirds by two absences' weight: with a handful of
// absences a share says little, and two thirds is England's (2023/24:
// 2.4% of sessions unauthorised of 3.6% missed other than for illness,
// domain-data §1.5).
func (t tally) unauthShare() float64 {
	const prior, weight = 2.0 / 3, 2
	return (float64(t.unauth) + prior*weight) / (float64(t.absent-t.illness) + weight)
}

func rate(n, d int) float64 {
	if d == 0 {
		return 0
	}
	return float64(n) / float64(d)
}

// monFriExcess is how much more often the pupil is absent on Mondays and
// Fridays than midweek: a long-weekend pattern.
func (t tally) monFriExcess() float64 {
	if t.monFri == 0 || t.possible-t.monFri == 0 {
		return 0
	}
	return rate(t.monFriAbsent, t.monFri) - rate(t.absent-t.monFriAbsent, t.possible-t.monFri)
}

func (t tally) absenceRate() float64 {
	if t.possible == 0 {
		return 0
	}
	return float64(t.absent) / float64(t.possible)
}

func (t tally) unauthRate() float64 {
	if t.possible == 0 {
		return 0
	}
	return float64(t.unauth) / float64(t.possible)
}

// count tallies pupil p's marks in w, skipping marks recorded at or after
// cutoff (seconds since stampEpoch): they did not exist yet. Missing and
// not-counted marks are out of possible sessions, not imputed as present.
func (idx *Index) count(p int32, w features.Window, cutoff uint32) tally {
	var t tally
	idx.scan(p, w, cutoff, func(features.Day) *tally { return &t })
	return t
}

// windows are the weeks before the as-of date the builder tallies, shortest
// first.
var windows = [...]int{4, 6, 13, 19, 52}

// tallies counts pupil p's marks in each of windows before the day end in
// one pass over the longest: each day's marks go to the shortest window
// holding it, and the windows are then summed outwards.
func (idx *Index) tallies(p int32, end features.Day, cutoff uint32) [len(windows)]tally {
	if w := idx.weekly.Load(); w != nil && cutoff > 0 && w.fits(end) {
		return w.tallies(idx, p, end, cutoff)
	}
	// The hot loop of the feature build: each mark only bumps a counter of
	// its kind in its window (Monday/Friday apart), and the tallies are
	// worked out from the counters afterwards, a dozen kinds instead of
	// hundreds of marks.
	// AM and PM count apart: most marks are the same kind, and two
	// counters bumped in turn do not wait on each other.
	var counts [len(windows)][2][2][markKinds]int32
	hi := end
	for i, w := range windows {
		lo := end - features.Day(7*w)
		from, to := max(lo, idx.start), min(hi, idx.start+features.Day(idx.days))
		hi = lo
		if from >= to {
			continue
		}
		k0 := idx.slot(p, from, false)
		marks := idx.marks[k0 : k0+2*int(to-from)]
		c := &counts[i]
		// 1970-01-01 was a Thursday: day+3 mod 7 is 0 on Mondays.
		wd := (int(from) + 3) % 7
		for k := 0; k < len(marks); k += 2 {
			mf := 0
			if wd == 0 || wd == 4 {
				mf = 1
			}
			if wd++; wd == 7 {
				wd = 0
			}
			am, pm := marks[k], marks[k+1]
			if am&stampedBit != 0 {
				am = idx.markAt(k0+k, am, cutoff)
			}
			if pm&stampedBit != 0 {
				pm = idx.markAt(k0+k+1, pm, cutoff)
			}
			c[0][mf][am]++
			c[1][mf][pm]++
		}
	}
	var out [len(windows)]tally
	for i := range out {
		for mf := range 2 {
			for m := range markKinds {
				if n := counts[i][0][mf][m] + counts[i][1][mf][m]; n != 0 {
					out[i].addN(uint8(m), mf == 1, int(n))
				}
			}
		}
		if i > 0 {
			out[i] = out[i].plus(out[i-1])
		}
	}
	return out
}

// markKinds bounds the mark values, for counting by kind.
const markKinds = 16

// addN counts n sessions of mark m, as add does one.
func (t *tally) addN(m uint8, monFri bool, n int) {
	var one tally
	one.add(m, monFri)
	t.possible += n * one.possible
	t.absent += n * one.absent
	t.unauth += n * one.unauth
	t.late += n * one.late
	t.lateAfter += n * one.lateAfter
	t.illness += n * one.illness
	t.holiday += n * one.holiday
	t.noReason += n * one.noReason
	t.noMark += n * one.noMark
	t.monFri += n * one.monFri
	t.monFriAbsent += n * one.monFriAbsent
}

func (t tally) plus(o tally) tally {
	return tally{t.possible + o.possible, t.absent + o.absent, t.unauth + o.unauth, t.late + o.late, t.lateAfter + o.lateAfter,
		t.illness + o.illness, t.holiday + o.holiday, t.noReason + o.noReason, t.noMark + o.noMark,
		t.monFri + o.monFri, t.monFriAbsent + o.monFriAbsent}
}

// scan adds each of pupil p's marks in w to the tally bucket(day) gives.
func (idx *Index) scan(p int32, w features.Window, cutoff uint32, bucket func(features.Day) *tally) {
	from, to := max(w.From, idx.start), min(w.To, idx.start+features.Day(idx.days))
	if from >= to {
		return
	}
	lo, hi := idx.slot(p, from, false), idx.slot(p, to-1, true)
	marks := idx.marks[lo : hi+1]
	for k := 0; k < len(marks); k += 2 {
		day := from + features.Day(k/2)
		// 1970-01-01 was a Thursday: day+3 mod 7 is 0 on Mondays.
		wd := (int(day) + 3) % 7
		monFri := wd == 0 || wd == 4
		var t *tally
		for s := k; s < k+2; s++ {
			raw := marks[s]
			if raw == markNone {
				continue
			}
			m := idx.markAt(lo+s, raw, cutoff)
			if t == nil {
				t = bucket(day)
			}
			t.add(m, monFri)
		}
	}
}

// add counts one session's mark.
func (t *tally) add(m uint8, monFri bool) {
	if m == markMissing {
		t.noMark++
	}
	if m == markNone || m >= markNotCounted {
		return
	}
	t.possible++
	if monFri {
		t.monFri++
	}
	absent := true
	switch m {
	case markLate:
		t.late++
		absent = false
	case markAuth:
		t.absent++
	case markIllness:
		t.absent++
		t.illness++
	case markUnauth:
		t.absent++
		t.unauth++
	case markHoliday:
		t.absent++
		t.unauth++
		t.holiday++
	case markNoReason:
		t.absent++
		t.unauth++
		t.noReason++
	case markLateAfter:
		t.absent++
		t.unauth++
		t.lateAfter++
	default:
		absent = false
	}
	if monFri && absent {
		t.monFriAbsent++
	}
}

// asAt is the newest mark of slot k recorded before cutoff, markNone if
// there was none yet.
func (idx *Index) asAt(k int, cutoff uint32) uint8 {
	best, bestStamp, found := markNone, uint32(0), false
	for _, v := range idx.older[k] {
		if (v.stamp == 0 || v.stamp < cutoff) && (!found || v.stamp >= bestStamp) {
			best, bestStamp, found = v.mark, v.stamp, true
		}
	}
	return best
}

// active reports whether pupil p has any mark in w.
func (idx *Index) active(p int32, w features.Window) bool {
	from, to := max(w.From, idx.start), min(w.To, idx.start+features.Day(idx.days))
	if from >= to {
		return false
	}
	for k := idx.slot(p, from, false); k <= idx.slot(p, to-1, true); k++ {
		if idx.marks[k] != markNone {
			return true
		}
	}
	return false
}
