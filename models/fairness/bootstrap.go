package fairness

import (
	"math"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
)

// bootMetrics are the between-group aggregates the bootstrap covers (§4.5:
// EOD and between-group diff/ratio); "equalized_odds" combines tpr and fpr.
var bootMetrics = []string{"selection_rate", "tpr", "fpr", "equalized_odds"}

// bootstrap adds percentile intervals to calibration (ece, brier, auc), to
// the summary's between-group diff and ratio, and to every disparity's
// ratio. Within each group it resamples households with replacement, as
// many as the group has, and a drawn household brings all its child-dates
// in the group: a back-test pools dates, so a household's rows are not
// independent, and resampling rows gave intervals far too narrow. Groups
// are resampled separately (stratified, §4.5), so small groups never
// vanish; a household with children in two groups is drawn in each
// independently. Resample b draws from PCG(seed, b), so the result is the
// same for any number of workers.
func bootstrap(res *Result, t *table, gidx [][]int32, decs []*Decision, cfg *Config) {
	B := cfg.Bootstrap
	attrs := cfg.Attributes
	workers := cfg.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	strata := layout(t, gidx, attrs, decs, cfg.CalibrationBins, workers)
	for si := range strata {
		// The resamples read the runs, households and cells; the rows they
		// were summed from, 150 MB at 300,000 children, are let go.
		strata[si].rows, strata[si].unit = nil, nil
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
	disp := newDispBoot(res, strata, attrs, decs, B)
	var wg sync.WaitGroup
	for wk := 0; wk < workers; wk++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var smp sampler
			var acc bootAcc
			var houseW []uint32
			rates := make([][3][]float64, len(decs))
			counts := make([][]groupCounts, len(strata))
			for si := range strata {
				counts[si] = make([]groupCounts, (len(strata[si].starts)-1)*len(decs))
			}
			for b := wk; b < B; b += workers {
				rng := rand.New(rand.NewPCG(cfg.Seed, uint64(b)))
				cal := 0
				for si := range strata {
					st := &strata[si]
					for d := range rates {
						for m := range rates[d] {
							rates[d][m] = rates[d][m][:0]
						}
					}
					for g := 0; g+1 < len(st.starts); g++ {
						acc.reset(cfg.CalibrationBins, len(decs))
						houseW = slices.Grow(houseW[:0], st.nunit[g])[:st.nunit[g]]
						smp.draw(rng, st.nunit[g], func(lo int, w []uint32) { copy(houseW[lo:], w) })
						acc.add(st, g, houseW)
						acc.finish()
						acc.counts(counts[si][g*len(decs) : (g+1)*len(decs)])
						calVals[cal][0][b], calVals[cal][1][b], calVals[cal][2][b] = math.NaN(), math.NaN(), math.NaN()
						if acc.n > 0 {
							calVals[cal][0][b], calVals[cal][1][b] = acc.ece(), acc.brier/acc.n
						}
						if a, ok := acc.auc(); ok {
							calVals[cal][2][b] = a
						}
						cal++
						if st.known != nil && st.known[g] {
							acc.appendRates(rates)
						}
					}
					if st.known != nil {
						for d := range decs {
							between(rates[d], sumVals[d][si-1], b)
						}
						disp.store(si, counts[si], b)
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
	disp.intervals(res, cfg.CILevel)
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

// maxBootDecisions bounds the decisions the bootstrap covers: each row
// carries one bit per decision.
const maxBootDecisions = 32

// bootRow is one run of rows as layout finds it, from which the group's
// runs, households and cells that a resample reads are summed (see
// stratum).
//
// A run is up to 255 adjacent rows of one household that differ only in
// the child's own outcome: the children of a household on one date share
// its score, its selection and its outcome. A resample draws households,
// so every row of a run always carries the same weight, and the run adds
// what its rows would one by one. With about two children to a household
// the AUC's pass reads half the rows.
type bootRow struct {
	score float64
	sel   uint32 // bit d: decision d selects the rows
	bin   uint8
	// n is how many rows the run stands for; lab is 1 when their
	// household's outcome is known and yf 1 for a referred household; cl
	// counts the rows whose child's own outcome is known and cy the
	// referred children among them; first is 1 for a run whose score
	// differs from the one before it in its group.
	n, lab, yf, cl, cy, first uint8
}

// joins says whether row b, of unit ub, can join run a, of unit ua.
func (a *bootRow) joins(b bootRow, ua, ub int32) bool {
	return ua == ub && a.n < math.MaxUint8 && a.score == b.score && a.sel == b.sel && a.bin == b.bin &&
		a.lab == b.lab && a.yf == b.yf
}

// stratum is one stratification's rows: groups one after another, each in
// ascending score order so tied scores are adjacent for the AUC. Group g
// is rows[starts[g]:starts[g+1]]; unit numbers each row's household
// within its group, which has nunit[g] of them. known is nil for the
// overall stratum, which has no between-group rates.
//
// A resample reads the rows only for the AUC, which needs their order:
// runs holds what that pass reads of each, packed small. Every other sum
// is linear in the households' weights, so it is summed over households
// (units, from ustarts[g]) and over their cells of the calibration bins
// and of the decisions (bins and sels), about a sixth as many as rows
// where a back-test pools six dates.
type stratum struct {
	rows   []bootRow
	unit   []int32
	starts []int
	nunit  []int
	known  []bool

	runs []bootRun
	// Group g's blocks of runs sharing a score are ties[tieAt[g]:tieAt[g+1]],
	// as runs of the group from and to.
	ties    [][2]int32
	tieAt   []int
	units   []unitSums // group g's are units[ustarts[g]:ustarts[g+1]], by unit
	ustarts []int
	// Group g's bin cells are bins[bstarts[g]:bstarts[g+1]], in bin order;
	// bin b's are from binAt[g·(nb+1)+b] to binAt[g·(nb+1)+b+1]. Likewise
	// sels by decision, with selAt[g·(ndecs+1)+d].
	bins, sels []cell
	binAt      []int
	selAt      []int
}

// bootRun is a run of rows as the AUC pass reads it, packed in a word so
// the pass loads it once: its household (bits 0–31), how many of its rows
// are labelled (32–39) and whether they are referred (bit 40).
type bootRun uint64

func newBootRun(unit int32, n, pos uint8) bootRun {
	return bootRun(uint32(unit)) | bootRun(n)<<32 | bootRun(pos&1)<<40
}

// weight is the run's labelled rows under the households' weights, and
// a mask of all ones if they are referred.
func (r bootRun) weight(hw []uint32) (w, pos int64) {
	return int64(hw[uint32(r)]) * int64(uint8(r>>32)), -int64(r >> 40 & 1)
}

// aucTwice is twice the AUC numerator of runs, in score order, under the
// households' weights hw: each (positive, negative) pair counts 2 when
// the positive scores higher and 1 when they tie. ties are the runs
// (from, to) of each score two or more runs share.
//
// The main pass counts each positive's negatives before it in the order,
// with no branch on the weight or the label, which are as good as random
// in a resample, and nothing to say where a score changes. Within a tie
// block that counted the negatives the order put first; a pass over the
// tied runs alone puts that right. The counts are integers, whose adds
// take a cycle where a float's take four, and are exact. A function of its
// own keeps the loop's state in registers.
func aucTwice(runs []bootRun, ties [][2]int32, hw []uint32) int64 {
	var sum, neg int64
	for _, r := range runs {
		w, p := r.weight(hw)
		sum += w & p * neg
		neg += w &^ p
	}
	sum *= 2
	for _, t := range ties {
		var pos, neg, before int64
		for _, r := range runs[t[0]:t[1]] {
			w, p := r.weight(hw)
			pos += w & p
			before += w & p * neg
			neg += w &^ p
		}
		sum += pos*neg - 2*before
	}
	return sum
}

// unitSums are one household's rows in a group: how many, how many with
// the child's outcome known and referred, and their Brier sum.
type unitSums struct {
	all, clab, cpos int32
	brier           float64
}

// cell is one household's rows in one calibration bin (n labelled, y
// referred, s their scores summed) or under one decision (n selected,
// y referred households, z households not referred, c referred children).
type cell struct {
	unit       int32
	n, y, z, c int32
	s          float64
}

// layout builds the overall stratum and one per attribute, in the order
// res.Calibration lists their groups.
func layout(t *table, gidx [][]int32, attrs []Attribute, decs []*Decision, nbins, workers int) []stratum {
	pack := func(r int32) bootRow {
		var m uint32
		for d, dec := range decs {
			if dec.sel[r] {
				m |= 1 << d
			}
		}
		b := bootRow{score: t.score[r], sel: m, bin: t.bin[r], n: 1}
		if y := t.label[r]; y >= 0 {
			b.lab, b.yf = 1, uint8(y)
		}
		if y := t.child[r]; y >= 0 {
			b.cl, b.cy = 1, uint8(y)
		}
		return b
	}
	group := func(st *stratum, local map[int32]int32, idx []int32) {
		clear(local)
		lo := len(st.rows)
		for i, r := range idx {
			b := pack(r)
			if i == 0 || t.score[r] != t.score[idx[i-1]] {
				b.first = 1
			}
			h := r // a table without households: each row is its own
			if t.house != nil {
				h = t.house[r]
			}
			u, ok := local[h]
			if !ok {
				u = int32(len(local))
				local[h] = u
			}
			if last := len(st.rows) - 1; last >= lo && st.rows[last].joins(b, st.unit[last], u) {
				run := &st.rows[last]
				run.n++
				run.cl += b.cl
				run.cy += b.cy
				continue
			}
			st.rows = append(st.rows, b)
			st.unit = append(st.unit, u)
		}
		st.starts = append(st.starts, len(st.rows))
		st.nunit = append(st.nunit, len(local))
		st.cells(lo, len(local), nbins, len(decs))
	}
	// The strata are independent: each is laid out on a worker of its own.
	strata := make([]stratum, 1+len(attrs))
	jobs := make(chan int, len(strata))
	for si := range strata {
		jobs <- si
	}
	close(jobs)
	var wg sync.WaitGroup
	for range min(workers, len(strata)) {
		wg.Go(func() {
			local := map[int32]int32{}
			for si := range jobs {
				st := &strata[si]
				*st = stratum{rows: make([]bootRow, 0, len(t.asc)), unit: make([]int32, 0, len(t.asc)), starts: []int{0},
					runs: make([]bootRun, 0, len(t.asc)), ustarts: []int{0}, tieAt: []int{0}}
				if si == 0 {
					group(st, local, t.asc)
					continue
				}
				st.known = attrs[si-1].Known
				for _, idx := range groupLists(t, gidx[si-1], len(attrs[si-1].Groups)) {
					group(st, local, idx)
				}
			}
		})
	}
	wg.Wait()
	return strata
}

// cells sums the group just laid out, whose runs start at rows[lo] and
// whose households number nunit, into its runs, units and cells.
func (st *stratum) cells(lo, nunit, nbins, ndecs int) {
	rows, unit := st.rows[lo:], st.unit[lo:]
	units := make([]unitSums, nunit)
	type key struct{ unit, k int32 }
	binCells, selCells := map[key]*cell{}, map[key]*cell{}
	get := func(m map[key]*cell, u, k int32) *cell {
		c := m[key{u, k}]
		if c == nil {
			c = &cell{unit: u}
			m[key{u, k}] = c
		}
		return c
	}
	for j := range rows {
		r, u := &rows[j], unit[j]
		nl, ny := int32(r.n)*int32(r.lab), int32(r.n)*int32(r.yf)
		st.runs = append(st.runs, newBootRun(u, uint8(nl), r.yf))
		if r.first == 0 {
			if k := len(st.ties) - 1; k >= st.tieAt[len(st.tieAt)-1] && st.ties[k][1] == int32(j) {
				st.ties[k][1]++
			} else {
				st.ties = append(st.ties, [2]int32{int32(j - 1), int32(j + 1)})
			}
		}
		us := &units[u]
		us.all += int32(r.n)
		us.clab += int32(r.cl)
		us.cpos += int32(r.cy)
		us.brier += float64(nl) * (r.score - float64(r.yf)) * (r.score - float64(r.yf))
		if nl > 0 {
			c := get(binCells, u, int32(r.bin))
			c.n += nl
			c.y += ny
			c.s += float64(nl) * r.score
		}
		for m := r.sel; m != 0; m &= m - 1 {
			c := get(selCells, u, int32(bits.TrailingZeros32(m)))
			c.n += int32(r.n)
			c.y += ny
			c.z += nl - ny
			c.c += int32(r.cy)
		}
	}
	st.units = append(st.units, units...)
	st.ustarts = append(st.ustarts, len(st.units))
	st.tieAt = append(st.tieAt, len(st.ties))
	// Cells in (bin, household) order, so each bin is one stretch summed
	// in registers, and households in order within it.
	flat := func(m map[key]*cell, n int, out []cell, at []int) ([]cell, []int) {
		keys := make([]key, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b key) int {
			if a.k != b.k {
				return int(a.k - b.k)
			}
			return int(a.unit - b.unit)
		})
		base, i := len(out), 0
		for b := 0; b <= n; b++ {
			for i < len(keys) && int(keys[i].k) < b {
				i++
			}
			at = append(at, base+i)
		}
		for _, k := range keys {
			out = append(out, *m[k])
		}
		return out, at
	}
	st.bins, st.binAt = flat(binCells, nbins, st.bins, st.binAt)
	st.sels, st.selAt = flat(selCells, ndecs, st.sels, st.selAt)
}

// chunkBits sets the sampler's chunk of rows: 4,096 counters fit in the
// first-level cache.
const chunkBits = 12

// sampler draws a group's resample. n picks with replacement from n rows
// are drawn in two stages: how many picks land in each chunk of rows, then,
// chunk by chunk, which rows of the chunk they pick. A pick uniform over
// the group lands in a chunk in proportion to its size and, given the
// chunk, is uniform over its rows, so the counts are exactly the
// multinomial of n independent picks. Drawing them directly wrote each pick
// to a random place in a group-sized array, a cache miss each.
type sampler struct {
	chunks []uint32
	local  [1 << chunkBits]uint32
}

// draw resamples n rows: it gives add, chunk by chunk in row order, the
// first row of the chunk and how often each of its rows was picked.
func (s *sampler) draw(rng *rand.Rand, n int, add func(lo int, w []uint32)) {
	if n == 0 {
		return
	}
	nc := (n-1)>>chunkBits + 1
	if cap(s.chunks) < nc {
		s.chunks = make([]uint32, nc)
	}
	counts := s.chunks[:nc]
	clear(counts)
	// The first stage is pick written out: a call per pick was a fifth of
	// the draw's time.
	un := uint64(n)
	thresh := uint32((1<<32 - un) % un)
	for k := n; k > 0; {
		x := rng.Uint64()
		if p := (x & (1<<32 - 1)) * un; uint32(p) >= thresh {
			counts[p>>(32+chunkBits)]++
			k--
		}
		if p := (x >> 32) * un; k > 0 && uint32(p) >= thresh {
			counts[p>>(32+chunkBits)]++
			k--
		}
	}
	for c, k := range counts {
		lo := c << chunkBits
		hi := min(lo+1<<chunkBits, n)
		w := s.local[:hi-lo]
		clear(w)
		if hi-lo == 1<<chunkBits {
			// A whole chunk's size is a power of two: every 12 bits of a
			// draw are one uniform pick, five to a draw.
			for ; k >= 5; k -= 5 {
				x := rng.Uint64()
				w[x&(1<<chunkBits-1)]++
				w[x>>12&(1<<chunkBits-1)]++
				w[x>>24&(1<<chunkBits-1)]++
				w[x>>36&(1<<chunkBits-1)]++
				w[x>>48&(1<<chunkBits-1)]++
			}
			for x := rng.Uint64(); k > 0; k-- {
				w[x&(1<<chunkBits-1)]++
				x >>= chunkBits
			}
		} else {
			pick(rng, k, uint32(hi-lo), func(p uint32) { w[p]++ })
		}
		add(lo, w)
	}
}

// pick makes k picks uniform on [0, n), two from each 64-bit draw, by
// Lemire's multiply-and-reject: a 32-bit half x maps to x·n/2³², and the
// few x whose low product is under 2³² mod n are rejected, so every pick
// is exactly uniform.
func pick(rng *rand.Rand, k, n uint32, f func(uint32)) {
	un := uint64(n)
	thresh := uint32((1<<32 - un) % un)
	for k > 0 {
		x := rng.Uint64()
		if p := (x & (1<<32 - 1)) * un; uint32(p) >= thresh {
			f(uint32(p >> 32))
			k--
		}
		if k == 0 {
			break
		}
		if p := (x >> 32) * un; uint32(p) >= thresh {
			f(uint32(p >> 32))
			k--
		}
	}
}

// bootAcc sums one group's resample: calibration and AUC over its labelled
// rows, and per decision the selection rate, TPR and FPR over all of them.
// Its counts are whole numbers of rows, so they equal calSums.accumulate's
// given the same weights; the Brier and bin score sums may differ in the
// last place, since a household adds its weight times its rows' sum.
type bootAcc struct {
	calSums
	all        float64 // resampled rows, labelled or not
	clab, cpos float64 // rows whose child's outcome is known, and referred children
	// Per decision: selected rows, and among them referred households
	// (tp), households not referred (fp) and referred children (ctp).
	sel, tp, fp, ctp []float64
}

func (a *bootAcc) reset(nb, ndecs int) {
	a.calSums.reset(nb)
	a.all, a.clab, a.cpos = 0, 0, 0
	if len(a.sel) != ndecs {
		a.sel, a.tp, a.fp, a.ctp = make([]float64, ndecs), make([]float64, ndecs), make([]float64, ndecs), make([]float64, ndecs)
	}
	clear(a.sel)
	clear(a.tp)
	clear(a.fp)
	clear(a.ctp)
}

// add sums group g of st under the households' weights hw: the AUC over
// its runs, everything else over its households and their cells.
func (a *bootAcc) add(st *stratum, g int, hw []uint32) {
	a.aucNum += float64(aucTwice(st.runs[st.starts[g]:st.starts[g+1]], st.ties[st.tieAt[g]:st.tieAt[g+1]], hw)) / 2

	var all, clab, cpos int64
	brier := a.brier
	for u, us := range st.units[st.ustarts[g]:st.ustarts[g+1]] {
		w := int64(hw[u])
		all += w * int64(us.all)
		clab += w * int64(us.clab)
		cpos += w * int64(us.cpos)
		brier += float64(w) * us.brier
	}
	a.all += float64(all)
	a.clab += float64(clab)
	a.cpos += float64(cpos)
	a.brier = brier

	nbins := len(a.binN)
	for b := range nbins {
		at := g*(nbins+1) + b
		var n, y int64
		var sum float64
		for _, c := range st.bins[st.binAt[at]:st.binAt[at+1]] {
			w := int64(hw[c.unit])
			n += w * int64(c.n)
			y += w * int64(c.y)
			sum += float64(w) * c.s
		}
		a.binN[b] += float64(n)
		a.binY[b] += float64(y)
		a.binS[b] += sum
		a.pos += float64(y)
		a.neg += float64(n - y)
	}
	ndecs := len(a.sel)
	for d := range ndecs {
		at := g*(ndecs+1) + d
		var sel, tp, fp, ctp int64
		for _, c := range st.sels[st.selAt[at]:st.selAt[at+1]] {
			w := int64(hw[c.unit])
			sel += w * int64(c.n)
			tp += w * int64(c.y)
			fp += w * int64(c.z)
			ctp += w * int64(c.c)
		}
		a.sel[d] += float64(sel)
		a.tp[d] += float64(tp)
		a.fp[d] += float64(fp)
		a.ctp[d] += float64(ctp)
	}
}

func (a *bootAcc) finish() {
	a.n = a.pos + a.neg
}

// appendRates appends the group's resampled selection rate, TPR (the
// child's outcome) and FPR (the household's) per decision (NaN when
// undefined, so it drops out like in §4.6.5).
func (a *bootAcc) appendRates(rates [][3][]float64) {
	for d := range rates {
		rates[d][0] = append(rates[d][0], ratio(a.sel[d], a.all))
		rates[d][1] = append(rates[d][1], ratio(a.ctp[d], a.cpos))
		rates[d][2] = append(rates[d][2], ratio(a.fp[d], a.neg))
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
