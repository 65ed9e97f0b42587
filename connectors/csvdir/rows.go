package csvdir

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unsafe"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/connectors"
	"earlyhelp/pipeline"
)

// This file is the row loop: one file's CSV records checked against the
// rules and built into Arrow records or quarantined.

// parse reads one file's rows into the sink and returns how many it read.
func (s *Source) parse(ctx context.Context, mem memory.Allocator, sink pipeline.Sink, name string, r io.Reader) (int64, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true

	header, err := s.header(cr, name)
	if err != nil {
		return 0, err
	}
	idx, err := s.columnIndex(header, name)
	if err != nil {
		return 0, err
	}
	rl := &rowLoop{
		src: s, sink: sink, name: name, idx: idx, header: header,
		rb:      array.NewRecordBuilder(mem, s.spec.Schema),
		vals:    make([]value, len(s.rules.fields)),
		norm:    make([]string, len(s.rules.cols)),
		ids:     make([]idCell, len(s.rules.cols)),
		dataLen: make([]int, len(s.rules.fields)),
	}
	defer rl.rb.Release()
	if s.rules.key != nil {
		rl.seen = make(map[string]struct{})
	}
	rl.reserve()

	var read int64
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, s.parseErr(name, err)
		}
		if blank(rec) {
			continue
		}
		read++
		if read%batchRows == 0 {
			if err := ctx.Err(); err != nil {
				return 0, err
			}
		}
		line, _ := cr.FieldPos(0)
		if err := rl.row(rec, int64(line)); err != nil {
			return 0, err
		}
	}
	if err := rl.flush(); err != nil {
		return 0, err
	}
	return read, nil
}

func (s *Source) parseErr(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		if pe.StartLine != pe.Line {
			return fmt.Errorf("%s: file %s: line %d (record from line %d): %w", s.spec.Name, name, pe.Line, pe.StartLine, pe.Err)
		}
		return fmt.Errorf("%s: file %s: line %d: %w", s.spec.Name, name, pe.Line, pe.Err)
	}
	return s.fileErr(name, err)
}

// header reads the first non-blank record and normalises its names.
func (s *Source) header(cr *csv.Reader, name string) ([]string, error) {
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil, s.fileErr(name, errors.New("no header row"))
		}
		if err != nil {
			return nil, s.parseErr(name, err)
		}
		if blank(rec) {
			continue
		}
		out := make([]string, len(rec))
		for i, h := range rec {
			out[i] = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(h), "\uFEFF")))
		}
		return out, nil
	}
}

// columnIndex finds each spec column in the header; -1 for an optional
// column the file lacks.
func (s *Source) columnIndex(header []string, name string) ([]int, error) {
	idx := make([]int, len(s.rules.cols))
	for i, c := range s.rules.cols {
		idx[i] = -1
		for j, h := range header {
			if h != c.name {
				continue
			}
			if idx[i] >= 0 {
				return nil, s.fileErr(name, fmt.Errorf("column %q appears twice in the header", c.name))
			}
			idx[i] = j
		}
		if idx[i] < 0 && c.required {
			return nil, s.fileErr(name, fmt.Errorf("missing required column %q", c.name))
		}
	}
	return idx, nil
}

// blank reports a record with nothing in it: a line of spaces, a row of
// empty cells from a spreadsheet, or the old DOS end-of-file mark.
func blank(rec []string) bool {
	for _, f := range rec {
		for i := 0; i < len(f); i++ {
			if c := f[i]; c != ' ' && c != '\t' && c != '\x1a' {
				return false
			}
		}
	}
	return true
}

// rowLoop holds one file's state while its rows are checked and built.
type rowLoop struct {
	src     *Source
	sink    pipeline.Sink
	name    string
	idx     []int
	header  []string
	rb      *array.RecordBuilder
	pending int
	vals    []value
	norm    []string // normalised identifiers of the current row, by spec column
	ids     []idCell // the last identifier cell of each spec column
	seen    map[string]struct{}
	key     []byte
	dataLen []int // string bytes per field in the last batch
}

func (l *rowLoop) row(rec []string, line int64) error {
	if len(rec) != len(l.header) {
		return l.reject(rec, line, pipeline.ReasonMalformedRow, "")
	}
	if l.isHeader(rec) {
		// A second header where two exports were concatenated.
		return l.reject(rec, line, pipeline.ReasonMalformedRow, "")
	}
	if reason, col := l.parseRow(rec); reason != "" {
		return l.reject(rec, line, reason, col)
	}
	for _, chk := range l.src.rules.rowChk {
		if reason, col := chk(l.vals); reason != "" {
			return l.reject(rec, line, reason, col)
		}
	}
	if l.seen != nil {
		l.key = l.key[:0]
		for _, f := range l.src.rules.key {
			v := l.vals[f]
			if l.src.rules.fields[f] == kindString {
				l.key = append(l.key, v.s...)
			} else if !v.null {
				l.key = strconv.AppendInt(l.key, v.n, 10)
			}
			l.key = append(l.key, 0)
		}
		if _, dup := l.seen[string(l.key)]; dup {
			return l.reject(rec, line, pipeline.ReasonDuplicate, l.src.rules.keyCol)
		}
		l.seen[string(l.key)] = struct{}{}
	}
	l.append()
	for i, c := range l.src.rules.reid {
		f := l.src.rules.cols[c].field
		// Cloned: the raw value is a slice of the whole CSV line.
		if err := l.sink.Reid(l.src.rules.reidNSs[i], l.vals[f].s, strings.Clone(l.norm[c])); err != nil {
			return l.src.fileErr(l.name, err)
		}
	}
	if l.pending == batchRows {
		return l.flush()
	}
	return nil
}

func (l *rowLoop) isHeader(rec []string) bool {
	if !strings.EqualFold(strings.TrimSpace(rec[0]), l.header[0]) {
		return false
	}
	for i, f := range rec {
		if !strings.EqualFold(strings.TrimSpace(f), l.header[i]) {
			return false
		}
	}
	return true
}

// parseRow fills l.vals from a record of the right width, or returns the
// reason and column of the first cell that fails.
func (l *rowLoop) parseRow(rec []string) (reason, column string) {
	for i := range l.src.rules.cols {
		c := &l.src.rules.cols[i]
		var raw string
		if j := l.idx[i]; j >= 0 {
			raw = rec[j]
		}
		v := &l.vals[c.field]
		if c.ns != "" {
			e := l.identifier(i, raw)
			l.norm[i] = e.norm
			switch {
			case e.null && c.required:
				return pipeline.ReasonMissingRequired, c.name
			case e.reason != "":
				return e.reason, c.name
			}
			*v = value{s: e.pseudonym, null: e.null}
			continue
		}
		raw = strings.TrimSpace(raw)
		if connectors.IsNull(raw) {
			if c.required {
				return pipeline.ReasonMissingRequired, c.name
			}
			*v = value{null: true}
			continue
		}
		*v = value{}
		switch c.kind {
		case kindString:
			v.s = raw
			if c.check != nil {
				var reason string
				if v.s, reason = c.check(raw); reason != "" {
					return reason, c.name
				}
			}
		case kindDate:
			d, err := connectors.ParseDays(raw)
			if err != nil {
				return pipeline.ReasonBadDate, c.name
			}
			v.n = int64(d)
		case kindTimestamp:
			t, err := l.src.ts.ParseTimestamp(raw)
			if err != nil {
				return pipeline.ReasonBadDate, c.name
			}
			v.n = t.Unix()
		case kindInt:
			n, ok := parseInt(raw)
			if !ok {
				return pipeline.ReasonBadNumber, c.name
			}
			if n < c.lo || n > c.hi {
				return pipeline.ReasonOutOfRange, c.name
			}
			v.n = n
		case kindBool:
			b, ok := parseBool(raw)
			if !ok {
				return pipeline.ReasonBadCode, c.name
			}
			v.n = b
		case kindFloat:
			f, ok := parseMoney(raw)
			if !ok {
				return pipeline.ReasonBadNumber, c.name
			}
			v.f = f
		}
	}
	return "", ""
}

// parseBool reads the spellings of yes and no that council systems export.
func parseBool(s string) (int64, bool) {
	switch strings.ToLower(s) {
	case "true", "t", "yes", "y", "1":
		return 1, true
	case "false", "f", "no", "n", "0":
		return 0, true
	}
	return 0, false
}

// parseMoney reads a decimal amount as finance systems print it: an
// optional £, thousands separators, and (123.45) for a negative.
func parseMoney(s string) (float64, bool) {
	neg := false
	if strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")") {
		neg, s = true, s[1:len(s)-1]
	}
	if strings.HasPrefix(s, "-") {
		neg, s = !neg, s[1:]
	}
	s = strings.TrimPrefix(s, "£")
	if strings.Contains(s, ",") {
		s = strings.ReplaceAll(s, ",", "")
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || strings.ContainsAny(s, "eE+-") {
		return 0, false
	}
	if neg {
		f = -f
	}
	return f, true
}

// idCell is an identifier cell worked out: normalised, checked and
// pseudonymised.
type idCell struct {
	raw       string
	norm      string
	pseudonym string
	reason    string
	null      bool
}

// identifier works out spec column i's cell. Extracts are mostly sorted by
// person, so the previous row's answer is kept and reused when the cell is
// the same.
func (l *rowLoop) identifier(i int, raw string) *idCell {
	e := &l.ids[i]
	if e.raw == raw && e.raw != "" {
		return e
	}
	c := &l.src.rules.cols[i]
	*e = idCell{raw: raw, norm: connectors.NormaliseID(c.ns, raw)}
	if connectors.IsNull(e.norm) || c.ns == connectors.NSUPN && isUPNPlaceholder(e.norm) {
		e.norm, e.null = "", true
		return e
	}
	if c.check != nil {
		var canonical string
		if canonical, e.reason = c.check(e.norm); e.reason != "" {
			return e
		}
		e.norm = canonical
	}
	e.pseudonym = l.src.pseud.Pseudonym(c.ns, e.norm)
	return e
}

// parseInt reads an optionally signed decimal integer of up to 18 digits.
func parseInt(s string) (int64, bool) {
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg, s = s[0] == '-', s[1:]
	}
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// append adds the parsed row to the builders.
func (l *rowLoop) append() {
	for i, k := range l.src.rules.fields {
		v := &l.vals[i]
		b := l.rb.Field(i)
		if v.null {
			b.AppendNull()
			continue
		}
		switch k {
		case kindString:
			// Append copies; the conversion only avoids a second copy.
			b.(*array.StringBuilder).BinaryBuilder.Append(unsafe.Slice(unsafe.StringData(v.s), len(v.s)))
		case kindDate:
			b.(*array.Date32Builder).Append(arrow.Date32(v.n))
		case kindTimestamp:
			b.(*array.TimestampBuilder).Append(arrow.Timestamp(v.n))
		case kindBool:
			b.(*array.BooleanBuilder).Append(v.n == 1)
		case kindFloat:
			b.(*array.Float64Builder).Append(v.f)
		case kindInt:
			switch l.src.rules.types[i] {
			case arrow.INT8:
				b.(*array.Int8Builder).Append(int8(v.n))
			case arrow.INT16:
				b.(*array.Int16Builder).Append(int16(v.n))
			case arrow.INT32:
				b.(*array.Int32Builder).Append(int32(v.n))
			default:
				b.(*array.Int64Builder).Append(v.n)
			}
		}
	}
	l.pending++
}

// flush emits the rows built so far as one record.
func (l *rowLoop) flush() error {
	if l.pending == 0 {
		return nil
	}
	// The next batch's strings will be about as long as this one's: reserve
	// that much rather than grow the buffers by doubling.
	for i, k := range l.src.rules.fields {
		if k == kindString {
			l.dataLen[i] = l.rb.Field(i).(*array.StringBuilder).DataLen()
		}
	}
	rec := l.rb.NewRecord()
	l.pending = 0
	err := l.sink.Emit(rec)
	rec.Release()
	if err != nil {
		return l.src.fileErr(l.name, err)
	}
	l.reserve()
	return nil
}

func (l *rowLoop) reserve() {
	l.rb.Reserve(batchRows)
	for i, n := range l.dataLen {
		if n > 0 {
			l.rb.Field(i).(*array.StringBuilder).ReserveData(n + n/8)
		}
	}
}

// reject quarantines a row. Its cells are kept as received except the
// identifiers, which are pseudonymised whether or not they passed their
// check.
func (l *rowLoop) reject(rec []string, line int64, reason, column string) error {
	cols := l.src.rules.cols
	vals := make([]string, len(cols))
	for i, c := range cols {
		j := l.idx[i]
		if j < 0 || j >= len(rec) {
			continue
		}
		vals[i] = rec[j]
		if c.ns != "" {
			switch e := l.identifier(i, rec[j]); {
			case e.null:
				vals[i] = ""
			case e.pseudonym != "":
				vals[i] = e.pseudonym
			default: // failed its check
				vals[i] = l.src.pseud.Pseudonym(c.ns, e.norm)
			}
		}
	}
	err := l.sink.Reject(pipeline.Rejected{Row: line, Reason: reason, Column: column, Values: vals})
	if err != nil {
		return l.src.fileErr(l.name, err)
	}
	return nil
}
