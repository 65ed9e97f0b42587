package train

import (
	"cmp"
	"earlyhelp/pipeline"
	"math"
	"slices"
)

// listedPoint is one household at the top of one backtest date's ranking.
type listedPoint struct {
	fold      int
	band      string
	score     float64
	corrected float64
	label     bool
}

// topOfList works out TopOfList for model name over the backtest's folds:
// baseRates are each fold's training base rate, for the bands.
func topOfList(folds []*pipeline.FoldScores, baseRates []float64, name string, rules pipeline.ListRules) *pipeline.TopOfList {
	var pts []listedPoint
	for f, fs := range folds {
		sc := fs.Scores[name]
		order := make([]int, len(sc))
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(sc[b], sc[a]) })
		for _, i := range order[:min(fs.K, len(order))] {
			pts = append(pts, listedPoint{fold: f, score: sc[i], label: fs.Labels[i]})
		}
	}
	sum := make([]float64, len(folds))
	pos := make([]float64, len(folds))
	var allSum, allPos float64
	for _, p := range pts {
		sum[p.fold] += p.score
		allSum += p.score
		if p.label {
			pos[p.fold]++
			allPos++
		}
	}
	// Each date's ratio from the dates before it, as the live list's comes
	// from the backtest before it; the bands on the corrected score. A
	// ratio from the other dates, later ones included, made the check
	// nearly an identity: with lists of one size, the pooled corrected
	// mean is the pooled outcome rate whatever the ratios. The first date
	// has no date before it, so it is left out of the check.
	dates := make([]int, len(folds))
	for f := range dates {
		dates[f] = f
	}
	slices.SortStableFunc(dates, func(a, b int) int { return folds[a].AsOf.Compare(folds[b].AsOf) })
	before := make([]float64, len(folds)) // each date's ratio; NaN: none
	var sumBefore, posBefore float64
	for i, f := range dates {
		before[f] = math.NaN()
		if i > 0 {
			before[f] = ratio(posBefore, sumBefore)
		}
		sumBefore, posBefore = sumBefore+sum[f], posBefore+pos[f]
	}
	checked := pts[:0:0]
	for _, p := range pts {
		if math.IsNaN(before[p.fold]) {
			continue
		}
		p.corrected = p.score * before[p.fold]
		p.band = rules.Band(p.corrected, baseRates[p.fold])
		checked = append(checked, p)
	}
	pts = checked
	top := &pipeline.TopOfList{Model: name, Tolerance: pipeline.TopTolerance, MergedInto: map[string]string{}}
	order := []string{pipeline.BandVeryHigh, pipeline.BandHigh, pipeline.BandRaised}
	holds := map[string][]string{}
	into := map[string]string{}
	for _, b := range order {
		holds[b], into[b] = []string{b}, b
	}
	for {
		top.Bands = top.Bands[:0]
		worst, worstGap := "", 0.0
		live := 0
		for _, b := range order {
			if len(holds[b]) == 0 {
				continue
			}
			bc := calibrateBand(pts, len(folds), func(p listedPoint) bool { return into[p.band] == b })
			bc.Band, bc.Holds = b, holds[b]
			if bc.Households == 0 {
				continue
			}
			live++
			top.Bands = append(top.Bands, bc)
			if gap := math.Abs(bc.Corrected - bc.ObservedRate); !bc.Within && gap > worstGap {
				worst, worstGap = b, gap
			}
		}
		if worst == "" || live < 2 {
			break
		}
		// Merge the worst band into its neighbour: downwards, or upwards
		// for the lowest band.
		at := slices.Index(order, worst)
		var to string
		for j := at + 1; j < len(order) && to == ""; j++ {
			if len(holds[order[j]]) > 0 {
				to = order[j]
			}
		}
		for j := at - 1; j >= 0 && to == ""; j-- {
			if len(holds[order[j]]) > 0 {
				to = order[j]
			}
		}
		holds[to] = append(holds[to], holds[worst]...)
		holds[worst] = nil
		for b, t := range into {
			if t == worst {
				into[b] = to
			}
		}
	}
	for b, t := range into {
		if t != b {
			top.MergedInto[b] = t
		}
	}
	top.Listed = calibrateBand(pts, len(folds), func(listedPoint) bool { return true })
	top.Listed.Band = "all listed"
	// What the live list is corrected by: every date's outcomes over its
	// scores, the first date's too.
	top.Listed.Ratio = ratio(allPos, allSum)
	return top
}

// calibrateBand sums the points in a band: their mean score, corrected
// score and outcome rate.
func calibrateBand(pts []listedPoint, folds int, in func(listedPoint) bool) pipeline.BandCalibration {
	sum := make([]float64, folds)
	pos := make([]float64, folds)
	n := make([]int, folds)
	var bc pipeline.BandCalibration
	var corrected float64
	for _, p := range pts {
		if !in(p) {
			continue
		}
		sum[p.fold] += p.score
		corrected += p.corrected
		n[p.fold]++
		if p.label {
			pos[p.fold]++
		}
	}
	var allSum, allPos float64
	for f := range sum {
		allSum, allPos = allSum+sum[f], allPos+pos[f]
		bc.Households += n[f]
	}
	if bc.Households == 0 {
		return bc
	}
	bc.Positives = int(allPos)
	bc.MeanScore = allSum / float64(bc.Households)
	bc.ObservedRate = allPos / float64(bc.Households)
	bc.Ratio = ratio(allPos, allSum)
	bc.Corrected = corrected / float64(bc.Households)
	bc.Within = math.Abs(bc.Corrected-bc.ObservedRate) <= pipeline.TopTolerance
	return bc
}

// ratio is outcomes over scores, 1 when there are no scores to go by.
func ratio(pos, sum float64) float64 {
	if sum <= 0 {
		return 1
	}
	return pos / sum
}
