package connectors

import (
	"strings"

	"earlyhelp/pipeline"
	"earlyhelp/pipeline/contract"
)

// VocabularyVersion names the code tables below: the spellings accepted in
// each coded column and the canonical value each is stored as
// (domain-data §2.3, §2.6, §3.6, §4.1, §8). Bump it when a table changes,
// as the attendance code sets are dated (pipeline/contract), so a store's
// contents can be traced to the tables that read them.
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
var contactTypes = codes(contract.ContactTypes(), nil)

// Attendance statuses (hv_contacts.attendance_status), the NHS "attended
// or did not attend" codes, stored as the code: 5 attended on time, 6
// arrived late but seen, 7 arrived late and not seen, 2 cancelled by or
// for the patient, 3 did not attend without warning, 4 cancelled or
// postponed by the provider, 0 not applicable. Children's services count
// 3 and 7 as "was not brought" (domain-data §2.3).
var attendanceStatuses = codes(contract.AttendanceStatuses(), nil)

// WasNotBrought reports whether a stored attendance_status is a missed
// appointment that children's services count as "was not brought"
// (contract.WasNotBrought).
func WasNotBrought(status string) bool { return contract.WasNotBrought(status) }

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
var instruments = codes(contract.Instruments(), map[string]string{
	"ASQ3_24": contract.InstrumentASQ3, "ASQ3_27": contract.InstrumentASQ3, "ASQ3_30": contract.InstrumentASQ3,
	"ASQSE2_24": contract.InstrumentASQSE2, "ASQSE2_30": contract.InstrumentASQSE2, "ASQSE2_36": contract.InstrumentASQSE2,
	"GAD-2": contract.InstrumentGAD2, "ASQ-3": contract.InstrumentASQ3, "ASQ:SE-2": contract.InstrumentASQSE2,
})

// scoreRanges are the totals each instrument can give (domain-data §2.3):
// a total outside is unreadable.
var scoreRanges = map[string][2]int64{
	contract.InstrumentWhooley: {0, 2},
	contract.InstrumentEPDS:    {0, 30},
	contract.InstrumentGAD2:    {0, 6},
	contract.InstrumentASQ3:    {0, 300}, // five domains of 0-60
	contract.InstrumentASQSE2:  {0, 400}, // the longest form's items × 15, rounded up
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
	m := codes(append(contract.Ethnicity19(), contract.EthNotStated), nil)
	dfe := map[string]string{
		"ABAN": contract.EthAsianBangladeshi, "CHNE": contract.EthAsianChinese, "AIND": contract.EthAsianIndian, "APKN": contract.EthAsianPakistani, "AOTH": contract.EthAsianOther,
		"BAFR": contract.EthBlackAfrican, "BCRB": contract.EthBlackCaribbean, "BOTH": contract.EthBlackOther,
		"MWAS": contract.EthMixedWhiteAsian, "MWBA": contract.EthMixedWhiteBlackAfrican, "MWBC": contract.EthMixedWhiteBlackCaribbean, "MOTH": contract.EthMixedOther,
		"WBRI": contract.EthWhiteBritish, "WIRI": contract.EthWhiteIrish, "WIRT": contract.EthWhiteGypsyIrishTraveller, "WOTH": contract.EthWhiteOther,
		"OOTH": contract.EthOtherAny, "OARA": contract.EthOtherArab,
		"REFU": contract.EthNotStated, "NOBT": contract.EthNotStated,
		// Extended codes, rolled up to their main code.
		"WENG": contract.EthWhiteBritish, "WSCO": contract.EthWhiteBritish, "WWEL": contract.EthWhiteBritish, "WNIR": contract.EthWhiteBritish,
		"WCOR": contract.EthWhiteBritish, "WOWB": contract.EthWhiteBritish,
		"AMPK": contract.EthAsianPakistani, "AKPA": contract.EthAsianPakistani, "AOPK": contract.EthAsianPakistani,
		"BSOM": contract.EthBlackAfrican, "BNGN": contract.EthBlackAfrican, "BGHA": contract.EthBlackAfrican, "BSLN": contract.EthBlackAfrican,
		"OIRQ": contract.EthOtherAny, "OAFG": contract.EthOtherAny,
	}
	// The NHS letters' own labels: C is "any other White background", R
	// "Chinese" (which the NHS files under Other, the ONS under Asian).
	nhs := map[string]string{
		"A": contract.EthWhiteBritish, "B": contract.EthWhiteIrish, "C": contract.EthWhiteOther,
		"D": contract.EthMixedWhiteBlackCaribbean, "E": contract.EthMixedWhiteBlackAfrican, "F": contract.EthMixedWhiteAsian, "G": contract.EthMixedOther,
		"H": contract.EthAsianIndian, "J": contract.EthAsianPakistani, "K": contract.EthAsianBangladeshi, "L": contract.EthAsianOther,
		"M": contract.EthBlackCaribbean, "N": contract.EthBlackAfrican, "P": contract.EthBlackOther,
		"R": contract.EthAsianChinese, "S": contract.EthOtherAny, "Z": contract.EthNotStated, "99": contract.EthNotStated,
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
