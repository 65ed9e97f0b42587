package pipeline

import (
	"context"
	"earlyhelp/pipeline/contract"
	"fmt"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// FeatureSet builds, from the store, the household table a run scores.
type FeatureSet interface {
	// Build returns one row per household eligible on asOf, computed from
	// data dated before asOf only. The caller releases the table.
	Build(ctx context.Context, mem memory.Allocator, asOf time.Time) (*FeatureTable, error)
	// Labels says, for each household of t, whether a child of it had the
	// outcome within horizonWeeks after t's as-of date.
	Labels(ctx context.Context, t *FeatureTable, horizonWeeks int) ([]bool, error)

	// What every run needs beyond the table (issue 22: required, so the
	// compiler checks it, rather than asked for at run time and skipped
	// when missing): which households received early help (left out of
	// training), the span of stored history (the backtest's dates), link
	// match rates (the manifest), each household's facts and timeline (the
	// list's reasons and contact safety, the family page), its children
	// (the fairness audit) and which features are area context.
	InterventionMarker
	DataSpanner
	LinkMatcher
	Signaller
	Timeliner
	ChildAuditor
	Contexter
	CacheDropper
	TableForgetter
	Columner
}

// A TableForgetter keeps something of every table it built (the feature
// set keeps each date's households, for labels, reasons and the audit's
// children) until the run lets the table go (State.Forget). The backtest
// builds some fifty tables of which it keeps six: at 300,000 children
// their households were a few hundred MB the heap carried for nothing.
type TableForgetter interface {
	// ForgetTable lets go of what is kept for the table of asOf. It is
	// called with no Build running; the table can no longer be labelled,
	// listed by child or drawn.
	ForgetTable(asOf time.Time)
}

// A CacheDropper (a FeatureSet, and each feature builder) keeps what it
// read from the store between builds until told to drop it. The score
// stage drops it when done: no later stage builds features, and the audit
// stage would otherwise run beside all of it (at 120,000 children the
// audit had become the weekly run's peak of memory).
type CacheDropper interface {
	// DropCaches lets go of what builds read; a later Build reads it
	// again. It must not run beside a Build, and tables built before it
	// can no longer be listed by child or drawn.
	DropCaches()
}

// Columns of a feature table that are not model inputs. Every other numeric
// column is a feature.
const (
	ColHousehold = contract.ColHouseholdID // pseudonym
	ColAsOf      = "as_of"
	ColLocality  = contract.ColLocality
	// ColChildren lists the household's children as "pseudonym:age" pairs
	// joined by ";" for the list's child_refs.
	ColChildren = "child_refs"
)

// FeatureTable is a feature record and what building it found out.
type FeatureTable struct {
	AsOf   time.Time
	Record arrow.Record
	// Excluded counts households left out, by reason (open social-care
	// case, open early-help episode, ...).
	Excluded map[string]int
	// IoDVintage is the deprivation release the table's area deciles come
	// from ("" when the source names none).
	IoDVintage string
}

// Release frees the record.
func (t *FeatureTable) Release() {
	if t != nil && t.Record != nil {
		t.Record.Release()
		t.Record = nil
	}
}

// StringColumn returns a string column of rec by name.
func StringColumn(rec arrow.Record, name string) (*array.String, error) {
	idx := rec.Schema().FieldIndices(name)
	if len(idx) != 1 {
		return nil, fmt.Errorf("feature table has no column %q", name)
	}
	col, ok := rec.Column(idx[0]).(*array.String)
	if !ok {
		return nil, fmt.Errorf("feature table column %q is %s, not string", name, rec.Column(idx[0]).DataType())
	}
	return col, nil
}

// A LinkMatcher works out link match rates (per source, the share of its
// people in a household on the as-of date) on request, once per run for
// the run date, instead of in every Build.
type LinkMatcher interface {
	LinkMatch(ctx context.Context, mem memory.Allocator, asOf time.Time) (map[string]float64, error)
}

// A Timeliner draws a household's signals over the weeks before the as-of
// date, for the family page of the review site: a navigator should see the
// pattern the reasons summarise before calling the family.
type Timeliner interface {
	Timeline(t *FeatureTable, row int) Timeline
}

// TimelineWeeks is how far back a family's timeline reaches.
const TimelineWeeks = 26

// Timeline is one household's signals over time, oldest first. It holds
// dates and counts only: no identifier.
type Timeline struct {
	Weeks  []TimelineWeek  `json:"weeks"`
	Events []TimelineEvent `json:"events"`
	// Children are the same weeks for each child alone, so the family page
	// can show one child's timeline.
	Children []ChildWeeks `json:"children,omitempty"`
}

// ChildWeeks is one child's school sessions week by week (Weeks' dates).
type ChildWeeks struct {
	Child string         `json:"child"` // pseudonym in the pipeline, the council person id in families.json
	Weeks []TimelineWeek `json:"weeks"`
}

// TimelineWeek is the household's school sessions in the week starting
// Start (a Monday, yyyy-mm-dd), over all its children.
type TimelineWeek struct {
	Start    string `json:"start"`
	Possible int    `json:"possible"`
	Absent   int    `json:"absent"`
	Late     int    `json:"late"`
}

// TimelineEvent is a dated signal from health visiting or housing.
type TimelineEvent struct {
	Date string `json:"date"` // yyyy-mm-dd
	Kind string `json:"kind"` // "health" or "housing"
	Text string `json:"text"` // plain English, e.g. "12-month review: not brought"
	// Child is whose record it is, when a child's: a pseudonym in the
	// pipeline, the council person id in families.json.
	Child string `json:"child,omitempty"`
}

// AuditChild is a child of a scored household, for the fairness audit:
// the audit counts children, not households, and needs the child's own
// ethnicity and area, which are never features.
type AuditChild struct {
	Row       int    // the household's row in the feature table
	Person    string // pseudonym
	Ethnicity string // recorded code; "" when not recorded
	IMDDecile int    // 1..10; 0 when the area is not known
	// AgeBand (ChildAgeBand of the child's age on the table's date), Sex
	// (M, F) and SENStatus (none, sen_support, ehcp) are for the equality
	// analysis, as ethnicity is; "" when not recorded.
	AgeBand   string
	Sex       string
	SENStatus string
	// Label is the child's own outcome within the horizon after the
	// table's as-of date; meaningless when that horizon has not passed.
	Label bool
}

// A ChildAuditor lists the children of a feature table's households. A
// FeatureSet that is one gets evaluation/scored_children.csv written.
type ChildAuditor interface {
	AuditChildren(ctx context.Context, t *FeatureTable, horizonWeeks int) ([]AuditChild, error)
}

// ChildAgeBands are the bands of ChildAgeBand in order: the early years,
// primary school, secondary school, and 16 and over.
var ChildAgeBands = []string{"0-4", "5-10", "11-15", "16+"}

// ChildAgeBand is the band of a child's age in whole years; "" for an
// unknown (negative) age.
func ChildAgeBand(age int) string {
	switch {
	case age < 0:
		return ""
	case age < 5:
		return ChildAgeBands[0]
	case age < 11:
		return ChildAgeBands[1]
	case age < 16:
		return ChildAgeBands[2]
	}
	return ChildAgeBands[3]
}

// A Contexter says which model features are context rather than reasons:
// area and family facts (deprivation, the number and ages of children)
// that a model may weigh but a family can never be told as the reason
// they were contacted. text is the feature's value in words.
type Contexter interface {
	Context(feature string, value float64) (text string, ok bool)
}

// A Columner names the feature columns Build makes, before any is built:
// a run tells by them whether a saved model can score this build's table,
// or was trained on other features (an upgrade that added some, say) and
// must be trained again. nil when they are not known in advance.
type Columner interface {
	FeatureColumns() []string
}

// An InterventionMarker says which households of a table received early
// help within the horizon after its as-of date.
type InterventionMarker interface {
	Intervened(ctx context.Context, t *FeatureTable, horizonWeeks int) ([]bool, error)
}

// A DataSpanner says over which days the store holds the history features
// are built on. The backtest does not train or test on dates with less than
// MinHistoryWeeks of it before (a snapshot without history looks like a
// household with no signals at all), nor on dates whose horizon runs past
// its end (outcomes not yet recorded would count as none).
type DataSpanner interface {
	DataSpan(ctx context.Context, mem memory.Allocator) (from, to time.Time, err error)
}
