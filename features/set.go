package features

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/pipeline"
	"earlyhelp/pipeline/contract"
)

// A Builder derives one signal family's feature columns for every household
// of a link, from data dated before the link's as-of date only.
type Builder interface {
	// Columns names the builder's features, in the order Build fills them.
	Columns() []string
	// Build fills cols[j][i] with feature j of household i of l. The slices
	// are zeroed and sized for the link. The builders of a Set build at the
	// same time, each on a goroutine of its own: Build reads l and the
	// store and changes nothing but its own builder and cols.
	Build(ctx context.Context, l *Link, cols [][]float64) error
	// Describe writes one of the builder's reasons in plain English; ok is
	// false for a feature the builder does not own.
	Describe(r pipeline.Reason) (text string, ok bool)
	// DropCaches lets go of what builds read; the next Build reads it
	// again. A run drops caches once it has scored (see
	// pipeline.CacheDropper), so a builder that kept its records would be
	// the audit's peak of memory; one that keeps nothing does nothing.
	DropCaches()
	// Preload reads from the store what builds as of asOf will need and
	// that needs no roster, so the set can read it beside the roster
	// (Build); Build would read it anyway. Safe beside another builder's
	// Preload or Build.
	Preload(ctx context.Context, asOf time.Time) error

	// Every run describes, lists and draws the families it puts on the
	// list, measures its links and bounds its backtest, so a builder says
	// all of these, the compiler checking it, rather than being asked
	// whether it can at run time and silently skipped when it cannot. A
	// builder with nothing to say gives the documented empty answer of
	// each.
	Factual
	Timelined
	ChildTimeline
	Signaller
	Matcher
	Spanner
}

// A Matcher reports how many of a source's people the link placed in a
// household, for the link_match_ratio metric; source is "" when the
// builder gives no rate. The roster's Linkage measures the sources it can
// place by NHS number or person id, unless a builder has measured one
// already from the records it holds (housing, rent accounts); a builder
// measures a source keyed otherwise too (attendance, by UPN).
type Matcher interface {
	MatchRate(ctx context.Context, l *Link) (source string, ratio float64, err error)
}

// Options shape the household table.
type Options struct {
	// UseDeprivation adds the area's deprivation as a feature. Ethnicity is
	// never a feature: it is not even read into the table.
	UseDeprivation bool
	// IoDVintage chooses the deprivation release ("IoD2019", "IoD2025");
	// "" takes the newest the deprivation source holds.
	IoDVintage string
	// RunDate is the day of the run. A household with an objection that
	// stands on it is left out of every table the run builds, training
	// snapshots included; zero means the as-of date only.
	RunDate time.Time
	// RosterCache, when set, keeps the indexed roster between runs (see
	// LoadRosterCached); nil reads it from the tables every time.
	RosterCache DeliveryCache
}

// Reasons households are left out of scoring.
const (
	ExcludedOpenCase      = "open_social_care_case"
	ExcludedOpenEarlyHelp = "open_early_help_episode"
	ExcludedObjection     = "objection" // UK GDPR Art. 21
)

// Core feature columns, computed here rather than by a builder.
const (
	FeatChildren        = contract.FeatChildren
	FeatAreaDeprivation = contract.FeatAreaDeprivation // 11 − IMD decile: 10 = most deprived
)

// Set is the pipeline's FeatureSet: the roster, the builders and the links
// they share, as of any date.
type Set struct {
	tables   Tables
	builders []Builder
	opts     Options

	once   sync.Once
	roster *Roster
	read   RosterRead // how roster was read
	err    error
	// linkage is read for LinkMatch, on its first call, with the records
	// from linkedSince on.
	linkage     *Linkage
	linkedSince Day
	links       map[Day][]Household // households of each built table, in row order
}

var (
	_ pipeline.FeatureSet   = (*Set)(nil)
	_ pipeline.CacheDropper = (*Set)(nil)
)

// NewSet wires the builders over the store's tables.
func NewSet(t Tables, opts Options, builders ...Builder) *Set {
	return &Set{tables: t, builders: builders, opts: opts, links: map[Day][]Household{}}
}

// DropCaches lets go of the roster and of what every builder read; a
// later Build reads them again.
func (s *Set) DropCaches() {
	s.once = sync.Once{}
	s.roster, s.linkage, s.err = nil, nil, nil
	s.links = map[Day][]Household{}
	for _, b := range s.builders {
		b.DropCaches()
	}
}

// Roster loads (once) and returns the roster.
func (s *Set) Roster(ctx context.Context, mem memory.Allocator) (*Roster, error) {
	s.once.Do(func() {
		s.roster, s.read, s.err = LoadRosterCached(ctx, mem, s.tables, s.opts.RosterCache, s.opts.IoDVintage)
	})
	return s.roster, s.err
}

// RosterRead says how the roster was last read: from the store's cache, or
// from the store and why not from the cache.
func (s *Set) RosterRead() RosterRead { return s.read }

// FeatureColumns names the table's feature columns, in order.
func (s *Set) FeatureColumns() []string { return s.columns() }

func (s *Set) columns() []string {
	cols := []string{FeatChildren}
	if s.opts.UseDeprivation {
		cols = append(cols, FeatAreaDeprivation)
	}
	cols = append(cols, householdColumns...)
	for _, b := range s.builders {
		cols = append(cols, b.Columns()...)
	}
	return cols
}

// Build returns the household table as of asOf.
func (s *Set) Build(ctx context.Context, mem memory.Allocator, asOf time.Time) (*pipeline.FeatureTable, error) {
	// The builders' own reads need no roster, so they go beside its load:
	// one after the other, a 300,000-child weekly run spent 6 of its 24
	// seconds of features on the roster with a core idle.
	var pre sync.WaitGroup
	preErrs := make([]error, len(s.builders))
	for i, b := range s.builders {
		pre.Go(func() { preErrs[i] = b.Preload(ctx, asOf) })
	}
	r, err := s.Roster(ctx, mem)
	pre.Wait()
	if err != nil {
		return nil, err
	}
	if err := errors.Join(preErrs...); err != nil {
		return nil, err
	}
	all := r.Link(asOf)
	t := &pipeline.FeatureTable{AsOf: asOf, Excluded: map[string]int{}, IoDVintage: r.IoDVintage()}
	l := &Link{AsOf: all.AsOf, Day: all.Day, roster: r, Households: make([]Household, 0, len(all.Households))}
	run := all.Day
	if !s.opts.RunDate.IsZero() {
		run = DayOf(s.opts.RunDate)
	}
	for i := range all.Households {
		h := &all.Households[i]
		switch {
		case all.objection(h, all.Day) || all.objection(h, run):
			t.Excluded[ExcludedObjection]++
		case all.openCase(h):
			t.Excluded[ExcludedOpenCase]++
		case all.openEarlyHelp(h):
			t.Excluded[ExcludedOpenEarlyHelp]++
		default:
			l.Households = append(l.Households, *h)
		}
	}
	n := len(l.Households)
	names := s.columns()
	// The feature columns are filled where the record will hold them, in
	// Arrow buffers from mem, so it takes them without a copy.
	bufs := make([]*memory.Buffer, len(names))
	defer func() {
		for _, b := range bufs {
			b.Release() // the record holds its own references
		}
	}()
	cols := make([][]float64, len(names))
	for j := range bufs {
		bufs[j] = memory.NewResizableBuffer(mem)
		bufs[j].Resize(arrow.Float64Traits.BytesRequired(n))
		cols[j] = arrow.Float64Traits.CastFromBytes(bufs[j].Bytes())
		clear(cols[j]) // zeroed as Builder promises, whatever mem hands out
	}
	for i := range l.Households {
		h := &l.Households[i]
		cols[0][i] = float64(len(h.Children))
		if s.opts.UseDeprivation {
			if d := l.IMDDecile(h); d > 0 {
				cols[1][i] = float64(11 - d)
			} else {
				cols[1][i] = 5.5 // unknown area: the middle, not the extreme
			}
		}
	}
	next := 1
	if s.opts.UseDeprivation {
		next = 2
	}
	// The household's own features and each builder's fill disjoint
	// columns, so they run at the same time: a weekly run builds one date,
	// and one family after another left a core idle.
	var wg sync.WaitGroup
	// So do the record's other columns, which need only the households.
	var keys []arrow.Array
	wg.Go(func() { keys = keyColumns(mem, l) })
	hhCols := cols[next : next+len(householdColumns)]
	wg.Go(func() {
		hv := make([]float64, len(householdColumns))
		for i := range l.Households {
			l.householdFeatures(&l.Households[i], hv)
			for j, v := range hv {
				hhCols[j][i] = v
			}
		}
	})
	next += len(householdColumns)
	errs := make([]error, len(s.builders))
	for bi, b := range s.builders {
		k := len(b.Columns())
		sub := cols[next : next+k]
		wg.Go(func() { errs[bi] = b.Build(ctx, l, sub) })
		next += k
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		for _, a := range keys {
			a.Release()
		}
		return nil, err
	}
	t.Record = record(names, n, keys, bufs)
	s.links[l.Day] = l.Households
	return t, nil
}

// ForgetTable lets go of the households of the table of asOf (see
// pipeline.TableForgetter).
func (s *Set) ForgetTable(asOf time.Time) {
	delete(s.links, DayOf(asOf))
}

var _ pipeline.LinkMatcher = (*Set)(nil)

// LinkMatch returns, per source, the share of its people found in a
// household as of asOf. It is asked once per run, for the run date, rather
// computed in every Build: the backtest builds dozens of dates.
//
// A source a builder measures from the records it holds is not read again
// for the roster's Linkage: rent accounts, a year of weekly snapshots,
// were most of a 300,000-child weekly run's link match.
func (s *Set) LinkMatch(ctx context.Context, mem memory.Allocator, asOf time.Time) (map[string]float64, error) {
	r, err := s.Roster(ctx, mem)
	if err != nil {
		return nil, err
	}
	all := r.Link(asOf)
	rates := map[string]float64{}
	for _, b := range s.builders {
		src, ratio, err := b.MatchRate(ctx, all)
		if err != nil {
			return nil, err
		}
		if src != "" {
			rates[src] = ratio
		}
	}
	// Read here rather than with the roster: a backtest never asks, and a
	// run asks once its table is built, when no load competes for the CPU.
	// A source a builder gave no rate for is read: it then has nothing of
	// the year, which the Linkage finds too, whenever it read it.
	if since := Before(asOf, 52).From; s.linkage == nil || since < s.linkedSince {
		if s.linkage, err = LoadLinkage(ctx, mem, s.tables, r, since, rates); err != nil {
			s.linkage = nil
			return nil, err
		}
		s.linkedSince = since
	}
	for src, v := range s.linkage.Rates(all) {
		if _, ok := rates[src]; !ok {
			rates[src] = v
		}
	}
	return rates, nil
}

// keyColumns builds the columns that say which household each row is:
// its pseudonym, the as-of date, its locality and its children.
func keyColumns(mem memory.Allocator, l *Link) []arrow.Array {
	hh := array.NewStringBuilder(mem)
	defer hh.Release()
	asOf := array.NewDate32Builder(mem)
	defer asOf.Release()
	loc := array.NewStringBuilder(mem)
	defer loc.Release()
	kids := array.NewStringBuilder(mem)
	defer kids.Release()
	// Sized up front: growing the builders row by row copied them over and
	// over.
	n := len(l.Households)
	var idBytes, locBytes, kidBytes int
	for i := range l.Households {
		h := &l.Households[i]
		idBytes += len(h.ID)
		locBytes += len(h.Locality)
		for _, c := range h.Children {
			kidBytes += len(c.Person) + 5 // ':', up to three digits of age and ';'
		}
	}
	hh.Reserve(n)
	hh.ReserveData(idBytes)
	loc.Reserve(n)
	loc.ReserveData(locBytes)
	kids.Reserve(n)
	kids.ReserveData(kidBytes)
	asOf.Reserve(n)
	var buf []byte
	for i := range l.Households {
		h := &l.Households[i]
		hh.Append(h.ID)
		asOf.UnsafeAppend(arrow.Date32(l.Day))
		loc.Append(h.Locality)
		buf = buf[:0]
		for j, c := range h.Children {
			if j > 0 {
				buf = append(buf, ';')
			}
			buf = append(buf, c.Person...)
			buf = append(buf, ':')
			buf = strconv.AppendInt(buf, int64(c.Age), 10)
		}
		kids.BinaryBuilder.Append(buf)
	}
	return []arrow.Array{hh.NewArray(), asOf.NewArray(), loc.NewArray(), kids.NewArray()}
}

// record puts the key columns and the feature columns, n rows of float64
// in bufs, named names, together. It takes over keys.
func record(names []string, n int, keys []arrow.Array, bufs []*memory.Buffer) arrow.Record {
	fields := []arrow.Field{
		{Name: pipeline.ColHousehold, Type: arrow.BinaryTypes.String},
		{Name: pipeline.ColAsOf, Type: arrow.FixedWidthTypes.Date32},
		{Name: pipeline.ColLocality, Type: arrow.BinaryTypes.String},
		{Name: pipeline.ColChildren, Type: arrow.BinaryTypes.String},
	}
	arrs := append([]arrow.Array(nil), keys...)
	for j, name := range names {
		fields = append(fields, arrow.Field{Name: name, Type: arrow.PrimitiveTypes.Float64})
		d := array.NewData(arrow.PrimitiveTypes.Float64, n, []*memory.Buffer{nil, bufs[j]}, nil, 0, 0)
		arrs = append(arrs, array.NewFloat64Data(d))
		d.Release()
	}
	rec := array.NewRecord(arrow.NewSchema(fields, nil), arrs, int64(n))
	for _, a := range arrs {
		a.Release()
	}
	return rec
}

// Labels says whether a child of each household of t was referred with an
// outcome of assessment or above in the horizonWeeks after t's as-of date.
func (s *Set) Labels(ctx context.Context, t *pipeline.FeatureTable, horizonWeeks int) ([]bool, error) {
	hs, ok := s.links[DayOf(t.AsOf)]
	if !ok || len(hs) != int(t.Record.NumRows()) {
		return nil, fmt.Errorf("labels: no household table built for %s", t.AsOf.Format(time.DateOnly))
	}
	w := After(t.AsOf, horizonWeeks)
	l := &Link{Day: DayOf(t.AsOf), roster: s.roster}
	out := make([]bool, len(hs))
	for i := range hs {
		h := &hs[i]
		out[i] = l.outcomeIn(h, w)
	}
	return out, nil
}

// A Factual builder can put a reason in the household's own facts and
// dates ("attendance fell from 96% to 81% over 6 weeks", "in temporary
// accommodation since 14 Sep 2025"), from records dated before l's date.
type Factual interface {
	Fact(l *Link, h *Household, r pipeline.Reason) (text string, ok bool)
}

// A Timelined builder adds its signals to a household's timeline (see
// pipeline.Timeliner), from records dated before l's date: weeks, when
// given, are the pipeline.TimelineWeeks weeks before it, oldest first, to
// add its counts to.
type Timelined interface {
	Timeline(l *Link, h *Household, weeks []pipeline.TimelineWeek) []pipeline.TimelineEvent
}

var _ pipeline.Timeliner = (*Set)(nil)

// MaxTimelineEvents bounds one builder's events on a household's timeline:
// the latest are kept.
const MaxTimelineEvents = 40

// DatedEvent is a builder's timeline event before it is worded.
type DatedEvent struct {
	Day  Day
	Text string
	// Child is the pseudonym of the child whose record it is, if a child's.
	Child string
}

// TimelineEvents puts a builder's events in date order, keeps the latest
// MaxTimelineEvents and words them as pipeline.TimelineEvents of kind.
func TimelineEvents(kind string, evs []DatedEvent) []pipeline.TimelineEvent {
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].Day < evs[j].Day })
	if len(evs) > MaxTimelineEvents {
		evs = evs[len(evs)-MaxTimelineEvents:]
	}
	out := make([]pipeline.TimelineEvent, len(evs))
	for i, e := range evs {
		out[i] = pipeline.TimelineEvent{Date: e.Day.Time().Format(time.DateOnly), Kind: kind, Text: e.Text, Child: e.Child}
	}
	return out
}

// Timeline draws row of t's signals over the weeks before t's date from
// every builder.
func (s *Set) Timeline(t *pipeline.FeatureTable, row int) pipeline.Timeline {
	var out pipeline.Timeline
	hs, ok := s.links[DayOf(t.AsOf)]
	if !ok || row < 0 || row >= len(hs) {
		return out
	}
	l := &Link{AsOf: t.AsOf, Day: DayOf(t.AsOf), roster: s.roster}
	// Weeks start on Mondays, the last one the week of the as-of date.
	monday := l.Day - Day((int(l.Day)+3)%7)
	out.Weeks = make([]pipeline.TimelineWeek, pipeline.TimelineWeeks)
	for i := range out.Weeks {
		out.Weeks[i].Start = (monday - Day(7*(pipeline.TimelineWeeks-1-i))).Time().Format(time.DateOnly)
	}
	for _, b := range s.builders {
		out.Events = append(out.Events, b.Timeline(l, &hs[row], out.Weeks)...)
		out.Children = append(out.Children, b.ChildWeeks(l, &hs[row], out.Weeks)...)
	}
	sort.SliceStable(out.Events, func(i, j int) bool { return out.Events[i].Date < out.Events[j].Date })
	return out
}

// Describe turns a reason for row of t into a sentence a navigator can
// read: a builder's facts about the household where it has them, else the
// feature's value in words.
func (s *Set) Describe(t *pipeline.FeatureTable, row int, r pipeline.Reason) string {
	if t != nil {
		if hs, ok := s.links[DayOf(t.AsOf)]; ok && row >= 0 && row < len(hs) {
			l := &Link{AsOf: t.AsOf, Day: DayOf(t.AsOf), roster: s.roster}
			for _, b := range s.builders {
				if text, ok := b.Fact(l, &hs[row], r); ok {
					return text
				}
			}
		}
	}
	return s.describe(r)
}

func (s *Set) describe(r pipeline.Reason) string {
	switch r.Feature {
	case FeatChildren:
		return fmt.Sprintf("%.0f children in the household", r.Value)
	case FeatAreaDeprivation:
		return fmt.Sprintf("lives in an area in IMD decile %.0f (1 = most deprived)", 11-r.Value)
	}
	if text, ok := describeHousehold(r.Feature, r.Value); ok {
		return text
	}
	for _, b := range s.builders {
		if text, ok := b.Describe(r); ok {
			return text
		}
	}
	return fmt.Sprintf("%s is %.2f", r.Feature, r.Value)
}

// A Signaller builder says a household's own dated facts as of l's date,
// from records dated before it: its signals, contact-safety facts and, for
// attendance, each child's school (pipeline.Signaller).
type Signaller interface {
	Signals(l *Link, h *Household) pipeline.FamilyFacts
}

// A ChildTimeline builder draws each child's own weeks, so the family page
// can show one child's timeline. A builder with no weekly counts (its
// events already name their child on the household's timeline) returns
// nil.
type ChildTimeline interface {
	ChildWeeks(l *Link, h *Household, weeks []pipeline.TimelineWeek) []pipeline.ChildWeeks
}

var _ pipeline.Signaller = (*Set)(nil)

// Facts gathers row of t's own facts from the roster and every builder.
func (s *Set) Facts(t *pipeline.FeatureTable, row int) pipeline.FamilyFacts {
	var out pipeline.FamilyFacts
	hs, ok := s.links[DayOf(t.AsOf)]
	if !ok || row < 0 || row >= len(hs) {
		return out
	}
	l := &Link{AsOf: t.AsOf, Day: DayOf(t.AsOf), roster: s.roster}
	h := &hs[row]
	out = l.rosterFacts(h)
	for _, b := range s.builders {
		f := b.Signals(l, h)
		out.Signals = append(out.Signals, f.Signals...)
		out.Safety = append(out.Safety, f.Safety...)
		for k, v := range f.Schools {
			if out.Schools == nil {
				out.Schools = map[string]string{}
			}
			out.Schools[k] = v
		}
	}
	return out
}

var _ pipeline.Contexter = (*Set)(nil)

// Context words the features that are about the area or the family's
// size and ages: model inputs, never reasons (CONTRACTS §6).
func (s *Set) Context(feature string, v float64) (string, bool) {
	switch feature {
	case FeatChildren:
		return fmt.Sprintf("%.0f children in the household", v), true
	case FeatAreaDeprivation:
		return fmt.Sprintf("lives in an area in IMD decile %.0f (1 = most deprived)", 11-v), true
	case FeatYoungestAge:
		return fmt.Sprintf("the youngest child is %.0f", v), true
	case FeatUnderFive:
		return fmt.Sprintf("%.0f child(ren) under 5", v), true
	}
	return "", false
}
