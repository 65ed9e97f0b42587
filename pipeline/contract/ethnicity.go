package contract

import "strings"

// The ONS Census 2021 ethnic group classification, 19 categories
// (domain-data §4.1): the canonical code connectors store whatever
// classification an extract uses, and the fairness audit groups by.
// Ethnicity is never a model input.
const (
	EthAsianBangladeshi         = "ASIAN_BANGLADESHI"
	EthAsianChinese             = "ASIAN_CHINESE"
	EthAsianIndian              = "ASIAN_INDIAN"
	EthAsianPakistani           = "ASIAN_PAKISTANI"
	EthAsianOther               = "ASIAN_OTHER"
	EthBlackAfrican             = "BLACK_AFRICAN"
	EthBlackCaribbean           = "BLACK_CARIBBEAN"
	EthBlackOther               = "BLACK_OTHER"
	EthMixedWhiteAsian          = "MIXED_WHITE_ASIAN"
	EthMixedWhiteBlackAfrican   = "MIXED_WHITE_BLACK_AFRICAN"
	EthMixedWhiteBlackCaribbean = "MIXED_WHITE_BLACK_CARIBBEAN"
	EthMixedOther               = "MIXED_OTHER"
	EthWhiteBritish             = "WHITE_BRITISH"
	EthWhiteIrish               = "WHITE_IRISH"
	EthWhiteGypsyIrishTraveller = "WHITE_GYPSY_IRISH_TRAVELLER"
	EthWhiteRoma                = "WHITE_ROMA"
	EthWhiteOther               = "WHITE_OTHER"
	EthOtherArab                = "OTHER_ARAB"
	EthOtherAny                 = "OTHER_ANY"
	// EthNotStated is the one code outside the 19: the person was asked
	// and did not say (or refused). The audit reports it as unknown.
	EthNotStated = "NOT_STATED"
)

// Ethnicity19 lists the 19 ONS 2021 codes in ONS order (the audit's
// canonical group order follows it); NOT_STATED is not among them.
func Ethnicity19() []string { return append([]string(nil), ethnicity19[:]...) }

// ethnicity19 is Ethnicity19's table, which EthnicGroup5 reads once per
// audited child without copying it.
var ethnicity19 = [...]string{
	EthAsianBangladeshi, EthAsianChinese, EthAsianIndian, EthAsianPakistani, EthAsianOther,
	EthBlackAfrican, EthBlackCaribbean, EthBlackOther,
	EthMixedWhiteAsian, EthMixedWhiteBlackAfrican, EthMixedWhiteBlackCaribbean, EthMixedOther,
	EthWhiteBritish, EthWhiteIrish, EthWhiteGypsyIrishTraveller, EthWhiteRoma, EthWhiteOther,
	EthOtherArab, EthOtherAny,
}

// The five ONS high-level ethnic groups.
const (
	GroupAsian = "Asian"
	GroupBlack = "Black"
	GroupMixed = "Mixed"
	GroupWhite = "White"
	GroupOther = "Other"
)

// Ethnicity5 lists the five high-level groups in ONS order.
func Ethnicity5() []string {
	return []string{GroupAsian, GroupBlack, GroupMixed, GroupWhite, GroupOther}
}

// EthnicGroup5 maps one of the 19 codes to its high-level group. ok is
// false for anything else, NOT_STATED and blank included: the caller
// decides what those mean (the audit's UNKNOWN, or an error, since a
// silent unknown would hide a crosswalk bug as missingness).
func EthnicGroup5(code string) (group string, ok bool) {
	for _, c := range ethnicity19 {
		if c != code {
			continue
		}
		switch {
		case strings.HasPrefix(c, "ASIAN_"):
			return GroupAsian, true
		case strings.HasPrefix(c, "BLACK_"):
			return GroupBlack, true
		case strings.HasPrefix(c, "MIXED_"):
			return GroupMixed, true
		case strings.HasPrefix(c, "WHITE_"):
			return GroupWhite, true
		}
		return GroupOther, true
	}
	return "", false
}
