package pipeline

import (
	"context"
	"earlyhelp/pipeline/atomicfile"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
)

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

// FamiliesFile, beside the list, is what the review site's family pages
// show beyond the list's columns: each listed household's pseudonym (the
// key navigators' decisions are stored under, so the decisions store holds
// no council identifier) and its timeline. It pairs references with
// pseudonyms, so it is as confidential as the list itself.
const FamiliesFile = "families.json"

// ListFamily is one entry of list/FamiliesFile.
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
	return []string{"rank", "household_ref", "locality", "band", "score", "status", "weeks_on_list",
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

// score scores every eligible household as of the run date, ranks them and
// exports the list.
func (r *run) score(ctx context.Context) error {
	if d, ok := r.opts.Features.(CacheDropper); ok {
		defer d.DropCaches()
	}
	s, err := r.snapshotAt(ctx, r.opts.AsOf)
	if err != nil {
		return err
	}
	t := s.table
	r.man.Households = &HouseholdCounts{Scored: int(t.Record.NumRows()), Excluded: t.Excluded}
	r.man.IoDVintage = t.IoDVintage
	rates := t.LinkMatch
	if lm, ok := r.opts.Features.(LinkMatcher); ok {
		if rates, err = lm.LinkMatch(ctx, r.mem, r.opts.AsOf); err != nil {
			return fmt.Errorf("link match rates: %w", err)
		}
	}
	for src, v := range rates {
		r.man.LinkMatch[src] = v
		if r.opts.Metrics != nil {
			r.opts.Metrics.LinkMatch.WithLabelValues(src).Set(v)
		}
	}
	if err := checkFeatures(r.model, t.Record); err != nil {
		return err
	}
	scores, err := r.model.Score(ctx, t.Record)
	if err != nil {
		return err
	}
	hh, err := stringColumn(t.Record, ColHousehold)
	if err != nil {
		return err
	}
	order := make([]int, len(scores))
	for i := range order {
		order[i] = i
	}
	// Ties go to the household pseudonym so the order is reproducible.
	sort.SliceStable(order, func(a, b int) bool {
		ia, ib := order[a], order[b]
		if scores[ia] != scores[ib] {
			return scores[ia] > scores[ib]
		}
		return hh.Value(ia) < hh.Value(ib)
	})
	rank := make([]int, len(scores))
	for pos, i := range order {
		rank[i] = pos + 1
	}
	// Every household's reasons: scores.parquet carries their codes, and
	// the list their text.
	why, err := ExplainAll(ctx, r.model, t.Record, 3)
	if err != nil {
		return fmt.Errorf("reasons: %w", err)
	}
	codes := make([]string, len(scores))
	for i := range scores {
		codes[i] = reasonCodes(why[i])
	}
	loc, _ := stringColumn(t.Record, ColLocality)
	kids, _ := stringColumn(t.Record, ColChildren)
	ranked := make([]string, len(order))
	locs := make([]string, len(order))
	for pos, i := range order {
		ranked[pos] = hh.Value(i)
		if loc != nil {
			locs[pos] = loc.Value(i)
		}
	}
	rules := r.opts.ListRules
	rules.Capacity = r.opts.Capacity
	prev, err := previousListState(filepath.Dir(r.runDir), filepath.Base(r.runDir), r.opts.AsOf)
	if err != nil {
		return fmt.Errorf("last week's list: %w", err)
	}
	var decisions map[string]Decision
	if r.opts.Decisions != nil {
		if decisions, err = r.opts.Decisions(ctx); err != nil {
			return fmt.Errorf("navigators' decisions: %w", err)
		}
	}
	// A household is listed only with a reason of its own: a dated signal
	// from its records within the age limit. Its facts are gathered only
	// for the households the list reaches, in rank order.
	sig, _ := r.opts.Features.(Signaller)
	facts := map[int]*FamilyFacts{}
	factsOf := func(i int) *FamilyFacts {
		if f, ok := facts[i]; ok {
			return f
		}
		f := &FamilyFacts{}
		if sig != nil {
			*f = sig.Facts(t, i)
			f.Signals = r.opts.Reasons.Recent(f.Signals, r.opts.AsOf)
		}
		facts[i] = f
		return f
	}
	var fit func(pos int) bool
	if sig != nil {
		fit = func(pos int) bool { return len(factsOf(order[pos]).Signals) > 0 }
	}
	sel, passed := rules.selectList(ranked, locs, prev, decisions, r.opts.AsOf, fit)
	sel, alloc, err := rules.drawList(sel, ranked, r.opts.AsOf)
	if err != nil {
		return err
	}
	ctxr, _ := r.opts.Features.(Contexter)
	l := &List{Council: r.opts.Council, RunID: r.opts.RunID, AsOf: r.opts.AsOf, Capacity: r.opts.Capacity}
	listed := make(map[int]bool, len(sel))
	for _, s := range sel {
		i := order[s.pos]
		listed[i] = true
		reasons := why[i]
		band, likely := r.topOfList().bandOf(rules, scores[i], r.baseRate)
		e := ListEntry{
			// The list's score is corrected for the top's over-confidence in
			// the backtest; scores.parquet keeps the model's own.
			Rank: s.pos + 1, Household: hh.Value(i), Band: band, Score: r.topOfList().Correct(scores[i]),
			Status: s.status, WeeksOnList: s.weeksOnList, Reasons: reasons, Locality: locs[s.pos],
			Likelihood: likely,
		}
		if d, ok := decisions[e.Household]; ok {
			e.LastDecision, e.LastDecisionAt = d.Decision, d.At
		}
		if kids != nil {
			if e.Children, err = parseChildren(kids.Value(i)); err != nil {
				return err
			}
		}
		ages := map[string]int{}
		for _, c := range e.Children {
			ages[c.Person] = c.Age
		}
		if sig != nil {
			f := factsOf(i)
			// Every feature's part, not only the top three: a family's own
			// signal may rank below the area's deprivation in the model.
			all := r.model.Explain(t.Record, i, 1<<10)
			for _, s := range r.opts.Reasons.Choose(all, f.Signals) {
				lr := ListReason{Code: s.Code, Person: s.Person, Date: s.Date, Text: s.Text}
				if s.Person != "" {
					lr.Age = ages[s.Person]
				}
				e.Why = append(e.Why, lr)
				e.ReasonTexts = append(e.ReasonTexts, lr.Text)
			}
			e.Safety, e.ContactSafety = r.opts.Reasons.Safety(f.Safety, r.opts.AsOf)
			e.Context = contextOf(ctxr, all)
			e.Signals, e.Schools = f.Signals, f.Schools
		} else {
			for _, rs := range reasons {
				e.ReasonTexts = append(e.ReasonTexts, CleanText(r.opts.Features.Describe(t, i, rs)))
			}
		}
		if tl, ok := r.opts.Features.(Timeliner); ok {
			line := tl.Timeline(t, i)
			e.Timeline = &line
		}
		l.Entries = append(l.Entries, e)
	}
	state := nextState(prev, r.opts.AsOf.Format(time.DateOnly), ranked, sel)
	b, err := json.Marshal(state)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(r.runDir, "list", listStateFile), b, 0o640); err != nil {
		return err
	}
	r.output("list/" + listStateFile)
	if err := atomicfile.WriteParquet(filepath.Join(r.runDir, "features.parquet"), t.Record); err != nil {
		return err
	}
	r.output("features.parquet")
	if err := r.writeScores(hh, scores, rank, codes); err != nil {
		return err
	}
	r.output("scores.parquet")
	if err := r.writeScoredChildren(ctx, t, scores, listed); err != nil {
		return fmt.Errorf("scored children: %w", err)
	}
	r.featurePSI(t)
	paths, err := r.opts.Exporter.Export(ctx, r.runDir, l)
	if err != nil {
		return fmt.Errorf("list: %w", err)
	}
	for _, p := range paths {
		r.output(p)
	}
	if err := r.recordAllocation(ctx, rules.Lottery, alloc); err != nil {
		return err
	}
	if err := r.evaluationArms(ctx); err != nil {
		return err
	}
	lm := &ListManifest{Capacity: r.opts.Capacity, Households: len(l.Entries), Bands: map[string]int{},
		Statuses: map[string]int{}, Churn: churn(sel), PreviousAsOf: "", NoFamilySignal: passed,
		ReasonMaxAgeWeeks: r.opts.Reasons.MaxAgeWeeks}
	if prev != nil {
		lm.PreviousAsOf = prev.AsOf
	}
	if lt := rules.Lottery; lt != nil {
		lm.Evaluation = &EvaluationManifest{Margin: lt.Margin, Seed: lt.Seed}
		for _, a := range alloc {
			if a.Arm == ArmOffered {
				lm.Evaluation.Offered++
			} else {
				lm.Evaluation.NotOffered++
			}
		}
	}
	for _, e := range l.Entries {
		lm.Bands[e.Band]++
		lm.Statuses[e.Status]++
	}
	r.man.List = lm
	if r.opts.Metrics != nil {
		r.opts.Metrics.ListHouseholds.Set(float64(len(l.Entries)))
		r.opts.Metrics.ListCapacity.Set(float64(lm.Capacity))
		if prev != nil { // a first list is all new, which is no churn
			r.opts.Metrics.ListChurn.Set(lm.Churn)
		}
	}
	return nil
}

func reasonCodes(rs []Reason) string {
	names := make([]string, len(rs))
	for j, x := range rs {
		names[j] = x.Feature
	}
	return strings.Join(names, ";")
}

func parseChildren(s string) ([]ChildRef, error) {
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, ";")
	out := make([]ChildRef, 0, len(parts))
	for _, p := range parts {
		id, age, ok := strings.Cut(p, ":")
		n, err := strconv.Atoi(age)
		if !ok || err != nil {
			return nil, fmt.Errorf("feature table: malformed %s entry", ColChildren)
		}
		out = append(out, ChildRef{Person: id, Age: n})
	}
	return out, nil
}

func (r *run) writeScores(hh *array.String, scores []float64, rank []int, codes []string) error {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: ColHousehold, Type: arrow.BinaryTypes.String},
		{Name: "score", Type: arrow.PrimitiveTypes.Float64},
		{Name: "rank", Type: arrow.PrimitiveTypes.Int32},
		{Name: "reason_codes", Type: arrow.BinaryTypes.String},
	}, nil)
	b := array.NewRecordBuilder(r.mem, schema)
	defer b.Release()
	for i := range scores {
		b.Field(0).(*array.StringBuilder).Append(hh.Value(i))
		b.Field(1).(*array.Float64Builder).Append(scores[i])
		b.Field(2).(*array.Int32Builder).Append(int32(rank[i]))
		b.Field(3).(*array.StringBuilder).Append(codes[i])
	}
	rec := b.NewRecord()
	defer rec.Release()
	return atomicfile.WriteParquet(filepath.Join(r.runDir, "scores.parquet"), rec)
}

// topOfList is the backtest's calibration of the list by band, from this
// run's backtest or the saved model's; nil when neither has one.
func (r *run) topOfList() *TopOfList {
	if r.man.Backtest == nil {
		return nil
	}
	return r.man.Backtest.TopOfList
}
