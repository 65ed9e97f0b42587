// Package health derives health-visiting features (domain-data §2): missed
// mandated contacts, targeted contacts, maternal mood screening, child
// development and domestic-abuse disclosure, per household as of a date.
package health

import (
	"context"
	"fmt"
	"math"
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
	Contacts    = contract.HVContacts
	Assessments = contract.HVAssessments
)

// Feature columns, in the order Build fills them.
const (
	WasNotBrought12m = contract.FeatWasNotBrought12m // contacts missed (NHS status 3) in the last year
	Targeted12m      = contract.FeatTargeted12m
	LowMood12m       = contract.FeatLowMood12m  // EPDS ≥ 13 or a positive Whooley
	ASQBelow12m      = contract.FeatASQBelow12m // most ASQ-3 domains below cut-off
	DADisclosed12m   = contract.FeatDADisclosed12m
	// MandatedMissed12m counts mandated reviews (new birth, 6–8 weeks, 12
	// months, 2–2½ years) whose window closed in the last year without an
	// attended contact of that type, over the household's children.
	MandatedMissed12m = contract.FeatMandatedMissed12m
	// LateNewBirth counts children under one whose new-birth visit came
	// after day 14 (the national measure, C3).
	LateNewBirth = contract.FeatLateNewBirth

	EPDSLatest24m       = contract.FeatEPDSLatest24m
	EPDSScreened24m     = contract.FeatEPDSScreened24m
	WasNotBroughtRecent = contract.FeatWasNotBroughtRecent
	TargetedRecent      = contract.FeatTargetedRecent
	LowMoodRecent       = contract.FeatLowMoodRecent
	DADisclosedRecent   = contract.FeatDADisclosedRecent
)

var columns = []string{WasNotBrought12m, Targeted12m, LowMood12m, ASQBelow12m, DADisclosed12m, MandatedMissed12m, LateNewBirth,
	EPDSLatest24m, EPDSScreened24m, WasNotBroughtRecent, TargetedRecent, LowMoodRecent, DADisclosedRecent}

// mandated reviews and the age in days by which each is overdue
// (domain-data §2.2: new birth within 30 days at the latest, 6–8 weeks by
// 10 weeks, 12 months by 15 months, 2–2½ years by 30 months).
var mandated = [...]struct {
	kind    string
	dueDays features.Day
}{
	{contract.ContactNewBirth, 30}, {contract.ContactSixEightWeek, 70}, {contract.ContactTwelveMonth, 456}, {contract.ContactTwoTwoHalfYear, 913},
}

// open is a day after every other: a review never held.
const open = features.Day(math.MaxInt32)

const newBirthOnTimeDays = 14

// contact is one health-visiting contact as the features need it.
type contact struct {
	day                     features.Day
	kind                    string // contact_type
	attended                bool   // status 5 (on time) or 6 (late but seen)
	wasNotBrought, targeted bool
	daDisclosed             bool
	lowMood                 bool
	asqBelow                int8

	// For the timeline: the contact's NHS attendance status, or the
	// assessment's instrument and scores (an assessment has no status).
	status     string
	instrument string
	score      int16
	scored     bool // score is present
	asqKnown   bool // asqBelow is present
}

// Builder computes the health-visiting features. It reads both sources
// once, on first use, keyed by NHS number pseudonym.
type Builder struct {
	tables features.Tables
	mem    memory.Allocator

	once  sync.Once
	byNHS map[string][]contact
	err   error

	// people is byNHS by the roster's person numbers. The register's NHS
	// numbers do not depend on the date, so it is made on the first Build
	// (again only if a build comes with another roster).
	mu     sync.Mutex
	people *people
}

var (
	_ features.Builder      = (*Builder)(nil)
	_ pipeline.CacheDropper = (*Builder)(nil)
)

// DropCaches lets go of the contacts read; the next build reads them again.
func (b *Builder) DropCaches() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.once = sync.Once{}
	b.byNHS, b.err, b.people = nil, nil, nil
}

// New returns a builder over the store's tables.
func New(t features.Tables, mem memory.Allocator) *Builder {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	return &Builder{tables: t, mem: mem}
}

// Columns names the features.
func (b *Builder) Columns() []string { return append([]string(nil), columns...) }

// Preload reads the contacts and assessments every build needs.
func (b *Builder) Preload(ctx context.Context, _ time.Time) error { return b.load(ctx) }

func (b *Builder) load(ctx context.Context) error {
	b.once.Do(func() { b.byNHS, b.err = load(ctx, b.mem, b.tables) })
	return b.err
}

func load(ctx context.Context, mem memory.Allocator, t features.Tables) (map[string][]contact, error) {
	type at struct {
		nhs string
		i   int
	}
	byNHS := map[string][]contact{}
	byID := map[string]at{}
	err := t.Scan(ctx, mem, Contacts, func(rec arrow.Record) error {
		var g features.Getter
		id, nhs, typ, status := g.Str(rec, contract.ColContactID), g.Str(rec, contract.ColNHSNumber), g.Str(rec, contract.ColContactType), g.Str(rec, contract.ColAttendanceStatus)
		date := g.Date(rec, contract.ColAppointmentDate)
		da := g.Bool(rec, contract.ColDADisclosed)
		if g.Err != nil {
			return g.Err
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			c := contact{
				day:           features.Day(date.Value(i)),
				kind:          typ.Value(i),
				attended:      contract.Attended(status.Value(i)),
				wasNotBrought: contract.WasNotBrought(status.Value(i)),
				targeted:      typ.Value(i) == contract.ContactTargeted,
				daDisclosed:   da.IsValid(i) && da.Value(i),
				status:        status.Value(i),
			}
			k := nhs.Value(i)
			byID[id.Value(i)] = at{k, len(byNHS[k])}
			byNHS[k] = append(byNHS[k], c)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("health: %w", err)
	}
	// An assessment has no date of its own: it takes its contact's.
	err = t.Scan(ctx, mem, Assessments, func(rec arrow.Record) error {
		var g features.Getter
		id, nhs, instr := g.Str(rec, contract.ColContactID), g.Str(rec, contract.ColNHSNumber), g.Str(rec, contract.ColInstrument)
		score, below := g.Int16(rec, contract.ColScoreTotal), g.Int8(rec, contract.ColASQDomainsBelow)
		if g.Err != nil {
			return g.Err
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			ref, ok := byID[id.Value(i)]
			if !ok {
				continue // an assessment without its contact cannot be dated
			}
			c := contact{day: byNHS[ref.nhs][ref.i].day, instrument: instr.Value(i), scored: score.IsValid(i), asqKnown: below.IsValid(i)}
			if c.scored {
				c.score = score.Value(i)
			}
			switch instr.Value(i) {
			case contract.InstrumentEPDS:
				c.lowMood = score.IsValid(i) && score.Value(i) >= 13
			case contract.InstrumentWhooley:
				c.lowMood = score.IsValid(i) && score.Value(i) >= 1
			case contract.InstrumentASQ3:
				if below.IsValid(i) {
					c.asqBelow = below.Value(i)
				}
			}
			k := nhs.Value(i)
			byNHS[k] = append(byNHS[k], c)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("health: %w", err)
	}
	return byNHS, nil
}

// Build fills the features of every household of l from contacts in the
// 52 weeks before its date, over every member of the household.
func (b *Builder) Build(ctx context.Context, l *features.Link, cols [][]float64) error {
	if len(cols) != len(columns) {
		return fmt.Errorf("health: %d columns given, %d wanted", len(cols), len(columns))
	}
	if err := b.load(ctx); err != nil {
		return err
	}
	ps := b.peopleOf(l)
	w, w2 := features.Before(l.AsOf, 52), features.Before(l.AsOf, 104)
	for i := range l.Households {
		h := &l.Households[i]
		members := h.MemberIndices()
		var epdsDay features.Day
		for _, m := range members {
			for _, c := range ps.in(m, w2) {
				// The latest screen; of two on one day, the higher score.
				if c.instrument == contract.InstrumentEPDS && c.scored && (cols[8][i] == 0 || c.day > epdsDay || (c.day == epdsDay && float64(c.score) > cols[7][i])) {
					cols[7][i], cols[8][i], epdsDay = float64(c.score), 1, c.day
				}
				if !w.Contains(c.day) {
					continue // the rest count over the year
				}
				if c.wasNotBrought {
					cols[0][i]++
				}
				if c.targeted {
					cols[1][i]++
				}
				if c.lowMood {
					cols[2][i] = 1
				}
				cols[3][i] = max(cols[3][i], float64(c.asqBelow))
				if c.daDisclosed {
					cols[4][i] = 1
				}
				r := features.Recency(l.Day, c.day)
				for k, on := range [...]bool{c.wasNotBrought, c.targeted, c.lowMood, c.daDisclosed} {
					if on {
						cols[9+k][i] += r
					}
				}
			}
		}
		for _, m := range members[:len(h.Children)] {
			rd := &ps.reviews[m]
			if !rd.born {
				continue
			}
			missed, late := rd.count(l.Day)
			cols[5][i] += float64(missed)
			cols[6][i] += float64(late)
		}
	}
	return nil
}

// Describe writes the builder's reasons in plain English.
func (b *Builder) Describe(r pipeline.Reason) (string, bool) {
	switch r.Feature {
	case WasNotBrought12m:
		return fmt.Sprintf("%.0f health-visitor appointment(s) missed (was not brought) in the last year", r.Value), true
	case Targeted12m:
		return fmt.Sprintf("%.0f targeted health-visitor contact(s) in the last year", r.Value), true
	case LowMood12m:
		return "a parent screened positive for low mood (EPDS or Whooley) in the last year", true
	case ASQBelow12m:
		return fmt.Sprintf("a child's development check (ASQ-3) was below the cut-off in %.0f area(s)", r.Value), true
	case DADisclosed12m:
		return "domestic abuse was disclosed to the health visitor in the last year", true
	case MandatedMissed12m:
		return fmt.Sprintf("%.0f mandated health-visitor review(s) due in the last year were not held", r.Value), true
	case LateNewBirth:
		return "the baby's new-birth visit came after 14 days", true
	case EPDSLatest24m:
		return fmt.Sprintf("a parent's latest EPDS mood score in the last two years was %.0f", r.Value), true
	case EPDSScreened24m:
		return "a parent's mood was screened (EPDS) in the last two years", true
	case WasNotBroughtRecent:
		return "health-visitor appointments missed (was not brought) recently", true
	case TargetedRecent:
		return "targeted health-visitor contacts recently", true
	case LowMoodRecent:
		return "a parent screened positive for low mood recently", true
	case DADisclosedRecent:
		return "domestic abuse was disclosed to the health visitor recently", true
	}
	return "", false
}
