package synthetic

import (
	"fmt"

	"earlyhelp/pipeline/contract"
)

// Tenures of a household. Tenure shifts need (§7.2), decides who has a
// council rent account (social renters) and how exposed a family is to
// losing its home (private renters most).
const (
	tenureOwner = iota
	tenurePrivate
	tenureSocial
)

var tenureNames = [3]string{"owner", "private_rent", "social_rent"}

// tenureNeed is the shift of baseline need by tenure (domain-data §7.2).
var tenureNeed = [3]float64{0, 0.2, 0.25}

// Ethnic groups (the five ONS 2021 high-level groups, §4.1), used by
// profiles and by the --bias attribute ethnicity5. NOT_STATED is in none.
const (
	groupAsian = iota
	groupBlack
	groupMixed
	groupWhite
	groupOther
	groupNone
)

var groupNames = [5]string{contract.GroupAsian, contract.GroupBlack, contract.GroupMixed, contract.GroupWhite, contract.GroupOther}

// groupOf maps an index of ethnicities to its five-group index, by the
// vocabulary's own mapping.
func groupOf(e int) int {
	g, ok := contract.EthnicGroup5(ethnicities[e].code)
	if !ok {
		return groupNone // NOT_STATED
	}
	for i, n := range groupNames {
		if n == g {
			return i
		}
	}
	return groupNone
}

// profile is an LA's population mix (§4.1 asks for the LA profile as an
// input rather than national values).
type profile struct {
	name string
	// decileShare is the % of children per IMD decile (1 = most deprived).
	decileShare [10]float64
	// groupShare is the % of children per ethnic group (Asian, Black,
	// Mixed, White, Other); nil keeps §4.1's national category shares.
	groupShare []float64
	// social and private are the shares of households with children that
	// rent from a social landlord and privately, by IMD decile.
	social, private [10]float64
	// homeless multiplies the homelessness approach hazard and taLength
	// the mean stay in TA: London boroughs have several times the national
	// rate of families in TA, and they stay longer (§3.2). outOfArea
	// scales the share placed outside the borough (32% nationally).
	homeless, taLength, outOfArea float64
	// rent multiplies social rents.
	rent float64
}

var profiles = map[string]*profile{
	ProfileNational: {
		name:        ProfileNational,
		decileShare: [10]float64{13, 12, 11, 10.5, 10, 9.5, 9.5, 8.5, 8, 8},
		// ≈18% social and ≈22% private renting overall; social and private
		// renting are ≥ 60% of families in deciles 1–2 (§3.4).
		social:   [10]float64{0.38, 0.32, 0.26, 0.2, 0.16, 0.12, 0.09, 0.07, 0.05, 0.04},
		private:  [10]float64{0.3, 0.28, 0.26, 0.24, 0.22, 0.2, 0.18, 0.16, 0.14, 0.12},
		homeless: 1, taLength: 1, outOfArea: 1, rent: 1,
	},
	ProfileInnerUrban: {
		name:        ProfileInnerUrban,
		decileShare: [10]float64{22, 16, 12, 10, 9, 8, 7, 6, 5, 5}, // deciles 1–4: 60%
		groupShare:  []float64{25, 20, 10, 38, 7},
		social:      [10]float64{0.5, 0.45, 0.4, 0.34, 0.3, 0.26, 0.22, 0.18, 0.14, 0.1},
		private:     [10]float64{0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.28, 0.26, 0.24, 0.22},
		homeless:    2, taLength: 1.5, outOfArea: 1.6, rent: 1.35,
	},
}

func lookupProfile(name string) (*profile, error) {
	if name == "" {
		name = ProfileNational
	}
	p, ok := profiles[name]
	if !ok {
		return nil, fmt.Errorf("profile: unknown profile %q (known: %s, %s)", name, ProfileNational, ProfileInnerUrban)
	}
	return p, nil
}

// ethnicShares returns the % of children per ethnicity category: §4.1's
// national shares, or those rescaled within each group to the profile's
// group shares (NOT_STATED keeps its national share).
func (p *profile) ethnicShares() []float64 {
	out := make([]float64, len(ethnicities))
	var groupSum [6]float64
	for i, e := range ethnicities {
		out[i] = e.share
		groupSum[groupOf(i)] += e.share
	}
	if p.groupShare == nil {
		return out
	}
	rest := 100 - groupSum[groupNone]
	for i := range out {
		if g := groupOf(i); g != groupNone {
			out[i] = out[i] / groupSum[g] * p.groupShare[g] / 100 * rest
		}
	}
	return out
}

// tenureCum is the cumulative tenure distribution in IMD decile dep.
func (p *profile) tenureCum(dep int) [3]float64 {
	s, pr := p.social[dep-1], p.private[dep-1]
	return [3]float64{1 - s - pr, 1 - s, 1}
}
