package synthetic

import (
	"fmt"
	"math"
	"slices"
)

// Worlds: how the council's latent need shows in its records, and how
// referrals follow it. The pipeline's features and models are chosen by the
// backtest across worlds (README), so no one world's mechanics are learnt
// as if they were the only ones: a feature that helps in one and hurts in
// another does not earn its place.
const (
	// WorldSchool is the original world: need shows most in school
	// attendance, every child carries their own referral hazard, and the
	// hazard follows need four weeks late.
	WorldSchool = "school"
	// WorldHome: need shows more in health visiting and housing and less at
	// school; a referral follows the household's need as a whole (one
	// hazard shared by its children, not one each), eight weeks late.
	WorldHome = "home"
	// WorldHidden: every source shows need weakly, the lag is two weeks,
	// and an unobservable household effect moves the referral hazard as
	// much as need does: the world where the records say least.
	WorldHidden = "hidden"
)

// Worlds lists the worlds, the default first.
var Worlds = []string{WorldSchool, WorldHome, WorldHidden}

// worldParams are a world's mechanics. Multipliers scale the log-odds (or
// log-hazard) slope of a source's signals on need: 1 is the original world.
type worldParams struct {
	absenceNeed float64 // log-odds of a child's absence per unit of need
	hvNeed      float64 // health visiting's slopes on need
	housingNeed float64 // homelessness approaches' slope on need
	rentNeed    float64 // missed rent payments' slope on need
	// absenceSD is the spread of the household effect on absence that has
	// nothing to do with need (shared by siblings).
	absenceSD float64
	// referralLag is how many weeks the referral hazard follows need by.
	referralLag int
	// perHousehold: the household's children share one hazard (each
	// child's is divided by the number of children at home), so a large
	// family is not referred more often for being large.
	perHousehold bool
	// hiddenSD is the spread of an unobservable household log-hazard
	// effect on referrals (the truth's probability includes it; need does
	// not).
	hiddenSD float64
}

var worlds = map[string]worldParams{
	WorldSchool: {absenceNeed: 0.3, hvNeed: 1, housingNeed: 1, rentNeed: 1, absenceSD: 0.45, referralLag: 4},
	WorldHome: {absenceNeed: 0.15, hvNeed: 1.6, housingNeed: 1.6, rentNeed: 1.5, absenceSD: 0.45,
		referralLag: 8, perHousehold: true},
	WorldHidden: {absenceNeed: 0.18, hvNeed: 0.6, housingNeed: 0.6, rentNeed: 0.6, absenceSD: 0.7,
		referralLag: 2, hiddenSD: 0.6},
}

// maxReferralLag bounds any world's lag: the need history kept per
// household is this long.
const maxReferralLag = 8

func lookupWorld(name string) (worldParams, error) {
	p, ok := worlds[name]
	if !ok {
		return worldParams{}, fmt.Errorf("unknown world %q (want one of %v)", name, Worlds)
	}
	return p, nil
}

// hiddenEffect draws each household's unobservable referral effect, with
// mean one so the council's referral rate is kept by calibration alone.
func (w *world) hiddenEffect(seed uint64) []float64 {
	if w.wp.hiddenSD == 0 {
		return nil
	}
	r := newRand(seed, streamHidden)
	s := w.wp.hiddenSD
	out := make([]float64, len(w.households))
	for h := range out {
		out[h] = math.Exp(s*r.NormFloat64() - s*s/2)
	}
	return out
}

func init() {
	// The default world must be the first; every lag must fit the history.
	if Worlds[0] != WorldSchool || !slices.Contains(Worlds, WorldHome) {
		panic("synthetic: worlds table out of order")
	}
	for name, p := range worlds {
		if p.referralLag < 1 || p.referralLag > maxReferralLag {
			panic(fmt.Sprintf("synthetic: world %s: lag %d outside 1…%d", name, p.referralLag, maxReferralLag))
		}
	}
}
