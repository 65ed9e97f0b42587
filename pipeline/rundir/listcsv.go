package rundir

import (
	"earlyhelp/pipeline/contract"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// listCSV reads list/navigator_list.csv (CONTRACTS §6), for a run written
// before the list had its Parquet copy, undoing the spreadsheet
// neutralisation of its cells. The CSV's score has three decimals.
func (r Run) listCSV() ([]ListRow, error) {
	f, err := os.Open(r.ListCSV())
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows, err := readListCSV(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ListCSVFile, err)
	}
	return rows, nil
}

func readListCSV(rd io.Reader) ([]ListRow, error) {
	cr := csv.NewReader(rd)
	header, err := cr.Read()
	if err != nil {
		return nil, err
	}
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	for _, f := range listSchema.Fields() {
		if _, ok := col[f.Name]; !ok && !addedColumn(f.Name) {
			return nil, fmt.Errorf("no column %q", f.Name)
		}
	}
	var out []ListRow
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		n := len(out) + 2 // the file's line, after the header
		get := func(name string) string {
			i, ok := col[name]
			if !ok {
				return "" // a column added after this run was written
			}
			return unneutralise(rec[i])
		}
		lr := ListRow{
			Household: get("household_ref"), Locality: get(contract.ColLocality), Band: get("band"), Status: get("status"),
			ChildRefs: splitCell(get("child_refs")), Reasons: splitCell(get("reasons")),
			ReasonCodes: splitCell(get("reason_codes")), Decision: get("last_decision"),
			ContactSafety: splitCell(get("contact_safety")), Likelihood: get("likelihood"),
			Context: splitCell(get("context")),
		}
		for _, c := range []struct {
			name string
			to   *int
		}{{"rank", &lr.Rank}, {"weeks_on_list", &lr.WeeksOnList}, {"children", &lr.Children}} {
			// The value is left out of the error: in a malformed file it
			// may be a household's reference.
			if *c.to, err = strconv.Atoi(get(c.name)); err != nil {
				return nil, fmt.Errorf("row %d: %s: not a whole number", n, c.name)
			}
		}
		if lr.Score, err = strconv.ParseFloat(get("score"), 64); err != nil {
			return nil, fmt.Errorf("row %d: score: not a number", n)
		}
		if d := get("last_decision_date"); d != "" {
			if lr.DecisionAt, err = time.Parse(time.DateOnly, d); err != nil {
				return nil, fmt.Errorf("row %d: last_decision_date: not a YYYY-MM-DD date", n)
			}
		}
		out = append(out, lr)
	}
}

// unneutralise drops the quote the export puts before a cell a
// spreadsheet would read as a formula.
func unneutralise(s string) string {
	if len(s) > 1 && s[0] == '\'' && strings.ContainsRune("=+-@\t\r", rune(s[1])) {
		return s[1:]
	}
	return s
}
