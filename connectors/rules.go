package connectors

import (
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/apache/arrow/go/v15/arrow"

	"earlyhelp/pipeline/contract"
)

// This file turns a Spec into the row checks of CONTRACTS §2: how each
// column is parsed, which values it may hold, the checks across columns of
// one row and the key that finds duplicates. Every connector loads through
// these rules (see RowLoader), so a row is accepted or quarantined the same
// way whether it came from CSV, Parquet or PostgreSQL.

// Balance signs: how a housing system shows rent arrears.
const (
	BalancePositiveArrears = "positive_arrears" // the default and the stored convention
	BalanceNegativeArrears = "negative_arrears" // the loader negates balance
)

// LoadOptions are the per-source settings the row loop honours. The zero
// value is the CONTRACTS §2 default.
type LoadOptions struct {
	// BalanceSign is "" or BalancePositiveArrears, or BalanceNegativeArrears
	// for a system that shows arrears as a negative balance. It applies to
	// rent_accounts only; the store always holds positive = arrears.
	BalanceSign string
	// Columns maps contract column names to the headers the council's
	// system writes (sources.<name>.columns), for headers the built-in
	// normalisation does not match (headers.go).
	Columns map[string]string
}

// HeaderScore is how many of the source's columns the header row matches
// (headers.go): a reader looking for the header below a report's preamble
// takes the line that matches most.
func (r *Rules) HeaderScore(header []string) int { return r.headers.score(header) }

// Validate checks the options against the source they configure.
func (o LoadOptions) Validate(source string) error {
	switch o.BalanceSign {
	case "", BalancePositiveArrears:
	case BalanceNegativeArrears:
		if source != RentAccounts {
			return fmt.Errorf("balance_sign %q applies to %s only", o.BalanceSign, RentAccounts)
		}
	default:
		return fmt.Errorf("balance_sign %q: want %q or %q", o.BalanceSign, BalancePositiveArrears, BalanceNegativeArrears)
	}
	return nil
}

// kind is how a stored field is built from a cell.
type kind uint8

const (
	kindString kind = iota
	kindDate
	kindInt
	kindTimestamp
	kindBool
	kindFloat
	// kindCode is text of a few known values (a coded field): parsed and
	// checked as text, stored as its place in the field's list (codeBook).
	kindCode
	// kindKey is a pseudonym kept as the bytes its hex spells (packed).
	kindKey
)

// value is one parsed field of a row, in the stored schema's order.
type value struct {
	s    string  // kindString (a pseudonym for an identifier), kindCode, kindKey (its bytes)
	n    int64   // kindInt, kindDate (days), kindTimestamp (Unix seconds), kindBool (0/1), kindCode (its place)
	f    float64 // kindFloat
	null bool
}

// column is a spec column as the row loop handles it.
type column struct {
	name string
	// required: a missing or unreadable cell rejects the row. A column
	// that is not required has such a cell stored as null, the row kept.
	required bool
	// nullWords: IsNullWord's spellings read as null (not in
	// attendance_code, where they are codes).
	nullWords bool
	failSafe  bool   // Column.FailSafe
	ns        string // pseudonym namespace; "" when not an identifier
	field     int    // index in the stored schema
	kind      kind
	typ       arrow.Type
	lo, hi    int64 // kindInt: the accepted range
	// check validates a trimmed, non-null cell (for an identifier, the
	// normalised value) and returns the value to store or a reason.
	check func(v string) (canonical, reason string)
}

// rowCheck validates across the columns of a parsed row and fills derived
// fields. It returns the reason and column of the first failure.
type rowCheck func(v []value) (reason, column string)

// Rules is a source's Spec and LoadOptions compiled for the row loop. It is
// immutable once built but for a cache of buffers and sizes, so one Rules
// may serve loaders on many goroutines.
type Rules struct {
	// What earlier loaders of the source leave for the next: a council
	// sends attendance as many files, and growing fresh buffers and memos
	// for each cost more than loading them. The rest of Rules is
	// immutable.
	cache struct {
		sync.Mutex
		raws       []*RawRows // raw buffers, filled and checked before
		dataPerRow []float64  // per field: string bytes per row
		ids        []int      // per spec column: distinct identifiers a checker met
	}
	spec    Spec
	cols    []column
	fields  []kind // per stored field
	types   []arrow.Type
	books   []*codeBook // per stored field: a kindCode field's list, else nil
	coded   []int       // the kindCode fields
	rowChk  []rowCheck
	key     []int    // stored fields that identify a row for duplicate checks; nil: no check
	keyCol  string   // the column named in a duplicate rejection
	reid    []int    // spec columns whose raw values the sink keeps for re-identification
	reidNSs []string // their namespaces
	// padShort: a row with fewer cells than the header is padded with
	// empty ones rather than quarantined (objections, which fail safe).
	padShort bool
	headers  *headerMatcher
}

// NewRules checks spec and opts and compiles them. It does no I/O; the
// error names the source.
func NewRules(spec Spec, opts LoadOptions) (*Rules, error) {
	if spec.Name == "" {
		return nil, fmt.Errorf("spec has no name")
	}
	if spec.Schema == nil {
		return nil, fmt.Errorf("%s: spec has no schema", spec.Name)
	}
	if err := opts.Validate(spec.Name); err != nil {
		return nil, fmt.Errorf("%s: %w", spec.Name, err)
	}
	hm, err := newHeaderMatcher(spec, opts.Columns)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", spec.Name, err)
	}
	fieldIdx := make(map[string]int, spec.Schema.NumFields())
	r := &Rules{spec: spec, headers: hm}
	for i, f := range spec.Schema.Fields() {
		fieldIdx[f.Name] = i
		k, err := fieldKind(f.Type)
		if err != nil {
			return nil, fmt.Errorf("%s: field %q: %w", spec.Name, f.Name, err)
		}
		var book *codeBook
		if j := f.Metadata.FindKey(contract.CodesKey); j >= 0 {
			words, err := contract.ParseCodes(f.Metadata.Values()[j])
			if err == nil && f.Type.ID() != arrow.INT8 {
				err = fmt.Errorf("a coded field stored as %s, not int8", f.Type)
			}
			if err != nil {
				return nil, fmt.Errorf("%s: field %q: %w", spec.Name, f.Name, err)
			}
			k, book = kindCode, newCodeBook(words)
			r.coded = append(r.coded, i)
		}
		r.fields = append(r.fields, k)
		r.types = append(r.types, f.Type.ID())
		r.books = append(r.books, book)
	}
	covered := make([]bool, len(r.fields))
	for _, c := range spec.Columns {
		i, ok := fieldIdx[c.Name]
		if !ok {
			return nil, fmt.Errorf("%s: column %q is not in the stored schema", spec.Name, c.Name)
		}
		covered[i] = true
		col := column{
			name: c.Name, required: c.Required && !c.FailSafe, ns: c.Pseudonym, field: i,
			nullWords: c.Name != contract.ColAttendanceCode, failSafe: c.FailSafe,
			kind: r.fields[i], typ: r.types[i],
			check: cellCheck(spec.Name, c),
		}
		if col.ns != "" && col.kind != kindString && col.kind != kindKey {
			return nil, fmt.Errorf("%s: identifier column %q must be stored as a string or packed", spec.Name, c.Name)
		}
		if col.ns == "" && col.kind == kindKey {
			return nil, fmt.Errorf("%s: column %q is stored packed, which only a pseudonym may be", spec.Name, c.Name)
		}
		if col.kind == kindInt {
			col.lo, col.hi = intRange(c.Name, col.typ)
		}
		r.cols = append(r.cols, col)
	}
	field := func(name string) int { return fieldIdx[name] }
	switch spec.Name {
	case Persons:
		r.key, r.keyCol = []int{field(contract.ColPersonID)}, contract.ColPersonID
	case Households:
		r.rowChk = append(r.rowChk, notBefore(field(contract.ColToDate), field(contract.ColFromDate), contract.ColToDate))
		r.key = []int{field(contract.ColHouseholdID), field(contract.ColPersonID), field(contract.ColFromDate)}
		r.keyCol = contract.ColHouseholdID
	case Deprivation:
		// Unchanged LSOAs keep their code from 2011 to 2021, so one file
		// may hold an LSOA once per IoD vintage.
		r.key, r.keyCol = []int{field(contract.ColLSOACode), field(contract.ColVintage)}, contract.ColLSOACode
	case CSCReferrals:
		r.rowChk = append(r.rowChk, notBefore(field(contract.ColCaseClosedDate), field(contract.ColReferralDate), contract.ColCaseClosedDate))
		r.key, r.keyCol = []int{field(contract.ColReferralID)}, contract.ColReferralID
	case HVContacts:
		r.key, r.keyCol = []int{field(contract.ColContactID)}, contract.ColContactID
	case HVAssessments:
		// One contact may record several instruments, for mother and child.
		r.key = []int{field(contract.ColContactID), field(contract.ColInstrument), field(contract.ColSubject), field(contract.ColNHSNumber)}
		r.keyCol = contract.ColContactID
		r.rowChk = append(r.rowChk, scoreRange(field(contract.ColInstrument), field(contract.ColScoreTotal)))
	case HomelessnessCases:
		r.rowChk = append(r.rowChk, notBefore(field(contract.ColCaseClosedDate), field(contract.ColApproachDate), contract.ColCaseClosedDate))
		r.key, r.keyCol = []int{field(contract.ColCaseRef)}, contract.ColCaseRef
	case TemporaryAccom:
		r.rowChk = append(r.rowChk, notBefore(field(contract.ColPlacementEnd), field(contract.ColPlacementStart), contract.ColPlacementEnd))
		r.key, r.keyCol = []int{field(contract.ColPlacementID)}, contract.ColPlacementID
	case RentAccounts:
		r.key, r.keyCol = []int{field(contract.ColTenancyRef), field(contract.ColSnapshotDate)}, contract.ColTenancyRef
		if opts.BalanceSign == BalanceNegativeArrears {
			r.rowChk = append(r.rowChk, negate(field(contract.ColBalance)))
		}
	case EarlyHelpEpisodes:
		r.rowChk = append(r.rowChk, notBefore(field(contract.ColEndDate), field(contract.ColStartDate), contract.ColEndDate))
		r.key, r.keyCol = []int{field(contract.ColEpisodeID)}, contract.ColEpisodeID
	case Objections:
		r.padShort = true
		// No duplicate check: a repeated objection is harmless, and
		// rejecting one (perhaps the one not withdrawn) could lose it.
		r.rowChk = append(r.rowChk, notBefore(field(contract.ColWithdrawnDate), field(contract.ColReceivedDate), contract.ColWithdrawnDate))
	case AttendanceSessions:
		// No duplicate check: a re-sent mark is an amendment and the latest
		// wins downstream; a key set over ten million rows would not pay.
		cat, ok := fieldIdx[contract.ColCategory]
		if !ok {
			return nil, fmt.Errorf("%s: schema has no category field", spec.Name)
		}
		covered[cat] = true
		r.rowChk = append(r.rowChk, attendanceCheck(field(contract.ColSessionDate), field(contract.ColAttendanceCode), cat))
	}
	for i, ok := range covered {
		if !ok {
			return nil, fmt.Errorf("%s: no rule fills derived field %q", spec.Name, spec.Schema.Field(i).Name)
		}
	}
	if spec.Name == Persons || spec.Name == Households {
		for i, c := range spec.Columns {
			// Only the council's own ids are re-identified, never a UPN, NHS
			// number or UPRN.
			if c.Pseudonym == NSPerson || c.Pseudonym == NSHousehold {
				r.reid = append(r.reid, i)
				r.reidNSs = append(r.reidNSs, c.Pseudonym)
			}
		}
	}
	return r, nil
}

// column returns the spec column named name, or -1.
func (r *Rules) column(name string) int {
	for i := range r.cols {
		if r.cols[i].name == name {
			return i
		}
	}
	return -1
}

// Spec returns the spec the rules were compiled from.
func (r *Rules) Spec() Spec { return r.spec }

func fieldKind(t arrow.DataType) (kind, error) {
	switch t.ID() {
	case arrow.STRING:
		return kindString, nil
	case arrow.DATE32:
		return kindDate, nil
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64:
		return kindInt, nil
	case arrow.TIMESTAMP:
		if t.(*arrow.TimestampType).Unit == arrow.Second {
			return kindTimestamp, nil
		}
	case arrow.BOOL:
		return kindBool, nil
	case arrow.FLOAT64:
		return kindFloat, nil
	case arrow.FIXED_SIZE_BINARY:
		if t.(*arrow.FixedSizeBinaryType).ByteWidth == pseudonymBytes {
			return kindKey, nil
		}
	}
	return 0, fmt.Errorf("type %s is not supported by the row loader", t)
}

// intRange is the accepted range of an integer column: the domain's where
// it has one, else the stored type's.
func intRange(name string, t arrow.Type) (lo, hi int64) {
	switch name {
	case contract.ColIMDDecile, contract.ColIDACIDecile:
		return 1, 10
	case contract.ColSchoolURN:
		return 100000, 999999 // six digits
	case contract.ColMinutesLate:
		return 0, 180
	case contract.ColASQDomainsBelow:
		return 0, 5
	case contract.ColScoreTotal:
		return 0, math.MaxInt16 // by instrument: scoreRange
	}
	switch t {
	case arrow.INT8:
		return math.MinInt8, math.MaxInt8
	case arrow.INT16:
		return math.MinInt16, math.MaxInt16
	case arrow.INT32:
		return math.MinInt32, math.MaxInt32
	}
	return math.MinInt64, math.MaxInt64
}

// codeBook is a coded field's list of values (contract.CodesKey), and
// where each is found.
type codeBook struct {
	words []string
	// slots holds place+1 of each word at its hash, probing on; 0 is
	// empty. A loader looks up three values a mark: BenchmarkCodeBook
	// gave 4.5-4.7 ns a lookup here against 9.3-15.1 in a map.
	slots [codeSlots]int8
}

// codeSlots is a power of two, twice the most words a list may hold.
const codeSlots = 256

// newCodeBook indexes words, a list contract.ParseCodes accepted.
func newCodeBook(words []string) *codeBook {
	b := &codeBook{words: slices.Clone(words)}
	for i, w := range words {
		h := codeHash(w)
		for b.slots[h] != 0 {
			h = (h + 1) % codeSlots
		}
		b.slots[h] = int8(i + 1)
	}
	return b
}

// index is w's place in the book.
func (b *codeBook) index(w string) (int8, bool) {
	for h := codeHash(w); ; h = (h + 1) % codeSlots {
		p := b.slots[h]
		if p == 0 {
			return 0, false
		}
		if b.words[p-1] == w {
			return p - 1, true
		}
	}
}

// codeHash hashes a value by its length and first bytes, which tell the
// values of every Coded field apart.
func codeHash(w string) uint {
	k := uint64(len(w))
	for i := 0; i < len(w) && i < 7; i++ {
		k |= uint64(w[i]) << (8 * (i + 1))
	}
	return uint((k * 0x9E3779B97F4A7C15) >> 56)
}
