package connectors

import (
	"fmt"
	"strconv"
	"strings"

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
	l.append()
	for i, c := range l.r.reid {
		f := l.r.cols[c].field
		// Cloned: the raw value may be a slice of a reused buffer.
		if err := l.sink.Reid(l.r.reidNSs[i], l.vals[f].s, strings.Clone(l.norm[c])); err != nil {
			return l.err(err)
		}
	}
	if l.pending == BatchRows {
		return l.flush(true)
	}
	return nil
}

// Finish emits the rows still pending and returns how many rows Row was
// given, the count the sink's End expects.
func (l *RowLoader) Finish() (rowsRead int64, err error) {
	if err := l.flush(false); err != nil {
		return 0, err
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
	err := l.sink.Reject(pipeline.Rejected{Row: line, Reason: reason, Column: column, Values: vals})
	if err != nil {
		return l.err(err)
	}
	return nil
}
