package synthetic

import "math"

// ethnicity is one ONS 2021 category (domain-data §4.1) with how the
// generator treats it.
type ethnicity struct {
	code  string
	share float64 // % of state-school pupils, England, January 2025
	// tilt leans the group towards deprived neighbourhoods (log-odds at the
	// most deprived decile relative to the middle), so part of every
	// disparity runs through deprivation.
	tilt float64
	// absence multiplies the odds of absence (domain-data §1.4, §1.6).
	absence float64
	// referral is the small direct effect on the referral hazard (log
	// scale) on top of deprivation and need (§4.4, §7.2).
	referral float64
}

var ethnicities = []ethnicity{
	{"ASIAN_BANGLADESHI", 1.8, 0.7, 1.0, -0.45},
	{"ASIAN_CHINESE", 0.8, -0.2, 0.5, -0.8},
	{"ASIAN_INDIAN", 4.2, -0.2, 0.6, -0.7},
	{"ASIAN_PAKISTANI", 4.7, 0.6, 1.0, -0.45},
	{"ASIAN_OTHER", 2.3, 0.2, 0.9, -0.5},
	{"BLACK_AFRICAN", 5.2, 0.5, 0.55, 0.1},
	{"BLACK_CARIBBEAN", 0.9, 0.5, 1.1, 0.3},
	{"BLACK_OTHER", 0.8, 0.5, 1.0, 0.15},
	{"MIXED_WHITE_ASIAN", 1.7, 0.1, 1.0, 0.2},
	{"MIXED_WHITE_BLACK_AFRICAN", 1.0, 0.4, 1.0, 0.35},
	{"MIXED_WHITE_BLACK_CARIBBEAN", 1.6, 0.5, 1.2, 0.55},
	{"MIXED_OTHER", 2.9, 0.2, 1.0, 0.3},
	{"WHITE_BRITISH", 60.2, 0, 1.0, 0},
	{"WHITE_IRISH", 0.3, -0.1, 1.0, 0},
	{"WHITE_GYPSY_IRISH_TRAVELLER", 0.35, 0.6, 3.0, 0.7},
	{"WHITE_ROMA", 0.25, 0.6, 2.5, 0.6},
	{"WHITE_OTHER", 7.0, 0.1, 0.9, -0.1},
	{"OTHER_ARAB", 0.8, 0.4, 0.9, -0.1},
	{"OTHER_ANY", 1.7, 0.2, 0.9, 0},
	{"NOT_STATED", 1.5, 0, 1.0, 0},
}

// ethnicityByDecile returns, per IMD decile, the cumulative distribution of
// ethnicity among its children. The joint table is raked (iterative
// proportional fitting) to both margins, so the council's overall ethnic mix
// stays at §4.1's shares while groups lean towards deprivation by their tilt.
func ethnicityByDecile(decileShare [10]float64, shares []float64) [10][]float64 {
	var m [10][]float64
	for d := range m {
		x := (4.5 - float64(d)) / 4.5 // +1 at decile 1, -1 at decile 10
		m[d] = make([]float64, len(ethnicities))
		for e, et := range ethnicities {
			m[d][e] = math.Exp(et.tilt * x)
		}
	}
	for range 100 {
		for d := range m {
			sum := 0.0
			for _, v := range m[d] {
				sum += v
			}
			for e := range m[d] {
				m[d][e] *= decileShare[d] / sum
			}
		}
		for e := range ethnicities {
			sum := 0.0
			for d := range m {
				sum += m[d][e]
			}
			for d := range m {
				m[d][e] *= shares[e] / sum
			}
		}
	}
	var out [10][]float64
	for d := range m {
		out[d] = cumulative(m[d])
	}
	return out
}

// ethnicityShares is the cumulative distribution of the overall mix.
func ethnicityShares(shares []float64) []float64 { return cumulative(shares) }
