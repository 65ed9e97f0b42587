package pipeline

import (
	"fmt"
	"strings"
	"time"
)

// A Signal is one dated fact from a household's own records: what
// happened, to whom and when. The list's reasons are chosen from signals
// only, never from the area's deprivation or the family's size, which are
// model inputs but not reasons a family can be told (CONTRACTS §6).
type Signal struct {
	// Code is the reason code: the model feature the fact evidences.
	Code string
	// Features are every model feature column the fact evidences; the
	// model's contributions of these order the reasons.
	Features []string
	// Person is the pseudonym of the child the fact is about; empty when it
	// is about the household or a parent.
	Person string
	// Date is when it happened; for a rate over weeks, the window's last
	// day. Facts older than list.reason_max_age_weeks are never reasons.
	Date time.Time
	// Text says what happened in plain English, naming no one, with its
	// date, and never the list's ';' separator.
	Text string
	// Salience orders signals the model gave no weight: higher first.
	Salience float64
}

// Kinds of contact-safety fact: facts that change how a navigator may
// safely make contact, shown before any reason whether or not the model
// weighed them.
const (
	SafetyDomesticAbuse      = "domestic_abuse"          // disclosed in the last 12 months
	SafetyHousingAction      = "possession_or_eviction"  // a possession order or eviction in progress
	SafetySocialCareReferral = "social_care_referral"    // a referral to children's social care in the last 12 months
	SafetyPerinatalMood      = "perinatal_mental_health" // EPDS at or above the threshold, or a positive Whooley, in the last 12 months
	SafetyLookbackWeeks      = 52
)

// SafetyKinds are the contact-safety kinds, in the order they are shown.
func SafetyKinds() []string {
	return []string{SafetyDomesticAbuse, SafetyPerinatalMood, SafetyHousingAction, SafetySocialCareReferral}
}

// DefaultSafetyText is each kind's instruction to a navigator: what to do,
// not a diagnosis. list.contact_safety in the config overrides any of them.
func DefaultSafetyText() map[string]string {
	return map[string]string{
		SafetyDomesticAbuse: "Speak to the safeguarding lead before contacting: a recent health-visiting record asks for safe contact. " +
			"Do not write to the home or leave messages; contact only a named adult, alone.",
		SafetyPerinatalMood:      "Contact gently and through the health visitor first: a recent health-visiting screen asks for perinatal mental-health support.",
		SafetyHousingAction:      "Check with the housing team before contacting: possession or eviction action is in progress.",
		SafetySocialCareReferral: "Check with children's social care before contacting: a referral was made in the last 12 months.",
	}
}

// A SafetyFact is one contact-safety fact about a household.
type SafetyFact struct {
	Kind   string
	Date   time.Time
	Person string // pseudonym, when the record is a child's
}

// FamilyFacts is what the feature set knows of one household's own
// records as of a table's date: its signals (the reasons are chosen from
// them), its contact-safety facts and each child's school.
type FamilyFacts struct {
	Signals []Signal
	Safety  []SafetyFact
	// Schools maps a child's pseudonym to the URN of the school of their
	// latest attendance record.
	Schools map[string]string
}

// A Signaller is a FeatureSet that can say a household's own facts, for
// the list's reasons, its contact-safety column and the family page.
type Signaller interface {
	Facts(t *FeatureTable, row int) FamilyFacts
}

// ListReason is one reason on the list: a chosen Signal, with the child's
// age.
type ListReason struct {
	Code   string
	Person string // pseudonym; empty for the household
	Age    int    // the child's age on the as-of date, when Person is set
	Date   time.Time
	Text   string
}

// CleanText makes s safe inside a ';'-separated list cell: the separator
// becomes a comma and runs of space one space.
func CleanText(s string) string {
	s = strings.ReplaceAll(s, ";", ",")
	return strings.Join(strings.Fields(s), " ")
}

// Likelihood says a probability in words, "about 1 in 4", for the list's
// likelihood column: navigators read odds better than decimals.
func Likelihood(p float64) string {
	switch {
	case p <= 0:
		return "unknown"
	case p >= 0.5:
		return fmt.Sprintf("about %d in 10", int(p*10+0.5))
	}
	return fmt.Sprintf("about 1 in %d", int(1/p+0.5))
}
