package synthetic

import (
	"strconv"

	"earlyhelp/pipeline/contract"
)

const linksFile = "truth/links.csv"

// appendRef appends a source reference: a prefix and a zero-padded number
// of at least width digits (HC000123, TA00012, T0001234, EH00012).
func appendRef(b []byte, prefix string, n, width int) []byte {
	b = append(b, prefix...)
	var tmp [20]byte
	s := strconv.AppendInt(tmp[:0], int64(n), 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// links streams truth/links.csv: for each record of the sources that name
// people only indirectly (by NHS number, case or tenancy reference), the
// person and household it truly belongs to, so linkage can be scored.
type links struct {
	f   *csvFile
	buf []byte
}

func (g *generator) newLinks() (*links, error) {
	f, err := g.out.create(linksFile, 0o644, false, "source", "source_record_id", contract.ColPersonID, contract.ColHouseholdID)
	if err != nil {
		return nil, err
	}
	return &links{f: f}, nil
}

// add records that source's record id (already formatted) belongs to
// person p of household h.
func (l *links) add(source string, id []byte, p, h int) {
	b := append(l.buf[:0], source...)
	b = append(b, ',')
	b = append(b, id...)
	b = append(b, ',')
	b = appendID(b, 'P', p+1)
	b = append(b, ',')
	b = appendID(b, 'H', h+1)
	l.buf = append(b, '\n')
	l.f.end(l.buf)
}

func appendUPRN(b []byte, u int64) []byte { return strconv.AppendInt(b, u, 10) }

func appendBool(b []byte, v bool) []byte { return strconv.AppendBool(b, v) }

func appendNHS(b []byte, n int64) []byte { return strconv.AppendInt(b, n, 10) }

func appendInt(b []byte, v int) []byte { return strconv.AppendInt(b, int64(v), 10) }
