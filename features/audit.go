package features

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/pipeline"
)

var (
	_ pipeline.ChildAuditor       = (*Set)(nil)
	_ pipeline.DataSpanner        = (*Set)(nil)
	_ pipeline.InterventionMarker = (*Set)(nil)
)

// Intervened marks the households of t with an early-help episode that
// began within the horizon after t's as-of date. Their outcome is the
// outcome with an offer, not the risk without one: a family helped in time
// has no referral, and training on it would teach the model that such
// families are safe. So they are left out of training and calibration;
// they stay in every test, where the list meets them as they are.
func (s *Set) Intervened(ctx context.Context, t *pipeline.FeatureTable, horizonWeeks int) ([]bool, error) {
	hs, ok := s.links[DayOf(t.AsOf)]
	if !ok || len(hs) != int(t.Record.NumRows()) {
		return nil, fmt.Errorf("early help: no household table built for %s", t.AsOf.Format(time.DateOnly))
	}
	w := After(t.AsOf, horizonWeeks)
	out := make([]bool, len(hs))
	for i := range hs {
		h := &hs[i]
		for _, p := range s.roster.episodesOf(h) {
			if w.Contains(p.from) {
				out[i] = true
				break
			}
		}
	}
	return out, ctx.Err()
}

// AuditChildren lists the children of every household of t with what the
// fairness audit needs and the model never sees: the child's recorded
// ethnicity, sex, SEN status and age band and the area's deprivation
// decile, and the child's own outcome
// in the horizon after t's as-of date.
func (s *Set) AuditChildren(ctx context.Context, t *pipeline.FeatureTable, horizonWeeks int) ([]pipeline.AuditChild, error) {
	hs, ok := s.links[DayOf(t.AsOf)]
	if !ok || len(hs) != int(t.Record.NumRows()) {
		return nil, fmt.Errorf("audit children: no household table built for %s", t.AsOf.Format(time.DateOnly))
	}
	w := After(t.AsOf, horizonWeeks)
	l := &Link{Day: DayOf(t.AsOf), roster: s.roster}
	var out []pipeline.AuditChild
	for row := range hs {
		h := &hs[row]
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		imd := l.IMDDecile(h)
		for k, c := range h.Children {
			p := h.members[k]
			pp := &s.roster.persons[p]
			codes := s.roster.codes
			ac := pipeline.AuditChild{Row: row, Person: c.Person, IMDDecile: imd, Ethnicity: codes[pp.ethnicity],
				Sex: codes[pp.sex], SENStatus: codes[pp.sen]}
			if pp.dob != openEnded {
				ac.AgeBand = pipeline.ChildAgeBand(AgeOn(pp.dob, l.Day))
			}
			for _, ref := range s.roster.referralsOf(p) {
				if w.Contains(ref.date) && ref.outcome >= outcomeAssessment {
					ac.Label = true
					break
				}
			}
			out = append(out, ac)
		}
	}
	return out, nil
}

// A Spanner knows the first and last day of the history it builds
// features from. ok is false when its records do not bound the period a
// snapshot can be built for: sparse events (a contact, an approach) whose
// first and last say when something happened, not when the extract began
// and ended.
type Spanner interface {
	Span(ctx context.Context) (from, to Day, ok bool, err error)
}

// DataSpan is the period every builder that can tell (its Span's ok) has
// history for: from the latest of their first days to the earliest of
// their last, since a snapshot needs all its signals. Both are zero when
// no builder can tell.
func (s *Set) DataSpan(ctx context.Context, mem memory.Allocator) (from, to time.Time, err error) {
	// The roster is read beside the spans: the backtest builds features
	// next, which need it, and the attendance index the spans load leaves
	// a core idle while it places its marks. An error reading it stays
	// with the set, for the build that needs the roster to return.
	var roster sync.WaitGroup
	roster.Go(func() { _, _ = s.Roster(ctx, mem) })
	defer roster.Wait()
	var lo, hi Day
	found := false
	for _, b := range s.builders {
		f, t, ok, err := b.Span(ctx)
		if err != nil {
			return time.Time{}, time.Time{}, err
		}
		if !ok {
			continue
		}
		if !found {
			lo, hi, found = f, t, true
			continue
		}
		lo, hi = max(lo, f), min(hi, t)
	}
	if !found {
		return time.Time{}, time.Time{}, nil
	}
	return lo.Time(), hi.Time(), nil
}
