// Package housing derives housing features (domain-data §3): homelessness
// approaches and open duties, temporary accommodation, and rent arrears,
// per household as of a date.
package housing

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/features"
	"earlyhelp/pipeline"
	"earlyhelp/pipeline/contract"
)

// Sources read here.
const (
	Cases      = contract.HomelessnessCases
	Placements = contract.TemporaryAccom
	Rent       = contract.RentAccounts
)

// Feature columns, in the order Build fills them.
const (
	Approaches12m   = contract.FeatApproaches12m
	OpenDuty        = contract.FeatOpenDuty // a prevention or relief duty open on the date
	WeeksInTA       = contract.FeatWeeksInTA
	OutOfArea       = contract.FeatOutOfArea
	ArrearsWeeks    = contract.FeatArrearsWeeks // latest balance over weekly rent
	ArrearsStage    = contract.FeatArrearsStage // 0 none … 8 evicted
	ArrearsRising8w = contract.FeatArrearsRising8w
	Unpaid13w       = contract.FeatRentUnpaid13w
	ApproachRecent  = contract.FeatApproachRecent
	ActionRecent    = contract.FeatArrearsActionRecent
)

var columns = []string{Approaches12m, OpenDuty, WeeksInTA, OutOfArea, ArrearsWeeks, ArrearsStage, ArrearsRising8w, Unpaid13w, ApproachRecent, ActionRecent}

// stages numbers each arrears stage by its place in the vocabulary's
// order of escalation: 0 none … 8 evicted.
var stages = func() map[string]float64 {
	m := map[string]float64{}
	for i, s := range contract.ArrearsStages() {
		m[s] = float64(i)
	}
	return m
}()

type homelessCase struct {
	approach, closed features.Day
	duty             bool   // prevention or relief owed
	owed             string // duty_owed as recorded, "" when null
}

type placement struct {
	start, end features.Day
	outOfArea  bool
}

// snapshot is one rent account snapshot. Millions are held, so it holds
// no pointer (the collector need not scan them) and its tenancy is a
// number: 32 bytes, not 48 and a string.
type snapshot struct {
	day     features.Day
	tenancy int32 // numbered in the order first read; a stage change is within one tenancy
	balance float64
	rent    float64 // weekly; 0 when null or not positive
	st      uint8   // arrears_stage's number + 1; 0 when the stage is null
}

// arrearsWeeks is the balance owed over the weekly rent: 0 in credit or
// when the rent is not known.
func (s *snapshot) arrearsWeeks() float64 {
	if s.rent <= 0 || s.balance <= 0 {
		return 0
	}
	return s.balance / s.rent
}

// stage is the arrears stage's number, 0 (none) when it is null.
func (s *snapshot) stage() float64 {
	if s.st == 0 {
		return 0
	}
	return float64(s.st - 1)
}

// staged says whether arrears_stage is present.
func (s *snapshot) staged() bool { return s.st != 0 }

// Builder computes the housing features, reading the sources once, keyed by
// the lead person's pseudonym.
type Builder struct {
	tables features.Tables
	mem    memory.Allocator

	once       sync.Once
	cases      map[string][]homelessCase
	placements map[string][]placement
	rent       map[string][]snapshot // in snapshot order
	err        error

	// people is the records by the roster's person numbers, made on the
	// first Build (again only if a build comes with another roster).
	mu     sync.Mutex
	people *people
}

var (
	_ features.Builder      = (*Builder)(nil)
	_ pipeline.CacheDropper = (*Builder)(nil)
)

// New returns a builder over the store's tables.
func New(t features.Tables, mem memory.Allocator) *Builder {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	return &Builder{tables: t, mem: mem}
}

// Columns names the features.
func (b *Builder) Columns() []string { return append([]string(nil), columns...) }

const open = features.Day(math.MaxInt32)

// DropCaches lets go of the records read; the next build reads them again.
func (b *Builder) DropCaches() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.once = sync.Once{}
	b.cases, b.placements, b.rent, b.err, b.people = nil, nil, nil, nil, nil
}

// Preload reads the cases, placements and rent snapshots every build
// needs.
func (b *Builder) Preload(ctx context.Context, _ time.Time) error { return b.load(ctx) }

func (b *Builder) load(ctx context.Context) error {
	b.once.Do(func() { b.err = b.read(ctx) })
	return b.err
}

func (b *Builder) read(ctx context.Context) error {
	b.cases, b.placements, b.rent = map[string][]homelessCase{}, map[string][]placement{}, map[string][]snapshot{}
	lead := map[string]string{} // case_ref → lead person
	err := b.tables.Scan(ctx, b.mem, Cases, func(rec arrow.Record) error {
		var g features.Getter
		ref, who, duty := g.Str(rec, contract.ColCaseRef), g.Str(rec, contract.ColLeadPersonID), g.Str(rec, contract.ColDutyOwed)
		from, to := g.Date(rec, contract.ColApproachDate), g.Date(rec, contract.ColCaseClosedDate)
		if g.Err != nil {
			return g.Err
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			c := homelessCase{approach: features.Day(from.Value(i)), closed: open}
			if to.IsValid(i) {
				c.closed = features.Day(to.Value(i))
			}
			c.duty = duty.IsValid(i) && (duty.Value(i) == contract.DutyPrevention || duty.Value(i) == contract.DutyRelief)
			if duty.IsValid(i) {
				c.owed = duty.Value(i)
			}
			lead[ref.Value(i)] = who.Value(i)
			b.cases[who.Value(i)] = append(b.cases[who.Value(i)], c)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("housing: %w", err)
	}
	err = b.tables.Scan(ctx, b.mem, Placements, func(rec arrow.Record) error {
		var g features.Getter
		ref, from, to, away := g.Str(rec, contract.ColCaseRef), g.Date(rec, contract.ColPlacementStart), g.Date(rec, contract.ColPlacementEnd), g.Bool(rec, contract.ColOutOfArea)
		if g.Err != nil {
			return g.Err
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			who, ok := lead[ref.Value(i)]
			if !ok {
				continue // a placement for a case not in the extract cannot be placed
			}
			p := placement{start: features.Day(from.Value(i)), end: open, outOfArea: away.IsValid(i) && away.Value(i)}
			if to.IsValid(i) {
				p.end = features.Day(to.Value(i))
			}
			b.placements[who] = append(b.placements[who], p)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("housing: %w", err)
	}
	// A person's key is copied when first seen: a string pointing into its
	// record would keep the whole extract (millions of weekly snapshots,
	// every column) alive.
	//
	// One map lookup a row: a tenancy's snapshots are its lead person's
	// week after week, so the tenancy's number finds the person's list,
	// and the person is looked up only when a tenancy's lead changes. Two
	// more lookups a row were most of a 300,000-child weekly run's read.
	tenancies := map[string]int32{}
	var leadOf []int32 // by tenancy: an index into leads, -1 before its first snapshot
	byLead := map[string]int32{}
	var leads []string         // the lead people, as first read
	var snapshots [][]snapshot // by lead, in snapshot order
	err = b.tables.Scan(ctx, b.mem, Rent, func(rec arrow.Record) error {
		var g features.Getter
		ten := g.Str(rec, contract.ColTenancyRef)
		who, day, bal, rent, stage := g.Str(rec, contract.ColLeadPersonID), g.Date(rec, contract.ColSnapshotDate), g.Float64(rec, contract.ColBalance), g.Float64(rec, contract.ColWeeklyRent), g.Str(rec, contract.ColArrearsStage)
		if g.Err != nil {
			return g.Err
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			t, ok := tenancies[ten.Value(i)]
			if !ok {
				t = int32(len(leadOf))
				tenancies[strings.Clone(ten.Value(i))] = t
				leadOf = append(leadOf, -1)
			}
			s := snapshot{tenancy: t, day: features.Day(day.Value(i)), balance: bal.Value(i)}
			if rent.IsValid(i) && rent.Value(i) > 0 {
				s.rent = rent.Value(i)
			}
			if stage.IsValid(i) {
				s.st = uint8(stages[stage.Value(i)]) + 1
			}
			if w := who.Value(i); leadOf[t] < 0 || leads[leadOf[t]] != w {
				l, ok := byLead[w]
				if !ok {
					l = int32(len(leads))
					w = strings.Clone(w)
					byLead[w] = l
					leads, snapshots = append(leads, w), append(snapshots, nil)
				}
				leadOf[t] = l
			}
			snapshots[leadOf[t]] = append(snapshots[leadOf[t]], s)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("housing: %w", err)
	}
	b.rent = make(map[string][]snapshot, len(leads))
	for l, w := range leads {
		b.rent[w] = snapshots[l]
	}
	return nil
}

// Build fills the housing features of every household of l from records
// dated before its date, over every member of the household (the lead
// person of a case or tenancy is usually a parent).
func (b *Builder) Build(ctx context.Context, l *features.Link, cols [][]float64) error {
	if len(cols) != len(columns) {
		return fmt.Errorf("housing: %d columns given, %d wanted", len(cols), len(columns))
	}
	if err := b.load(ctx); err != nil {
		return err
	}
	ps := b.peopleOf(l)
	d, year := l.Day, features.Before(l.AsOf, 52)
	for i := range l.Households {
		for _, m := range l.Households[i].MemberIndices() {
			for _, c := range ps.casesOf(m) {
				if year.Contains(c.approach) {
					cols[0][i]++
					cols[8][i] += features.Recency(d, c.approach)
				}
				if c.duty && c.approach < d && c.closed >= d {
					cols[1][i] = 1
				}
			}
			for _, p := range ps.placementsOf(m) {
				if p.start < d && p.end >= d {
					cols[2][i] = max(cols[2][i], float64(d-p.start)/7)
					if p.outOfArea {
						cols[3][i] = 1
					}
				}
			}
			if latest := ps.latestBefore(m, d); latest != nil {
				cols[4][i] = max(cols[4][i], latest.arrearsWeeks())
				cols[5][i] = max(cols[5][i], latest.stage())
				if eightBefore := ps.latestBefore(m, d-56); eightBefore != nil && latest.balance > eightBefore.balance && latest.balance > 0 {
					cols[6][i] = 1
				}
				cols[7][i] = max(cols[7][i], float64(ps.unpaidWeeks(m, d, 13)))
				if latest.stage() >= 1 {
					if reached := ps.stageReached(m, latest, d); year.Contains(reached) {
						cols[9][i] = max(cols[9][i], features.Recency(d, reached))
					}
				}
			}
		}
	}
	return nil
}

// Describe writes the builder's reasons in plain English.
func (b *Builder) Describe(r pipeline.Reason) (string, bool) {
	switch r.Feature {
	case Approaches12m:
		return fmt.Sprintf("%.0f approach(es) to the council as homeless in the last year", r.Value), true
	case OpenDuty:
		return "a homelessness prevention or relief duty is open", true
	case WeeksInTA:
		return fmt.Sprintf("in temporary accommodation for %.0f weeks", r.Value), true
	case OutOfArea:
		return "placed in temporary accommodation out of the area", true
	case ArrearsWeeks:
		return fmt.Sprintf("rent arrears of %.1f weeks' rent", r.Value), true
	case ArrearsStage:
		for name, v := range stages {
			if v == r.Value {
				return "rent arrears action reached: " + name, true
			}
		}
		return fmt.Sprintf("rent arrears action at stage %.0f", r.Value), true
	case ArrearsRising8w:
		return "rent arrears have risen over the last 8 weeks", true
	case Unpaid13w:
		return fmt.Sprintf("no rent was paid in %.0f of the last 13 weeks", r.Value), true
	case ApproachRecent:
		return "approached the council as homeless recently", true
	case ActionRecent:
		return "rent arrears action was taken recently", true
	}
	return "", false
}
