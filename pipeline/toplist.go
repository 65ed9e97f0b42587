package pipeline

import (
	"cmp"
	"math"
	"slices"
)

// TopTolerance is how far a band's mean score may lie from its observed
// outcome rate in the backtest before the band is merged into the next.
const TopTolerance = 0.03

// TopOfList is how the list itself fared in the backtest: on every date,
// the K households the chosen model ranked highest. A model calibrated
// over deciles can still overstate the few households at the top, which
// are all a navigator sees; so the listed households' scores are corrected
// by the ratio of their outcomes to their scores, the bands are drawn on
// the corrected score, and a band whose corrected mean lies outside
// TopTolerance of its outcome rate is merged into its neighbour. Each
// date's correction is cross-fitted (its ratio comes from the other
// dates), so the figures test the correction rather than restate it.
type TopOfList struct {
	Model     string            `json:"model"`
	Tolerance float64           `json:"tolerance"`
	Listed    BandCalibration   `json:"listed"`
	Bands     []BandCalibration `json:"bands"`
	// MergedInto maps a band to the band it was merged into.
	MergedInto map[string]string `json:"merged_into,omitempty"`
}

// BandCalibration is one band of the backtest's lists.
type BandCalibration struct {
	Band       string   `json:"band"`
	Holds      []string `json:"holds"` // the bands it holds after merging
	Households int      `json:"households"`
	Positives  int      `json:"positives"`
	// MeanScore is the model's own calibrated score; Corrected the score
	// times the listed households' ratio from the other dates.
	MeanScore    float64 `json:"mean_score"`
	Corrected    float64 `json:"mean_corrected_score"`
	ObservedRate float64 `json:"observed_rate"`
	// Ratio is the outcomes over the scores on every date: for "all
	// listed", what a list's scores are multiplied by.
	Ratio  float64 `json:"ratio"`
	Within bool    `json:"within_tolerance"`
}

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
func topOfList(folds []*foldScores, baseRates []float64, name string, rules ListRules) *TopOfList {
	var pts []listedPoint
	for f, fs := range folds {
		sc := fs.scores[name]
		order := make([]int, len(sc))
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(sc[b], sc[a]) })
		for _, i := range order[:min(fs.k, len(order))] {
			pts = append(pts, listedPoint{fold: f, score: sc[i], label: fs.labels[i]})
		}
	}
	// Each date's ratio from the other dates; the bands on the corrected
	// score.
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
	for k := range pts {
		p := &pts[k]
		p.corrected = p.score * ratio(allPos-pos[p.fold], allSum-sum[p.fold])
		p.band = rules.band(p.corrected, baseRates[p.fold])
	}
	top := &TopOfList{Model: name, Tolerance: TopTolerance, MergedInto: map[string]string{}}
	order := []string{BandVeryHigh, BandHigh, BandRaised}
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
	return top
}

// calibrateBand sums the points in a band: their mean score, corrected
// score and outcome rate.
func calibrateBand(pts []listedPoint, folds int, in func(listedPoint) bool) BandCalibration {
	sum := make([]float64, folds)
	pos := make([]float64, folds)
	n := make([]int, folds)
	var bc BandCalibration
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
	bc.Within = math.Abs(bc.Corrected-bc.ObservedRate) <= TopTolerance
	return bc
}

// ratio is outcomes over scores, 1 when there are no scores to go by.
func ratio(pos, sum float64) float64 {
	if sum <= 0 {
		return 1
	}
	return pos / sum
}

// Correct is a listed household's score corrected for the over-confidence
// the backtest found at the top of the list; the score itself when no
// backtest has said.
func (top *TopOfList) Correct(score float64) float64 {
	if top == nil || top.Listed.Households == 0 {
		return score
	}
	return min(score*top.Listed.Ratio, 1)
}

// bandOf is the band a listed household shows, drawn on its corrected
// score and after the backtest's merges, and its likelihood in words: the
// band's outcome rate on the backtest's lists, or the corrected score when
// the backtest's lists had no household in the band.
func (top *TopOfList) bandOf(rules ListRules, score, baseRate float64) (string, string) {
	c := top.Correct(score)
	band := rules.band(c, baseRate)
	if top == nil {
		return band, Likelihood(c)
	}
	if to, ok := top.MergedInto[band]; ok {
		band = to
	}
	for _, b := range top.Bands {
		if b.Band == band {
			return band, Likelihood(b.ObservedRate)
		}
	}
	return band, Likelihood(c)
}
