package synthetic

// Session-code mix (domain-data §1.5), in per cent of sessions for primary
// and secondary pupils. Absence splits into illness (drawn as spells), other
// authorised and unauthorised; need shifts the split towards unauthorised.
type share struct {
	code string
	pct  [2]float64 // primary, secondary
}

var (
	illnessPct = [2]float64{3.0, 3.9}
	latePct    = [2]float64{1.2, 2.2}
	aeaPct     = [2]float64{0.3, 1.1}
	authShares = []share{{"M", [2]float64{0.4, 0.6}}, {"C2", [2]float64{0.05, 0.3}}}
	// otherAuth is split in these proportions into otherAuthPct.
	otherAuth = []share{
		{"C", [2]float64{0.25, 0.25}}, {"C1", [2]float64{0.02, 0.02}}, {"J1", [2]float64{0.05, 0.05}},
		{"S", [2]float64{0, 0.15}}, {"T", [2]float64{0.05, 0.05}}, {"R", [2]float64{0.2, 0.2}},
		{"E", [2]float64{0.03, 0.25}},
	}
	otherAuthPct = [2]float64{0.45, 0.6}
	unauthShares = []share{
		{"O", [2]float64{0.8, 2.2}}, {"G", [2]float64{0.5, 0.4}},
		{"U", [2]float64{0.15, 0.4}}, {"N", [2]float64{0.15, 0.5}},
	}
	aeaShares = []share{
		{"V", [2]float64{0.35, 0.35}}, {"P", [2]float64{0.3, 0.3}}, {"B", [2]float64{0.2, 0.2}},
		{"W", [2]float64{0, 0.1}}, {"K", [2]float64{0.05, 0.05}},
	}
	// legacyCode maps 2024 codes to what registers used before 19 August
	// 2024: no K, C1, C2 or J1 (J was the interview code).
	legacyCode = map[string]string{"K": "B", "C1": "C", "C2": "C", "J1": "J"}
)

// legacyHolidayShare of unauthorised holidays (G) were agreed holidays,
// coded H, before the 2024 code set withdrew H.
const legacyHolidayShare = 0.3

// mixtureMean is the mean of the §1.6 propensity mixture; a phase's odds are
// scaled by its absence rate relative to it.
const mixtureMean = 0.95*0.05 + 0.05*0.5

// codeTable is the code mix of one phase under one code set.
type codeTable struct {
	absencePct          float64 // all absence, % of sessions
	illnessFrac         float64 // illness share of absence
	authPct, unauthPct  float64 // non-illness absence, % of sessions
	auth, unauth, aea   []string
	authCum, unauthCum  []float64
	aeaCum              []float64
	lateGiven, aeaGiven float64 // P(L), P(aea) given present
}

func newCodeTable(phase int, legacy bool) *codeTable {
	t := &codeTable{}
	var authW, unauthW, aeaW []float64
	add := func(codes *[]string, w *[]float64, code string, pct float64) {
		if legacy {
			if c, ok := legacyCode[code]; ok {
				code = c
			}
		}
		*codes = append(*codes, code)
		*w = append(*w, pct)
	}
	for _, s := range authShares {
		add(&t.auth, &authW, s.code, s.pct[phase])
		t.authPct += s.pct[phase]
	}
	otherSum := 0.0
	for _, s := range otherAuth {
		otherSum += s.pct[phase]
	}
	for _, s := range otherAuth {
		add(&t.auth, &authW, s.code, s.pct[phase]/otherSum*otherAuthPct[phase])
	}
	t.authPct += otherAuthPct[phase]
	for _, s := range unauthShares {
		pct := s.pct[phase]
		t.unauthPct += pct
		if legacy && s.code == "G" {
			// Kept in the unauthorised draw so both code sets share one
			// split; H is authorised in the statistics.
			add(&t.unauth, &unauthW, "H", pct*legacyHolidayShare)
			pct *= 1 - legacyHolidayShare
		}
		add(&t.unauth, &unauthW, s.code, pct)
	}
	for _, s := range aeaShares {
		add(&t.aea, &aeaW, s.code, s.pct[phase])
	}
	t.authCum, t.unauthCum, t.aeaCum = cumulative(authW), cumulative(unauthW), cumulative(aeaW)
	t.absencePct = illnessPct[phase] + t.authPct + t.unauthPct
	t.illnessFrac = illnessPct[phase] / t.absencePct
	present := 100 - t.absencePct
	t.lateGiven = latePct[phase] / present
	t.aeaGiven = aeaPct[phase] / present
	return t
}
