package connectors

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"

	"earlyhelp/pipeline"
)

// This file is the cell level of the row loop: text cells parsed into
// typed values, identifiers pseudonymised, and rows built into Arrow
// records.

// parseRow fills l.vals from a record of the right width, or returns the
// reason and column of the first cell that fails.
func (l *RowLoader) parseRow(rec []string) (reason, column string) {
	for i := range l.r.cols {
		c := &l.r.cols[i]
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
		raw = trimSpace(raw)
		if len(raw) <= 4 && IsNull(raw) { // no null spelling is longer
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
			d, err := ParseDays(raw)
			if err != nil {
				return pipeline.ReasonBadDate, c.name
			}
			v.n = int64(d)
		case kindTimestamp:
			t, err := l.ts.ParseTimestamp(raw)
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

// trimSpace is strings.TrimSpace with a fast way out for the usual cell,
// which has nothing to trim.
func trimSpace(s string) string {
	if s == "" || s[0] > ' ' && s[0] < utf8.RuneSelf && s[len(s)-1] > ' ' && s[len(s)-1] < utf8.RuneSelf {
		return s
	}
	return strings.TrimSpace(s)
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
// the same; otherwise a memo by raw cell (one pupil's UPN recurs hundreds
// of times a year) spares normalising, checking and pseudonymising it
// again. What is kept is cloned from raw, which may be a slice of a reused
// buffer.
func (l *RowLoader) identifier(i int, raw string) *idCell {
	e := &l.ids[i]
	if e.raw == raw && e.raw != "" {
		return e
	}
	memo := l.idMemo[i]
	if k, ok := memo[raw]; ok {
		*e = l.idCells[i][k]
		return e
	}
	raw = strings.Clone(raw)
	c := &l.r.cols[i]
	*e = idCell{raw: raw, norm: NormaliseID(c.ns, raw)}
	if IsNull(e.norm) || c.ns == NSUPN && isUPNPlaceholder(e.norm) {
		e.norm, e.null = "", true
	} else if c.check != nil {
		var canonical string
		if canonical, e.reason = c.check(e.norm); e.reason == "" {
			e.norm = canonical
		}
	}
	if e.reason == "" && !e.null {
		e.pseudonym = l.pseud.Pseudonym(c.ns, e.norm)
	}
	if memo != nil && len(memo) < memoLimit {
		memo[raw] = int32(len(l.idCells[i]))
		l.idCells[i] = append(l.idCells[i], *e)
	}
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

// append adds a checked row of b to the builders.
func (l *RowLoader) append(b *checked, vals []cell) {
	for i, k := range l.r.fields {
		v := &vals[i]
		fb := l.rb.Field(i)
		if v.null {
			fb.AppendNull()
			continue
		}
		switch k {
		case kindString:
			fb.(*array.StringBuilder).BinaryBuilder.Append(b.unstash(*v))
		case kindDate:
			fb.(*array.Date32Builder).Append(arrow.Date32(v.n))
		case kindTimestamp:
			fb.(*array.TimestampBuilder).Append(arrow.Timestamp(v.n))
		case kindBool:
			fb.(*array.BooleanBuilder).Append(v.n == 1)
		case kindFloat:
			fb.(*array.Float64Builder).Append(v.f)
		case kindInt:
			switch l.r.types[i] {
			case arrow.INT8:
				fb.(*array.Int8Builder).Append(int8(v.n))
			case arrow.INT16:
				fb.(*array.Int16Builder).Append(int16(v.n))
			case arrow.INT32:
				fb.(*array.Int32Builder).Append(int32(v.n))
			default:
				fb.(*array.Int64Builder).Append(v.n)
			}
		}
	}
	l.pending++
}

// flush emits the rows built so far as one record. more says whether rows
// will follow, for which the builders are made ready.
func (l *RowLoader) flush(more bool) error {
	if l.pending == 0 {
		return nil
	}
	// The next batch's strings will be about as long as this one's: reserve
	// that much rather than grow the buffers by doubling.
	for i, k := range l.r.fields {
		if k == kindString {
			l.dataLen[i] = l.rb.Field(i).(*array.StringBuilder).DataLen()
		}
	}
	rec := l.rb.NewRecord()
	l.pending = 0
	err := l.sink.Emit(rec)
	rec.Release()
	if err != nil {
		return l.err(err)
	}
	if more {
		l.reserve()
	}
	return nil
}

func (l *RowLoader) reserve() {
	l.rb.Reserve(BatchRows)
	for i, n := range l.dataLen {
		if n > 0 {
			l.rb.Field(i).(*array.StringBuilder).ReserveData(n + n/8)
		}
	}
}
