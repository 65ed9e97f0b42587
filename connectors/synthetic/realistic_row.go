package synthetic

import (
	"bufio"
	"math/rand/v2"

	"github.com/apache/arrow/go/v15/arrow"

	"earlyhelp/connectors"
	"earlyhelp/pipeline/contract"
)

// columns classifies a file's columns by what the spec says they hold, so
// that the renderer works for any source by column, not by file.
type columns struct {
	names []string
	// Index of the column, -1 when the file has none.
	upn, nhs, uprn, code, session, sessionDate, stamp, balance int
	dates, money, nullable, text, cased                        []int
	// optional: per column, whether a bad cell is nulled with the row
	// kept (CONTRACTS §2 cell policy) rather than the row quarantined.
	optional []bool
}

func newColumns(spec connectors.Spec, header []string) *columns {
	c := &columns{names: header, upn: -1, nhs: -1, uprn: -1, code: -1, session: -1, sessionDate: -1, stamp: -1, balance: -1}
	types := map[string]arrow.Type{}
	if spec.Schema != nil {
		for _, f := range spec.Schema.Fields() {
			types[f.Name] = f.Type.ID()
		}
	}
	byName := map[string]connectors.Column{}
	for _, col := range spec.Columns {
		byName[col.Name] = col
	}
	c.optional = make([]bool, len(header))
	for i, name := range header {
		col, known := byName[name]
		if !known {
			continue
		}
		c.optional[i] = !col.Required
		switch col.Pseudonym {
		case connectors.NSUPN:
			c.upn = i
		case connectors.NSNHS:
			c.nhs = i
		case connectors.NSUPRN:
			c.uprn = i
		}
		switch types[name] {
		case arrow.DATE32:
			c.dates = append(c.dates, i)
		case arrow.FLOAT64:
			c.money = append(c.money, i)
		case arrow.TIMESTAMP:
			c.stamp = i
		}
		switch name {
		case contract.ColAttendanceCode:
			c.code = i
		case contract.ColSession:
			c.session = i
		case contract.ColSessionDate:
			c.sessionDate = i
		case contract.ColBalance:
			c.balance = i
		}
		if !col.Required {
			c.nullable = append(c.nullable, i)
		}
		if freeTextColumns[name] {
			c.text = append(c.text, i)
		}
		if caseColumns[name] {
			c.cased = append(c.cased, i)
		}
	}
	return c
}

// canText reports a column where a non-ASCII character can plausibly stand.
func (c *columns) canText() bool { return len(c.text) > 0 || len(c.money) > 0 }

// pending is a defect of the row being built, logged once its line is known.
type pending struct {
	col, kind string
	valid     bool
}

// rowRenderer renders one file's rows.
type rowRenderer struct {
	g       *generator
	p       *filePlan
	r       *rand.Rand
	c       *columns
	w       *bufio.Writer
	line    int64 // lines written, the header being line 1
	row     int64 // clean data rows read
	blank   int   // next of p.blanks
	vals    []string
	touched []bool
	days    []day  // parsed clean dates, per column (noDay: none)
	dmySeen []bool // per column: a date was rendered dd/mm/yyyy
	pend    []pending
	buf     []byte
	enc     []byte
	// forceText: a Windows-1252 file has not yet got a non-ASCII value,
	// without which its encoding could not be told from UTF-8.
	forceText bool
	added     int64
}

func newRowRenderer(g *generator, p *filePlan, r *rand.Rand, header []string, w *bufio.Writer) *rowRenderer {
	n := len(header)
	return &rowRenderer{
		g: g, p: p, r: r, c: newColumns(p.spec, header), w: w,
		vals: make([]string, n), touched: make([]bool, n), days: make([]day, n), dmySeen: make([]bool, n),
		forceText: p.cp1252,
	}
}

// render writes one clean row as received: file-wide conventions first,
// then either a structural defect (an exact duplicate or an amendment,
// whose rows carry nothing else) or at most one invalidating defect and any
// number of harmless formatting ones on other cells.
func (rr *rowRenderer) render(rec []string) {
	rr.row++
	rr.blanksBefore(rr.row)
	copy(rr.vals, rec)
	clear(rr.touched)
	rr.pend = rr.pend[:0]
	c := rr.c
	for _, i := range c.dates {
		rr.days[i] = noDay
		if d, ok := parseISODay(rec[i]); ok {
			rr.days[i] = d
			if rr.p.dmy {
				rr.vals[i] = string(appendDMY(nil, d))
				rr.dmySeen[i] = true
			}
		}
	}
	if rr.p.flip && c.balance >= 0 {
		rr.vals[c.balance] = negate(rr.vals[c.balance])
	}
	if !rr.g.realistic() { // the reference vocabulary alone
		rr.reference()
		rr.writeRecord(rr.vals)
		rr.logPending()
		rr.referenceRows(rec)
		return
	}
	if rr.structural(rec) {
		return
	}
	rr.invalid()
	rr.legacy()
	rr.reference()
	rr.cosmetic()
	rr.writeRecord(rr.vals)
	rr.logPending()
	rr.referenceRows(rec)
}

func (rr *rowRenderer) logPending() {
	for _, d := range rr.pend {
		rr.g.defects.add(rr.p.f.rel, rr.line, d.col, d.kind, d.valid)
	}
}

func (rr *rowRenderer) mark(i int, kind string, valid bool) {
	rr.touched[i] = true
	// An optional column's bad cell becomes null; the row stays valid.
	valid = valid || rr.c.optional[i]
	rr.pend = append(rr.pend, pending{rr.c.names[i], kind, valid})
}

// structural writes a row followed by an exact copy, or an attendance mark
// preceded by the superseded N it amends, and reports whether it did.
func (rr *rowRenderer) structural(rec []string) bool {
	c, u := rr.c, rr.r.Float64()
	rel := rr.p.f.rel
	if c.code < 0 {
		if u >= rateDuplicate {
			return false
		}
		rr.writeRecord(rr.vals)
		rr.writeRecord(rr.vals)
		rr.g.defects.add(rel, rr.line, c.names[0], defectDuplicate, false)
		rr.added++
		return true
	}
	switch {
	case u < rateDupMark:
		// Schools re-send marks; the loader keeps one (latest wins).
		rr.writeRecord(rr.vals)
		rr.writeRecord(rr.vals)
		rr.g.defects.add(rel, rr.line, c.names[c.code], defectDupMark, true)
		rr.added++
		return true
	case u < rateDupMark+rateAmendment && rr.amendable(rec):
		// The clean code stays the newest, so what a correct loader keeps is
		// the clean record; only the stamps are new.
		date := rec[c.sessionDate]
		code, stamp := rr.vals[c.code], rr.vals[c.stamp]
		rr.vals[c.code], rr.vals[c.stamp] = "N", date+"T09:05:00Z"
		if rr.vals[c.session] == "PM" {
			rr.vals[c.stamp] = date + "T13:35:00Z"
		}
		minutes := -1
		for i, name := range c.names {
			if name == contract.ColMinutesLate {
				minutes, stamp = i, rr.vals[i]
				rr.vals[i] = ""
			}
		}
		rr.writeRecord(rr.vals)
		if minutes >= 0 {
			rr.vals[minutes] = stamp
		}
		rr.vals[c.code], rr.vals[c.stamp] = code, date+"T16:45:00Z"
		rr.writeRecord(rr.vals)
		rr.g.defects.add(rel, rr.line, c.names[c.code], defectAmendment, true)
		rr.added++
		return true
	}
	return false
}

// amendable: an absence mark other than N, with no stamp of its own.
func (rr *rowRenderer) amendable(rec []string) bool {
	c := rr.c
	if c.stamp < 0 || c.session < 0 || c.sessionDate < 0 || rec[c.stamp] != "" || rec[c.code] == "N" {
		return false
	}
	d := rr.days[c.sessionDate]
	if d == noDay {
		return false
	}
	_, cat, ok := connectors.AttendanceCategoryDays(rec[c.code], int32(d))
	return ok && (cat == connectors.CategoryAuth || cat == connectors.CategoryUnauth)
}

// legacy records a withdrawn code in a session before 19 August 2024: the
// clean layer writes them, and a loader must accept them by vintage.
func (rr *rowRenderer) legacy() {
	c := rr.c
	if c.code < 0 || c.sessionDate < 0 || rr.touched[c.code] || rr.days[c.sessionDate] >= codeSetChange {
		return
	}
	switch rr.vals[c.code] {
	case "H", "J", "Y", "F":
		rr.mark(c.code, defectLegacyCode, true)
	}
}
