package features

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"

	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/pipeline/cachefile"
	"earlyhelp/pipeline/contract"
)

// The roster cache keeps the indexed roster on disk with the deliveries of
// the six sources it was read from. A weekly run, whose deliveries are
// attendance and rent, then reads it in a second rather than reading and
// indexing the register again (4 s of CPU, and the critical path of a
// 300,000-child run's features). Any change to those sources' deliveries,
// another IoD vintage asked for, another format or a damaged file, and the
// roster is read from the store again.

// rosterCacheFile is the cache's name in the store's cache folder.
const rosterCacheFile = "roster.bin"

// rosterMagic begins the file. rosterFormat changes whenever what a roster
// holds, or how the sources become one (readRoster, index), changes: an
// old file is then read from the store again rather than trusted.
const (
	rosterMagic  = "EHROSTER"
	rosterFormat = 2
)

// rosterSources are the sources a roster is read from.
var rosterSources = []string{
	contract.Persons, contract.Households, contract.Deprivation,
	contract.CSCReferrals, contract.Objections, contract.EarlyHelpEpisodes,
}

// RosterRead says how a set's roster was read: from its cache, or from the
// store and why the cache was not used or not kept.
type RosterRead struct {
	Cached   bool  // read from the store's cache
	CacheErr error // the cache was there but could not be used
	KeepErr  error // the roster could not be kept for the next run
}

// rosterKey names what a roster is read from: the vintage asked for and
// each source's deliveries, in order. ok is false when dc cannot name them.
func rosterKey(dc DeliveryCache, vintage string) (key []string, ok bool) {
	key = []string{vintage}
	for _, src := range rosterSources {
		names, ok := dc.Deliveries(src, "", math.MinInt32)
		if !ok {
			return nil, false
		}
		key = append(key, src, fmt.Sprint(len(names)))
		key = append(key, names...)
	}
	return key, true
}

// LoadRosterCached is LoadRosterVintage through dc, the store's cache of
// t's deliveries: the cached roster when it was read from the deliveries
// t holds now, else the roster read from t, then kept. A cache that cannot
// be read or written is reported, never fatal; a nil dc reads t.
func LoadRosterCached(ctx context.Context, mem memory.Allocator, t Tables, dc DeliveryCache, vintage string) (*Roster, RosterRead, error) {
	var key []string
	ok := dc != nil
	if ok {
		key, ok = rosterKey(dc, vintage)
	}
	if !ok {
		r, err := LoadRosterVintage(ctx, mem, t, vintage)
		return r, RosterRead{}, err
	}
	var read RosterRead
	dir, err := dc.CacheDir()
	if err != nil {
		read.CacheErr = fmt.Errorf("roster cache: %w", err)
		r, err := LoadRosterVintage(ctx, mem, t, vintage)
		return r, read, err
	}
	path := filepath.Join(dir, rosterCacheFile)
	var r *Roster
	found, err := cachefile.Read(path, rosterMagic, rosterFormat, func(d *cachefile.Decoder) error {
		if had := d.Strs(); d.Err() == nil && !slices.Equal(had, key) {
			// Not an error: the register was delivered again since, and
			// the rest of the file is not worth reading.
			return errStale
		}
		r = decodeRoster(d)
		return d.Err()
	})
	switch {
	case errors.Is(err, errStale):
	case err != nil:
		read.CacheErr = fmt.Errorf("roster cache %s: %w", path, err)
	case found:
		read.Cached = true
		return r, read, nil
	}
	if r, err = LoadRosterVintage(ctx, mem, t, vintage); err != nil {
		return nil, read, err
	}
	if err := writeRoster(path, key, r); err != nil {
		read.KeepErr = fmt.Errorf("roster cache: %w", err)
	}
	return r, read, nil
}

var errStale = errors.New("read from other deliveries")

// writeRoster keeps r, read from what key names, at path.
func writeRoster(path string, key []string, r *Roster) error {
	return cachefile.Write(path, rosterMagic, rosterFormat, func(e *cachefile.Encoder) {
		e.Strs(key)
		e.Str(r.vintage)
		ids, upns := make([]string, len(r.persons)), make([]string, len(r.persons))
		for i, p := range r.persons {
			ids[i], upns[i] = p.id, p.upn
		}
		e.Strs(r.codes)
		e.Strs(ids)
		e.Strs(upns)
		for _, p := range r.persons {
			e.Varint(int64(p.dob))
			e.Uvarint(uint64(p.ethnicity))
			e.Uvarint(uint64(p.sex))
			e.Uvarint(uint64(p.sen))
		}
		nhs := make([]string, 0, len(r.byNHS))
		for k := range r.byNHS {
			nhs = append(nhs, k)
		}
		slices.Sort(nhs) // the same roster makes the same file
		e.Strs(nhs)
		for _, k := range nhs {
			e.Uvarint(uint64(r.byNHS[k]))
		}
		e.Strs(r.households)
		lsoas, locs := make([]string, len(r.areas)), make([]string, len(r.areas))
		for i, a := range r.areas {
			lsoas[i], locs[i] = a.lsoa, a.locality
		}
		e.Strs(lsoas)
		e.Strs(locs)
		for _, a := range r.areas {
			e.Varint(int64(a.imd))
		}
		e.Uvarint(uint64(len(r.byName)))
		for _, n := range r.byName {
			e.Uvarint(uint64(n.person))
			e.Uvarint(uint64(n.lo))
			e.Uvarint(uint64(n.hi))
		}
		e.Uvarint(uint64(len(r.spans)))
		for _, s := range r.spans {
			e.Varint(int64(s.from))
			e.Varint(int64(s.to))
			e.Uvarint(uint64(s.hh))
			e.Uvarint(uint64(s.area))
			child := uint64(0)
			if s.child {
				child = 1
			}
			e.Uvarint(child)
		}
		e.Uvarint(uint64(len(r.moveDays)))
		for _, d := range r.moveDays {
			e.Varint(int64(d))
		}
		e.Uvarint(uint64(len(r.referrals)))
		for _, ref := range r.referrals {
			e.Uvarint(uint64(ref.person))
			e.Varint(int64(ref.date))
			e.Uvarint(uint64(ref.outcome))
			e.Varint(int64(ref.closed))
		}
		periods := func(ps []period) {
			e.Uvarint(uint64(len(ps)))
			for _, p := range ps {
				e.Varint(int64(p.from))
				e.Varint(int64(p.to))
			}
		}
		periods(r.objectionList)
		periods(r.episodeList)
		for _, at := range [][]int32{r.movesAt, r.referralsAt, r.objectionsAt, r.episodesAt} {
			e.Uvarint(uint64(len(at)))
			for _, v := range at {
				e.Uvarint(uint64(v))
			}
		}
	})
}

// decodeRoster reads what writeRoster wrote after the key: the roster,
// checked to be one Link can walk without going out of bounds. Errors are
// the decoder's.
func decodeRoster(d *cachefile.Decoder) *Roster {
	r := &Roster{vintage: d.Str()}
	r.codes = d.Strs()
	ids, upns := d.Strs(), d.Strs()
	if d.Err() != nil {
		return nil
	}
	if len(r.codes) == 0 || r.codes[0] != "" {
		d.Fail(errors.New("no code for a value not recorded"))
		return nil
	}
	if len(ids) != len(upns) || len(ids) > math.MaxInt32 {
		d.Fail(fmt.Errorf("%d people, %d UPNs", len(ids), len(upns)))
		return nil
	}
	code := func() uint32 {
		c := d.Uvarint()
		if d.Err() == nil && c >= uint64(len(r.codes)) {
			d.Fail(fmt.Errorf("code %d of %d", c, len(r.codes)))
		}
		if d.Err() != nil {
			return 0
		}
		return uint32(c)
	}
	n := len(ids)
	r.persons = make([]person, n)
	r.byID = make(map[string]int32, n)
	for i := range r.persons {
		p := &r.persons[i]
		p.id, p.upn, p.dob = ids[i], upns[i], Day(d.Until())
		p.ethnicity, p.sex, p.sen = code(), code(), code()
		r.byID[p.id] = int32(i)
	}
	if d.Err() == nil && len(r.byID) != n {
		d.Fail(errors.New("a person twice"))
	}
	index := func(limit int) int32 {
		v := d.Uvarint()
		if d.Err() == nil && v >= uint64(limit) {
			d.Fail(fmt.Errorf("number %d of %d", v, limit))
		}
		if d.Err() != nil {
			return 0
		}
		return int32(v)
	}
	nhs := d.Strs()
	r.byNHS = make(map[string]int32, len(nhs))
	for _, k := range nhs {
		r.byNHS[k] = index(n)
	}
	r.households = d.Strs()
	lsoas, locs := d.Strs(), d.Strs()
	if d.Err() == nil && len(lsoas) != len(locs) {
		d.Fail(fmt.Errorf("%d areas, %d localities", len(lsoas), len(locs)))
	}
	if d.Err() != nil {
		return nil
	}
	r.areas = make([]area, len(lsoas))
	for i := range r.areas {
		imd := d.Varint()
		if d.Err() == nil && (imd < 0 || imd > 10) {
			d.Fail(fmt.Errorf("decile %d", imd))
		}
		r.areas[i] = area{lsoa: lsoas[i], locality: locs[i], imd: int8(imd)}
	}
	// byName's lo and hi are checked against the spans once those are read.
	r.byName = make([]named, d.Length(3))
	for k := range r.byName {
		p := index(n)
		r.byName[k] = named{person: PersonIndex(p), lo: int32(d.Uvarint()), hi: int32(d.Uvarint())}
	}
	r.spans = make([]span, d.Length(5))
	for i := range r.spans {
		s := &r.spans[i]
		s.from, s.to = Day(d.Until()), Day(d.Until())
		s.hh, s.area = index(len(r.households)), index(len(r.areas))
		s.child = index(2) == 1
	}
	r.moveDays = make([]Day, d.Length(1))
	for i := range r.moveDays {
		r.moveDays[i] = Day(d.Until())
	}
	r.referrals = make([]referral, d.Length(4))
	for i := range r.referrals {
		ref := &r.referrals[i]
		ref.person, ref.date = index(n), Day(d.Until())
		ref.outcome, ref.closed = uint8(index(outcomeLookedAfter+1)), Day(d.Until())
	}
	periods := func() []period {
		ps := make([]period, d.Length(2))
		for i := range ps {
			ps[i] = period{from: Day(d.Until()), to: Day(d.Until())}
		}
		return ps
	}
	r.objectionList, r.episodeList = periods(), periods()
	offsets := func(keys, items int) []int32 {
		at := make([]int32, d.Length(1))
		for i := range at {
			at[i] = int32(d.Uvarint())
		}
		if d.Err() == nil && !validOffsets(at, keys, items) {
			d.Fail(fmt.Errorf("offsets for %d keys and %d items out of order", keys, items))
		}
		return at
	}
	r.movesAt = offsets(n, len(r.moveDays))
	r.referralsAt = offsets(n, len(r.referrals))
	r.objectionsAt = offsets(n, len(r.objectionList))
	r.episodesAt = offsets(len(r.households), len(r.episodeList))
	if d.Err() != nil {
		return nil
	}
	for k := range r.byName {
		nm := &r.byName[k]
		if nm.lo < 0 || nm.lo > nm.hi || int(nm.hi) > len(r.spans) {
			d.Fail(fmt.Errorf("spells %d to %d of %d", nm.lo, nm.hi, len(r.spans)))
			return nil
		}
		pp := &r.persons[nm.person]
		nm.id, nm.upn, nm.dob = pp.id, pp.upn, pp.dob
		if pp.dob != openEnded {
			nm.born = ymdOf(pp.dob)
		}
	}
	return r
}

// validOffsets: at has keys+1 entries, from 0 to items, never falling.
func validOffsets(at []int32, keys, items int) bool {
	if len(at) != keys+1 || at[0] != 0 || int(at[keys]) != items {
		return false
	}
	for i := 1; i < len(at); i++ {
		if at[i] < at[i-1] {
			return false
		}
	}
	return true
}
