package connectors

import (
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/pipeline"
)

// BatchRows is how many rows go into one emitted record. Sources that check
// ctx between rows do so about this often.
const BatchRows = 32768

// A RowLoader is the one row loop every connector feeds: it takes one
// delivered file's rows as text cells, checks them against the source's
// Rules, pseudonymises the identifiers, and sends the sink Arrow records of
// valid rows and a quarantine entry per rejected row. A connector only
// turns its format into cells.
//
// Use: NewRowLoader, defer Release, Header once, Row for every data row,
// then Finish. Cells are text as a CSV would hold it: dates yyyy-mm-dd (or
// the other spellings ParseDays reads), timestamps RFC 3339, integers in
// decimal, booleans true/false, and "" for null. Row keeps no reference to
// cells after it returns, so callers may reuse the slice and its strings.
// A RowLoader is for one goroutine; errors name the source and the file.
type RowLoader struct {
	r       *Rules
	pseud   *Pseudonymiser
	ts      *TimestampParser
	sink    pipeline.Sink
	where   string // "file <name>" or another label of the delivery
	rb      *array.RecordBuilder
	mem     *recycler // the builders' allocator
	idx     []int
	header  []string
	read    int64
	pending int
	vals    []value
	norm    []string // normalised identifiers of the current row, by spec column
	ids     []idCell // the last identifier cell of each spec column
	// Identifier cells worked out, by raw value, per spec column (nil for
	// the others): the map's small slots keep lookups in cache.
	idMemo  []map[string]int32
	idCells [][]idCell
	seen    map[string]struct{}
	key     []byte
	dataLen []int // string bytes per field in the last batch

	// The second half of the loop, building records and feeding the sink,
	// runs on a goroutine of its own (see load), fed batches of checked
	// rows: at tens of millions of marks a night, one goroutine doing both
	// halves was the ingest's bottleneck.
	cur     *checked
	free    chan *checked
	full    chan *checked
	done    chan struct{}
	aborted atomic.Bool
	failed  atomic.Pointer[error] // the loader's error, as soon as it has one
	loadErr error                 // the loader's error, read after done
}

// handoffRows is how many rows the checking half gathers before handing
// them to the loading half; checkedInFlight batches are recycled between
// them, which bounds the memory.
const (
	handoffRows     = 4096
	checkedInFlight = 3
)

// checked is a batch of rows checked and ready to build, with the
// quarantine entries and re-identification pairs found among them. String
// values are copied into text, because the caller may reuse its cells.
type checked struct {
	vals    []cell // rows × fields; a string's value is its place in text (see stash)
	text    []byte
	rejects []pipeline.Rejected
	reid    []reidPair
}

type reidPair struct{ ns, pseudonym, raw string }

// cell is a value on its way to the builders. It holds no pointer, so
// filling a batch costs the collector nothing.
type cell struct {
	n    int64
	f    float64
	null bool
}

func (b *checked) size() int { return len(b.vals) + len(b.rejects) }

func (b *checked) reset() {
	b.vals, b.text, b.rejects, b.reid = b.vals[:0], b.text[:0], b.rejects[:0], b.reid[:0]
}

// NewRowLoader starts one delivery of a source. where labels the delivery
// in errors ("file attendance_2025.csv", "query"). p must not be used by
// another goroutine while the loader runs (Pseudonymiser keeps a cache); ts
// is safe to share.
func NewRowLoader(r *Rules, p *Pseudonymiser, ts *TimestampParser, mem memory.Allocator, sink pipeline.Sink, where string) *RowLoader {
	rc := newRecycler(mem)
	l := &RowLoader{
		r: r, pseud: p, ts: ts, sink: sink, where: where, mem: rc,
		rb:      array.NewRecordBuilder(rc, r.spec.Schema),
		vals:    make([]value, len(r.fields)),
		norm:    make([]string, len(r.cols)),
		ids:     make([]idCell, len(r.cols)),
		dataLen: make([]int, len(r.fields)),
	}
	l.idMemo, l.idCells = make([]map[string]int32, len(r.cols)), make([][]idCell, len(r.cols))
	for i, c := range r.cols {
		if c.ns != "" {
			l.idMemo[i] = make(map[string]int32)
		}
	}
	if r.key != nil {
		l.seen = make(map[string]struct{})
	}
	l.reserve()
	return l
}

// Release frees the loader's builders. It is safe to call more than once.
func (l *RowLoader) Release() {
	if l.done != nil && l.full != nil {
		// Stopped early: the loader drops what it has not loaded.
		l.aborted.Store(true)
		close(l.full)
		l.full = nil
		<-l.done
		l.recycle()
	}
	if l.rb != nil {
		l.rb.Release()
		l.rb = nil
		l.mem.close()
	}
}

// Header maps the delivered column names (any case, surrounding spaces and
// a byte-order mark ignored) to the spec's columns. Extra columns are
// ignored; a missing required column or a column named twice is an error
// that names it.
func (l *RowLoader) Header(cols []string) error {
	l.header = make([]string, len(cols))
	for i, h := range cols {
		l.header[i] = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(h), "\uFEFF")))
	}
	l.idx = make([]int, len(l.r.cols))
	for i, c := range l.r.cols {
		l.idx[i] = -1
		for j, h := range l.header {
			if h != c.name {
				continue
			}
			if l.idx[i] >= 0 {
				return l.err(fmt.Errorf("column %q appears twice in the header", c.name))
			}
			l.idx[i] = j
		}
		if l.idx[i] < 0 && c.required {
			return l.err(fmt.Errorf("missing required column %q", c.name))
		}
	}
	return nil
}

// Row checks one data row and loads or quarantines it. line is the row's
// 1-based position in the delivery with the header as 1, as quarantine
// reports it. A row of the wrong width, or one that repeats the header, is
// quarantined as malformed. The error is the sink's, or a Header not given.
func (l *RowLoader) Row(cells []string, line int64) error {
	if l.idx == nil {
		return l.err(fmt.Errorf("row before header"))
	}
	l.read++
	if len(cells) != len(l.header) {
		return l.reject(cells, line, pipeline.ReasonMalformedRow, "")
	}
	if l.isHeader(cells) {
		// A second header where two exports were concatenated.
		return l.reject(cells, line, pipeline.ReasonMalformedRow, "")
	}
	if reason, col := l.parseRow(cells); reason != "" {
		return l.reject(cells, line, reason, col)
	}
	for _, chk := range l.r.rowChk {
		if reason, col := chk(l.vals); reason != "" {
			return l.reject(cells, line, reason, col)
		}
	}
	if l.seen != nil {
		l.key = l.key[:0]
		for _, f := range l.r.key {
			v := l.vals[f]
			if l.r.fields[f] == kindString {
				l.key = append(l.key, v.s...)
			} else if !v.null {
				l.key = strconv.AppendInt(l.key, v.n, 10)
			}
			l.key = append(l.key, 0)
		}
		if _, dup := l.seen[string(l.key)]; dup {
			return l.reject(cells, line, pipeline.ReasonDuplicate, l.r.keyCol)
		}
		l.seen[string(l.key)] = struct{}{}
	}
	return l.accept()
}

// accept hands the checked row in l.vals to the loading half.
func (l *RowLoader) accept() error {
	b, err := l.batch()
	if err != nil {
		return err
	}
	for i := range l.vals {
		v := &l.vals[i]
		c := cell{n: v.n, f: v.f, null: v.null}
		if l.r.fields[i] == kindString && !v.null {
			c.n = b.stash(v.s)
		}
		b.vals = append(b.vals, c)
	}
	for i, c := range l.r.reid {
		f := l.r.cols[c].field
		// Cloned: the raw value may be a slice of a reused buffer.
		b.reid = append(b.reid, reidPair{l.r.reidNSs[i], l.vals[f].s, strings.Clone(l.norm[c])})
	}
	return l.handoff(false)
}

// stash copies s into the batch's text and returns the value that finds
// it there: offset in the high half of n, length in the low.
func (b *checked) stash(s string) int64 {
	at := len(b.text)
	b.text = append(b.text, s...)
	return int64(at)<<32 | int64(len(s))
}

func (b *checked) unstash(v cell) []byte {
	at, n := int(v.n>>32), int(uint32(v.n))
	return b.text[at : at+n]
}

// batch returns the batch being filled, starting the loading half on the
// first row.
func (l *RowLoader) batch() (*checked, error) {
	if l.cur != nil {
		return l.cur, nil
	}
	if l.done == nil {
		l.free = make(chan *checked, checkedInFlight)
		for range checkedInFlight {
			b, _ := l.r.batches.Get().(*checked)
			if b == nil {
				b = &checked{vals: make([]cell, 0, handoffRows*len(l.r.fields))}
			}
			l.free <- b
		}
		l.full = make(chan *checked, checkedInFlight)
		l.done = make(chan struct{})
		go l.load(l.full, l.free)
	}
	if p := l.failed.Load(); p != nil {
		return nil, l.err(*p)
	}
	l.cur = <-l.free
	return l.cur, nil
}

// handoff sends the batch being filled to the loading half when it is
// full, or when last and it holds anything.
func (l *RowLoader) handoff(last bool) error {
	b := l.cur
	if b == nil || b.size() == 0 || !last && len(b.vals) < handoffRows*len(l.r.fields) && len(b.rejects) < handoffRows {
		return nil
	}
	l.cur = nil
	l.full <- b
	if p := l.failed.Load(); p != nil {
		return l.err(*p)
	}
	return nil
}

// recycle gives the batches back to the source's pool once the loading
// half has stopped.
func (l *RowLoader) recycle() {
	if l.cur != nil {
		l.cur.reset()
		l.r.batches.Put(l.cur)
		l.cur = nil
	}
	for {
		select {
		case b := <-l.free:
			l.r.batches.Put(b)
		default:
			return
		}
	}
}

// load is the loading half: it builds the checked rows into records,
// emits a record every BatchRows rows, and gives the sink the rejects and
// re-identification pairs, all in the order they were checked. After the
// first error it only recycles batches.
func (l *RowLoader) load(full <-chan *checked, free chan<- *checked) {
	defer close(l.done)
	var err error
	for b := range full {
		if err == nil && !l.aborted.Load() {
			if err = l.loadBatch(b); err != nil {
				l.failed.Store(&err)
			}
		}
		b.reset()
		free <- b
	}
	if err == nil && !l.aborted.Load() {
		err = l.flush(false)
	}
	l.loadErr = err
}

func (l *RowLoader) loadBatch(b *checked) error {
	nf := len(l.r.fields)
	for at := 0; at+nf <= len(b.vals); at += nf {
		l.append(b, b.vals[at:at+nf])
		if l.pending == BatchRows {
			if err := l.flush(true); err != nil {
				return err
			}
		}
	}
	for _, rj := range b.rejects {
		if err := l.sink.Reject(rj); err != nil {
			return err
		}
	}
	for _, p := range b.reid {
		if err := l.sink.Reid(p.ns, p.pseudonym, p.raw); err != nil {
			return err
		}
	}
	return nil
}

// Finish emits the rows still pending and returns how many rows Row was
// given, the count the sink's End expects.
func (l *RowLoader) Finish() (rowsRead int64, err error) {
	if l.done == nil { // no row was given
		if err := l.flush(false); err != nil {
			return 0, err
		}
		return l.read, nil
	}
	if err := l.handoff(true); err != nil {
		return 0, err
	}
	close(l.full)
	l.full = nil
	<-l.done
	l.recycle()
	if l.loadErr != nil {
		return 0, l.err(l.loadErr)
	}
	return l.read, nil
}

func (l *RowLoader) err(err error) error {
	return fmt.Errorf("%s: %s: %w", l.r.spec.Name, l.where, err)
}

func (l *RowLoader) isHeader(rec []string) bool {
	if len(rec) == 0 || !strings.EqualFold(strings.TrimSpace(rec[0]), l.header[0]) {
		return false
	}
	for i, f := range rec {
		if !strings.EqualFold(strings.TrimSpace(f), l.header[i]) {
			return false
		}
	}
	return true
}

// reject quarantines a row. Its cells are kept as received except the
// identifiers, which are pseudonymised whether or not they passed their
// check.
func (l *RowLoader) reject(rec []string, line int64, reason, column string) error {
	cols := l.r.cols
	vals := make([]string, len(cols))
	for i, c := range cols {
		j := l.idx[i]
		if j < 0 || j >= len(rec) {
			continue
		}
		vals[i] = strings.Clone(rec[j])
		if c.ns != "" {
			switch e := l.identifier(i, rec[j]); {
			case e.null:
				vals[i] = ""
			case e.pseudonym != "":
				vals[i] = e.pseudonym
			default: // failed its check
				vals[i] = l.pseud.Pseudonym(c.ns, e.norm)
			}
		}
	}
	b, err := l.batch()
	if err != nil {
		return err
	}
	b.rejects = append(b.rejects, pipeline.Rejected{Row: line, Reason: reason, Column: column, Values: vals})
	return l.handoff(false)
}
