package pipeline

import (
	"context"
	"earlyhelp/pipeline/contract"
	"time"
)

// A Decision is a navigator's latest recorded decision about a household.
type Decision struct {
	Decision string // offer_made, offer_accepted, ... (CONTRACTS §6)
	At       time.Time
}

// ListRules size and steady the weekly list.
type ListRules struct {
	Capacity int
	// CooloffWeeks: a household with a decision recorded in the weeks
	// before the run date is not listed again until they have passed.
	CooloffWeeks int
	// Quotas, when set, cap the households listed per locality; a locality
	// without a quota is capped by Capacity alone.
	Quotas map[string]int
	// KeepMargin is the stability rule: a household on last week's list,
	// with no decision since, stays on while its rank is within
	// KeepMargin × Capacity, so a family does not flicker on and off
	// through noise in its score. 1 turns the rule off.
	KeepMargin float64
	// VeryHigh and High are the bands' thresholds, as multiples of the
	// training base rate.
	VeryHigh, High float64
	// Lottery, when set, draws the households at the capacity margin
	// (list.evaluation): selectList then chooses Capacity + Margin
	// households, and drawList lists Capacity of them.
	Lottery *Lottery
}

func (lr ListRules) Band(score, baseRate float64) string {
	vh, h := lr.VeryHigh, lr.High
	if vh == 0 {
		vh = DefaultVeryHigh
	}
	if h == 0 {
		h = DefaultHigh
	}
	switch {
	case score >= vh*baseRate:
		return BandVeryHigh
	case score >= h*baseRate:
		return BandHigh
	}
	return BandRaised
}

// Statuses of a listed household (CONTRACTS §6).
const (
	StatusNew        = "new"        // not on any earlier list
	StatusContinuing = "continuing" // on last week's list too
	StatusReturning  = "returning"  // on an earlier list, but not last week's
)

// Default list rules.
const (
	DefaultKeepMargin = 1.25
	DefaultVeryHigh   = 5
	DefaultHigh       = 3
)

// BandOf is the band a listed household shows, drawn on its corrected
// score and after the backtest's merges, and its likelihood in words: the
// band's outcome rate on the backtest's lists, or the corrected score when
// the backtest's lists had no household in the band.
func (rules ListRules) BandOf(top *TopOfList, score, baseRate float64) (string, string) {
	c := top.Correct(score)
	band := rules.Band(c, baseRate)
	if top == nil {
		return band, Likelihood(c)
	}
	if to, ok := top.MergedInto[band]; ok {
		band = to
	}
	for _, b := range top.Bands {
		if b.Band == band {
			return band, Likelihood(b.ObservedRate)
		}
	}
	return band, Likelihood(c)
}

// An Exporter writes the navigator list of a run (files under runDir/list/)
// and returns the paths it wrote, relative to runDir.
type Exporter interface {
	Export(ctx context.Context, runDir string, l *List) ([]string, error)
}

// List is a week's navigator list, still pseudonymised: the exporter
// re-identifies the households on it and only those.
type List struct {
	Council  string
	RunID    string
	AsOf     time.Time
	Capacity int
	Entries  []ListEntry
}

// ListEntry is one household on the list.
type ListEntry struct {
	Rank        int
	Household   string // pseudonym
	Locality    string
	Band        string
	Score       float64
	Status      string // new, continuing, returning
	WeeksOnList int
	Children    []ChildRef
	// Reasons are the model's own: their features are scores.parquet's
	// reason codes. The list shows Why, chosen from the family's signals.
	Reasons     []Reason
	Why         []ListReason
	ReasonTexts []string
	// Safety are the household's contact-safety facts, ContactSafety their
	// instructions (one per kind, in SafetyKinds order).
	Safety        []SafetyFact
	ContactSafety []string
	// Likelihood is the band's observed outcome rate in words.
	Likelihood string
	// Context are area and family facts the model weighed that are not
	// reasons: the area's deprivation, the number of children.
	Context []string
	// Signals are every signal of the household within the reasons' age
	// limit, for the family page's children.
	Signals []Signal
	Schools map[string]string
	// The navigators' latest decision about the household, if any.
	LastDecision   string
	LastDecisionAt time.Time
	// Timeline is the household's signals over time, when the feature set
	// can draw them (Timeliner).
	Timeline *Timeline
}

// ListFamily is one entry of the list's families.json (rundir.FamiliesFile).
type ListFamily struct {
	Rank      int       `json:"rank"`
	Household string    `json:"household_ref"`
	Pseudonym string    `json:"household_id"`
	Locality  string    `json:"locality"`
	Timeline  *Timeline `json:"timeline,omitempty"`
	// Score is the raw calibrated score, for the family page only; the
	// list shows the band and its likelihood in words.
	Score      float64 `json:"score"`
	Band       string  `json:"band"`
	Likelihood string  `json:"likelihood"`
	// ContactSafety comes before everything else on the family page.
	ContactSafety []FamilySafety `json:"contact_safety"`
	Reasons       []FamilyReason `json:"reasons"`
	Context       []string       `json:"context"`
	Children      []FamilyChild  `json:"children"`
}

// FamilySafety is one contact-safety fact on the family page.
type FamilySafety struct {
	Kind        string `json:"kind"` // SafetyKinds
	Date        string `json:"date"` // yyyy-mm-dd, the latest record of the kind
	Instruction string `json:"instruction"`
}

// FamilyReason is one reason on the family page.
type FamilyReason struct {
	Code  string `json:"code"`
	Child string `json:"child,omitempty"` // the child's council person id; empty for the household
	Age   int    `json:"age,omitempty"`
	Date  string `json:"date"` // yyyy-mm-dd
	Text  string `json:"text"` // with the child and the date, as the list shows it
}

// FamilyChild is one child of a listed household on the family page.
type FamilyChild struct {
	Ref        string         `json:"ref"` // council person id
	Age        int            `json:"age"`
	School     string         `json:"school,omitempty"`      // URN from the attendance extract
	SchoolName string         `json:"school_name,omitempty"` // from list.schools_file, when the council supplies one
	Signals    []FamilySignal `json:"signals"`
}

// FamilySignal is one of a child's own signals.
type FamilySignal struct {
	Code string `json:"code"`
	Date string `json:"date"`
	Text string `json:"text"`
}

// ListColumns is navigator_list.csv's header, in CONTRACTS §6 order.
func ListColumns() []string {
	return []string{"rank", "household_ref", contract.ColLocality, "band", "score", "status", "weeks_on_list",
		"children", "child_refs", "reasons", "reason_codes", "last_decision", "last_decision_date",
		"contact_safety", "likelihood", "context"}
}

// ChildRef is a child of a listed household.
type ChildRef struct {
	Person string // pseudonym
	Age    int
}

// Bands, on the calibrated score relative to the training base rate: a
// household in "very high" is at least five times as likely as the average
// household to have the outcome within the horizon.
const (
	BandVeryHigh = "very high"
	BandHigh     = "high"
	BandRaised   = "raised"
)

// Arms of the capacity-margin lottery.
const (
	ArmOffered    = "offered"
	ArmNotOffered = "not_offered"
)

// Lottery is the capacity-margin evaluation (list.evaluation): of the 2m
// households ranked around the week's capacity K, m are listed, chosen
// uniformly at random; the K−m above them are always listed. Their scores
// differ by less than the score's own noise, so the draw changes only an
// order the model cannot really tell apart, and the council learns whether
// the offer changes outcomes.
type Lottery struct {
	Margin int
	// Seed, with the run's as-of date, fixes the draw: the same week's list
	// drawn again with the same seed is the same list.
	Seed int64
}

// Allocation is one household's draw.
type Allocation struct {
	Household string // pseudonym
	Rank      int    // in the week's ranked order, 1 = highest score
	Arm       string // ArmOffered or ArmNotOffered
}

// MarginDraw is the lottery over n households eligible for the list, in
// list order (after cool-off, quotas and the stability rule), at capacity k
// and margin m: Always are the positions listed whatever the draw, Offered
// and NotOffered the lottery's arms, each in ascending order. Exactly
// min(n, k) positions are listed (Always and Offered). With n ≤ k everyone
// is listed and there is no lottery: nobody eligible goes unlisted, so
// there is nothing to randomise.
type MarginDraw struct {
	Always, Offered, NotOffered []int
}

// AllocationColumns is the header of list/AllocationFile.
func AllocationColumns() []string {
	return []string{"run_id", "as_of", contract.ColHouseholdID, "rank", "arm", "margin", "seed"}
}

// PastAllocation is a household's first draw in an earlier week's lottery,
// as the decisions database keeps it.
type PastAllocation struct {
	RunID     string
	AsOf      time.Time
	Household string // pseudonym
	Arm       string
}

// EvaluationArmsColumns is the header of audit/EvaluationArmsFile.
func EvaluationArmsColumns() []string {
	return []string{"measure", "households", "outcomes", "estimate", "ci_low", "ci_high", "labels_known_to"}
}

// ArmsEstimate is the lottery's arms compared: the difference in outcome
// rates, offered minus not offered, with its interval, and each arm's
// interval (low, high).
type ArmsEstimate struct {
	Difference, Low, High float64
	Offered, NotOffered   [2]float64
}

// ArmsEstimator compares the outcome rates of the lottery's arms; the
// pipeline is given one so this package needs no statistics of its own.
type ArmsEstimator func(offered, offeredEvents, notOffered, notOfferedEvents int) (ArmsEstimate, error)
