package connectors

import (
	"strings"

	"earlyhelp/pipeline"
)

// VocabularyVersion names the code tables below: the spellings accepted in
// each coded column and the canonical value each is stored as
// (domain-data §2.3, §2.6, §3.6, §4.1, §8). Bump it when a table changes,
// as the attendance code sets are dated (codes.go), so a store's contents
// can be traced to the tables that read them.
const VocabularyVersion = "2025-12-reference-2"

// ReasonAmbiguousCode is a cell holding a real code that maps to more than
// one canonical value (DfE WROM: Gypsy or Roma). It is not guessed.
const ReasonAmbiguousCode = "ambiguous_code"

// vocab maps accepted spellings (upper-cased) to canonical values.
type vocab map[string]string

// check returns the column check that reads v in any case.
func (m vocab) check(v string) (string, string) {
	if c, ok := m[v]; ok {
		return c, ""
	}
	if c, ok := m[strings.ToUpper(v)]; ok {
		return c, ""
	}
	return "", pipeline.ReasonBadCode
}

// codes builds a vocab of canonical codes that stand for themselves, plus
// aliases (spelling → canonical).
func codes(canonical []string, aliases map[string]string) vocab {
	m := vocab{}
	for _, c := range canonical {
		m[strings.ToUpper(c)] = c
	}
	for a, c := range aliases {
		m[strings.ToUpper(a)] = c
	}
	return m
}

// Contact types (hv_contacts.contact_type): CONTRACTS §2 and the
// reference's further reviews and settings.
var contactTypes = codes([]string{
	"ANTENATAL", "NEW_BIRTH", "SIX_EIGHT_WEEK", "TWELVE_MONTH", "TWO_TWO_HALF_YEAR", "TARGETED", "OTHER",
	"THREE_FOUR_MONTH", "SIX_MONTH", "CLINIC", "TELEPHONE",
}, nil)

// Attendance statuses (hv_contacts.attendance_status), the NHS "attended
// or did not attend" codes, stored as the code: 5 attended on time, 6
// arrived late but seen, 7 arrived late and not seen, 2 cancelled by or
// for the patient, 3 did not attend without warning, 4 cancelled or
// postponed by the provider, 0 not applicable. Children's services count
// 3 and 7 as "was not brought" (domain-data §2.3).
var attendanceStatuses = codes([]string{"0", "2", "3", "4", "5", "6", "7"}, nil)

// WasNotBrought reports whether a stored attendance_status is a missed
// appointment that children's services count as "was not brought".
func WasNotBrought(status string) bool { return status == "3" || status == "7" }

// Domestic-abuse routine enquiry (hv_contacts.da_enquiry): the reference's
// enum, with the booleans older extracts use (yes: asked; no: not asked,
// reason not given).
var daEnquiry = codes([]string{
	"asked", "not_asked_partner_present", "not_asked_other", "declined", "not_recorded",
}, map[string]string{
	"true": "asked", "t": "asked", "yes": "asked", "y": "asked", "1": "asked",
	"false": "not_asked_other", "f": "not_asked_other", "no": "not_asked_other", "n": "not_asked_other", "0": "not_asked_other",
})

// Instruments (hv_assessments.instrument). The ASQ-3 forms are one
// instrument for the features (domains below cut-off); the form's month is
// not kept. ASQ:SE-2 is its own instrument.
var instruments = codes([]string{"WHOOLEY", "EPDS", "ASQ3", "GAD2", "ASQSE2"}, map[string]string{
	"ASQ3_24": "ASQ3", "ASQ3_27": "ASQ3", "ASQ3_30": "ASQ3",
	"ASQSE2_24": "ASQSE2", "ASQSE2_30": "ASQSE2", "ASQSE2_36": "ASQSE2",
	"GAD-2": "GAD2", "ASQ-3": "ASQ3", "ASQ:SE-2": "ASQSE2",
})

// scoreRanges are the totals each instrument can give (domain-data §2.3):
// a total outside is unreadable.
var scoreRanges = map[string][2]int64{
	"WHOOLEY": {0, 2},
	"EPDS":    {0, 30},
	"GAD2":    {0, 6},
	"ASQ3":    {0, 300}, // five domains of 0-60
	"ASQSE2":  {0, 400}, // the longest form's items × 15, rounded up
}

// Assessment subjects (hv_assessments.subject).
var subjects = codes([]string{"mother", "father_partner", "child"}, map[string]string{
	"father": "father_partner", "partner": "father_partner",
})

// SEN statuses (persons.sen_status, CONTRACTS §2, optional): the
// contract's three values, and the school census's SEN provision codes a
// council's extract is likely to hold instead (N no special educational
// need, K SEN support, E an education, health and care plan; S, a
// statement, was replaced by the EHC plan and is read as one). Read for
// the equality analysis only.
var senStatuses = codes([]string{"none", "sen_support", "ehcp"}, map[string]string{
	"N": "none", "K": "sen_support", "E": "ehcp", "S": "ehcp",
	"SEN support": "sen_support", "EHC plan": "ehcp", "no SEN": "none",
})

// ethnicity maps the ONS 2021 19-category codes (canonical), the DfE CBDS
// main and extended codes, and the NHS 2001-based letters to the ONS code
// (domain-data §4.1). Only codes listed here are read: free text is not
// guessed at.
var ethnicity = func() vocab {
	m := codes([]string{
		"ASIAN_BANGLADESHI", "ASIAN_CHINESE", "ASIAN_INDIAN", "ASIAN_PAKISTANI", "ASIAN_OTHER",
		"BLACK_AFRICAN", "BLACK_CARIBBEAN", "BLACK_OTHER",
		"MIXED_WHITE_ASIAN", "MIXED_WHITE_BLACK_AFRICAN", "MIXED_WHITE_BLACK_CARIBBEAN", "MIXED_OTHER",
		"WHITE_BRITISH", "WHITE_IRISH", "WHITE_GYPSY_IRISH_TRAVELLER", "WHITE_ROMA", "WHITE_OTHER",
		"OTHER_ARAB", "OTHER_ANY",
		"NOT_STATED",
	}, nil)
	dfe := map[string]string{
		"ABAN": "ASIAN_BANGLADESHI", "CHNE": "ASIAN_CHINESE", "AIND": "ASIAN_INDIAN", "APKN": "ASIAN_PAKISTANI", "AOTH": "ASIAN_OTHER",
		"BAFR": "BLACK_AFRICAN", "BCRB": "BLACK_CARIBBEAN", "BOTH": "BLACK_OTHER",
		"MWAS": "MIXED_WHITE_ASIAN", "MWBA": "MIXED_WHITE_BLACK_AFRICAN", "MWBC": "MIXED_WHITE_BLACK_CARIBBEAN", "MOTH": "MIXED_OTHER",
		"WBRI": "WHITE_BRITISH", "WIRI": "WHITE_IRISH", "WIRT": "WHITE_GYPSY_IRISH_TRAVELLER", "WOTH": "WHITE_OTHER",
		"OOTH": "OTHER_ANY", "OARA": "OTHER_ARAB",
		"REFU": "NOT_STATED", "NOBT": "NOT_STATED",
		// Extended codes, rolled up to their main code.
		"WENG": "WHITE_BRITISH", "WSCO": "WHITE_BRITISH", "WWEL": "WHITE_BRITISH", "WNIR": "WHITE_BRITISH",
		"WCOR": "WHITE_BRITISH", "WOWB": "WHITE_BRITISH",
		"AMPK": "ASIAN_PAKISTANI", "AKPA": "ASIAN_PAKISTANI", "AOPK": "ASIAN_PAKISTANI",
		"BSOM": "BLACK_AFRICAN", "BNGN": "BLACK_AFRICAN", "BGHA": "BLACK_AFRICAN", "BSLN": "BLACK_AFRICAN",
		"OIRQ": "OTHER_ANY", "OAFG": "OTHER_ANY",
	}
	// The NHS letters' own labels: C is "any other White background", R
	// "Chinese" (which the NHS files under Other, the ONS under Asian).
	nhs := map[string]string{
		"A": "WHITE_BRITISH", "B": "WHITE_IRISH", "C": "WHITE_OTHER",
		"D": "MIXED_WHITE_BLACK_CARIBBEAN", "E": "MIXED_WHITE_BLACK_AFRICAN", "F": "MIXED_WHITE_ASIAN", "G": "MIXED_OTHER",
		"H": "ASIAN_INDIAN", "J": "ASIAN_PAKISTANI", "K": "ASIAN_BANGLADESHI", "L": "ASIAN_OTHER",
		"M": "BLACK_CARIBBEAN", "N": "BLACK_AFRICAN", "P": "BLACK_OTHER",
		"R": "ASIAN_CHINESE", "S": "OTHER_ANY", "Z": "NOT_STATED", "99": "NOT_STATED",
	}
	for k, v := range dfe {
		m[k] = v
	}
	for k, v := range nhs {
		m[k] = v
	}
	return m
}()

// checkEthnicity reads any classification ethnicity listed, as the ONS
// code. WROM (DfE Gypsy/Roma) is two ONS categories and is not guessed.
func checkEthnicity(v string) (string, string) {
	if strings.EqualFold(v, "WROM") {
		return "", ReasonAmbiguousCode
	}
	return ethnicity.check(v)
}
