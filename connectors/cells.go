package connectors

import (
	"encoding/hex"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"earlyhelp/pipeline"
)

// This file is the cell level of the row loop: text cells parsed into
// typed values, identifiers pseudonymised, and rows built into Arrow
// records.

// A checker is one of a RowLoader's checking goroutines: it checks a
// buffer of rows and builds the valid ones into a record of its own.
type checker struct {
	l     *RowLoader
	r     *Rules
	pseud *Pseudonymiser
	cols  *columns
	cells []string
	vals  []value
	notes []cellNote // the current row's nulled cells
	norm  []string   // normalised identifiers of the current row, by spec column
	last  []int32    // per spec column: the memo entry of the last row's cell, or -1
	// per spec column: a cell worked out but not memoised (the memo is full)
	scratch []idCell
	ids     *idMemos
	dates   []lastDate          // per spec column: the last date cell read
	seen    map[string]struct{} // keys seen; only with one checker
	key     []byte
}

func newChecker(l *RowLoader, p *Pseudonymiser) *checker {
	r := l.r
	c := &checker{
		l: l, r: r, pseud: p,
		cols:    newColumns(l.mem, r.spec.Schema, r.fields, r.types),
		vals:    make([]value, len(r.fields)),
		norm:    make([]string, len(r.cols)),
		last:    make([]int32, len(r.cols)),
		scratch: make([]idCell, len(r.cols)),
		dates:   make([]lastDate, len(r.cols)),
	}
	for i := range c.last {
		c.last[i] = -1
	}
	// Sized as the last loader's were.
	r.cache.Lock()
	for i := range c.cols.cols {
		if i < len(r.cache.dataPerRow) {
			c.cols.cols[i].dataPerRow = r.cache.dataPerRow[i]
		}
	}
	if c.ids = p.takeIDs(r); c.ids == nil {
		c.ids = newIDMemos(r)
	}
	r.cache.Unlock()
	if r.key != nil {
		c.seen = make(map[string]struct{})
	}
	return c
}

// release frees the checker's buffers and leaves its sizes for the next
// loader of the source.
func (c *checker) release() {
	c.cols.close()
	r := c.r
	r.cache.Lock()
	defer r.cache.Unlock()
	if r.cache.dataPerRow == nil {
		r.cache.dataPerRow, r.cache.ids = make([]float64, len(c.cols.cols)), make([]int, len(r.cols))
	}
	for i := range c.cols.cols {
		if d := c.cols.cols[i].dataPerRow; d > 0 {
			r.cache.dataPerRow[i] = d
		}
	}
	for i := range r.cols {
		r.cache.ids[i] = max(r.cache.ids[i], c.ids.cells[i].n)
	}
	c.pseud.keepIDs(c.ids)
	c.ids = nil
}

// idMemos are a checker's identifier cells worked out, per spec column.
// They outlive the checker: its pseudonymiser keeps them for the checker
// of the source's next file, until the read ends and Forget drops them
// with the pseudonyms. A council sends attendance as a file a month, each
// naming the same pupils, and a memo that began empty with every file
// worked out each pupil again in each: a map miss, a normalisation and a
// pseudonymiser lookup per pupil, file and checker. At 100,000 children
// the two maps' lookups fell from 7% of the ingest's CPU profile to 1%.
type idMemos struct {
	rules *Rules // the rules the cells were checked by
	// Identifier cells worked out, by raw value, per spec column (nil for
	// the others): the map's small slots keep lookups in cache.
	memo  []map[string]int32
	cells []cellBlocks
	// Per spec column: cells found already worked out, and cells worked
	// out anew, until the memo has proved itself or been dropped.
	hits, misses []int
}

// newIDMemos makes empty memos for r's identifier columns, sized as the
// last loader's grew (r.cache is held).
func newIDMemos(r *Rules) *idMemos {
	m := &idMemos{
		rules:  r,
		memo:   make([]map[string]int32, len(r.cols)),
		cells:  make([]cellBlocks, len(r.cols)),
		hits:   make([]int, len(r.cols)),
		misses: make([]int, len(r.cols)),
	}
	for i, col := range r.cols {
		if col.ns != "" {
			n := 0
			if i < len(r.cache.ids) {
				n = r.cache.ids[i]
			}
			m.memo[i] = make(map[string]int32, n)
		}
	}
	return m
}

// memoTrial is how many distinct cells of a column the identifier memo
// keeps before it must show that at least one lookup in nine finds a cell
// already worked out. It is larger than a week of any weekly extract (a
// big council's rent accounts list some 30,000 tenancies a week), whose
// identifiers recur only from the second week.
const memoTrial = 1 << 17

// check loads or quarantines every row of j.raw, filling j's result.
func (c *checker) check(j *job) {
	b := j.raw
	c.cols.start(b.Len())
	pending := 0
	for i := range b.Len() {
		c.cells = b.Row(i, c.cells)
		line := b.Lines[i]
		if line < 0 { // cut off mid-row: nothing of it is read or loaded
			j.rejects = append(j.rejects, c.reject(c.cells, -line, ReasonTruncated, ""))
			continue
		}
		if reason, col := c.checkRow(c.cells); reason != "" {
			j.rejects = append(j.rejects, c.reject(c.cells, line, reason, col))
			continue
		}
		c.cols.append(c.vals)
		pending++
		for _, n := range c.notes {
			// The row's cells are still those checked: shown reads them.
			j.nulled = append(j.nulled, pipeline.NulledCell{
				Row: line, Column: c.r.cols[n.col].name, Reason: n.reason, Value: c.shown(c.cells, n.col),
			})
		}
		for k, col := range c.r.reid {
			f := c.r.cols[col].field
			// Cloned: the raw value is a slice of the buffer.
			j.reid = append(j.reid, reidPair{c.r.reidNSs[k], c.vals[f].s, strings.Clone(c.norm[col])})
		}
	}
	if pending == 0 {
		c.cols.close()
		return
	}
	j.rec = c.cols.record()
}

// checkRow checks one row and leaves its values in c.vals, or returns why
// and where it fails.
func (c *checker) checkRow(cells []string) (reason, column string) {
	if c.r.padShort && len(cells) < len(c.l.header) && len(cells) > 0 {
		// A row that stops early (trailing empty cells dropped by the
		// exporting system) still names its person: padded, not lost.
		for len(cells) < len(c.l.header) {
			cells = append(cells, "")
		}
		c.cells = cells
	}
	if len(cells) != len(c.l.header) || c.isHeader(cells) {
		// A row of the wrong width, or a second header where two exports
		// were concatenated.
		return pipeline.ReasonMalformedRow, ""
	}
	if reason, col := c.parseRow(cells); reason != "" {
		return reason, col
	}
	for _, chk := range c.r.rowChk {
		if reason, col := chk(c.vals); reason != "" {
			if i := c.r.column(col); i < 0 || !c.nullCell(i, reason) {
				return reason, col
			}
		}
	}
	// Codes last: a row check may derive one (a mark's category) or
	// canonicalise it.
	for _, f := range c.r.coded {
		v := &c.vals[f]
		if v.null {
			continue
		}
		n, ok := c.r.books[f].index(v.s)
		if !ok {
			// The checks let through only listed values: this is a spec
			// whose codes miss one, failed safe as an unknown code.
			col := c.r.spec.Schema.Field(f).Name
			if i := c.r.column(col); i < 0 || !c.nullCell(i, pipeline.ReasonBadCode) {
				return pipeline.ReasonBadCode, col
			}
			continue
		}
		v.n = int64(n)
	}
	if c.seen != nil {
		c.key = c.key[:0]
		for _, f := range c.r.key {
			v := c.vals[f]
			if k := c.r.fields[f]; k == kindString || k == kindCode || k == kindKey {
				c.key = append(c.key, v.s...)
			} else if !v.null {
				c.key = strconv.AppendInt(c.key, v.n, 10)
			}
			c.key = append(c.key, 0)
		}
		if _, dup := c.seen[string(c.key)]; dup {
			return pipeline.ReasonDuplicate, c.r.keyCol
		}
		c.seen[string(c.key)] = struct{}{}
	}
	return "", ""
}

func (c *checker) isHeader(rec []string) bool {
	header := c.l.header
	if len(rec) == 0 || !strings.EqualFold(strings.TrimSpace(rec[0]), header[0]) {
		return false
	}
	for i, f := range rec {
		if !strings.EqualFold(strings.TrimSpace(f), header[i]) {
			return false
		}
	}
	return true
}

// reject makes a row's quarantine entry. Its cells are kept as received
// except the identifiers, which are pseudonymised whether or not they
// passed their check.
func (c *checker) reject(rec []string, line int64, reason, column string) pipeline.Rejected {
	vals := make([]string, len(c.r.cols))
	for i := range c.r.cols {
		vals[i] = c.shown(rec, i)
	}
	return pipeline.Rejected{Row: line, Reason: reason, Column: column, Values: vals}
}

// parseRow fills c.vals from a record of the right width, or returns the
// reason and column of the first cell that fails the row. An unreadable
// cell of a column that is not required is nulled instead (nullCell).
func (c *checker) parseRow(rec []string) (reason, column string) {
	c.notes = c.notes[:0]
	for i := range c.r.cols {
		col := &c.r.cols[i]
		var raw string
		if j := c.l.idx[i]; j >= 0 {
			raw = rec[j]
		}
		v := &c.vals[col.field]
		if col.ns != "" {
			e := c.identifier(i, raw)
			c.norm[i] = e.norm
			switch {
			case e.null && col.required:
				return pipeline.ReasonMissingRequired, col.name
			case e.reason != "":
				if !c.nullCell(i, e.reason) {
					return e.reason, col.name
				}
				c.norm[i] = ""
				continue
			}
			*v = value{s: e.pseudonym, null: e.null}
			if col.kind == kindKey {
				v.s = e.key
			}
			continue
		}
		raw = trimSpace(raw)
		if len(raw) <= 9 && (isNullTrimmed(raw) || col.nullWords && isNullWordTrimmed(raw)) { // no null spelling is longer
			if col.required {
				return pipeline.ReasonMissingRequired, col.name
			}
			*v = value{null: true}
			if col.failSafe {
				c.nullCell(i, pipeline.ReasonMissingRequired)
			}
			continue
		}
		*v = value{}
		why := ""
		switch col.kind {
		case kindString, kindCode:
			v.s = raw
			if col.check != nil {
				v.s, why = col.check(raw)
			}
		case kindDate:
			d := &c.dates[i]
			if raw != string(d.buf[:d.n]) { // compared in place: no copy
				d.parse(raw)
			}
			v.n, why = int64(d.days), d.why
		case kindTimestamp:
			t, err := c.l.ts.ParseTimestamp(raw)
			if err != nil {
				why = pipeline.ReasonBadDate
			}
			v.n = t.Unix()
		case kindInt:
			n, ok := parseInt(raw)
			switch {
			case !ok:
				why = pipeline.ReasonBadNumber
			case n < col.lo || n > col.hi:
				why = pipeline.ReasonOutOfRange
			}
			v.n = n
		case kindBool:
			b, ok := parseBool(raw)
			if !ok {
				why = pipeline.ReasonBadCode
			}
			v.n = b
		case kindFloat:
			f, ok := parseMoney(raw)
			if !ok {
				why = pipeline.ReasonBadNumber
			}
			v.f = f
		}
		switch {
		case why == "":
		case why == readsNull:
			if col.required {
				return pipeline.ReasonMissingRequired, col.name
			}
			*v = value{null: true}
		case !c.nullCell(i, why):
			return why, col.name
		}
	}
	return "", ""
}

// lastDate is a date column's last cell and what it read as. An
// attendance extract lists a school's day one pupil after another, so the
// usual date cell is the last row's, and a comparison spares parsing it.
// The text is copied (a cell is a slice of a reused buffer) into an array,
// so a column whose dates all differ costs no allocation.
type lastDate struct {
	buf  [16]byte
	n    int // bytes of buf in use; 0: none (a date cell is never empty)
	days int32
	why  string // "", readsNull or pipeline.ReasonBadDate
}

// parse reads raw, and remembers it if it fits.
func (d *lastDate) parse(raw string) {
	days, err := ParseDays(raw)
	d.days, d.why = days, ""
	switch {
	case err == ErrDateSentinel:
		// 01/01/1900, 31/12/9999, 00/00/0000: a system's "none".
		d.why = readsNull
	case err != nil:
		d.why = pipeline.ReasonBadDate
	}
	d.n = 0
	if len(raw) <= len(d.buf) {
		d.n = copy(d.buf[:], raw)
	}
}

// cellNote is an unreadable optional cell of the row being checked.
type cellNote struct {
	col    int // spec column
	reason string
}

// nullCell stores spec column i's unreadable cell as null and notes it
// (the sink counts it), or reports false when the cell must fail the row
// instead: a required column's.
func (c *checker) nullCell(i int, reason string) bool {
	col := &c.r.cols[i]
	if col.required {
		return false
	}
	c.vals[col.field] = value{null: true}
	c.notes = append(c.notes, cellNote{col: i, reason: reason})
	return true
}

// shown is spec column i's cell as the quarantine files show it: as
// received, except an identifier, which is pseudonymised whether or not it
// passed its check.
func (c *checker) shown(rec []string, i int) string {
	j := c.l.idx[i]
	if j < 0 || j >= len(rec) {
		return ""
	}
	col := &c.r.cols[i]
	if col.ns == "" {
		return strings.Clone(rec[j])
	}
	switch e := c.identifier(i, rec[j]); {
	case e.null:
		return ""
	case e.pseudonym != "":
		return e.pseudonym
	default: // failed its check
		return c.pseud.Pseudonym(col.ns, e.norm)
	}
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
// optional £ (before or after a sign), thousands separators, and a
// negative as (123.45), -123.45, 123.45- or 123.45 CR (a credit; DR, a
// debit, is positive).
func parseMoney(s string) (float64, bool) {
	neg := false
	if n := len(s); n > 2 && (s[n-2] == 'C' || s[n-2] == 'c' || s[n-2] == 'D' || s[n-2] == 'd') && (s[n-1] == 'R' || s[n-1] == 'r') {
		neg = s[n-2] == 'C' || s[n-2] == 'c'
		s = strings.TrimSpace(s[:n-2])
	}
	if strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")") {
		neg, s = !neg, s[1:len(s)-1]
	}
	s = strings.TrimPrefix(s, "£")
	if strings.HasPrefix(s, "-") {
		neg, s = !neg, s[1:]
	} else if strings.HasSuffix(s, "-") {
		neg, s = !neg, s[:len(s)-1]
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
	key       string // a packed column's: the bytes pseudonym spells
	reason    string
	null      bool
	next      int32 // the memo entry that followed this one last time, or -1
}

// identifier works out spec column i's cell. A memo by raw cell (one
// pupil's UPN recurs hundreds of times a year) spares normalising,
// checking and pseudonymising it again. Extracts list a school's pupils in
// the same order day after day, so each memo entry remembers the entry
// that followed it: the usual cell is the same as the last row's, or the
// one that came after it last time, and costs a string comparison rather
// than a map lookup. What is kept is cloned from raw, which may be a slice
// of a reused buffer. The result is good until the next call.
func (c *checker) identifier(i int, raw string) *idCell {
	ids := c.ids
	cells := &ids.cells[i]
	last := c.last[i]
	if last >= 0 {
		e := cells.at(last)
		if e.raw == raw {
			ids.hits[i]++
			return e
		}
		if nx := e.next; nx >= 0 && cells.at(nx).raw == raw {
			ids.hits[i]++
			c.last[i] = nx
			return cells.at(nx)
		}
	}
	memo := ids.memo[i]
	if k, ok := memo[raw]; ok {
		ids.hits[i]++
		if last >= 0 {
			cells.at(last).next = k
		}
		c.last[i] = k
		return cells.at(k)
	}
	if ids.misses[i]++; memo != nil && ids.misses[i] >= memoTrial && ids.hits[i] < ids.misses[i]/8 {
		// A column of identifiers that rarely recur (a register's own
		// keys) only pays for the memo: a map insert and a copy per row.
		ids.memo[i], memo = nil, nil
	}
	raw = strings.Clone(raw)
	col := &c.r.cols[i]
	e := idCell{raw: raw, norm: NormaliseID(col.ns, raw), next: -1}
	if IsNull(e.norm) || IsNullWord(raw) || col.ns == NSUPN && isUPNPlaceholder(e.norm) {
		e.norm, e.null = "", true
	} else if col.check != nil {
		var canonical string
		switch canonical, e.reason = col.check(e.norm); e.reason {
		case "":
			e.norm = canonical
		case readsNull:
			e.norm, e.null, e.reason = "", true, ""
		}
	}
	switch {
	case e.reason != "" || e.null:
	case memo == nil:
		// The column's values rarely recur (its memo was dropped), so the
		// pseudonymiser's memo would only grow: at a register's size a
		// lookup and an insert there cost twice the keyed hash.
		e.pseudonym = c.pseud.compute(col.ns, e.norm)
	default:
		e.pseudonym = c.pseud.Pseudonym(col.ns, e.norm)
	}
	if col.kind == kindKey && e.pseudonym != "" {
		k, _ := hex.DecodeString(e.pseudonym) // the pseudonymiser's own hex
		e.key = string(k)
	}
	if memo == nil || len(memo) >= memoLimit {
		c.scratch[i] = e
		return &c.scratch[i]
	}
	k := cells.add(e)
	memo[raw] = k
	if last >= 0 {
		cells.at(last).next = k
	}
	c.last[i] = k
	return cells.at(k)
}

// cellBlocks holds a column's memo entries in blocks that never move: it
// grows by a block where a slice grew by copying itself, which was 0.44 s
// of a 300,000-child weekly run's ingest (a week's delivery names 200,000
// pupils the fresh process has not seen, each copied over and over into
// memory the kernel had to supply).
type cellBlocks struct {
	blocks [][]idCell
	n      int
}

const cellBlockBits = 12

func (b *cellBlocks) at(k int32) *idCell {
	return &b.blocks[k>>cellBlockBits][k&(1<<cellBlockBits-1)]
}

func (b *cellBlocks) add(e idCell) int32 {
	if b.n&(1<<cellBlockBits-1) == 0 {
		b.blocks = append(b.blocks, make([]idCell, 1<<cellBlockBits))
	}
	k := int32(b.n)
	*b.at(k) = e
	b.n++
	return k
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
