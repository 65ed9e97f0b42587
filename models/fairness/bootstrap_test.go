package fairness

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSamplerIsMultinomial checks the two-stage draw against what n
// independent uniform picks give: every resample has exactly n picks, and
// over many resamples each row is picked once on average with variance
// 1 − 1/n, in whole chunks, across a chunk boundary and in the short last
// chunk alike.
func TestSamplerIsMultinomial(t *testing.T) {
	const n = 2<<chunkBits + 808 // two whole chunks and a short one
	const reps = 3000
	var smp sampler
	rng := rand.New(rand.NewPCG(1, 2))
	sum := make([]float64, n)
	sumSq := make([]float64, n)
	for r := 0; r < reps; r++ {
		total := 0
		next := 0
		smp.draw(rng, n, func(lo int, w []uint32) {
			if lo != next {
				t.Fatalf("chunk starts at row %d; want %d", lo, next)
			}
			next = lo + len(w)
			for j, c := range w {
				total += int(c)
				sum[lo+j] += float64(c)
				sumSq[lo+j] += float64(c) * float64(c)
			}
		})
		if total != n || next != n {
			t.Fatalf("resample %d: %d picks over %d rows; want %d over %d", r, total, next, n, n)
		}
	}
	// Every row on its own: its mean count has a standard error of
	// √(1/reps) ≈ 0.018, and the largest of 9,000 deviations is about
	// 4.5 of them.
	for i := range sum {
		if m := sum[i] / reps; math.Abs(m-1) > 0.12 {
			t.Fatalf("row %d: mean count %.3f over %d resamples; want 1", i, m, reps)
		}
	}
	// Mean and variance of the per-row count, pooled over each stretch of
	// rows; the tolerance is about five standard errors.
	stretches := []struct {
		name   string
		lo, hi int
	}{
		{"first chunk", 0, 1 << chunkBits},
		{"around the first boundary", 1<<chunkBits - 200, 1<<chunkBits + 200},
		{"short last chunk", 2 << chunkBits, n},
	}
	for _, s := range stretches {
		var m, v float64
		for i := s.lo; i < s.hi; i++ {
			mean := sum[i] / reps
			m += mean
			v += sumSq[i]/reps - mean*mean
		}
		cells := float64(s.hi - s.lo)
		m /= cells
		v /= cells
		se := math.Sqrt(1 / (reps * cells))
		if math.Abs(m-1) > 5*se {
			t.Errorf("%s: mean count %.4f; want 1 ± %.4f", s.name, m, 5*se)
		}
		if want := 1 - 1.0/n; math.Abs(v-want) > 0.05 {
			t.Errorf("%s: variance %.4f; want %.4f", s.name, v, want)
		}
	}
}

// stratified lays rows out as the bootstrap reads them, with a top-K
// what-if at capacity and a threshold of 0.12 as the decisions.
func stratified(t *testing.T, rows []Row, capacity int) (Config, *table, [][]int32, []*Decision, []stratum) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Capacities = []int{capacity}
	cfg.Thresholds = []float64{0.12}
	res, tb, gidx := laidOut(t, rows, cfg)
	return cfg, tb, gidx, res.Decisions, layout(tb, gidx, cfg.Attributes, res.Decisions, cfg.CalibrationBins, 2)
}

// selectedSums adds up, row by row, the weights of a group's rows that
// dec selected: all of them, those of referred households (tp), of
// households not referred (fp), and of children referred (ctp).
func selectedSums(tb *table, dec *Decision, idx, w []int32) (sel, tp, fp, ctp float64) {
	for i, r := range idx {
		if !dec.sel[r] {
			continue
		}
		wt := float64(w[i])
		sel += wt
		switch tb.label[r] {
		case 1:
			tp += wt
		case 0:
			fp += wt
		}
		if tb.child[r] == 1 {
			ctp += wt
		}
	}
	return sel, tp, fp, ctp
}

// TestBootAccMatchesAccumulate gives the resample sums, over runs,
// households and their cells, and the plain per-row arithmetic the same
// weights: calibration, AUC and every decision's rates must agree to the
// bit, but for the Brier sum, which a household adds as its weight times
// its rows' sum and so rounds differently in the last place.
func TestBootAccMatchesAccumulate(t *testing.T) {
	// Coarse scores: many ties; some unlabelled. A household per row.
	cfg, tb, gidx, decs, strata := stratified(t, synthetic(5000, 7), 300)
	k := 0 // ethnicity5
	idx := groupLists(tb, gidx[k], len(cfg.Attributes[k].Groups))[3]
	st := strata[1+k]
	packed := st.rows[st.starts[3]:st.starts[4]]
	if len(idx) != len(packed) || len(idx) < 500 {
		t.Fatalf("group has %d rows, packed %d", len(idx), len(packed))
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := range 4 {
		w := make([]int32, len(idx))
		hw := make([]uint32, st.nunit[3])
		for i := range w {
			if rng.IntN(3) > 0 { // a third not picked, as in a resample
				w[i] = int32(rng.IntN(4))
			}
			hw[st.unit[st.starts[3]+i]] = uint32(w[i])
		}
		var want calSums
		want.reset(cfg.CalibrationBins)
		want.accumulate(tb, idx, w)
		var got bootAcc
		got.reset(cfg.CalibrationBins, len(decs))
		got.add(&st, 3, hw)
		got.finish()
		for _, c := range []struct {
			name      string
			got, want float64
			exact     bool
		}{
			{"n", got.n, want.n, true}, {"brier", got.brier, want.brier, false}, {"auc numerator", got.aucNum, want.aucNum, true},
			{"positives", got.pos, want.pos, true}, {"negatives", got.neg, want.neg, true}, {"ece", got.ece(), want.ece(), true},
		} {
			if c.got != c.want && (c.exact || math.Abs(c.got-c.want) > 1e-12*max(1, math.Abs(c.want))) {
				t.Errorf("trial %d: %s = %v; want %v", trial, c.name, c.got, c.want)
			}
		}
		var all float64
		for i := range idx {
			all += float64(w[i])
		}
		for d, dec := range decs {
			sel, tp, fp, _ := selectedSums(tb, dec, idx, w)
			if got.all != all || got.sel[d] != sel || got.tp[d] != tp || got.fp[d] != fp {
				t.Errorf("trial %d, %s: rows/selected/tp/fp = %v/%v/%v/%v; want %v/%v/%v/%v",
					trial, dec.ID, got.all, got.sel[d], got.tp[d], got.fp[d], all, sel, tp, fp)
			}
			if sel == 0 {
				t.Errorf("%s selects no one in the group: the test would not check selection", dec.ID)
			}
		}
	}
}

// TestBootRunsMatchRows checks the runs the bootstrap reads against the
// rows they stand for: in every group of every stratum, with a weight
// drawn per household, the runs sum to what the rows sum to one by one
// (calSums.accumulate for calibration and AUC, plain sums for the
// selection and outcome counts). It also checks that each run holds rows
// of one household only, and that runs did form, so the test reads what
// the merge does.
func TestBootRunsMatchRows(t *testing.T) {
	cfg, tb, gidx, decs, strata := stratified(t, families(6000, 11), 400)
	rng := rand.New(rand.NewPCG(5, 6))
	weight := make([]int32, slices.Max(tb.house)+1)
	runs, total := 0, 0
	for si, st := range strata {
		lists := [][]int32{tb.asc}
		if si > 0 {
			lists = groupLists(tb, gidx[si-1], len(cfg.Attributes[si-1].Groups))
		}
		for g, idx := range lists {
			packed := st.rows[st.starts[g]:st.starts[g+1]]
			runs, total = runs+len(packed), total+len(idx)
			for h := range weight {
				weight[h] = 0
				if rng.IntN(3) > 0 {
					weight[h] = int32(rng.IntN(4))
				}
			}
			w := make([]int32, len(idx))
			for i, r := range idx {
				w[i] = weight[tb.house[r]]
			}
			hw := make([]uint32, st.nunit[g])
			p := 0
			for j, run := range packed {
				if p+int(run.n) > len(idx) {
					t.Fatalf("stratum %d group %d: runs hold more rows than the group", si, g)
				}
				h := tb.house[idx[p]]
				for _, r := range idx[p : p+int(run.n)] {
					if tb.house[r] != h {
						t.Fatalf("stratum %d group %d: run %d joins two households", si, g, j)
					}
				}
				hw[st.unit[st.starts[g]+j]] = uint32(weight[h])
				p += int(run.n)
			}
			if p != len(idx) {
				t.Fatalf("stratum %d group %d: runs hold %d rows; the group has %d", si, g, p, len(idx))
			}
			var want calSums
			want.reset(cfg.CalibrationBins)
			want.accumulate(tb, idx, w)
			var got bootAcc
			got.reset(cfg.CalibrationBins, len(decs))
			got.add(&st, g, hw)
			got.finish()
			for _, c := range []struct {
				name      string
				got, want float64
				exact     bool
			}{
				{"n", got.n, want.n, true}, {"auc numerator", got.aucNum, want.aucNum, true},
				{"positives", got.pos, want.pos, true}, {"negatives", got.neg, want.neg, true},
				// A run adds its rows' products at once, so these round
				// differently in the last place.
				{"brier", got.brier, want.brier, false}, {"ece", got.ece(), want.ece(), false},
			} {
				if c.got != c.want && (c.exact || math.Abs(c.got-c.want) > 1e-12*max(1, math.Abs(c.want))) {
					t.Errorf("stratum %d group %d: %s = %v; want %v", si, g, c.name, c.got, c.want)
				}
			}
			var all, clab, cpos float64
			for i, r := range idx {
				wt := float64(w[i])
				all += wt
				if y := tb.child[r]; y >= 0 {
					clab += wt
					cpos += wt * float64(y)
				}
			}
			if got.all != all || got.clab != clab || got.cpos != cpos {
				t.Errorf("stratum %d group %d: rows/children known/referred = %v/%v/%v; want %v/%v/%v",
					si, g, got.all, got.clab, got.cpos, all, clab, cpos)
			}
			for d, dec := range decs {
				sel, tp, fp, ctp := selectedSums(tb, dec, idx, w)
				if got.sel[d] != sel || got.tp[d] != tp || got.fp[d] != fp || got.ctp[d] != ctp {
					t.Errorf("stratum %d group %d, %s: selected/tp/fp/ctp = %v/%v/%v/%v; want %v/%v/%v/%v",
						si, g, dec.ID, got.sel[d], got.tp[d], got.fp[d], got.ctp[d], sel, tp, fp, ctp)
				}
			}
		}
	}
	if runs > total*3/4 {
		t.Errorf("%d runs for %d rows: households of several children should have formed runs", runs, total)
	}
}

// BenchmarkBootAccAdd times one resample's sums over a council-sized
// group, the bootstrap's inner loop, apart from drawing and laying out:
// ns/row is per run of rows. The rows are a back-test's: households of
// families over six dates, each date with scores of its own.
func BenchmarkBootAccAdd(b *testing.B) {
	cfg := DefaultConfig()
	cfg.CapacityFractions = []float64{0.1}
	res, t, gidx := laidOut(b, pooled(families(170000, 11), 6), cfg)
	st := layout(t, gidx, cfg.Attributes, res.Decisions, cfg.CalibrationBins, 1)[0]
	rng := rand.New(rand.NewPCG(1, 2))
	w := make([]uint32, st.nunit[0])
	for i := range w {
		w[i] = uint32(rng.IntN(3))
	}
	var acc bootAcc
	b.ResetTimer()
	for range b.N {
		acc.reset(cfg.CalibrationBins, len(res.Decisions))
		acc.add(&st, 0, w)
		acc.finish()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(st.rows)), "ns/row")
}

// pooled is rows on each of dates as-of dates, as a back-test pools them:
// the same households and children, each household with a new score on
// each date, continuous as a model's are (in a 300,000-child back-test,
// nine runs in ten start a new score; coarse scores, where nearly every
// run is tied, make the AUC read every run twice).
func pooled(rows []Row, dates int) []Row {
	rng := rand.New(rand.NewPCG(uint64(dates), 13))
	out := make([]Row, 0, len(rows)*dates)
	for d := range dates {
		for i, r := range rows {
			r.AsOf = fmt.Sprintf("2025-%02d-01", d+1)
			if i == 0 || r.HouseholdID != rows[i-1].HouseholdID {
				r.Score = rng.Float64()
			} else {
				r.Score = out[len(out)-1].Score
			}
			out = append(out, r)
		}
	}
	return out
}
