package evaluate

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestWilson checks the Wilson interval against Newcombe (1998, Stat Med
// 17:857, Table I), whose worked examples give it to four places.
func TestWilson(t *testing.T) {
	tests := []struct {
		x, n      int
		low, high float64
	}{
		{81, 263, 0.2553, 0.3662},
		{15, 148, 0.0624, 0.1605},
		{0, 20, 0, 0.1611},
		{1, 29, 0.0061, 0.1718},
	}
	for _, tc := range tests {
		iv, err := Wilson(tc.x, tc.n, Z95)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(iv.Low-tc.low) > 5e-5 || math.Abs(iv.High-tc.high) > 5e-5 {
			t.Errorf("Wilson(%d/%d) = [%.4f, %.4f]; want [%.4f, %.4f]", tc.x, tc.n, iv.Low, iv.High, tc.low, tc.high)
		}
	}
}

// TestCompareArms checks the hybrid score interval for a difference
// against Newcombe (1998, Stat Med 17:873, Table II, method 10).
func TestCompareArms(t *testing.T) {
	tests := []struct {
		x1, n1, x2, n2 int
		low, high      float64
	}{
		{56, 70, 48, 80, 0.0524, 0.3339},
		{9, 10, 3, 10, 0.1705, 0.8090},
		{6, 7, 2, 7, 0.0582, 0.8062},
		{5, 56, 0, 29, -0.0381, 0.1926},
	}
	for _, tc := range tests {
		c, err := CompareArms(tc.x1, tc.n1, tc.x2, tc.n2, Z95)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(c.DiffCI.Low-tc.low) > 5e-5 || math.Abs(c.DiffCI.High-tc.high) > 5e-5 {
			t.Errorf("CompareArms(%d/%d − %d/%d) = [%.4f, %.4f]; want [%.4f, %.4f]",
				tc.x1, tc.n1, tc.x2, tc.n2, c.DiffCI.Low, c.DiffCI.High, tc.low, tc.high)
		}
		if want := float64(tc.x1)/float64(tc.n1) - float64(tc.x2)/float64(tc.n2); c.Difference != want {
			t.Errorf("difference %g; want %g", c.Difference, want)
		}
	}
}

func TestCompareArmsBadInput(t *testing.T) {
	for _, tc := range []struct{ x1, n1, x2, n2 int }{{1, 0, 1, 5}, {6, 5, 1, 5}, {1, 5, -1, 5}} {
		if _, err := CompareArms(tc.x1, tc.n1, tc.x2, tc.n2, Z95); err == nil {
			t.Errorf("CompareArms(%v) gave no error", tc)
		}
	}
}

// TestCompareArmsCoverage: over many simulated trials with known rates the
// 95% interval holds the true difference about 95% of the time.
func TestCompareArmsCoverage(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const trials, n = 2000, 150
	p1, p2 := 0.10, 0.18
	hit := 0
	for range trials {
		x1, x2 := 0, 0
		for range n {
			if rng.Float64() < p1 {
				x1++
			}
			if rng.Float64() < p2 {
				x2++
			}
		}
		c, err := CompareArms(x1, n, x2, n, Z95)
		if err != nil {
			t.Fatal(err)
		}
		if c.DiffCI.Contains(p1 - p2) {
			hit++
		}
	}
	cov := float64(hit) / trials
	t.Logf("coverage %.3f over %d trials", cov, trials)
	if cov < 0.93 || cov > 0.975 {
		t.Errorf("coverage %.3f; want about 0.95", cov)
	}
}

func TestCompareOutcomes(t *testing.T) {
	var rows []Outcome
	add := func(offered bool, events, n int) {
		for i := range n {
			rows = append(rows, Outcome{Offered: offered, Event: i < events})
		}
	}
	add(true, 56, 70)
	add(false, 48, 80)
	c, err := CompareOutcomes(rows, Z95)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := CompareArms(56, 70, 48, 80, Z95)
	if c != want {
		t.Errorf("CompareOutcomes = %+v; want %+v", c, want)
	}
	if _, err := CompareOutcomes(rows[:70], Z95); err == nil {
		t.Error("an empty arm gave no error")
	}
}
