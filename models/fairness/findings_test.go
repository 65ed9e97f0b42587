package fairness

import (
	"math"
	"testing"
)

// TestClassify checks the findings rule against the band [0.8, 1.25] and
// the Benjamini–Hochberg adjustment.
func TestClassify(t *testing.T) {
	cfg := DefaultConfig()
	d := func(name string, r, lo, hi float64, verdict string) Disparity {
		return Disparity{Decision: "selected", Group: name, Metric: "tpr", Ratio: ptr(r), BootLo: ptr(lo), BootHi: ptr(hi), Verdict: verdict}
	}
	ds := []Disparity{
		d("below", 0.5, 0.4, 0.7, VerdictOutside),      // whole interval below 0.8
		d("crosses", 0.5, 0.3, 0.9, VerdictOutside),    // outside on its point only
		d("within", 1.0, 0.85, 1.2, VerdictWithin),     // point and interval inside
		d("wide", 1.0, 0.6, 1.6, VerdictWithin),        // inside on its point, interval crosses
		d("above", 2.0, 1.3, 3.0, VerdictOutside),      // whole interval above 1.25
		d("small", 0.2, 0.1, 0.3, VerdictInsufficient), // below the minimum count
		{Decision: "selected", Group: "none", Metric: "tpr", Verdict: VerdictUndefined},
	}
	classify(ds, &cfg)
	want := []string{ClassFinding, ClassInconclusive, ClassWithin, ClassInconclusive, ClassFinding, ClassInsufficient, ClassUndefined}
	for i, w := range want {
		if ds[i].Finding != w {
			t.Errorf("%s: got %s; want %s", ds[i].Group, ds[i].Finding, w)
		}
		if ds[i].P != nil && (ds[i].Finding == ClassFinding) != (*ds[i].P < 0.025) {
			t.Errorf("%s: p %.4f disagrees with class %s", ds[i].Group, *ds[i].P, ds[i].Finding)
		}
	}
}

// TestBenjaminiHochberg: p-values 0.001, 0.01, 0.02, 0.04 over m = 4 adjust
// to 0.004, 0.02, 0.0266…, 0.04.
func TestBenjaminiHochberg(t *testing.T) {
	cfg := DefaultConfig()
	var ds []Disparity
	for _, p := range []float64{0.02, 0.001, 0.04, 0.01} {
		// A ratio below the band whose interval gives exactly p.
		se := 0.1
		r := 0.8 * math.Exp(-se*-math.Sqrt2*math.Erfinv(2*p-1))
		hi := math.Exp(math.Log(r) + se*cfg.z())
		ds = append(ds, Disparity{Decision: "selected", Metric: "tpr", Ratio: ptr(r), BootLo: ptr(r / 2), BootHi: ptr(hi), Verdict: VerdictOutside})
	}
	classify(ds, &cfg)
	want := []float64{0.08 / 3, 0.004, 0.04, 0.02}
	wantBH := []string{ClassInconclusive, ClassFinding, ClassInconclusive, ClassFinding}
	for i := range ds {
		if math.Abs(*ds[i].PBH-want[i]) > 1e-9 {
			t.Errorf("p %.4f: got adjusted %.6f; want %.6f", *ds[i].P, *ds[i].PBH, want[i])
		}
		if ds[i].FindingBH != wantBH[i] {
			t.Errorf("p %.4f: got %s after adjustment; want %s", *ds[i].P, ds[i].FindingBH, wantBH[i])
		}
	}
}
