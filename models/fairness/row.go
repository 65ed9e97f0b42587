package fairness

import (
	"fmt"
	"math"
	"strings"

	"earlyhelp/pipeline/contract"
)

// Unknown is the explicit group for missing, not stated or unmatched values
// (§4.2). It is always reported and never a reference.
const Unknown = "UNKNOWN"

// Row is one scored child (§4.1; CONTRACTS §4 scored_children.csv). The spec's
// family_id is ID: the audit is at child level, so it holds the person
// pseudonym unless the file carries an explicit id column.
type Row struct {
	AsOf        string
	Model       string
	ID          string // tie-break key at the cut-off, byte-wise ascending
	HouseholdID string
	Score       float64
	Selected    int8 // 0, 1, or -1 when the file has no audited decision
	Label       int8 // 0, 1, or -1 when the outcome is not yet observed
	// HouseLabel is the household's outcome on the row's date: 1 if any of
	// its children's Label is 1 (see household.go). Audit derives it.
	HouseLabel int8
	Ethnicity  string // ONS 2021 19-category code; NOT_STATED or "" → UNKNOWN
	Ethnicity5 string // derived from Ethnicity when blank
	IMDDecile  int    // 1..10; 0 = missing or unmatched → UNKNOWN
	// AgeBand, Sex and SENStatus are the child's, for the equality
	// analysis (scored_children.csv's age_band, sex, sen_status); "" when
	// not recorded. Fields rather than Extra, which costs a map per row.
	AgeBand   string
	Sex       string
	SENStatus string
	// Extra holds any further columns, so callers can audit an ad-hoc
	// attribute (an IMD band, a test's sensitive feature) without a new field.
	Extra map[string]string
}

// ethnicity19 lists the ONS 2021 codes in ONS order (domain-data §4.1,
// pipeline/contract); the canonical group order of §4.2 follows it.
var ethnicity19 = contract.Ethnicity19()

// ethnicity5 lists the five high-level groups in ONS order.
var ethnicity5 = contract.Ethnicity5()

var quintiles = []string{"Q1", "Q2", "Q3", "Q4", "Q5"}

var deciles = []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10"}

// GroupOf5 maps a 19-category code to its high-level group; NOT_STATED and
// blank map to UNKNOWN, and an unrecognised code is an error because a
// silent UNKNOWN would hide a crosswalk bug as missingness.
func GroupOf5(code string) (string, error) {
	switch code {
	case "", contract.EthNotStated, Unknown:
		return Unknown, nil
	}
	if g, ok := contract.EthnicGroup5(code); ok {
		return g, nil
	}
	return "", fmt.Errorf("ethnicity %q is not an ONS 2021 19-category code", code)
}

// Quintile is ceil(decile/2) as "Q1".."Q5" (§4.2), or UNKNOWN.
func Quintile(decile int) string {
	if decile < 1 || decile > 10 {
		return Unknown
	}
	return quintiles[(decile-1)/2]
}

// normalise fills the derived fields and checks the row, so every later
// stage can trust it.
func (r *Row) normalise() error {
	if math.IsNaN(r.Score) || r.Score < 0 || r.Score > 1 {
		return fmt.Errorf("score %v outside [0,1]", r.Score)
	}
	if r.Selected < -1 || r.Selected > 1 || r.Label < -1 || r.Label > 1 {
		return fmt.Errorf("selected %d / label %d not 0, 1 or missing", r.Selected, r.Label)
	}
	if r.IMDDecile < 0 || r.IMDDecile > 10 {
		return fmt.Errorf("imd_decile %d outside 1..10", r.IMDDecile)
	}
	g, err := GroupOf5(r.Ethnicity)
	if err != nil {
		return err
	}
	if r.Ethnicity == contract.EthNotStated || r.Ethnicity == "" {
		r.Ethnicity = Unknown
	}
	switch {
	case r.Ethnicity5 == "":
		r.Ethnicity5 = g
	case g != Unknown && r.Ethnicity5 != g:
		return fmt.Errorf("ethnicity5 %q contradicts ethnicity %q", r.Ethnicity5, r.Ethnicity)
	case r.Ethnicity5 != Unknown && indexOf(ethnicity5, r.Ethnicity5) < 0:
		return fmt.Errorf("ethnicity5 %q is not one of %s", r.Ethnicity5, strings.Join(ethnicity5, ", "))
	}
	return nil
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}
