package main

import (
	"bufio"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"earlyhelp/models/evaluate"
	"earlyhelp/pipeline/rank"
)

// truthWeek is one week of a synthetic council's truth: each household's
// true probability of the outcome within 26 weeks.
type truthWeek struct {
	start time.Time
	hh    []string
	p     []float64
}

// readTruthWeeks reads truth/household_weeks.csv. Only this test reads
// truth/: the pipeline never does.
func readTruthWeeks(t *testing.T, path string) []truthWeek {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	byWeek := map[string]*truthWeek{}
	for n := 0; sc.Scan(); n++ {
		if n == 0 {
			if got := sc.Text(); got != "household_id,week_start,need,p_referral_26w" {
				t.Fatalf("household_weeks.csv header %q", got)
			}
			continue
		}
		f := strings.Split(sc.Text(), ",")
		if len(f) != 4 {
			t.Fatalf("household_weeks.csv row %d: %d fields", n+1, len(f))
		}
		p, err := strconv.ParseFloat(f[3], 64)
		if err != nil {
			t.Fatalf("household_weeks.csv row %d: %v", n+1, err)
		}
		w := byWeek[f[1]]
		if w == nil {
			d, err := time.Parse(time.DateOnly, f[1])
			if err != nil {
				t.Fatal(err)
			}
			w = &truthWeek{start: d}
			byWeek[f[1]] = w
		}
		w.hh = append(w.hh, f[0])
		w.p = append(w.p, p)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	out := make([]truthWeek, 0, len(byWeek))
	for _, w := range byWeek {
		out = append(out, *w)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].start.Before(out[j].start) })
	return out
}

// simResult is one simulated evaluation.
type simResult struct {
	planted float64 // the expected offered-minus-not-offered difference over the households drawn
	cmp     evaluate.ArmComparison
}

// simulateLottery runs the capacity-margin lottery over every week of the
// truth: a model ranks households by their true risk blurred by its own
// noise, households listed in the last cool-off weeks or ever drawn are
// not eligible, the pipeline's DrawMargin draws the margin, and each drawn
// household's outcome is drawn from its true probability, reduced by the
// planted relative effect when it was offered. The estimator then compares
// the arms on each household's first draw.
func simulateLottery(weeks []truthWeek, capacity, margin, cooloffWeeks int, effect float64, seed uint64) (simResult, error) {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	lastListed := map[string]int{}
	drawn := map[string]bool{}
	var rows []evaluate.Outcome
	var plantedSum float64
	for w, wk := range weeks {
		type cand struct {
			i     int
			score float64
		}
		// Only the top capacity + margin of the ranking matter to the
		// draw: they are kept in order as the households are scored.
		keep := capacity + margin
		cands := make([]cand, 0, keep+1)
		eligible := 0
		for i, h := range wk.hh {
			if drawn[h] {
				continue
			}
			if l, ok := lastListed[h]; ok && w-l < cooloffWeeks {
				continue
			}
			eligible++
			p := math.Min(math.Max(wk.p[i], 1e-6), 1-1e-6)
			c := cand{i, math.Log(p/(1-p)) + 0.3*rng.NormFloat64()}
			if len(cands) == keep && c.score <= cands[keep-1].score {
				continue
			}
			at := sort.Search(len(cands), func(k int) bool { return cands[k].score < c.score })
			cands = append(cands, cand{})
			copy(cands[at+1:], cands[at:])
			cands[at] = c
			if len(cands) > keep {
				cands = cands[:keep]
			}
		}
		d, err := rank.DrawMargin(eligible, capacity, margin, int64(seed), wk.start)
		if err != nil {
			return simResult{}, err
		}
		for _, k := range d.Always {
			lastListed[wk.hh[cands[k].i]] = w
		}
		arm := func(idx []int, offered bool) {
			for _, k := range idx {
				h, p := wk.hh[cands[k].i], wk.p[cands[k].i]
				drawn[h] = true
				if offered {
					lastListed[h] = w
				}
				q := p
				if offered {
					q = p * (1 - effect)
				}
				// The expected difference this household adds: −p·effect,
				// whichever arm it fell in, since either was equally likely.
				plantedSum -= p * effect
				rows = append(rows, evaluate.Outcome{Offered: offered, Event: rng.Float64() < q})
			}
		}
		arm(d.Offered, true)
		arm(d.NotOffered, false)
	}
	cmp, err := evaluate.CompareOutcomes(rows, evaluate.Z95)
	if err != nil {
		return simResult{}, err
	}
	return simResult{planted: plantedSum / float64(len(rows)), cmp: cmp}, nil
}

// TestEvaluationLotterySimulation: on a 20,000-child synthetic council,
// with a planted effect of early help on the offered households' outcome
// probability, the lottery and the estimator recover it: the interval
// holds the planted effect, excludes 0 when the effect is large and
// includes it when there is none, and over many replications the 95%
// interval covers the planted effect about 95% of the time.
func TestEvaluationLotterySimulation(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a 20,000-child council")
	}
	dir := t.TempDir()
	if code, _, stderr := runCLI(t, "synth", "--out", dir, "--children", "20000", "--seed", "21"); code != 0 {
		t.Fatalf("synth: %s", stderr)
	}
	weeks := readTruthWeeks(t, filepath.Join(dir, "truth", "household_weeks.csv"))
	if len(weeks) < 52 {
		t.Fatalf("truth has %d weeks; want two years", len(weeks))
	}
	const capacity, margin, cooloff = 60, 10, 12
	tests := []struct {
		name      string
		effect    float64 // relative reduction of the offered households' probability
		exclude0  bool
		include0  bool
		seed      uint64
		wantWeeks int
	}{
		{"large effect (40% fewer outcomes)", 0.40, true, false, 1, len(weeks)},
		{"moderate effect (25% fewer outcomes)", 0.25, false, false, 2, len(weeks)},
		{"no effect", 0, false, true, 3, len(weeks)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := simulateLottery(weeks, capacity, margin, cooloff, tc.effect, tc.seed)
			if err != nil {
				t.Fatal(err)
			}
			c := r.cmp
			t.Logf("planted effect %.4f; estimate %.4f, 95%% interval [%.4f, %.4f]; offered %d/%d (%.3f), not offered %d/%d (%.3f); %d weeks, capacity %d, margin %d",
				r.planted, c.Difference, c.DiffCI.Low, c.DiffCI.High, c.Offered.Events, c.Offered.N, c.Offered.Rate,
				c.NotOffered.Events, c.NotOffered.N, c.NotOffered.Rate, len(weeks), capacity, margin)
			if c.Offered.N+c.NotOffered.N != 2*margin*tc.wantWeeks {
				t.Errorf("%d households drawn; want 2m per week = %d", c.Offered.N+c.NotOffered.N, 2*margin*tc.wantWeeks)
			}
			if c.Offered.N != c.NotOffered.N {
				t.Errorf("arms of %d and %d; the lottery offers m of 2m each week", c.Offered.N, c.NotOffered.N)
			}
			if !c.DiffCI.Contains(r.planted) {
				t.Errorf("interval [%.4f, %.4f] misses the planted effect %.4f", c.DiffCI.Low, c.DiffCI.High, r.planted)
			}
			if tc.exclude0 && c.DiffCI.Contains(0) {
				t.Errorf("interval [%.4f, %.4f] includes 0 for a large planted effect", c.DiffCI.Low, c.DiffCI.High)
			}
			if tc.include0 && !c.DiffCI.Contains(0) {
				t.Errorf("interval [%.4f, %.4f] excludes 0 with no planted effect", c.DiffCI.Low, c.DiffCI.High)
			}
		})
	}
	// Coverage over replications: fresh model noise, draws and outcomes.
	const reps = 100
	hit, excl := 0, 0
	var sumEst, sumPlanted float64
	for s := range uint64(reps) {
		r, err := simulateLottery(weeks, capacity, margin, cooloff, 0.25, 100+s)
		if err != nil {
			t.Fatal(err)
		}
		sumEst += r.cmp.Difference
		sumPlanted += r.planted
		if r.cmp.DiffCI.Contains(r.planted) {
			hit++
		}
		if !r.cmp.DiffCI.Contains(0) {
			excl++
		}
	}
	cov := float64(hit) / reps
	t.Logf("over %d replications at a 25%% planted effect: the interval held it in %d (coverage %.2f) and excluded 0 in %d (power %.2f)", reps, hit, cov, excl, float64(excl)/reps)
	// The estimator is unbiased under the lottery: its mean over the
	// replications is the planted effect's, within a few standard errors
	// of that mean (one replication's is about 0.012).
	meanEst, meanPlanted := sumEst/reps, sumPlanted/reps
	t.Logf("mean estimate %.4f against mean planted effect %.4f", meanEst, meanPlanted)
	if math.Abs(meanEst-meanPlanted) > 0.005 {
		t.Errorf("mean estimate %.4f; want the planted %.4f within 0.005", meanEst, meanPlanted)
	}
	// At 95% nominal, 100 replications fall below 0.88 with probability
	// about 0.004.
	if cov < 0.88 {
		t.Errorf("coverage %.2f over %d replications; want about 0.95", cov, reps)
	}
}
