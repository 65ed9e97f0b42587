package fairness

import (
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// rowsFromCounts makes n rows per ethnicity5 group, the first sel selected.
func rowsFromCounts(t *testing.T, n, sel map[string]int) []Row {
	t.Helper()
	var rows []Row
	for _, g := range append(append([]string(nil), ethnicity5...), Unknown) {
		for i := 0; i < n[g]; i++ {
			r := Row{ID: fmt.Sprintf("%s-%04d", g, i), Score: 0.5, Label: -1, Ethnicity5: g}
			if i < sel[g] {
				r.Selected = 1
			}
			rows = append(rows, r)
		}
	}
	return rows
}

func TestExampleD(t *testing.T) {
	for _, table := range []string{"sdc1", "sdc2"} {
		t.Run(table, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", "example_d", table+".csv"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			recs, err := csv.NewReader(f).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			n, sel := map[string]int{}, map[string]int{}
			for _, r := range recs[1:] {
				if r[0] != "Total" {
					n[r[0]], _ = strconv.Atoi(r[1])
					sel[r[0]], _ = strconv.Atoi(r[2])
				}
			}
			cfg := DefaultConfig()
			cfg.Attributes = DefaultAttributes()[:1]
			cfg.Bootstrap = 0
			res, err := Audit(rowsFromCounts(t, n, sel), cfg)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]map[string]string{}
			for _, r := range res.Publishable.Rows {
				if r.Decision == "selected" {
					got[r.Group] = r.Values
				}
			}
			for _, r := range recs[1:] {
				for c, col := range []string{"n", "selected", "selection_rate"} {
					if g := got[r[0]][col]; g != r[3+c] {
						t.Errorf("%s %s: got %q; want %q", r[0], col, g, r[3+c])
					}
				}
			}
		})
	}
}

// checkPublishable asserts §4.9 on the SDC tier from the outside: no count
// 1..5 is shown, and no line (a column against Total, an intersection row
// or column against its margin, a nested breakdown against its parent) has
// exactly one hidden term, so nothing hidden can be recovered by subtraction.
func checkPublishable(t *testing.T, res *Result) {
	t.Helper()
	type key struct{ dec, attr, group string }
	cell := map[key]map[string]string{}
	for _, r := range res.Publishable.Rows {
		cell[key{r.Decision, r.Attribute, r.Group}] = r.Values
		for _, col := range []string{"n", "selected", "n_labelled", "pos", "tp"} {
			if v, err := strconv.Atoi(r.Values[col]); err == nil && v >= 1 && v <= 5 {
				t.Errorf("%v %s: published small count %d", r, col, v)
			}
		}
	}
	groups := func(attr string) []string {
		for _, a := range res.attrs {
			if a.Name == attr {
				return a.Groups
			}
		}
		return nil
	}
	check := func(dec, col, what string, members []key, total key) {
		hidden := 0
		for _, k := range append(members, total) {
			if cell[k][col] == "c" {
				hidden++
			}
		}
		if hidden == 1 {
			t.Errorf("%s %s %s: exactly one hidden term, recoverable", dec, col, what)
		}
	}
	for _, d := range res.Decisions {
		for _, col := range []string{"n", "selected", "n_labelled", "pos", "tp"} {
			total := key{d.ID, "overall", "Total"}
			for _, a := range res.attrs {
				var ms []key
				for _, g := range a.Groups {
					ms = append(ms, key{d.ID, a.Name, g})
				}
				check(d.ID, col, a.Name+" vs Total", ms, total)
			}
			e5, q := groups("ethnicity5"), groups("imd_quintile")
			for _, e := range e5 {
				var ms []key
				for _, qq := range q {
					ms = append(ms, key{d.ID, "ethnicity5×imd_quintile", e + "×" + qq})
				}
				check(d.ID, col, "row "+e, ms, key{d.ID, "ethnicity5", e})
			}
			for _, qq := range q {
				var ms []key
				for _, e := range e5 {
					ms = append(ms, key{d.ID, "ethnicity5×imd_quintile", e + "×" + qq})
				}
				check(d.ID, col, "column "+qq, ms, key{d.ID, "imd_quintile", qq})
			}
			for qi, qq := range q[:5] {
				ms := []key{{d.ID, "imd_decile", strconv.Itoa(2*qi + 1)}, {d.ID, "imd_decile", strconv.Itoa(2*qi + 2)}}
				check(d.ID, col, "deciles of "+qq, ms, key{d.ID, "imd_quintile", qq})
			}
			for _, e := range e5 {
				var ms []key
				for _, code := range groups("ethnicity19") {
					if g, _ := GroupOf5(code); g == e {
						ms = append(ms, key{d.ID, "ethnicity19", code})
					}
				}
				check(d.ID, col, "categories of "+e, ms, key{d.ID, "ethnicity5", e})
			}
		}
	}
}

// adversarialRows builds a population where many intersection cells hold
// 1..5 children, including rows and columns with a single small cell, the
// case where a naive one-way suppression leaks through the margins.
func adversarialRows(seed uint64, n int) []Row {
	rng := rand.New(rand.NewPCG(seed, 7))
	codes := append(append([]string(nil), ethnicity19...), "NOT_STATED")
	rows := make([]Row, n)
	for i := range rows {
		r := Row{ID: fmt.Sprintf("p%05d", i), Score: rng.Float64(), Label: int8(rng.IntN(3)) - 1}
		// Most children are White British in deciles 1–3; the rest are rare,
		// so their cells are small.
		if rng.IntN(10) < 8 {
			r.Ethnicity, r.IMDDecile = "WHITE_BRITISH", 1+rng.IntN(3)
		} else {
			r.Ethnicity, r.IMDDecile = codes[rng.IntN(len(codes))], rng.IntN(11)
		}
		r.Selected = int8(rng.IntN(2))
		rows[i] = r
	}
	return rows
}

func TestPublishableNeverRecoverable(t *testing.T) {
	cases := []struct {
		name string
		rows []Row
	}{
		{"single small cell per line", singleSmallCell()},
	}
	for s := uint64(1); s <= 20; s++ {
		cases = append(cases, struct {
			name string
			rows []Row
		}{fmt.Sprintf("random seed %d", s), adversarialRows(s, 150+int(s)*20)})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Bootstrap = 0
			cfg.Capacities = []int{len(tc.rows) / 10}
			res, err := Audit(tc.rows, cfg)
			if err != nil {
				t.Fatal(err)
			}
			checkPublishable(t, res)
		})
	}
}

// singleSmallCell has exactly one small (3) White×Q5 cell next to large
// cells: its row margin (White) and column margin (Q5) are both large, so
// both would reveal it without secondary suppression.
func singleSmallCell() []Row {
	var rows []Row
	add := func(code string, decile, k int) {
		for i := 0; i < k; i++ {
			rows = append(rows, Row{ID: fmt.Sprintf("%s-%d-%d", code, decile, i), Score: float64(i%10) / 10,
				Label: int8(i % 2), Selected: int8(i % 3 / 2), Ethnicity: code, IMDDecile: decile})
		}
	}
	add("WHITE_BRITISH", 1, 40)
	add("WHITE_BRITISH", 9, 3)
	add("ASIAN_INDIAN", 1, 30)
	add("ASIAN_INDIAN", 9, 25)
	return rows
}
