package fairness

import (
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// expectation is one number (or word) a worked example of §5 states.
type expectation struct {
	kind, decision, attribute, group, metric, field, want string
	tol                                                   float64
}

func readExpected(t *testing.T, dir string) []expectation {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", dir, "expected.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s/expected.csv: %v", dir, err)
	}
	var out []expectation
	for _, r := range recs[1:] {
		e := expectation{kind: r[0], decision: r[1], attribute: r[2], group: r[3], metric: r[4], field: r[5], want: r[6], tol: 1e-9}
		if r[7] != "" {
			if e.tol, err = strconv.ParseFloat(r[7], 64); err != nil {
				t.Fatalf("tol %q: %v", r[7], err)
			}
		}
		out = append(out, e)
	}
	return out
}

func readInput(t *testing.T, dir string) []Row {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", dir, "input.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := ReadCSV(f)
	if err != nil {
		t.Fatalf("%s/input.csv: %v", dir, err)
	}
	return rows
}

// parseWant reads "3/4", "0.75" or "null"; ok is false for a word.
func parseWant(s string) (v float64, null, ok bool) {
	if s == "null" {
		return 0, true, true
	}
	if num, den, frac := strings.Cut(s, "/"); frac {
		n, err1 := strconv.ParseFloat(num, 64)
		d, err2 := strconv.ParseFloat(den, 64)
		return n / d, false, err1 == nil && err2 == nil
	}
	v, err := strconv.ParseFloat(s, 64)
	return v, false, err == nil
}

// lookup finds the value an expectation names in the result.
func lookup(res *Result, e expectation) (any, error) {
	switch e.kind {
	case "decision":
		for _, d := range res.Decisions {
			if d.ID == e.decision {
				return field(d, e.field)
			}
		}
	case "coverage":
		for _, c := range res.Coverage {
			if c.Decision == e.decision && c.Attribute == e.attribute {
				return field(c, e.field)
			}
		}
	case "metric":
		var gm *GroupMetrics
		for i := range res.Overall {
			if e.attribute == "overall" && res.Overall[i].Decision == e.decision {
				gm = &res.Overall[i]
			}
		}
		for i := range res.Groups {
			g := &res.Groups[i]
			if g.Decision == e.decision && g.Attribute == e.attribute && g.Group == e.group {
				gm = g
			}
		}
		if gm == nil {
			break
		}
		if r, ok := gm.Rates[e.metric]; ok {
			return field(r, e.field)
		}
		return field(gm, e.metric)
	case "disparity":
		for i := range res.Disparities {
			d := &res.Disparities[i]
			if d.Decision == e.decision && d.Attribute == e.attribute && d.Group == e.group && d.Metric == e.metric {
				return field(d, e.field)
			}
		}
	case "summary":
		for i := range res.Summaries {
			s := &res.Summaries[i]
			if s.Decision == e.decision && s.Attribute == e.attribute && s.Metric == e.metric {
				return field(s, e.field)
			}
		}
	case "calibration":
		for i := range res.Calibration {
			c := &res.Calibration[i]
			if c.Attribute == e.attribute && c.Group == e.group {
				return field(c, e.field)
			}
		}
	case "calbin":
		for i := range res.CalibrationBins {
			b := &res.CalibrationBins[i]
			if b.Attribute == e.attribute && b.Group == e.group && strconv.Itoa(b.Bin) == e.metric {
				if e.field == "observed_rate" {
					return b.Observed.Value, nil
				}
				return field(b, e.field)
			}
		}
	}
	return nil, fmt.Errorf("not found")
}

func checkExpectations(t *testing.T, res *Result, exps []expectation) {
	t.Helper()
	for _, e := range exps {
		name := strings.Join([]string{e.kind, e.decision, e.attribute, e.group, e.metric, e.field}, "/")
		got, err := lookup(res, e)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		want, null, numeric := parseWant(e.want)
		if !numeric {
			if fmt.Sprint(deref(got)) != e.want {
				t.Errorf("%s: got %v; want %s", name, deref(got), e.want)
			}
			continue
		}
		g, isNull, ok := asFloat(got)
		switch {
		case !ok:
			t.Errorf("%s: got %T %v; want a number %s", name, got, got, e.want)
		case null != isNull:
			t.Errorf("%s: got %v (null=%v); want %s", name, deref(got), isNull, e.want)
		case !null && math.Abs(g-want) > e.tol:
			t.Errorf("%s: got %.9f; want %s (±%g)", name, g, e.want, e.tol)
		}
	}
}

func TestExampleA(t *testing.T) {
	rows := readInput(t, "example_a")
	group := ExtraAttribute("group", []string{"a", "b", "c"})
	g2 := ExtraAttribute("g2", []string{"6", "8"})
	refB := NewAttribute("group_ref_b", []string{"a", "b", "c"}, func(r *Row) string { return r.Extra["group"] })
	aif := NewAttribute("aif", []string{"priv", "unpriv"}, func(r *Row) string {
		if r.Extra["group"] == "c" {
			return "priv"
		}
		return "unpriv"
	})
	cfg := DefaultConfig()
	cfg.Attributes = []Attribute{group, g2, Intersect(group, g2), refB, aif}
	cfg.Reference = map[string]string{"group_ref_b": "predefined:b", "aif": "priv"}
	cfg.MinDenVerdict = 1 // §5 Example A: "use min_den_verdict = 1 to obtain these verdicts"
	cfg.Bootstrap = 0
	res, err := Audit(rows, cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkExpectations(t, res, readExpected(t, "example_a"))

	cfg.MinDenVerdict = 30
	res, err = Audit(rows, cfg)
	if err != nil {
		t.Fatal(err)
	}
	assertAllInsufficient(t, res, "group")
}

// assertAllInsufficient checks the examples' remark that with the default
// min_den_verdict every defined verdict is insufficient_data.
func assertAllInsufficient(t *testing.T, res *Result, attr string) {
	t.Helper()
	for _, d := range res.Disparities {
		if d.Attribute == attr && d.Ratio != nil && d.Verdict != VerdictInsufficient {
			t.Errorf("%s %s %s: got verdict %s; want %s", d.Decision, d.Group, d.Metric, d.Verdict, VerdictInsufficient)
		}
	}
}

func imdBand() Attribute {
	return NewAttribute("imd_band", []string{"IMD1-2", "IMD3-10"}, func(r *Row) string {
		switch {
		case r.IMDDecile == 0:
			return Unknown
		case r.IMDDecile <= 2:
			return "IMD1-2"
		}
		return "IMD3-10"
	})
}

func TestExampleB(t *testing.T) {
	rows := readInput(t, "example_b")
	cfg := DefaultConfig()
	cfg.Attributes = append(DefaultAttributes(), imdBand())
	cfg.Capacities = []int{4}
	cfg.MinDenVerdict = 1
	cfg.Bootstrap = 0
	res, err := Audit(rows, cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkExpectations(t, res, readExpected(t, "example_b"))
	for _, d := range res.Disparities {
		if d.Group == Unknown || strings.Contains(d.Group, Unknown) {
			t.Errorf("UNKNOWN got a disparity row: %+v", d)
		}
	}
	cfg.MinDenVerdict = 30
	if res, err = Audit(rows, cfg); err != nil {
		t.Fatal(err)
	}
	assertAllInsufficient(t, res, "ethnicity5")
}

func TestExampleC(t *testing.T) {
	rows := readInput(t, "example_c")
	cfg := DefaultConfig()
	cfg.Attributes = []Attribute{ExtraAttribute("band", []string{"D1", "D2"})}
	cfg.CalibrationBins = 5
	cfg.Thresholds = []float64{0.5}
	cfg.Bootstrap = 0
	res, err := Audit(rows, cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkExpectations(t, res, readExpected(t, "example_c"))
}
