package connectors

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/pipeline"
	"earlyhelp/pipeline/recycle"
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
// Use: NewRowLoader, defer Release, Header once, then either Row for every
// data row or, to fill the text in place, Buffer and Submit; then Finish.
// Cells are text as a CSV would hold it: dates yyyy-mm-dd (or the other
// spellings ParseDays reads), timestamps RFC 3339, integers in decimal,
// booleans true/false, and "" for null. Row keeps no reference to cells
// after it returns, so callers may reuse the slice and its strings. A
// RowLoader's methods are for one goroutine; errors name the source and
// the file.
//
// Rows are checked and built into records by checkers, goroutines of the
// loader's own, a buffer of up to BatchRows rows at a time; at tens of
// millions of attendance marks a night, checking was the ingest's
// bottleneck on one core. One more goroutine, the emitter, hands the sink
// each buffer's record, quarantine entries and re-identification pairs in
// the order the rows were given, so the store and the quarantine file are
// the same whatever the number of checkers. A source with a duplicate key
// gets one checker, which sees every row in order.
type RowLoader struct {
	r      *Rules
	sink   pipeline.Sink
	where  string // "file <name>" or another label of the delivery
	mem    *recycle.Recycler
	ownMem bool // mem was made by the loader, which closes it
	pseud  *Pseudonymiser
	ts     *TimestampParser
	idx    []int // per spec column: its place in the delivered header, or -1
	header []string
	read   int64

	workers int
	cur     *RawRows      // the buffer being filled
	free    chan *RawRows // buffers to fill
	jobs    chan *job     // to the checkers
	order   chan *job     // to the emitter, in the order submitted
	started bool
	stopped bool
	wg      sync.WaitGroup // the checkers and the emitter
	aborted atomic.Bool
	failed  atomic.Pointer[error] // the emitter's error, as soon as it has one
}

// RecycleBytes bounds the buffers a loader's Recycler keeps for reuse:
// about the records a loader has in flight, between its checkers, its
// emitter and the store's writer.
const RecycleBytes = 32 << 20

// rawInFlight is how many raw buffers a loader cycles beyond one per
// checker: enough to keep the checkers fed while the emitter waits on the
// oldest, few enough to bound the memory whatever the file's size.
const rawInFlight = 3

// maxCheckers caps the checkers of one loader.
const maxCheckers = 4

// job is one submitted buffer: a checker fills its result and closes done.
type job struct {
	raw     *RawRows
	rec     arrow.Record // nil when no row was valid
	rejects []pipeline.Rejected
	nulled  []pipeline.NulledCell
	reid    []reidPair
	done    chan struct{}
}

type reidPair struct{ ns, pseudonym, raw string }

// NewRowLoader starts one delivery of a source. where labels the delivery
// in errors ("file attendance_2025.csv", "query"); the errors do not name
// the source, which the caller of the source's Read does. p must not be used by
// another goroutine while the loader runs (Pseudonymiser keeps a cache; the
// loader's checkers use it and its forks); ts is safe to share. Records
// are built in memory from mem, through a Recycler: mem's own when it is
// one, else the loader's.
func NewRowLoader(r *Rules, p *Pseudonymiser, ts *TimestampParser, mem memory.Allocator, sink pipeline.Sink, where string) *RowLoader {
	w := min(runtime.GOMAXPROCS(0), maxCheckers)
	if p != nil && p.ids != nil {
		// A later file of the read, whose checkers find the identifiers
		// the earlier files' worked out (idMemos): one checker more than
		// the cores. The lexer, the store's writer and the next file's
		// hash share the cores with the checkers, and with a checker a
		// core, a core stood idle whenever its checker waited for the
		// lexer. At 100,000 children on two cores, three checkers took
		// the attendance ingest from 14.7 to 13.6 s (six pairs); a fourth
		// gained nothing. A read's first file keeps a checker a core: an
		// extra checker there works out every pupil once more, which made
		// the weekly run's one-file ingest at 300,000 children 1.35-1.57 s
		// against 1.14-1.16 s.
		w = min(w+1, maxCheckers)
	}
	if r.key != nil {
		w = 1
	}
	return newRowLoader(r, p, ts, mem, sink, where, w)
}

func newRowLoader(r *Rules, p *Pseudonymiser, ts *TimestampParser, mem memory.Allocator, sink pipeline.Sink, where string, workers int) *RowLoader {
	l := &RowLoader{r: r, pseud: p, ts: ts, sink: sink, where: where, workers: max(1, workers)}
	if rc, ok := mem.(*recycle.Recycler); ok {
		l.mem = rc
	} else {
		l.mem, l.ownMem = recycle.New(mem, RecycleBytes), true
	}
	return l
}

// Release stops the loader and frees its memory; what was not yet handed
// to the sink is dropped. It is safe to call more than once, and after
// Finish.
func (l *RowLoader) Release() {
	if l.started && !l.stopped {
		l.aborted.Store(true)
		l.stop()
	}
	if l.cur != nil {
		l.r.putRaw(l.cur)
		l.cur = nil
	}
	if l.mem != nil && l.ownMem {
		l.mem.Close()
	}
	l.mem = nil
}

// Header maps the delivered column names to the spec's columns: by the
// source's column map, or by name once case, spaces and punctuation are
// normalised (headers.go). Extra columns are ignored; a missing required
// column is a *HeaderError that names it, lists the headers found and
// suggests the closest; a column named twice is an error that names it.
func (l *RowLoader) Header(cols []string) error {
	idx, err := l.r.headers.resolve(cols)
	if err != nil {
		return l.err(err)
	}
	l.header = make([]string, len(cols))
	for i, h := range cols {
		l.header[i] = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(h), "\uFEFF")))
	}
	l.idx = idx
	return nil
}

// Row adds one data row. line is the row's 1-based position in the
// delivery with the header as 1, as quarantine reports it. A row of the
// wrong width, or one that repeats the header, is quarantined as
// malformed. The error is the sink's (perhaps from an earlier row), or a
// Header not given.
func (l *RowLoader) Row(cells []string, line int64) error {
	b, err := l.Buffer()
	if err != nil {
		return err
	}
	b.Add(cells, line)
	if b.Full() {
		return l.Submit()
	}
	return nil
}

// Buffer returns the buffer rows are being added to, for a connector that
// writes its rows' text straight into it: append to it while !Full, then
// Submit. It waits while the checkers are a few buffers behind.
func (l *RowLoader) Buffer() (*RawRows, error) {
	if l.idx == nil {
		return nil, l.err(fmt.Errorf("row before header"))
	}
	if l.cur != nil {
		return l.cur, nil
	}
	if l.stopped {
		return nil, l.err(fmt.Errorf("row after finish"))
	}
	if !l.started {
		l.start()
	}
	if p := l.failed.Load(); p != nil {
		return nil, l.err(*p)
	}
	l.cur = <-l.free
	return l.cur, nil
}

// Submit hands the buffer being filled to the checkers, if it holds a
// row.
func (l *RowLoader) Submit() error {
	b := l.cur
	if b == nil || b.Len() == 0 {
		return nil
	}
	l.cur = nil
	l.read += int64(b.Len())
	j := &job{raw: b, done: make(chan struct{})}
	l.order <- j // first: the emitter waits on jobs in this order
	l.jobs <- j
	if p := l.failed.Load(); p != nil {
		return l.err(*p)
	}
	return nil
}

// start makes the buffers and starts the checkers and the emitter.
func (l *RowLoader) start() {
	l.started = true
	n := l.workers + rawInFlight
	l.free = make(chan *RawRows, n)
	for range n {
		l.free <- l.r.getRaw()
	}
	l.jobs = make(chan *job, l.workers)
	l.order = make(chan *job, n)
	l.wg.Add(l.workers + 1)
	for w := range l.workers {
		p := l.pseud
		if w > 0 {
			p = l.pseud.fork(w)
		}
		c := newChecker(l, p)
		go func() {
			defer l.wg.Done()
			defer c.release()
			for j := range l.jobs {
				if !l.aborted.Load() && l.failed.Load() == nil {
					c.check(j)
				}
				j.raw.Reset()
				l.free <- j.raw
				j.raw = nil
				close(j.done)
			}
		}()
	}
	go func() {
		defer l.wg.Done()
		l.emit()
	}()
}

// stop closes the loader's channels, waits for its goroutines and gives
// the buffers back to the source's pool.
func (l *RowLoader) stop() {
	l.stopped = true
	close(l.jobs)
	close(l.order)
	l.wg.Wait()
	for {
		select {
		case b := <-l.free:
			l.r.putRaw(b)
		default:
			return
		}
	}
}

// emit hands the sink each job's record, rejects and re-identification
// pairs, in the order the jobs were submitted. After the first error, or
// once the loader is aborted, it only releases the records.
func (l *RowLoader) emit() {
	var err error
	for j := range l.order {
		<-j.done
		if err == nil && !l.aborted.Load() {
			if err = l.emitJob(j); err != nil {
				l.failed.Store(&err)
			}
		}
		if j.rec != nil {
			j.rec.Release()
		}
	}
}

func (l *RowLoader) emitJob(j *job) error {
	if j.rec != nil {
		if err := l.sink.Emit(j.rec); err != nil {
			return err
		}
	}
	for _, rj := range j.rejects {
		if err := l.sink.Reject(rj); err != nil {
			return err
		}
	}
	for _, n := range j.nulled {
		if err := l.sink.Nulled(n); err != nil {
			return err
		}
	}
	for _, p := range j.reid {
		if err := l.sink.Reid(p.ns, p.pseudonym, p.raw); err != nil {
			return err
		}
	}
	return nil
}

// Finish checks the rows still buffered, waits until the sink has been
// given everything, and returns how many rows were given, the count the
// sink's End expects. A cancel of ctx is an error even when everything was
// given: the loader may have read a whole file before the sink saw its
// first rows, and a cancel made during those emits must still stop the
// file from being ended as read.
func (l *RowLoader) Finish(ctx context.Context) (rowsRead int64, err error) {
	if !l.started {
		return 0, nil // no row was given
	}
	if l.stopped {
		return 0, l.err(fmt.Errorf("finished twice"))
	}
	if err := l.Submit(); err != nil {
		return 0, err
	}
	l.stop()
	if p := l.failed.Load(); p != nil {
		return 0, l.err(*p)
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return l.read, nil
}

func (l *RowLoader) err(err error) error {
	return fmt.Errorf("%s: %w", l.where, err)
}

// keptRaws bounds the raw buffers a Rules keeps between loaders.
const keptRaws = maxCheckers + rawInFlight

// getRaw returns an empty raw buffer, one an earlier loader used if any.
func (r *Rules) getRaw() *RawRows {
	r.cache.Lock()
	defer r.cache.Unlock()
	if n := len(r.cache.raws); n > 0 {
		b := r.cache.raws[n-1]
		r.cache.raws = r.cache.raws[:n-1]
		return b
	}
	return &RawRows{} // grown by its first rows, then reused
}

// ForgetBuffers drops the raw buffers r keeps between loaders. A source
// calls it when a read ends, with Pseudonymiser.Forget: the buffers hold
// the last rows' text as received, raw identifiers included, and at
// 300,000 children the twelve sources' buffers were 71 MB the rest of
// the run carried. The next read grows them again.
func (r *Rules) ForgetBuffers() {
	r.cache.Lock()
	defer r.cache.Unlock()
	clear(r.cache.raws)
	r.cache.raws = nil
}

// KeptBuffers counts the raw buffers r keeps for the next loader, for
// tests.
func (r *Rules) KeptBuffers() int {
	r.cache.Lock()
	defer r.cache.Unlock()
	return len(r.cache.raws)
}

// putRaw keeps b for the next loader, or drops it.
func (r *Rules) putRaw(b *RawRows) {
	b.Reset()
	r.cache.Lock()
	defer r.cache.Unlock()
	if len(r.cache.raws) < keptRaws {
		r.cache.raws = append(r.cache.raws, b)
	}
}
