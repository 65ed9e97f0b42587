package fairness

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
)

// bootMetrics are the between-group aggregates the bootstrap covers (§4.5:
// EOD and between-group diff/ratio); "equalized_odds" combines tpr and fpr.
var bootMetrics = []string{"selection_rate", "tpr", "fpr", "equalized_odds"}

// bootstrap adds percentile intervals to calibration (ece, brier, auc) and
// to the summary's between-group diff and ratio. Each group's rows are
// resampled with replacement to the group's own size, so small groups never
// vanish (stratified, §4.5). Resample b draws from PCG(seed, b), so the
// result is the same for any number of workers.
func bootstrap(res *Result, t *table, gidx [][]int32, decs []*Decision, cfg *Config) {
	B := cfg.Bootstrap
	attrs := cfg.Attributes
	lists := make([][][]int32, len(attrs))
	for k := range attrs {
		lists[k] = groupLists(t, gidx[k], len(attrs[k].Groups))
	}
	ncal := len(res.Calibration)
	calVals := make([][3][]float64, ncal) // ece, brier, auc per calibration row
	for i := range calVals {
		for s := range calVals[i] {
			calVals[i][s] = make([]float64, B)
		}
	}
	// sumVals[d][k][m] holds [diff, ratio] per resample.
	sumVals := make([][][][2][]float64, len(decs))
	for d := range decs {
		sumVals[d] = make([][][2][]float64, len(attrs))
		for k := range attrs {
			sumVals[d][k] = make([][2][]float64, len(bootMetrics))
			for m := range bootMetrics {
				sumVals[d][k][m] = [2][]float64{make([]float64, B), make([]float64, B)}
			}
		}
	}
	workers := cfg.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var wg sync.WaitGroup
	for wk := 0; wk < workers; wk++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var cs calSums
			w := make([]int32, len(t.asc))
			rates := make([][3][]float64, len(decs))
			for b := wk; b < B; b += workers {
				rng := rand.New(rand.NewPCG(cfg.Seed, uint64(b)))
				cal := 0
				record := func(idx []int32) {
					resample(rng, w[:len(idx)], len(idx))
					cs.reset(cfg.CalibrationBins)
					cs.accumulate(t, idx, w[:len(idx)])
					calVals[cal][0][b], calVals[cal][1][b], calVals[cal][2][b] = math.NaN(), math.NaN(), math.NaN()
					if cs.n > 0 {
						calVals[cal][0][b], calVals[cal][1][b] = cs.ece(), cs.brier/cs.n
					}
					if a, ok := cs.auc(); ok {
						calVals[cal][2][b] = a
					}
					cal++
				}
				record(t.asc)
				for k := range attrs {
					for d := range decs {
						for m := range rates[d] {
							rates[d][m] = rates[d][m][:0]
						}
					}
					for g, idx := range lists[k] {
						record(idx)
						if !attrs[k].Known[g] {
							continue
						}
						groupRates(idx, w[:len(idx)], t, decs, rates)
					}
					for d := range decs {
						between(rates[d], sumVals[d][k], b)
					}
				}
			}
		}()
	}
	wg.Wait()
	for i := range res.Calibration {
		c := &res.Calibration[i]
		c.ECELo, c.ECEHi = percentile(calVals[i][0], cfg.CILevel)
		c.BrierLo, c.BrierHi = percentile(calVals[i][1], cfg.CILevel)
		c.AUCLo, c.AUCHi = percentile(calVals[i][2], cfg.CILevel)
	}
	for i := range res.Summaries {
		s := &res.Summaries[i]
		d := slices.IndexFunc(decs, func(x *Decision) bool { return x.ID == s.Decision })
		k := slices.IndexFunc(attrs, func(a Attribute) bool { return a.Name == s.Attribute })
		m := slices.Index(bootMetrics, s.Metric)
		if d < 0 || k < 0 || m < 0 {
			continue
		}
		s.DiffLo, s.DiffHi = percentile(sumVals[d][k][m][0], cfg.CILevel)
		s.RatioLo, s.RatioHi = percentile(sumVals[d][k][m][1], cfg.CILevel)
	}
}

// resample draws n positions with replacement into weights w.
func resample(rng *rand.Rand, w []int32, n int) {
	clear(w)
	for i := 0; i < n; i++ {
		w[rng.IntN(n)]++
	}
}

// groupRates appends one known group's resampled selection rate, TPR and
// FPR per decision (NaN when undefined, so it drops out like in §4.6.5).
func groupRates(idx []int32, w []int32, t *table, decs []*Decision, rates [][3][]float64) {
	for d := range decs {
		var n, sel, tp, pos, fp, neg float64
		s := decs[d].sel
		for j, r := range idx {
			wt := float64(w[j])
			if wt == 0 {
				continue
			}
			n += wt
			in := s[r]
			if in {
				sel += wt
			}
			switch t.label[r] {
			case 1:
				pos += wt
				if in {
					tp += wt
				}
			case 0:
				neg += wt
				if in {
					fp += wt
				}
			}
		}
		rates[d][0] = append(rates[d][0], ratio(sel, n))
		rates[d][1] = append(rates[d][1], ratio(tp, pos))
		rates[d][2] = append(rates[d][2], ratio(fp, neg))
	}
}

func ratio(x, n float64) float64 {
	if n == 0 {
		return math.NaN()
	}
	return x / n
}

// between stores diff_between and ratio_between of selection_rate, tpr and
// fpr for resample b, and their equalized-odds combination.
func between(rates [3][]float64, out [][2][]float64, b int) {
	var diff, rat [3]float64
	for m := range rates {
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, v := range rates[m] {
			if !math.IsNaN(v) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
		diff[m], rat[m] = math.NaN(), math.NaN()
		if hi >= lo {
			diff[m] = hi - lo
			if hi > 0 {
				rat[m] = lo / hi
			}
		}
		out[m][0][b], out[m][1][b] = diff[m], rat[m]
	}
	out[3][0][b] = math.Max(diff[1], diff[2]) // NaN propagates: EOD needs both
	out[3][1][b] = math.Min(rat[1], rat[2])
}

// percentile is the central interval with linear interpolation between
// order statistics (numpy's default), over the resamples where the
// statistic is defined.
func percentile(vals []float64, level float64) (lo, hi *float64) {
	v := make([]float64, 0, len(vals))
	for _, x := range vals {
		if !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return nil, nil
	}
	slices.Sort(v)
	q := func(p float64) float64 {
		pos := p * float64(len(v)-1)
		i := int(pos)
		if i+1 >= len(v) {
			return v[len(v)-1]
		}
		return v[i] + (pos-float64(i))*(v[i+1]-v[i])
	}
	a := (1 - level) / 2
	return ptr(q(a)), ptr(q(1 - a))
}
