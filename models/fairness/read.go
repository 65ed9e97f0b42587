package fairness

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"earlyhelp/pipeline/contract"
	"earlyhelp/pipeline/rundir"
)

// known columns of the §4.1 layout; any other column lands in Row.Extra.
var knownColumns = map[string]bool{
	"as_of": true, "model": true, "family_id": true, "id": true, contract.ColPersonID: true,
	contract.ColHouseholdID: true, "score": true, "selected": true, "label": true,
	contract.ColEthnicity: true, "ethnicity5": true, contract.ColIMDDecile: true, "imd_quintile": true,
	"age_band": true, contract.ColSex: true, contract.ColSENStatus: true,
}

// ReadCSV reads scored children in the §4.1 / scored_children.csv layout.
// encoding/csv is enough here: the file is small (one row per child) and its
// columns are mixed strings and numbers we validate one by one.
func ReadCSV(r io.Reader) ([]Row, error) {
	var rows []Row
	if rs, ok := r.(io.ReadSeeker); ok {
		// A backtest's file holds a council's children on a dozen dates:
		// counting its lines first sizes rows once, where growing it
		// copied every row about twice.
		n, err := countLines(rs)
		if err != nil {
			return nil, err
		}
		rows = make([]Row, 0, n)
	}
	rr, err := newRowReader(r)
	if err != nil {
		return nil, err
	}
	return rr.readAll(rows)
}

// rowReader reads the records of a scored-children file after its header
// and makes rows of them.
type rowReader struct {
	recs  *rundir.CSVLines
	col   map[string]int
	idCol string
	// Columns beyond the layout's, found once rather than by going over
	// the header's map on every row.
	extras []extra
	// The values of few kinds (dates, model names, ethnicity codes) are
	// shared, and each row's two ids are copied out together, so a row does
	// not keep its whole CSV record alive.
	shared map[string]string
	ids    []byte
	line   int // the record's, counting the header as 1
	fields int // the header's, which every record has
}

type extra struct {
	name string
	i    int
}

// newRowReader reads r's header.
func newRowReader(r io.Reader) (*rowReader, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	cr := csv.NewReader(br) // reads from br itself, a line at a time
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	rr := &rowReader{recs: rundir.NewCSVLines(br, len(head)), col: map[string]int{}, shared: map[string]string{}, line: 1, fields: len(head)}
	for i, h := range head {
		rr.col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	if _, ok := rr.col["score"]; !ok {
		return nil, errors.New("header: no score column")
	}
	for _, c := range []string{"family_id", "id", contract.ColPersonID} {
		if _, ok := rr.col[c]; ok {
			rr.idCol = c
			break
		}
	}
	if rr.idCol == "" {
		return nil, errors.New("header: no family_id, id or person_id column")
	}
	for name, i := range rr.col {
		if !knownColumns[name] {
			rr.extras = append(rr.extras, extra{name, i})
		}
	}
	return rr, nil
}

// next is the next record, reused by the following call; io.EOF at the end.
func (rr *rowReader) next() ([]string, error) {
	if err := rr.advance(); err != nil {
		return nil, err
	}
	return rr.recs.Record(), nil
}

// advance reads the next record without splitting its line (see
// rundir.CSVLines); io.EOF at the end.
func (rr *rowReader) advance() error {
	rr.line++
	err := rr.recs.Next()
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("line %d: %w", rr.line, err)
	}
	return err
}

// column is the index of column name, -1 without it.
func (rr *rowReader) column(name string) int {
	if i, ok := rr.col[name]; ok {
		return i
	}
	return -1
}

// fieldAt is the last record's field i as it stands, nil when i < 0.
func (rr *rowReader) fieldAt(i int) []byte {
	if i < 0 {
		return nil
	}
	return rr.recs.Field(i)
}

// field is the trimmed value of column name in rec, "" without the column.
func (rr *rowReader) field(rec []string, name string) string {
	if i, ok := rr.col[name]; ok && i < len(rec) {
		return strings.TrimSpace(rec[i])
	}
	return ""
}

func (rr *rowReader) share(s string) string {
	v, ok := rr.shared[s]
	if !ok {
		v = strings.Clone(s)
		rr.shared[v] = v
	}
	return v
}

// row makes a row of rec, which it does not keep.
func (rr *rowReader) row(rec []string) (Row, error) {
	get := func(name string) string { return rr.field(rec, name) }
	row, err := parseRow(get, rr.idCol)
	if err != nil {
		return row, fmt.Errorf("line %d: %w", rr.line, err)
	}
	row.AsOf, row.Model = rr.share(row.AsOf), rr.share(row.Model)
	row.Ethnicity, row.Ethnicity5 = rr.share(row.Ethnicity), rr.share(row.Ethnicity5)
	row.AgeBand, row.Sex, row.SENStatus = rr.share(get("age_band")), rr.share(get(contract.ColSex)), rr.share(get(contract.ColSENStatus))
	rr.ids = append(append(rr.ids[:0], row.ID...), row.HouseholdID...)
	both := string(rr.ids)
	row.ID, row.HouseholdID = both[:len(row.ID)], both[len(row.ID):]
	for _, x := range rr.extras {
		if x.i < len(rec) {
			if row.Extra == nil {
				row.Extra = map[string]string{}
			}
			row.Extra[x.name] = strings.TrimSpace(rec[x.i])
		}
	}
	return row, nil
}

func parseRow(get func(string) string, idCol string) (Row, error) {
	r := Row{
		AsOf: get("as_of"), Model: get("model"), ID: get(idCol),
		HouseholdID: get(contract.ColHouseholdID), Ethnicity: get(contract.ColEthnicity), Ethnicity5: get("ethnicity5"),
	}
	var err error
	if r.Score, err = strconv.ParseFloat(get("score"), 64); err != nil {
		return r, fmt.Errorf("score: %w", err)
	}
	if r.Selected, err = parseFlag(get("selected")); err != nil {
		return r, fmt.Errorf("selected: %w", err)
	}
	if r.Label, err = parseFlag(get("label")); err != nil {
		return r, fmt.Errorf("label: %w", err)
	}
	if d := get(contract.ColIMDDecile); d != "" && d != Unknown && d != "null" && d != "NA" {
		if r.IMDDecile, err = strconv.Atoi(d); err != nil || r.IMDDecile < 1 || r.IMDDecile > 10 {
			return r, fmt.Errorf("imd_decile %q not 1..10", d)
		}
	}
	if q := get("imd_quintile"); q != "" && q != Quintile(r.IMDDecile) {
		return r, fmt.Errorf("imd_quintile %q contradicts imd_decile %d", q, r.IMDDecile)
	}
	if err := r.normalise(); err != nil {
		return r, err
	}
	return r, nil
}

// parseFlag reads 0/1; blank, null and NA mean "not observed" (-1).
func parseFlag(s string) (int8, error) {
	switch strings.ToLower(s) {
	case "", "null", "na", "nan":
		return -1, nil
	case "0", "false":
		return 0, nil
	case "1", "true":
		return 1, nil
	}
	return 0, fmt.Errorf("%q is not 0, 1 or blank", s)
}

// countLines counts the lines from rs's position and seeks back to it.
func countLines(rs io.ReadSeeker) (int, error) {
	start, err := rs.Seek(0, io.SeekCurrent)
	if err != nil {
		return 0, fmt.Errorf("counting lines: %w", err)
	}
	buf := make([]byte, 1<<20)
	n := 0
	for {
		k, err := rs.Read(buf)
		n += bytes.Count(buf[:k], []byte{'\n'})
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("counting lines: %w", err)
		}
	}
	if _, err := rs.Seek(start, io.SeekStart); err != nil {
		return 0, fmt.Errorf("counting lines: %w", err)
	}
	return n, nil
}
