package fairness

import (
	"fmt"
	"math"
	"testing"
)

// TestExampleE is the household-level worked example: two households
// recur over two dates, recall and selection use each child's own
// outcome, precision, FPR, FOR, calibration and AUC the household's, and
// every group row counts distinct children and households beside
// child-dates.
//
//	H1 (a): c01 referred, c02 not; selected on both dates, referred only on the first
//	H2 (b): c03, c04 neither referred; selected
//	H3 (a): c06 referred, c05 and c07 not; not selected
//	H4 (b) not referred, H5 (b) c09 referred, H6 (a) not referred; none selected
//
// Group a's precision is 2/4 by household (H1 on the first date counts
// both its children as true positives) where it would be 1/4 by child;
// its recall is 1/2 (c01 found, c06 missed). The comparison of b's
// precision rests on 2 child-dates but 1 household, so with a minimum of
// 2 it is insufficient.
func TestExampleE(t *testing.T) {
	rows := readInput(t, "example_e")
	cfg := DefaultConfig()
	cfg.Attributes = []Attribute{ExtraAttribute("group", []string{"a", "b"})}
	cfg.MinDenVerdict = 2
	cfg.Bootstrap = 0
	res, err := Audit(rows, cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkExpectations(t, res, readExpected(t, "example_e"))
}

// TestBootstrapResamplesHouseholds copies every child four times into one
// household: the intervals must stay as wide as the original's, where
// resampling rows would make them about half as wide.
func TestBootstrapResamplesHouseholds(t *testing.T) {
	base := synthetic(3000, 11)
	var clustered, loose []Row
	for i, r := range base {
		for c := 0; c < 4; c++ {
			k := r
			k.ID = fmt.Sprintf("%s-%d", r.ID, c)
			loose = append(loose, k)
			k.HouseholdID = fmt.Sprintf("h%06d", i)
			clustered = append(clustered, k)
		}
	}
	cfg := DefaultConfig()
	cfg.Attributes = DefaultAttributes()[:1]
	cfg.Capacities = []int{300}
	cfg.Bootstrap = 300
	width := func(rows []Row) (auc, tpr float64) {
		cfg.Capacities = []int{len(rows) / 10}
		res, err := Audit(rows, cfg)
		if err != nil {
			t.Fatal(err)
		}
		c := res.Calibration[0]
		for _, d := range res.Disparities {
			if d.Metric == "selection_rate" && d.Group == "Asian" && d.BootLo != nil {
				tpr = math.Log(*d.BootHi) - math.Log(*d.BootLo)
			}
		}
		return *c.AUCHi - *c.AUCLo, tpr
	}
	a0, s0 := width(base)
	a1, s1 := width(clustered)
	a2, s2 := width(loose)
	t.Logf("AUC interval width: original %.4f, households of four %.4f, rows of four %.4f", a0, a1, a2)
	t.Logf("Asian selection ratio log-width: original %.4f, households of four %.4f, rows of four %.4f", s0, s1, s2)
	for _, c := range []struct {
		name             string
		orig, hh, asRows float64
	}{{"AUC", a0, a1, a2}, {"selection ratio", s0, s1, s2}} {
		if c.hh < 0.8*c.orig || c.hh > 1.25*c.orig {
			t.Errorf("%s: households of four give width %.4f; want about the original's %.4f", c.name, c.hh, c.orig)
		}
		if c.asRows > 0.7*c.orig {
			t.Errorf("%s: rows of four give width %.4f; want about half the original's %.4f (the check has no power)", c.name, c.asRows, c.orig)
		}
	}
}
