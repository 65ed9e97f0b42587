package fairness

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// known columns of the §4.1 layout; any other column lands in Row.Extra.
var knownColumns = map[string]bool{
	"as_of": true, "model": true, "family_id": true, "id": true, "person_id": true,
	"household_id": true, "score": true, "selected": true, "label": true,
	"ethnicity": true, "ethnicity5": true, "imd_decile": true, "imd_quintile": true,
}

// ReadCSV reads scored children in the §4.1 / scored_children.csv layout.
// encoding/csv is enough here: the file is small (one row per child) and its
// columns are mixed strings and numbers we validate one by one.
func ReadCSV(r io.Reader) ([]Row, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	if _, ok := col["score"]; !ok {
		return nil, errors.New("header: no score column")
	}
	idCol := ""
	for _, c := range []string{"family_id", "id", "person_id"} {
		if _, ok := col[c]; ok {
			idCol = c
			break
		}
	}
	if idCol == "" {
		return nil, errors.New("header: no family_id, id or person_id column")
	}
	var rows []Row
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		row, err := parseRow(get, idCol)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		for name, i := range col {
			if !knownColumns[name] && i < len(rec) {
				if row.Extra == nil {
					row.Extra = map[string]string{}
				}
				row.Extra[name] = strings.TrimSpace(rec[i])
			}
		}
		rows = append(rows, row)
	}
}

func parseRow(get func(string) string, idCol string) (Row, error) {
	r := Row{
		AsOf: get("as_of"), Model: get("model"), ID: get(idCol),
		HouseholdID: get("household_id"), Ethnicity: get("ethnicity"), Ethnicity5: get("ethnicity5"),
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
	if d := get("imd_decile"); d != "" && d != Unknown && d != "null" && d != "NA" {
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
