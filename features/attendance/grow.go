package attendance

import (
	"earlyhelp/features"
)

// grower places marks into an index's grid as they are read, for a load
// from a known first day. Gathering a weekly run's year of marks as entries
// before placing them took 16 bytes a mark, against the grid's one, and
// was the score stage's peak of memory. The grid starts at the first day
// and grows by whole pupils as new ones appear and, rarely, by days when a
// mark lies beyond the days it holds; finish then cuts it to the days that
// have marks, so the index is the one the gathered entries would have made.
//
// Pupils beyond the room idx.marks was given (a resumed index's, see
// readResumed) get their rows in blocks of 1<<blockBits pupils, laid out
// into one grid once, by finish. Grown by doubling instead, the two years
// a 300,000-child backtest reads were copied into grids of twice the size
// again and again: a third of the read's CPU, the copies of hundreds of
// megabytes at a time, which the garbage collector cannot stop, spinning
// its workers while they waited.
type grower struct {
	idx  *Index
	cap  int // days each pupil's row holds while loading
	rows int // pupils with a row
	// Once blocks are taken, the first base pupils' rows are idx.marks and
	// pupil base+q's is row q%(1<<blockBits) of blocks[q>>blockBits].
	// Slots are numbered as if every row were in idx.marks (Index.slot),
	// for stamps and older.
	base      int
	blocks    [][]uint8
	blockBits uint
	// buf holds entries to place together, so that making room is checked
	// once a batch rather than once a mark.
	buf []entry
}

// growDays is how many days a row holds at first: the year a weekly run
// reads and a month to spare.
const growDays = lookbackDays + 28

// growBatch is how many entries are placed together.
const growBatch = 1 << 14

// blockBits sets a block's pupils: 4,096 rows, 3 MB for a weekly run's
// year and 6 MB for two years.
const blockBits = 12

// newGrower lays idx out from since with room for days days a pupil.
func newGrower(idx *Index, since features.Day, days int) *grower {
	idx.start, idx.days = since, days
	return &grower{idx: idx, cap: days, blockBits: blockBits, buf: make([]entry, 0, growBatch)}
}

// add takes e, to be placed in load order.
func (g *grower) add(e entry) {
	g.buf = append(g.buf, e)
	if len(g.buf) == cap(g.buf) {
		g.flush()
	}
}

// flush makes room for the entries held and places them.
func (g *grower) flush() {
	if len(g.buf) == 0 {
		return
	}
	idx := g.idx
	rows, last := g.rows, 0
	for _, e := range g.buf {
		rows, last = max(rows, int(e.pupil)+1), max(last, int(e.day-idx.start))
	}
	if last >= g.cap {
		g.relayout(max(2*g.cap, last+1))
	}
	if rows > g.rows {
		g.grow(rows)
	}
	for _, e := range g.buf {
		g.place(e)
	}
	g.buf = g.buf[:0]
}

// grow gives rows pupils a row: in the room idx.marks has, until it has
// none, then in blocks.
func (g *grower) grow(rows int) {
	idx := g.idx
	if need := rows * 2 * g.cap; g.blocks == nil && need <= cap(idx.marks) {
		idx.marks = idx.marks[:need]
		clear(idx.marks[g.rows*2*g.cap:])
		g.rows = rows
		return
	}
	if g.blocks == nil {
		g.base = g.rows
	}
	for g.base+len(g.blocks)<<g.blockBits < rows {
		g.blocks = append(g.blocks, make([]uint8, 2*g.cap<<g.blockBits))
	}
	g.rows = rows
}

// place puts e into its slot, in idx.marks or in a block.
func (g *grower) place(e entry) {
	idx := g.idx
	k := idx.slot(e.pupil, e.day, e.pm)
	q := int(e.pupil) - g.base
	if g.blocks == nil || q < 0 {
		idx.placeAt(&idx.marks[k], k, e)
		return
	}
	b := q >> g.blockBits
	idx.placeAt(&g.blocks[b][k-(g.base+b<<g.blockBits)*2*g.cap], k, e)
}

// row is pupil p's row of g.cap days.
func (g *grower) row(p int) []uint8 {
	n := 2 * g.cap
	if q := p - g.base; g.blocks != nil && q >= 0 {
		b, r := q>>g.blockBits, q&(1<<g.blockBits-1)
		return g.blocks[b][r*n : (r+1)*n]
	}
	return g.idx.marks[p*n : (p+1)*n]
}

// relayout gives every row days days, keeping its marks where its days are.
func (g *grower) relayout(days int) {
	g.move(g.idx.start, days)
	g.cap = days
}

// finish cuts the grid to the days from first to last, with exact room.
func (g *grower) finish(first, last features.Day) {
	g.flush()
	g.move(first, int(last-first)+1)
}

// move lays the grid out again, as one, from day start with days a row,
// keeping the marks of those days, and the slots of stamps and older
// versions with them.
func (g *grower) move(start features.Day, days int) {
	idx := g.idx
	oldStart, oldDays := idx.start, idx.days
	shift := int(start - oldStart) // ≥ 0 when cutting, 0 when growing
	keep := min(days, oldDays-shift)
	var marks []uint8
	if g.blocks == nil && shift >= 0 && days <= oldDays {
		// Cutting: each row moves to the left of where it was, so the
		// grid is laid out again where it is, rows in order. A second grid
		// beside it was a weekly run's peak of memory.
		marks = idx.marks[:g.rows*days*2]
	} else {
		marks = make([]uint8, g.rows*days*2)
	}
	for p := range g.rows {
		src := g.row(p)[shift*2:]
		row := marks[p*days*2 : (p+1)*days*2]
		copy(row[:keep*2], src[:keep*2])
		clear(row[keep*2:])
	}
	slot := func(k int) int {
		p, r := k/(oldDays*2), k%(oldDays*2)
		return p*days*2 + r - shift*2
	}
	stamps := make(map[int]uint32, len(idx.stamps))
	for k, st := range idx.stamps {
		stamps[slot(k)] = st
	}
	older := make(map[int][]version, len(idx.older))
	for k, v := range idx.older {
		older[slot(k)] = v
	}
	idx.marks, idx.start, idx.days, idx.stamps, idx.older = marks, start, days, stamps, older
	g.blocks = nil
}
