package synthetic

import (
	"math"

	"earlyhelp/pipeline/contract"
)

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
	{contract.EthAsianBangladeshi, 1.8, 0.7, 1.0, -0.45},
	{contract.EthAsianChinese, 0.8, -0.2, 0.5, -0.8},
	{contract.EthAsianIndian, 4.2, -0.2, 0.6, -0.7},
	{contract.EthAsianPakistani, 4.7, 0.6, 1.0, -0.45},
	{contract.EthAsianOther, 2.3, 0.2, 0.9, -0.5},
	{contract.EthBlackAfrican, 5.2, 0.5, 0.55, 0.1},
	{contract.EthBlackCaribbean, 0.9, 0.5, 1.1, 0.3},
	{contract.EthBlackOther, 0.8, 0.5, 1.0, 0.15},
	{contract.EthMixedWhiteAsian, 1.7, 0.1, 1.0, 0.2},
	{contract.EthMixedWhiteBlackAfrican, 1.0, 0.4, 1.0, 0.35},
	{contract.EthMixedWhiteBlackCaribbean, 1.6, 0.5, 1.2, 0.55},
	{contract.EthMixedOther, 2.9, 0.2, 1.0, 0.3},
	{contract.EthWhiteBritish, 60.2, 0, 1.0, 0},
	{contract.EthWhiteIrish, 0.3, -0.1, 1.0, 0},
	{contract.EthWhiteGypsyIrishTraveller, 0.35, 0.6, 3.0, 0.7},
	{contract.EthWhiteRoma, 0.25, 0.6, 2.5, 0.6},
	{contract.EthWhiteOther, 7.0, 0.1, 0.9, -0.1},
	{contract.EthOtherArab, 0.8, 0.4, 0.9, -0.1},
	{contract.EthOtherAny, 1.7, 0.2, 0.9, 0},
	{contract.EthNotStated, 1.5, 0, 1.0, 0},
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
