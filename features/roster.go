package features

import (
	"context"
	"encoding/hex"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/pipeline/contract"
)

// Tables is what features read from the store.
type Tables interface {
	// Scan calls fn for every stored record of source in load order; fn
	// must not keep rec after it returns.
	Scan(ctx context.Context, mem memory.Allocator, source string, fn func(arrow.Record) error) error
}

// A SinceScanner is Tables that can leave out, unread, whole deliveries of
// a source that hold nothing dated on or after a day. Readers use it
// through ScanSince, so Tables without it (test fakes) keep working.
type SinceScanner interface {
	// ScanSince is Scan without the deliveries whose latest value of the
	// date32 column is before since (days since 1970-01-01). A delivery is
	// judged by its own dates only, and one whose dates the store does not
	// know is read. Rows are not filtered: fn still gets rows dated before
	// since from the deliveries read, and must ignore them itself.
	ScanSince(ctx context.Context, mem memory.Allocator, source, column string, since int32, fn func(arrow.Record) error) error
}

// A SizeHinter is Tables that can say how many rows the largest delivery
// of a source has, so a reader can size its maps once rather than grow
// them (a 300,000-child roster's person maps were a third of its load).
type SizeHinter interface {
	LargestDelivery(source string) int64
}

// sizeHint is t's LargestDelivery of source, capped so that a damaged or
// odd state cannot ask for a huge allocation up front; 0 when t cannot say.
func sizeHint(t Tables, source string) int {
	// speed-up; fallback tested by TestRosterSizeHints: without a hint the
	// maps grow as they are filled.
	h, ok := t.(SizeHinter)
	if !ok {
		return 0
	}
	return int(min(max(h.LargestDelivery(source), 0), 1<<22))
}

// A DeliveryCache is Tables that names its deliveries and keeps a folder
// for what readers derive from them, so a reader can keep on disk what it
// made of the deliveries so far and, the next time, read only those that
// came since (the attendance index of a weekly run).
type DeliveryCache interface {
	// Deliveries names, in load order, the deliveries ScanSince(source,
	// column, since) reads, each by a name that stands for the same rows
	// for as long as it is listed; ok is false when some cannot be named,
	// and then nothing may be skipped.
	Deliveries(source, column string, since int32) (names []string, ok bool)
	// ScanSinceAfter is ScanSince without the first skip deliveries.
	ScanSinceAfter(ctx context.Context, mem memory.Allocator, source, column string, since int32, skip int, fn func(arrow.Record) error) error
	// CacheDir is the folder to keep derived files in. Its files may go
	// at any time (the store empties it when deliveries are forgotten).
	CacheDir() (string, error)
	// Span is the earliest and latest value of the date32 column over
	// every delivery of source; ok is false when a delivery's dates are
	// not known or none holds a row.
	Span(source, column string) (first, last int32, ok bool)
}

// ScanSince calls fn for the records of source that may hold a row whose
// column is on or after since: through t's ScanSince when t is a
// SinceScanner, otherwise every record, as Scan does. It is only for a
// reader that ignores every row of source dated before since; fn must
// still do so.
func ScanSince(ctx context.Context, mem memory.Allocator, t Tables, source, column string, since Day, fn func(arrow.Record) error) error {
	// speed-up; fallback tested by TestSkippingScanSameFeatures: Tables
	// without it hand every delivery to fn, which ignores the old rows.
	if s, ok := t.(SinceScanner); ok {
		return s.ScanSince(ctx, mem, source, column, int32(since), fn)
	}
	return t.Scan(ctx, mem, source, fn)
}

const openEnded = Day(math.MaxInt32)

// Outcome severities, in the order of CONTRACTS §2; the label counts
// assessment and above.
const (
	outcomeNone = iota
	outcomeNFA
	outcomeEarlyHelp
	outcomeAssessment
	outcomeCINPlan
	outcomeCPPlan
	outcomeLookedAfter
)

var outcomes = map[string]uint8{
	contract.OutcomeNFA: outcomeNFA, contract.OutcomeEarlyHelp: outcomeEarlyHelp, contract.OutcomeAssessment: outcomeAssessment,
	contract.OutcomeCINPlan: outcomeCINPlan, contract.OutcomeCPPlan: outcomeCPPlan, contract.OutcomeLookedAfter: outcomeLookedAfter,
}

type person struct {
	id  string // pseudonym
	upn string // pseudonym, "" if none
	dob Day
	// ethnicity, sex and sen (SEN status) are for the audits only: no
	// feature reads them. Each is a number in the roster's codes, which
	// hold the few values recorded once rather than a string per person.
	ethnicity, sex, sen uint32
}

type spell struct {
	household string
	person    int32
	role      string
	lsoa      string
	locality  string
	from, to  Day // to is inclusive; openEnded when the spell goes on
}

type referral struct {
	person  int32
	date    Day
	outcome uint8
	closed  Day // openEnded while open
}

// Roster is the slowly changing part of the store: people, their household
// spells, area deprivation and social-care referrals. It is read once and
// serves every as-of date.
type Roster struct {
	persons []person
	byID    map[string]int32
	byNHS   map[string]int32 // NHS number pseudonym → person
	// spells and imd are read from the sources and laid out by index
	// (spans, areas), then let go of: nothing reads them after.
	spells    []spell // sorted by person, then from
	imd       map[string]int8
	referrals []referral // sorted by person, then date
	// While the sources are read: objections by person, the periods in
	// which each objected to profiling (UK GDPR Art. 21), and episodes of
	// early help by household. index lays them out as lists.
	objections map[int32][]period
	episodes   map[string][]period
	// vintage is the IoD release imd is taken from.
	vintage string
	// codes are the values persons' ethnicity, sex and SEN status name;
	// codes[0] is "" (not recorded). codeOf finds them while sources are
	// read.
	codes  []string
	codeOf map[string]uint32

	// What follows does not depend on the date, so it is worked out once
	// when the roster is read rather than in every Link and Build: people
	// and households are found by number, not by hashing pseudonyms.
	households    []string // household pseudonyms, sorted: a household's number indexes it
	areas         []area   // the areas spells name
	byName        []named  // everyone with a spell, in pseudonym order
	spans         []span   // their spells, in that order
	moveDays      []Day    // person p's moves (see movesOf), moveDays[movesAt[p]:movesAt[p+1]], in order
	movesAt       []int32
	referralsAt   []int32 // person p's referrals are referrals[referralsAt[p]:referralsAt[p+1]]
	objectionsAt  []int32 // likewise into objectionList
	objectionList []period
	episodesAt    []int32 // household h's episodes are episodeList[episodesAt[h]:episodesAt[h+1]]
	episodeList   []period
}

// period is [from, to]; to is openEnded while it goes on.
type period struct{ from, to Day }

// LoadRoster reads the roster sources from the store, with the newest IoD
// vintage the deprivation source holds. A later delivery of the same
// person, spell or area replaces the earlier one.
func LoadRoster(ctx context.Context, mem memory.Allocator, t Tables) (*Roster, error) {
	return LoadRosterVintage(ctx, mem, t, "")
}

// LoadRosterVintage is LoadRoster with area deprivation taken from one
// IoD vintage (as the source spells it, "IoD2019"), "" for the newest
// present. A vintage asked for that the source does not hold is an error:
// mixing in another release would quietly change every area's decile.
func LoadRosterVintage(ctx context.Context, mem memory.Allocator, t Tables, vintage string) (*Roster, error) {
	r, err := readRoster(ctx, mem, t, vintage)
	if err != nil {
		return nil, err
	}
	r.index()
	// At 300,000 children the spells were 80 MB of a weekly run's heap.
	r.spells, r.imd, r.codeOf = nil, nil, nil
	return r, nil
}

// readRoster reads the sources into a roster not yet indexed.
func readRoster(ctx context.Context, mem memory.Allocator, t Tables, vintage string) (*Roster, error) {
	people := sizeHint(t, contract.Persons)
	r := &Roster{
		byID: make(map[string]int32, people), byNHS: make(map[string]int32, people), imd: map[string]int8{},
		objections: map[int32][]period{}, episodes: map[string][]period{},
		codes: []string{""}, codeOf: map[string]uint32{"": 0},
		persons: make([]person, 0, people),
	}
	if err := t.Scan(ctx, mem, contract.Persons, r.addPersons); err != nil {
		return nil, fmt.Errorf("persons: %w", err)
	}
	spellRows := sizeHint(t, contract.Households)
	spells := make(map[spellKey]int32, spellRows)
	r.spells = make([]spell, 0, spellRows)
	err := t.Scan(ctx, mem, contract.Households, func(rec arrow.Record) error {
		return r.addSpells(rec, spells)
	})
	if err != nil {
		return nil, fmt.Errorf("households: %w", err)
	}
	sort.SliceStable(r.spells, func(i, j int) bool {
		a, b := r.spells[i], r.spells[j]
		if a.person != b.person {
			return a.person < b.person
		}
		return a.from < b.from
	})
	byVintage := map[string]map[string]int8{}
	err = t.Scan(ctx, mem, contract.Deprivation, func(rec arrow.Record) error {
		return addDeprivation(rec, byVintage)
	})
	if err != nil {
		return nil, fmt.Errorf("deprivation: %w", err)
	}
	if r.vintage, err = chooseVintage(byVintage, vintage); err != nil {
		return nil, fmt.Errorf("deprivation: %w", err)
	}
	if m := byVintage[r.vintage]; m != nil {
		r.imd = m
	}
	refs := map[string]referral{}
	var refOrder []string
	err = t.Scan(ctx, mem, contract.CSCReferrals, func(rec arrow.Record) error {
		return r.addReferrals(rec, refs, &refOrder)
	})
	if err != nil {
		return nil, fmt.Errorf("csc_referrals: %w", err)
	}
	for _, k := range refOrder {
		r.referrals = append(r.referrals, refs[k])
	}
	sort.SliceStable(r.referrals, func(i, j int) bool {
		a, b := r.referrals[i], r.referrals[j]
		if a.person != b.person {
			return a.person < b.person
		}
		return a.date < b.date
	})
	if err := t.Scan(ctx, mem, contract.Objections, r.addObjections); err != nil {
		return nil, fmt.Errorf("objections: %w", err)
	}
	if err := t.Scan(ctx, mem, contract.EarlyHelpEpisodes, r.addEpisodes); err != nil {
		return nil, fmt.Errorf("early_help_episodes: %w", err)
	}
	return r, nil
}

func (r *Roster) addObjections(rec arrow.Record) error {
	var g Getter
	pid, from, to := g.Str(rec, contract.ColPersonID), g.Date(rec, contract.ColReceivedDate), g.Date(rec, contract.ColWithdrawnDate)
	if g.Err != nil {
		return g.Err
	}
	for i := 0; i < int(rec.NumRows()); i++ {
		p := r.personIndex(pid.Value(i))
		// An objection is honoured whenever its person is known (CONTRACTS
		// §2): one whose received date could not be read stands from the
		// start of time.
		per := period{from: Day(math.MinInt32), to: openEnded}
		if from.IsValid(i) {
			per.from = Day(from.Value(i))
		}
		if to.IsValid(i) {
			per.to = Day(to.Value(i)) - 1 // withdrawn on that day: no longer standing
		}
		r.objections[p] = append(r.objections[p], per)
	}
	return nil
}

func (r *Roster) addEpisodes(rec arrow.Record) error {
	var g Getter
	hh, from, to := g.Str(rec, contract.ColHouseholdID), g.Date(rec, contract.ColStartDate), g.Date(rec, contract.ColEndDate)
	if g.Err != nil {
		return g.Err
	}
	for i := 0; i < int(rec.NumRows()); i++ {
		// An objection is honoured whenever its person is known (CONTRACTS
		// §2): one whose received date could not be read stands from the
		// start of time.
		per := period{from: Day(math.MinInt32), to: openEnded}
		if from.IsValid(i) {
			per.from = Day(from.Value(i))
		}
		if to.IsValid(i) {
			per.to = Day(to.Value(i))
		}
		r.episodes[hh.Value(i)] = append(r.episodes[hh.Value(i)], per)
	}
	return nil
}

// covers reports whether any period holds day d.
func covers(ps []period, d Day) bool {
	for _, p := range ps {
		if p.from <= d && d <= p.to {
			return true
		}
	}
	return false
}

// personIndex returns the index of a person pseudonym, adding a bare entry
// for someone known only from another source.
func (r *Roster) personIndex(id string) int32 {
	if i, ok := r.byID[id]; ok {
		return i
	}
	i := int32(len(r.persons))
	r.persons = append(r.persons, person{id: id, dob: openEnded})
	r.byID[id] = i
	return i
}

func (r *Roster) addPersons(rec arrow.Record) error {
	var g Getter
	id, upn, eth := g.Owned(rec, contract.ColPersonID), g.Owned(rec, contract.ColUPN), g.Owned(rec, contract.ColEthnicity)
	nhs, sex := g.Owned(rec, contract.ColNHSNumber), g.Owned(rec, contract.ColSex)
	dob := g.Date(rec, contract.ColDateOfBirth)
	// sen_status came later than the store's first persons files: a
	// record without it has no SEN status recorded.
	var sen Owned
	if len(rec.Schema().FieldIndices(contract.ColSENStatus)) > 0 {
		sen = g.Owned(rec, contract.ColSENStatus)
	}
	if g.Err != nil {
		return g.Err
	}
	for i := 0; i < int(rec.NumRows()); i++ {
		p := r.personIndex(id.Value(i))
		pp := &r.persons[p]
		pp.dob = Day(dob.Value(i))
		pp.ethnicity, pp.sex, pp.sen = 0, 0, 0
		if eth.IsValid(i) {
			pp.ethnicity = r.code(eth.Value(i))
		}
		if sex.IsValid(i) {
			pp.sex = r.code(sex.Value(i))
		}
		if sen.col != nil && sen.IsValid(i) {
			pp.sen = r.code(sen.Value(i))
		}
		if upn.IsValid(i) && upn.Value(i) != "" {
			pp.upn = upn.Value(i)
		}
		if nhs.IsValid(i) && nhs.Value(i) != "" {
			r.byNHS[nhs.Value(i)] = p
		}
	}
	return nil
}

// code numbers a value of ethnicity, sex or SEN status in r.codes.
func (r *Roster) code(v string) uint32 {
	c, ok := r.codeOf[v]
	if !ok {
		c = uint32(len(r.codes))
		v = strings.Clone(v) // not the record's column
		r.codeOf[v] = c
		r.codes = append(r.codes, v)
	}
	return c
}

// spellKey is a spell's identity: a later delivery of the same person's
// spell in the same household from the same day replaces it.
type spellKey struct {
	household, person string
	from              Day
}

// addSpells appends rec's spells to r.spells, in the order they are first
// delivered; spells holds where each is.
func (r *Roster) addSpells(rec arrow.Record, spells map[spellKey]int32) error {
	var g Getter
	hh, pid, role := g.Owned(rec, contract.ColHouseholdID), g.Owned(rec, contract.ColPersonID), g.Owned(rec, contract.ColRole)
	lsoa, loc := g.Owned(rec, contract.ColLSOACode), g.Owned(rec, contract.ColLocality)
	from, to := g.Date(rec, contract.ColFromDate), g.Date(rec, contract.ColToDate)
	if g.Err != nil {
		return g.Err
	}
	for i := 0; i < int(rec.NumRows()); i++ {
		s := spell{
			household: hh.Value(i), person: r.personIndex(pid.Value(i)), role: role.Value(i),
			lsoa: lsoa.Value(i), from: Day(from.Value(i)), to: openEnded,
		}
		if loc.IsValid(i) {
			s.locality = loc.Value(i)
		}
		if to.IsValid(i) {
			s.to = Day(to.Value(i))
		}
		k := spellKey{s.household, pid.Value(i), s.from}
		if at, seen := spells[k]; seen {
			r.spells[at] = s
			continue
		}
		spells[k] = int32(len(r.spells))
		r.spells = append(r.spells, s)
	}
	return nil
}

// addDeprivation keeps each area's decile per IoD vintage ("" for rows
// that name none): IoD2019 and IoD2025 rank the same unchanged LSOA
// differently, and a single map would keep whichever row came last.
func addDeprivation(rec arrow.Record, byVintage map[string]map[string]int8) error {
	var g Getter
	lsoa, dec, vin := g.Str(rec, contract.ColLSOACode), g.Int8(rec, contract.ColIMDDecile), g.Str(rec, contract.ColVintage)
	if g.Err != nil {
		return g.Err
	}
	for i := 0; i < int(rec.NumRows()); i++ {
		v := ""
		if vin.IsValid(i) {
			v = vin.Value(i)
		}
		m := byVintage[v]
		if m == nil {
			m = map[string]int8{}
			byVintage[v] = m
		}
		m[lsoa.Value(i)] = dec.Value(i)
	}
	return nil
}

// chooseVintage picks the vintage whose deciles the roster uses: want if
// given (it must be present), else the newest named one. Rows that name no
// vintage are used only when no row names one, since they cannot be told
// apart from either release; "" is then the vintage.
func chooseVintage(byVintage map[string]map[string]int8, want string) (string, error) {
	var named []string
	for v := range byVintage {
		if v != "" {
			named = append(named, v)
		}
	}
	sort.Strings(named) // IoD2019 < IoD2025: the newest sorts last
	if want != "" {
		if byVintage[want] == nil {
			return "", fmt.Errorf("IoD vintage %s was asked for (model.iod_vintage) but the source holds %s", want, vintageList(named, byVintage[""] != nil))
		}
		return want, nil
	}
	if len(named) == 0 {
		return "", nil
	}
	return named[len(named)-1], nil
}

func vintageList(named []string, unnamed bool) string {
	out := strings.Join(named, ", ")
	if unnamed {
		if out != "" {
			out += " and "
		}
		out += "rows naming no vintage"
	}
	if out == "" {
		return "no rows"
	}
	return "only " + out
}

// IoDVintage is the vintage of the deprivation deciles the roster uses, ""
// when the source names none (or has no rows).
func (r *Roster) IoDVintage() string { return r.vintage }

func (r *Roster) addReferrals(rec arrow.Record, refs map[string]referral, order *[]string) error {
	var g Getter
	id, pid, out := g.Str(rec, contract.ColReferralID), g.Str(rec, contract.ColPersonID), g.Str(rec, contract.ColOutcome)
	date, closed := g.Date(rec, contract.ColReferralDate), g.Date(rec, contract.ColCaseClosedDate)
	if g.Err != nil {
		return g.Err
	}
	for i := 0; i < int(rec.NumRows()); i++ {
		ref := referral{person: r.personIndex(pid.Value(i)), date: Day(date.Value(i)), closed: openEnded}
		if out.IsValid(i) {
			ref.outcome = outcomes[out.Value(i)]
		}
		if closed.IsValid(i) {
			ref.closed = Day(closed.Value(i))
		}
		k := id.Value(i)
		if _, seen := refs[k]; !seen {
			*order = append(*order, k)
		}
		refs[k] = ref
	}
	return nil
}

// Getter fetches typed columns by name, keeping the first error, so a
// schema change fails with a message rather than a panic.
type Getter struct {
	Err error
	// Lists, when not nil, keeps the coded columns' lists by the metadata
	// they were read from: a file's records share them, and a scan that
	// passes one map parses each once.
	Lists map[string][]string
}

func column[T arrow.Array](g *Getter, rec arrow.Record, name string) T {
	var zero T
	_, col := g.find(rec, name)
	if col == nil {
		return zero
	}
	c, ok := col.(T)
	if !ok {
		g.Err = fmt.Errorf("stored column %q is %s", name, col.DataType())
	}
	return c
}

// find returns the field and column named name, or a nil column once
// g.Err is set (by this or an earlier call).
func (g *Getter) find(rec arrow.Record, name string) (arrow.Field, arrow.Array) {
	if g.Err != nil {
		return arrow.Field{}, nil
	}
	idx := rec.Schema().FieldIndices(name)
	if len(idx) != 1 {
		g.Err = fmt.Errorf("stored record has no column %q", name)
		return arrow.Field{}, nil
	}
	return rec.Schema().Field(idx[0]), rec.Column(idx[0])
}

func (g *Getter) Str(rec arrow.Record, name string) *array.String {
	return column[*array.String](g, rec, name)
}

// Owned is a string column whose values are copied out of the record in
// one piece: a value kept (a pseudonym in a map, a household on a spell)
// then holds only that column's bytes, not the record's every buffer. The
// roster kept the persons' and households' records whole this way, a
// fifth of a weekly run's heap at 300,000 children.
func (g *Getter) Owned(rec arrow.Record, name string) Owned {
	col := g.Str(rec, name)
	if col == nil {
		return Owned{}
	}
	return Owned{col: col, data: string(col.ValueBytes()), base: col.ValueOffset(0)}
}

// Owned reads like *array.String; see Getter.Owned.
type Owned struct {
	col  *array.String
	data string
	base int
}

func (o Owned) Value(i int) string {
	return o.data[o.col.ValueOffset(i)-o.base : o.col.ValueOffset(i+1)-o.base]
}

func (o Owned) IsValid(i int) bool { return o.col.IsValid(i) }

// Coded reads a coded column (contract.CodesKey): an int8 a row, its
// value's place in the list the field's metadata holds; or plain text, as
// stores written before codes were kept so hold it. A place past the list,
// which only a damaged file could hold, is an error here rather than a
// panic later.
func (g *Getter) Coded(rec arrow.Record, name string) Coded {
	f, col := g.find(rec, name)
	switch c := col.(type) {
	case nil:
		return Coded{}
	case *array.String:
		return Coded{plain: c}
	case *array.Int8:
		j := f.Metadata.FindKey(contract.CodesKey)
		if j < 0 {
			break
		}
		meta := f.Metadata.Values()[j]
		words, ok := g.Lists[meta]
		if !ok {
			var err error
			if words, err = contract.ParseCodes(meta); err != nil {
				g.Err = fmt.Errorf("stored column %q: %w", name, err)
				return Coded{}
			}
			if g.Lists != nil {
				g.Lists[meta] = words
			}
		}
		for i, p := range c.Int8Values() {
			if c.IsValid(i) && (p < 0 || int(p) >= len(words)) {
				g.Err = fmt.Errorf("stored column %q: row %d holds place %d of a list of %d", name, i, p, len(words))
				return Coded{}
			}
		}
		return Coded{places: c, words: words}
	}
	g.Err = fmt.Errorf("stored column %q is %s", name, col.DataType())
	return Coded{}
}

// Coded is a coded column; see Getter.Coded.
type Coded struct {
	plain  *array.String
	places *array.Int8 // each row's value's place in words
	words  []string
}

// Value is row i's value ("" when null).
func (c Coded) Value(i int) string {
	if c.plain != nil {
		return c.plain.Value(i)
	}
	if c.places.IsNull(i) {
		return ""
	}
	return c.words[c.places.Value(i)]
}

// IsValid reports whether row i holds a value.
func (c Coded) IsValid(i int) bool {
	if c.plain != nil {
		return c.plain.IsValid(i)
	}
	return c.places.IsValid(i)
}

// Places returns the list and each row's place in it, for a reader that
// works a value out once rather than once a row; ok is false for plain
// text, and for a column with a null (whose place is not written).
func (c Coded) Places() (places []int8, words []string, ok bool) {
	if c.places == nil || c.places.NullN() > 0 {
		return nil, nil, false
	}
	return c.places.Int8Values(), c.words, true
}

// Pseudonyms reads a column of pseudonyms: text, or packed, a fixed width
// a row holding the bytes each pseudonym's hex spells (as connectors
// stores attendance's UPN). A packed column whose buffer is shorter than
// its rows, which only a damaged file could hold, is an error here rather
// than a panic later.
func (g *Getter) Pseudonyms(rec arrow.Record, name string) Pseudonyms {
	_, col := g.find(rec, name)
	switch c := col.(type) {
	case nil:
		return Pseudonyms{}
	case *array.String:
		return Pseudonyms{text: c}
	case *array.FixedSizeBinary:
		w := c.DataType().(*arrow.FixedSizeBinaryType).ByteWidth
		d := c.Data()
		var b []byte
		if bufs := d.Buffers(); len(bufs) > 1 && bufs[1] != nil {
			b = bufs[1].Bytes()
		}
		if w < 1 || w > MaxPacked || len(b) < (d.Offset()+c.Len())*w {
			g.Err = fmt.Errorf("stored column %q: %d bytes for %d values of %d", name, len(b), c.Len(), w)
			return Pseudonyms{}
		}
		return Pseudonyms{packed: c, bytes: b[d.Offset()*w : (d.Offset()+c.Len())*w], width: w}
	}
	g.Err = fmt.Errorf("stored column %q is %s", name, col.DataType())
	return Pseudonyms{}
}

// MaxPacked is the widest packed pseudonym read, in bytes: connectors
// keeps 10. A reader may spell one out in a buffer of twice this.
const MaxPacked = 32

// Pseudonyms is a column of pseudonyms; see Getter.Pseudonyms.
type Pseudonyms struct {
	text   *array.String
	packed *array.FixedSizeBinary
	bytes  []byte // the packed rows', width each
	width  int
}

// Value is row i's pseudonym, as text ("" when null).
func (p Pseudonyms) Value(i int) string {
	if p.text != nil {
		return p.text.Value(i)
	}
	if p.packed.IsNull(i) {
		return ""
	}
	return hex.EncodeToString(p.bytes[i*p.width : (i+1)*p.width])
}

// IsValid reports whether row i holds a pseudonym.
func (p Pseudonyms) IsValid(i int) bool {
	if p.text != nil {
		return p.text.IsValid(i)
	}
	return p.packed.IsValid(i)
}

// Packed returns the rows' bytes, width a row, for a reader that compares
// them as they are and spells out only the ones it looks up; ok is false
// for text, and for a column with a null.
func (p Pseudonyms) Packed() (b []byte, width int, ok bool) {
	if p.packed == nil || p.packed.NullN() > 0 {
		return nil, 0, false
	}
	return p.bytes, p.width, true
}

func (g *Getter) Date(rec arrow.Record, name string) *array.Date32 {
	return column[*array.Date32](g, rec, name)
}
func (g *Getter) Int8(rec arrow.Record, name string) *array.Int8 {
	return column[*array.Int8](g, rec, name)
}
func (g *Getter) Int32(rec arrow.Record, name string) *array.Int32 {
	return column[*array.Int32](g, rec, name)
}
func (g *Getter) Int16(rec arrow.Record, name string) *array.Int16 {
	return column[*array.Int16](g, rec, name)
}
func (g *Getter) Bool(rec arrow.Record, name string) *array.Boolean {
	return column[*array.Boolean](g, rec, name)
}
func (g *Getter) Float64(rec arrow.Record, name string) *array.Float64 {
	return column[*array.Float64](g, rec, name)
}
func (g *Getter) Timestamp(rec arrow.Record, name string) *array.Timestamp {
	return column[*array.Timestamp](g, rec, name)
}
