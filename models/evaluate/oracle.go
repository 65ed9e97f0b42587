package evaluate

import (
	"encoding/json"
	"math"
	"sort"
)

// Rankers the oracle holds the model against, on the same households and
// labels: the synthetic council's latent need of each household (what a
// perfect reading of its circumstances would give) and its true
// probability of the outcome (which also holds effects no data shows, so
// it is a ceiling, not a target).
const (
	RankerModel = "model"
	RankerNeed  = "need"
	RankerTrueP = "true_probability"
)

// OracleRow is one household on one backtest date.
type OracleRow struct {
	AsOf      string
	Score     float64 // the model's
	Need      float64 // the truth's latent need
	TrueP     float64 // the truth's probability of the outcome within the horizon
	Label     bool    // the household's outcome
	IMDDecile int     // 0 when unknown
}

// RankerFigures are one ranker's figures on one date, or their means.
type RankerFigures struct {
	AUC              float64 `json:"auc"`
	AveragePrecision float64 `json:"average_precision"`
	PrecisionAtK     float64 `json:"precision_at_k"`
	// AUCDeprived is the AUC within IMD deciles 1 and 2, where most of a
	// list lies and area deprivation cannot tell families apart.
	AUCDeprived float64 `json:"auc_imd_deciles_1_2"`
	// TopMeanScore and TopRate are the mean score and outcome rate of the K
	// households ranked highest: the list's calibration (the mean score is
	// meaningless for need, which is no probability).
	TopMeanScore float64 `json:"top_k_mean_score"`
	TopRate      float64 `json:"top_k_outcome_rate"`
}

// MarshalJSON writes NaN (a figure that cannot be had, such as an AUC
// without outcomes or need's mean "score") as null.
func (f RankerFigures) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]*float64{
		"auc": nullable(f.AUC), "average_precision": nullable(f.AveragePrecision),
		"precision_at_k": nullable(f.PrecisionAtK), "auc_imd_deciles_1_2": nullable(f.AUCDeprived),
		"top_k_mean_score": nullable(f.TopMeanScore), "top_k_outcome_rate": nullable(f.TopRate),
	})
}

// OracleDate is one backtest date.
type OracleDate struct {
	AsOf       string                   `json:"as_of"`
	Households int                      `json:"households"`
	Positives  int                      `json:"positives"`
	K          int                      `json:"k"`
	Rankers    map[string]RankerFigures `json:"rankers"`
}

// Oracle is evaluation/oracle.json.
type Oracle struct {
	Model string       `json:"model"`
	Dates []OracleDate `json:"dates"`
	// Mean is each ranker's figures averaged over the dates.
	Mean map[string]RankerFigures `json:"mean"`
	// RatioToNeed is the model's mean over the need's, per figure.
	RatioToNeed map[string]*float64 `json:"ratio_to_need"`
	// RunDate is the run date's figures, with the features' ceiling.
	RunDate *RunDate `json:"run_date,omitempty"`
}

// ComputeOracle works out the oracle over rows, with K households listed
// on each date (k by as-of date).
func ComputeOracle(model string, rows []OracleRow, k map[string]int) *Oracle {
	byDate := map[string][]OracleRow{}
	for _, r := range rows {
		byDate[r.AsOf] = append(byDate[r.AsOf], r)
	}
	dates := make([]string, 0, len(byDate))
	for d := range byDate {
		dates = append(dates, d)
	}
	sort.Strings(dates)
	o := &Oracle{Model: model, Mean: map[string]RankerFigures{}, RatioToNeed: map[string]*float64{}}
	rankers := []string{RankerModel, RankerNeed, RankerTrueP}
	sums := map[string]*[6]float64{}
	counts := map[string]*[6]int{}
	for _, name := range rankers {
		sums[name], counts[name] = &[6]float64{}, &[6]int{}
	}
	for _, d := range dates {
		rs := byDate[d]
		od := OracleDate{AsOf: d, Households: len(rs), K: k[d], Rankers: map[string]RankerFigures{}}
		labels := make([]bool, len(rs))
		var depLabels []bool
		for i, r := range rs {
			labels[i] = r.Label
			if r.Label {
				od.Positives++
			}
			if deprived(r) {
				depLabels = append(depLabels, r.Label)
			}
		}
		for _, name := range rankers {
			s := make([]float64, len(rs))
			var dep []float64
			for i, r := range rs {
				s[i] = pick(name, r)
				if deprived(r) {
					dep = append(dep, s[i])
				}
			}
			f := RankerFigures{
				AUC: AUC(s, labels), AveragePrecision: AveragePrecision(s, labels),
				PrecisionAtK: PrecisionAtK(s, labels, od.K), AUCDeprived: AUC(dep, depLabels),
			}
			f.TopMeanScore, f.TopRate = topK(s, labels, od.K)
			if name == RankerNeed {
				f.TopMeanScore = math.NaN()
			}
			od.Rankers[name] = f
			for j, v := range []float64{f.AUC, f.AveragePrecision, f.PrecisionAtK, f.AUCDeprived, f.TopMeanScore, f.TopRate} {
				if !math.IsNaN(v) {
					sums[name][j] += v
					counts[name][j]++
				}
			}
		}
		o.Dates = append(o.Dates, od)
	}
	for _, name := range rankers {
		var m [6]float64
		for j := range m {
			m[j] = math.NaN()
			if counts[name][j] > 0 {
				m[j] = sums[name][j] / float64(counts[name][j])
			}
		}
		o.Mean[name] = RankerFigures{AUC: m[0], AveragePrecision: m[1], PrecisionAtK: m[2], AUCDeprived: m[3], TopMeanScore: m[4], TopRate: m[5]}
	}
	mod, need := o.Mean[RankerModel], o.Mean[RankerNeed]
	o.RatioToNeed["auc"] = nullable(mod.AUC / need.AUC)
	o.RatioToNeed["average_precision"] = nullable(mod.AveragePrecision / need.AveragePrecision)
	o.RatioToNeed["precision_at_k"] = nullable(mod.PrecisionAtK / need.PrecisionAtK)
	o.RatioToNeed["auc_imd_deciles_1_2"] = nullable(mod.AUCDeprived / need.AUCDeprived)
	return o
}

func deprived(r OracleRow) bool { return r.IMDDecile == 1 || r.IMDDecile == 2 }

func pick(ranker string, r OracleRow) float64 {
	switch ranker {
	case RankerNeed:
		return r.Need
	case RankerTrueP:
		return r.TrueP
	}
	return r.Score
}

// topK is the mean score and outcome rate of the k highest scores, ties
// by row as PrecisionAtK breaks them.
func topK(s []float64, labels []bool, k int) (mean, rate float64) {
	if k <= 0 || len(s) == 0 {
		return math.NaN(), math.NaN()
	}
	k = min(k, len(s))
	var sum, pos float64
	for _, i := range rankOrder(s)[:k] {
		sum += s[i]
		if labels[i] {
			pos++
		}
	}
	return sum / float64(k), pos / float64(k)
}
