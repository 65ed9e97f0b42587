// Package attendance derives school attendance and lateness features
// (domain-data §1.3) for every child as of a date, aggregated to households.
package attendance

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/features"
	"earlyhelp/pipeline"
	"earlyhelp/pipeline/contract"
)

// Source is the store source this package reads.
const Source = contract.AttendanceSessions

// Feature columns, in the order Build fills them.
const (
	AbsenceRate4w       = contract.FeatAbsenceRate4w
	AbsenceRate13w      = contract.FeatAbsenceRate13w
	AbsenceRate52w      = contract.FeatAbsenceRate52w
	UnauthorisedRate13w = contract.FeatUnauthorisedRate13w
	AbsenceChange4w     = contract.FeatAbsenceChange4w // last 4 weeks against the 9 before
	LateBeforeClose13w  = contract.FeatLateBeforeClose13w
	LateAfterClose13w   = contract.FeatLateAfterClose13w
	PersistentAbsence   = contract.FeatPersistentAbsence
	SevereAbsence       = contract.FeatSevereAbsence   // 50% or more over the last year
	AbsenceChange6w     = contract.FeatAbsenceChange6w // last 6 weeks against the 13 before
	MondayFriday13w     = contract.FeatMondayFriday13w // Mon/Fri absence rate minus midweek
	Illness13w          = contract.FeatIllness13w      // I
	NoReason13w         = contract.FeatNoReason13w     // N and O: unexplained
	Holiday52w          = contract.FeatHoliday52w      // G: term-time holiday
	NoMark13w           = contract.FeatNoMark13w
	LateRate52w         = contract.FeatLateRate52w
	UnauthShare52w      = contract.FeatUnauthShare52w
	AbsenceChange13w    = contract.FeatAbsenceChange13w
	PersistentOnset     = contract.FeatPersistentOnset
)

var columns = []string{
	AbsenceRate4w, AbsenceRate13w, AbsenceRate52w, UnauthorisedRate13w,
	AbsenceChange4w, LateBeforeClose13w, LateAfterClose13w, PersistentAbsence,
	SevereAbsence, AbsenceChange6w, MondayFriday13w, Illness13w, NoReason13w, Holiday52w, NoMark13w,
	LateRate52w, UnauthShare52w, AbsenceChange13w, PersistentOnset,
}

// Builder computes the attendance features. It reads the store's attendance
// on first use into a compact grid of marks per pupil: only the marks the
// first date asked for needs (the year before it), which is all a weekly
// run needs, and the whole history once an earlier date or the data's span
// is asked for (a retrain's backtest).
type Builder struct {
	tables features.Tables
	mem    memory.Allocator

	mu    sync.Mutex
	idx   *Index
	since features.Day // the first day idx holds marks from
	full  bool         // idx holds every mark
	built int          // builds from idx
	read  IndexRead    // how idx was read

	// numbers is each person of the last roster built from, as a pupil of
	// idx (-1: none): a build looks a child up in it by their number
	// rather than hashing their UPN pseudonym into idx.pupils, which was
	// two fifths of a backtest's attendance build at 300,000 children.
	numbers pupilNumbers

	// keeping is a weekly read's index being written to the cache for
	// the next run, and keepErr why it could not be (read.KeepErr once
	// it is done).
	keeping sync.WaitGroup
	keepErr error
}

// lookbackDays is how far before an as-of date features, facts and
// timelines read: the longest window, 52 weeks, and a week to spare.
const lookbackDays = 7 * (52 + 1)

var (
	_ features.Builder      = (*Builder)(nil)
	_ features.Matcher      = (*Builder)(nil)
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

// index returns every mark.
func (b *Builder) index(ctx context.Context) (*Index, error) {
	return b.indexFor(ctx, features.Day(math.MinInt32+lookbackDays))
}

// indexFor returns an index holding at least the marks an as-of day needs.
func (b *Builder) indexFor(ctx context.Context, day features.Day) (*Index, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	need := day - lookbackDays
	if b.idx != nil && (b.full || need >= b.since) {
		return b.idx, nil
	}
	since := need
	if b.idx != nil {
		// A second, earlier date: read everything, so a backtest walking
		// back through its dates reads the store twice at most.
		since = features.Day(math.MinInt32)
	}
	idx, err := b.load(ctx, since)
	if err != nil {
		return nil, err
	}
	b.idx, b.since, b.full, b.built = idx, since, since == features.Day(math.MinInt32), 0
	b.numbers = pupilNumbers{} // the old index's: let it go with it
	return idx, nil
}

// IndexRead says how the builder last read its index, for tests and the
// bench: from the store in full, or resumed from the cache with the
// deliveries that came since.
type IndexRead struct {
	Resumed       bool
	NewDeliveries int   // read after the cached ones
	CacheErr      error // why a cache found was not used; nil if none was found
	KeepErr       error // why the index was not cached for the next read
}

// String says how the index was read, as the bench reports it.
func (r IndexRead) String() string {
	switch {
	case r.Resumed:
		return fmt.Sprintf("resumed from the cache with %d new deliveries", r.NewDeliveries)
	case r.CacheErr != nil:
		return "read in full: " + r.CacheErr.Error()
	}
	return "read in full"
}

// LastRead is how the index was last read, once it is in the cache.
func (b *Builder) LastRead() IndexRead {
	b.keeping.Wait()
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.read
	if r.KeepErr == nil {
		r.KeepErr = b.keepErr
	}
	return r
}

// load reads the marks dated on or after since. From a store that names
// its deliveries, a read from a day (a weekly run's) goes on from the
// index the last such read left in the store's cache folder, when the
// store's deliveries still begin with the ones it was read from, reading
// only the rest; and it leaves its own index there for the next.
// TestResumedIndexSameAsFull holds it to giving what a full read gives.
func (b *Builder) load(ctx context.Context, since features.Day) (*Index, error) {
	b.keeping.Wait() // the last read's index is in the cache, or not, before this one reads it
	b.keepErr = nil
	// speed-up; fallback tested by TestResumedIndexSameAsFull: Tables
	// without a cache are read from since, as a refused cache is.
	dc, ok := b.tables.(features.DeliveryCache)
	if !ok {
		b.read = IndexRead{}
		return LoadSince(ctx, b.mem, b.tables, since)
	}
	// The cache only saves time: one that cannot be had, read or written
	// (a read-only data folder, say) is noted for the log, never an error.
	dir, err := dc.CacheDir()
	if err != nil {
		b.read = IndexRead{CacheErr: fmt.Errorf("attendance: index cache: %w", err)}
		return LoadSince(ctx, b.mem, b.tables, since)
	}
	path := filepath.Join(dir, cacheFile)
	if since == features.Day(math.MinInt32) {
		// The whole history, for a backtest: kept for the next week's run
		// to resume from, since a retrain's run reads nothing else. Written
		// beside the backtest, as a weekly read's index is (below): the
		// file, 330 MB at 300,000 children, is synced before it is renamed
		// into place, and the backtest waited for that.
		var idx *Index
		if first, last, ok := dc.Span(Source, contract.ColSessionDate); ok {
			idx, _, err = loadSpan(ctx, b.mem, b.tables, features.Day(first), features.Day(last))
		} else {
			idx, err = LoadSince(ctx, b.mem, b.tables, since)
		}
		if err != nil {
			return nil, err
		}
		b.read = IndexRead{}
		b.keeping.Go(func() { b.keepErr = b.keep(dc, path, since, idx, nil) })
		return idx, nil
	}
	read := IndexRead{}
	var ld *loader
	// The head first: a cache of other deliveries is not worth reading.
	c, err := readCacheHead(path)
	found := err == nil
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		read.CacheErr = fmt.Errorf("attendance: index cache %s: %w", path, err)
	case c.since <= since:
		names, ok := dc.Deliveries(Source, contract.ColSessionDate, int32(c.since))
		if !ok || len(names) < len(c.deliveries) || !slices.Equal(names[:len(c.deliveries)], c.deliveries) {
			read.CacheErr = fmt.Errorf("attendance: index cache %s: read from deliveries the store no longer begins with", path)
			break
		}
		if _, ld, err = readResumed(path, since); err != nil {
			read.CacheErr = fmt.Errorf("attendance: index cache %s: %w", path, err)
			ld = nil
			break
		}
		read.Resumed, read.NewDeliveries = true, len(names)-len(c.deliveries)
		reuse := reusing(b.mem)
		defer reuse.Close()
		if err = dc.ScanSinceAfter(ctx, reuse, Source, contract.ColSessionDate, int32(c.since), len(c.deliveries), ld.record); err != nil {
			return nil, fmt.Errorf("attendance: %w", err)
		}
	}
	if ld == nil {
		ld = newLoader(since, growDays)
		reuse := reusing(b.mem)
		defer reuse.Close()
		if err := features.ScanSince(ctx, reuse, b.tables, Source, contract.ColSessionDate, since, ld.record); err != nil {
			return nil, fmt.Errorf("attendance: %w", err)
		}
	}
	idx := ld.finish()
	if !found || read.CacheErr != nil {
		c = cached{} // nothing usable there: write
	}
	// Written for the next run beside this one's build: the file was
	// three quarters of a second on a 300,000-child weekly run's longest
	// read. The index is not changed once finished; a later read and
	// DropCaches wait for the write.
	b.read = read
	b.keeping.Go(func() { b.keepErr = b.keep(dc, path, since, idx, &c) })
	return idx, nil
}

// keep leaves idx, read from since, in the cache at path for the next
// run, unless the cache already holds it: have is what the cache holds,
// as read already, or nil for its head to be read.
func (b *Builder) keep(dc features.DeliveryCache, path string, since features.Day, idx *Index, have *cached) error {
	names, ok := dc.Deliveries(Source, contract.ColSessionDate, int32(since))
	if !ok {
		return nil
	}
	if have == nil {
		h, err := readCacheHead(path)
		have = &h
		if err != nil {
			have = &cached{}
		}
	}
	if have.deliveries != nil && have.since == since && slices.Equal(have.deliveries, names) {
		return nil
	}
	if err := writeCache(path, cached{since: since, deliveries: names, idx: idx}); err != nil {
		return fmt.Errorf("attendance: index cache: %w", err)
	}
	return nil
}

// Preload reads the marks a build as of asOf needs.
func (b *Builder) Preload(ctx context.Context, asOf time.Time) error {
	_, err := b.indexFor(ctx, features.DayOf(asOf))
	return err
}

// PreloadHistory reads every stored mark, as a backtest's first use will
// (Span): a run that will train reads them while its last sources load.
// A build waits for a read under way instead of starting its own; a read
// that failed is made again by the first use, which reports the error.
func (b *Builder) PreloadHistory(ctx context.Context) error {
	_, err := b.index(ctx)
	return err
}

// DropCaches lets go of the marks read; the next build reads them again.
func (b *Builder) DropCaches() {
	b.keeping.Wait()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.idx, b.since, b.full, b.built = nil, 0, false, 0
	b.numbers = pupilNumbers{}
}

// sumWeeks makes idx's running weekly tallies at the second build from
// it: one weekly run builds once and would only pay for them, a backtest
// or a benchmark builds for many dates a week apart.
func (b *Builder) sumWeeks(idx *Index, day features.Day) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if idx != b.idx {
		return
	}
	if b.built++; b.built == 2 {
		// A goroutine for every few thousand pupils, up to one a core.
		workers := min(runtime.GOMAXPROCS(0), len(idx.pupils)>>12)
		idx.weekly.Store(newWeekly(idx, day, workers))
	}
}

// Build fills the attendance features of every household of l: rates,
// changes and patterns are the worst child's; counts are summed over
// children.
func (b *Builder) Build(ctx context.Context, l *features.Link, cols [][]float64) error {
	if len(cols) != len(columns) {
		return fmt.Errorf("attendance: %d columns given, %d wanted", len(cols), len(columns))
	}
	idx, err := b.indexFor(ctx, l.Day)
	if err != nil {
		return err
	}
	b.sumWeeks(idx, l.Day)
	pupilOf := b.pupilNumbers(idx, l.Roster())
	cutoff := uint32(0)
	if s := l.AsOf.Unix() - stampEpoch; s > 0 {
		cutoff = uint32(s)
	}
	// Households are independent and the index is read-only here, so the
	// table is filled in as many stripes as there are cores.
	stripes := min(runtime.GOMAXPROCS(0), max(1, len(l.Households)/1024))
	var wg sync.WaitGroup
	for s := range stripes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lo, hi := s*len(l.Households)/stripes, (s+1)*len(l.Households)/stripes
			fill(idx, pupilOf, l, cols, cutoff, lo, hi)
		}()
	}
	wg.Wait()
	return ctx.Err()
}

// pupilNumbers is each person of roster as a pupil of idx; see
// Builder.numbers.
type pupilNumbers struct {
	idx    *Index
	roster *features.Roster
	of     []int32
}

// pupilNumbers returns each person of roster as a pupil of idx (-1: none),
// made once for the two; nil when there is no roster to number by.
func (b *Builder) pupilNumbers(idx *Index, roster *features.Roster) []int32 {
	if roster == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if n := &b.numbers; n.idx == idx && n.roster == roster {
		return n.of
	}
	of := make([]int32, roster.People())
	for p := range of {
		of[p] = -1
		if upn := roster.UPNOf(features.PersonIndex(p)); upn != "" {
			if q, ok := idx.pupils[upn]; ok {
				of[p] = q
			}
		}
	}
	if idx == b.idx { // not one replaced meanwhile, which would stay alive here
		b.numbers = pupilNumbers{idx: idx, roster: roster, of: of}
	}
	return of
}

// fill computes the features of households lo … hi-1. pupilOf numbers
// the link's roster's people as pupils (Builder.pupilNumbers); nil, the
// children's UPN pseudonyms are looked up instead.
func fill(idx *Index, pupilOf []int32, l *features.Link, cols [][]float64, cutoff uint32, lo, hi int) {
	for i := lo; i < hi; i++ {
		var pooled tally // the year's sessions of every child
		h := &l.Households[i]
		numbered := pupilOf != nil && len(h.MemberIndices()) >= len(h.Children)
		for k, c := range h.Children {
			if c.UPN == "" {
				continue
			}
			var p int32
			var ok bool
			if numbered {
				p = pupilOf[h.MemberIndices()[k]]
				ok = p >= 0
			} else {
				p, ok = idx.pupils[c.UPN]
			}
			if !ok {
				continue
			}
			ts := idx.tallies(p, l.Day, cutoff)
			w4, w6, w13, w19, w52 := ts[0], ts[1], ts[2], ts[3], ts[4]
			prior := w13.minus(w4)
			cols[0][i] = max(cols[0][i], w4.absenceRate())
			cols[1][i] = max(cols[1][i], w13.absenceRate())
			cols[2][i] = max(cols[2][i], w52.absenceRate())
			cols[3][i] = max(cols[3][i], w13.unauthRate())
			if w4.possible > 0 && prior.possible > 0 {
				cols[4][i] = max(cols[4][i], w4.absenceRate()-prior.absenceRate())
			}
			cols[5][i] += float64(w13.late)
			cols[6][i] += float64(w13.lateAfter)
			// Persistent absence: 10% or more of possible sessions missed
			// (DfE's exact definition), once a pupil has 4 weeks of marks.
			if w52.possible >= 40 && w52.absenceRate() >= 0.10 {
				cols[7][i]++
			}
			// Severe absence: 50% or more (DfE).
			if w52.possible >= 40 && w52.absenceRate() >= 0.50 {
				cols[8][i]++
			}
			if before := w19.minus(w6); w6.possible > 0 && before.possible > 0 {
				cols[9][i] = max(cols[9][i], w6.absenceRate()-before.absenceRate())
			}
			cols[10][i] = max(cols[10][i], w13.monFriExcess())
			cols[11][i] = max(cols[11][i], rate(w13.illness, w13.possible))
			cols[12][i] = max(cols[12][i], rate(w13.noReason, w13.possible))
			cols[13][i] += float64(w52.holiday)
			cols[14][i] += float64(w13.noMark)
			pooled = pooled.plus(w52)
			earlier := w52.minus(w13)
			if w13.possible >= minSessions && earlier.possible >= minSessions {
				cols[17][i] = max(cols[17][i], w13.absenceRate()-earlier.absenceRate())
				if w13.absenceRate() >= lowAttendance && earlier.absenceRate() < lowAttendance {
					cols[18][i]++
				}
			}
		}
		cols[15][i] = pooled.lateRate()
		cols[16][i] = pooled.unauthShare()
	}
}

// MatchRate is the share of pupils with marks in the year before the link's
// date whom the link places in a household.
func (b *Builder) MatchRate(ctx context.Context, l *features.Link) (string, float64, error) {
	idx, err := b.indexFor(ctx, l.Day)
	if err != nil {
		return Source, 0, err
	}
	linked := map[string]bool{}
	for i := range l.Households {
		for _, c := range l.Households[i].Children {
			if c.UPN != "" {
				linked[c.UPN] = true
			}
		}
	}
	w := features.Before(l.AsOf, 52)
	var seen, found int
	for upn, p := range idx.pupils {
		if !idx.active(p, w) {
			continue
		}
		seen++
		if linked[upn] {
			found++
		}
	}
	if seen == 0 {
		return Source, 0, nil
	}
	return Source, float64(found) / float64(seen), nil
}

// Describe writes the builder's reasons in plain English.
func (b *Builder) Describe(r pipeline.Reason) (string, bool) {
	pct := 100 * r.Value
	switch r.Feature {
	case AbsenceRate4w:
		return fmt.Sprintf("a child missed %.0f%% of school sessions in the last 4 weeks", pct), true
	case AbsenceRate13w:
		return fmt.Sprintf("a child missed %.0f%% of school sessions in the last 13 weeks", pct), true
	case AbsenceRate52w:
		return fmt.Sprintf("a child missed %.0f%% of school sessions over the last year", pct), true
	case UnauthorisedRate13w:
		return fmt.Sprintf("unauthorised absence of %.0f%% of sessions in the last 13 weeks", pct), true
	case AbsenceChange4w:
		return fmt.Sprintf("a child's absence rose by %.0f points in the last 4 weeks against the 9 before", pct), true
	case LateBeforeClose13w:
		return fmt.Sprintf("%.0f late arrivals (L) in the last 13 weeks", r.Value), true
	case LateAfterClose13w:
		return fmt.Sprintf("%.0f arrivals after registers closed (U) in the last 13 weeks", r.Value), true
	case PersistentAbsence:
		return fmt.Sprintf("%.0f child(ren) persistently absent (10%%+) over the last year", r.Value), true
	case SevereAbsence:
		return fmt.Sprintf("%.0f child(ren) severely absent (50%%+) over the last year", r.Value), true
	case AbsenceChange6w:
		return fmt.Sprintf("a child's absence rose by %.0f points in the last 6 weeks against the 13 before", pct), true
	case MondayFriday13w:
		return fmt.Sprintf("a child is absent on Mondays and Fridays %.0f points more often than midweek", pct), true
	case Illness13w:
		return fmt.Sprintf("a child was off ill for %.0f%% of sessions in the last 13 weeks", pct), true
	case NoReason13w:
		return fmt.Sprintf("%.0f%% of a child's sessions in the last 13 weeks were absences with no reason given", pct), true
	case Holiday52w:
		return fmt.Sprintf("%.0f sessions of term-time holiday over the last year", r.Value), true
	case NoMark13w:
		return fmt.Sprintf("%.0f sessions with no attendance mark in the last 13 weeks", r.Value), true
	case LateRate52w:
		return fmt.Sprintf("the children were late for %.1f%% of school sessions over the last year", pct), true
	case UnauthShare52w:
		return fmt.Sprintf("%.0f%% of the children's absences other than illness over the last year were unauthorised", pct), true
	case AbsenceChange13w:
		return fmt.Sprintf("a child's absence rose by %.0f points in the last 13 weeks against the 39 before", pct), true
	case PersistentOnset:
		return fmt.Sprintf("%.0f child(ren) persistently absent (10%%+) in the last 13 weeks but not in the 39 before", r.Value), true
	}
	return "", false
}

// stampEpoch is the origin of the uint32 mark stamps (2000-01-01 UTC).
const stampEpoch = 946684800
