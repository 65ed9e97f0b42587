package connectors

import (
	"encoding/hex"
	"fmt"
	"sort"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"

	"earlyhelp/pipeline/contract"
)

// Source names of CONTRACTS §2, defined in pipeline/contract; connectors
// names them too because every connector and its tests speak of them.
const (
	Persons            = contract.Persons
	Households         = contract.Households
	Deprivation        = contract.Deprivation
	AttendanceSessions = contract.AttendanceSessions
	CSCReferrals       = contract.CSCReferrals
	HVContacts         = contract.HVContacts
	HVAssessments      = contract.HVAssessments
	HomelessnessCases  = contract.HomelessnessCases
	TemporaryAccom     = contract.TemporaryAccom
	RentAccounts       = contract.RentAccounts
	EarlyHelpEpisodes  = contract.EarlyHelpEpisodes
	Objections         = contract.Objections
)

// Column describes one column of a source as councils send it.
type Column struct {
	Name     string
	Required bool
	// Pseudonym is the namespace the value is pseudonymised under at
	// ingestion ("" for a column that is not an identifier).
	Pseudonym string
	// FailSafe marks a required column whose unreadable cell is stored as
	// null with the row kept, because losing the row is worse than a
	// null: an objection's received_date (an objection whose date cannot
	// be read stands from the start of time).
	FailSafe bool
}

// Spec is one source's contract: the columns of the extract, the file
// pattern that finds it in a folder, and the Arrow schema of what is stored.
type Spec struct {
	Name    string
	Pattern string // glob within the source's folder; ".gz" variants are accepted too
	Columns []Column
	// Schema of the stored, pseudonymised records. It holds every column of
	// Columns (pseudonyms as strings, dates as date32) and any derived
	// columns after them.
	Schema *arrow.Schema
}

// ColumnNames returns the extract's column names in order.
func (s Spec) ColumnNames() []string {
	out := make([]string, len(s.Columns))
	for i, c := range s.Columns {
		out[i] = c.Name
	}
	return out
}

// Pseudonym namespaces, defined in pipeline/contract (which says why each
// is what it is).
const (
	NSPerson    = contract.NSPerson
	NSHousehold = contract.NSHousehold
	NSUPN       = contract.NSUPN
	NSNHS       = contract.NSNHS
	NSUPRN      = contract.NSUPRN
	NSCaseRef   = contract.NSCaseRef
	NSTenancy   = contract.NSTenancy
	NSContact   = contract.NSContact
	NSReferral  = contract.NSReferral
	NSEpisode   = contract.NSEpisode
	NSPlacement = contract.NSPlacement
)

func nullable(name string, t arrow.DataType) arrow.Field {
	return arrow.Field{Name: name, Type: t, Nullable: true}
}

func required(name string, t arrow.DataType) arrow.Field {
	return arrow.Field{Name: name, Type: t}
}

var (
	str     = arrow.BinaryTypes.String
	date    = arrow.FixedWidthTypes.Date32
	boolean = arrow.FixedWidthTypes.Boolean
	money   = arrow.PrimitiveTypes.Float64 // pounds; positive rent balance = arrears
)

// coded is a stored field of text of a few known values: an int8 a row,
// its value's place in words, which the field's metadata holds
// (contract.CodesKey). As text, an attendance mark's session, code and
// category were 12 of its 25 bytes on disk: the four-byte offsets of short
// strings do not compress.
func coded(name string, words []string) arrow.Field {
	return arrow.Field{Name: name, Type: arrow.PrimitiveTypes.Int8,
		Metadata: arrow.NewMetadata([]string{contract.CodesKey}, []string{contract.FormatCodes(words)})}
}

// packed is a stored field of pseudonyms kept as the bytes their hex
// spells, a fixed width a row. As text, the UPN pseudonym was 16.5 of an
// attendance mark's 17.2 bytes on disk: twenty hex characters and a
// four-byte offset, against 6.5 for the ten bytes (LZ4 finds a pupil's
// next mark as it did).
func packed(name string) arrow.Field {
	return arrow.Field{Name: name, Type: &arrow.FixedSizeBinaryType{ByteWidth: pseudonymBytes}}
}

// Specs returns the contract of every source this build can load, by name.
// It builds new values on each call so callers cannot change a shared one.
func Specs() map[string]Spec {
	specs := []Spec{
		{
			Name: Persons, Pattern: "persons*.csv",
			Columns: []Column{
				{Name: contract.ColPersonID, Required: true, Pseudonym: NSPerson},
				{Name: contract.ColUPN, Pseudonym: NSUPN},
				{Name: contract.ColNHSNumber, Pseudonym: NSNHS},
				{Name: contract.ColDateOfBirth, Required: true},
				{Name: contract.ColSex},
				{Name: contract.ColEthnicity},
				// For the equality analysis only (eqia.md): never a feature.
				{Name: contract.ColSENStatus},
			},
			Schema: arrow.NewSchema([]arrow.Field{
				required(contract.ColPersonID, str),
				nullable(contract.ColUPN, str),
				nullable(contract.ColNHSNumber, str),
				required(contract.ColDateOfBirth, date),
				nullable(contract.ColSex, str),
				nullable(contract.ColEthnicity, str),
				nullable(contract.ColSENStatus, str),
			}, nil),
		},
		{
			Name: Households, Pattern: "households*.csv",
			Columns: []Column{
				{Name: contract.ColHouseholdID, Required: true, Pseudonym: NSHousehold},
				{Name: contract.ColPersonID, Required: true, Pseudonym: NSPerson},
				{Name: contract.ColRole, Required: true},
				{Name: contract.ColUPRN, Pseudonym: NSUPRN},
				{Name: contract.ColLSOACode, Required: true},
				{Name: contract.ColLocality},
				{Name: contract.ColFromDate, Required: true},
				{Name: contract.ColToDate},
			},
			Schema: arrow.NewSchema([]arrow.Field{
				required(contract.ColHouseholdID, str),
				required(contract.ColPersonID, str),
				required(contract.ColRole, str),
				nullable(contract.ColUPRN, str),
				required(contract.ColLSOACode, str),
				nullable(contract.ColLocality, str),
				required(contract.ColFromDate, date),
				nullable(contract.ColToDate, date),
			}, nil),
		},
		{
			Name: Deprivation, Pattern: "deprivation*.csv",
			Columns: []Column{
				{Name: contract.ColLSOACode, Required: true},
				{Name: contract.ColIMDDecile, Required: true},
				{Name: contract.ColIDACIDecile},
				{Name: contract.ColVintage},
			},
			Schema: arrow.NewSchema([]arrow.Field{
				required(contract.ColLSOACode, str),
				required(contract.ColIMDDecile, arrow.PrimitiveTypes.Int8),
				nullable(contract.ColIDACIDecile, arrow.PrimitiveTypes.Int8),
				nullable(contract.ColVintage, str),
			}, nil),
		},
		{
			Name: AttendanceSessions, Pattern: "attendance*.csv",
			Columns: []Column{
				{Name: contract.ColSchoolURN, Required: true},
				{Name: contract.ColUPN, Required: true, Pseudonym: NSUPN},
				{Name: contract.ColSessionDate, Required: true},
				{Name: contract.ColSession, Required: true},
				{Name: contract.ColAttendanceCode, Required: true},
				{Name: contract.ColMinutesLate},
				{Name: contract.ColMarkUpdatedAt},
			},
			Schema: arrow.NewSchema([]arrow.Field{
				required(contract.ColSchoolURN, arrow.PrimitiveTypes.Int32),
				packed(contract.ColUPN),
				required(contract.ColSessionDate, date),
				coded(contract.ColSession, contract.Sessions()), // "AM" or "PM"
				// The canonical code: legacy single-character substitutes are
				// decoded, case is normalised.
				coded(contract.ColAttendanceCode, contract.AttendanceCodes()),
				nullable(contract.ColMinutesLate, arrow.PrimitiveTypes.Int16),
				nullable(contract.ColMarkUpdatedAt, arrow.FixedWidthTypes.Timestamp_s),
				// Derived: present, aea, auth, unauth, not_counted or missing
				// (domain-data §1.2, by the code set of the session's
				// academic year).
				coded(contract.ColCategory, contract.Categories()),
			}, nil),
		},
		{
			Name: CSCReferrals, Pattern: "csc_referrals*.csv",
			Columns: []Column{
				{Name: contract.ColReferralID, Required: true, Pseudonym: NSReferral},
				{Name: contract.ColPersonID, Required: true, Pseudonym: NSPerson},
				{Name: contract.ColReferralDate, Required: true},
				{Name: contract.ColReferralSource},
				{Name: contract.ColOutcome},
				{Name: contract.ColCaseClosedDate},
			},
			Schema: arrow.NewSchema([]arrow.Field{
				required(contract.ColReferralID, str),
				required(contract.ColPersonID, str),
				required(contract.ColReferralDate, date),
				nullable(contract.ColReferralSource, str),
				nullable(contract.ColOutcome, str),
				nullable(contract.ColCaseClosedDate, date),
			}, nil),
		},
		{
			Name: HVContacts, Pattern: "hv_contacts*.csv",
			Columns: []Column{
				{Name: contract.ColContactID, Required: true, Pseudonym: NSContact},
				{Name: contract.ColNHSNumber, Required: true, Pseudonym: NSNHS},
				{Name: contract.ColContactType, Required: true},
				{Name: contract.ColAppointmentDate, Required: true},
				{Name: contract.ColAttendanceStatus, Required: true},
				{Name: contract.ColDAEnquiry},
				{Name: contract.ColDADisclosed},
			},
			Schema: arrow.NewSchema([]arrow.Field{
				required(contract.ColContactID, str),
				required(contract.ColNHSNumber, str),
				// ANTENATAL, NEW_BIRTH, SIX_EIGHT_WEEK, TWELVE_MONTH,
				// TWO_TWO_HALF_YEAR, TARGETED, OTHER
				required(contract.ColContactType, str),
				required(contract.ColAppointmentDate, date),
				// NHS attended-or-did-not-attend codes: 5 attended on
				// time, 6 arrived late but seen, 7 arrived late and not
				// seen, 2 cancelled by or for the patient, 3 did not
				// attend without warning, 4 cancelled or postponed by the
				// provider, 0 not applicable. 3 and 7 are "was not
				// brought" for a child (WasNotBrought).
				required(contract.ColAttendanceStatus, str),
				// asked, not_asked_partner_present, not_asked_other,
				// declined, not_recorded (vocabulary.go)
				nullable(contract.ColDAEnquiry, str),
				nullable(contract.ColDADisclosed, boolean),
			}, nil),
		},
		{
			Name: HVAssessments, Pattern: "hv_assessments*.csv",
			Columns: []Column{
				{Name: contract.ColContactID, Required: true, Pseudonym: NSContact},
				{Name: contract.ColNHSNumber, Required: true, Pseudonym: NSNHS},
				{Name: contract.ColInstrument, Required: true},
				{Name: contract.ColSubject},
				{Name: contract.ColScoreTotal},
				{Name: contract.ColASQDomainsBelow},
				{Name: contract.ColOutcome},
			},
			Schema: arrow.NewSchema([]arrow.Field{
				required(contract.ColContactID, str),
				required(contract.ColNHSNumber, str),
				required(contract.ColInstrument, str), // WHOOLEY, EPDS, ASQ3, GAD2, ASQSE2
				nullable(contract.ColSubject, str),    // mother, father_partner, child
				nullable(contract.ColScoreTotal, arrow.PrimitiveTypes.Int16),
				nullable(contract.ColASQDomainsBelow, arrow.PrimitiveTypes.Int8),
				nullable(contract.ColOutcome, str),
			}, nil),
		},
		{
			Name: HomelessnessCases, Pattern: "homelessness*.csv",
			Columns: []Column{
				{Name: contract.ColCaseRef, Required: true, Pseudonym: NSCaseRef},
				{Name: contract.ColApproachDate, Required: true},
				{Name: contract.ColLeadPersonID, Required: true, Pseudonym: NSPerson},
				{Name: contract.ColUPRNAtApproach, Pseudonym: NSUPRN},
				{Name: contract.ColDutyOwed},
				{Name: contract.ColReasonLossOfSettledHome},
				{Name: contract.ColMainDutyDecision},
				{Name: contract.ColCaseClosedDate},
			},
			Schema: arrow.NewSchema([]arrow.Field{
				required(contract.ColCaseRef, str),
				required(contract.ColApproachDate, date),
				required(contract.ColLeadPersonID, str),
				nullable(contract.ColUPRNAtApproach, str),
				nullable(contract.ColDutyOwed, str), // prevention, relief, none_advice_only, ineligible
				nullable(contract.ColReasonLossOfSettledHome, str),
				nullable(contract.ColMainDutyDecision, str),
				nullable(contract.ColCaseClosedDate, date),
			}, nil),
		},
		{
			Name: TemporaryAccom, Pattern: "temporary_accommodation*.csv",
			Columns: []Column{
				{Name: contract.ColPlacementID, Required: true, Pseudonym: NSPlacement},
				{Name: contract.ColCaseRef, Required: true, Pseudonym: NSCaseRef},
				{Name: contract.ColPlacementStart, Required: true},
				{Name: contract.ColPlacementEnd},
				{Name: contract.ColTAType},
				{Name: contract.ColOutOfArea},
			},
			Schema: arrow.NewSchema([]arrow.Field{
				required(contract.ColPlacementID, str),
				required(contract.ColCaseRef, str),
				required(contract.ColPlacementStart, date),
				nullable(contract.ColPlacementEnd, date),
				nullable(contract.ColTAType, str),
				nullable(contract.ColOutOfArea, boolean),
			}, nil),
		},
		{
			Name: RentAccounts, Pattern: "rent_accounts*.csv",
			Columns: []Column{
				{Name: contract.ColTenancyRef, Required: true, Pseudonym: NSTenancy},
				{Name: contract.ColLeadPersonID, Required: true, Pseudonym: NSPerson},
				{Name: contract.ColSnapshotDate, Required: true},
				{Name: contract.ColBalance, Required: true},
				{Name: contract.ColWeeklyRent},
				{Name: contract.ColArrearsStage},
			},
			Schema: arrow.NewSchema([]arrow.Field{
				required(contract.ColTenancyRef, str),
				required(contract.ColLeadPersonID, str),
				required(contract.ColSnapshotDate, date),
				required(contract.ColBalance, money),
				nullable(contract.ColWeeklyRent, money),
				// none, letter_1, letter_2, nosp_served, claim_issued,
				// order_suspended, order_outright, warrant_applied, evicted
				nullable(contract.ColArrearsStage, str),
			}, nil),
		},
		{
			Name: EarlyHelpEpisodes, Pattern: "early_help*.csv",
			Columns: []Column{
				{Name: contract.ColEpisodeID, Required: true, Pseudonym: NSEpisode},
				{Name: contract.ColHouseholdID, Required: true, Pseudonym: NSHousehold},
				{Name: contract.ColStartDate, Required: true},
				{Name: contract.ColEndDate},
			},
			Schema: arrow.NewSchema([]arrow.Field{
				required(contract.ColEpisodeID, str),
				required(contract.ColHouseholdID, str),
				required(contract.ColStartDate, date),
				nullable(contract.ColEndDate, date),
			}, nil),
		},
		{
			Name: Objections, Pattern: "objections*.csv",
			Columns: []Column{
				{Name: contract.ColPersonID, Required: true, Pseudonym: NSPerson},
				{Name: contract.ColReceivedDate, Required: true, FailSafe: true},
				{Name: contract.ColWithdrawnDate},
			},
			Schema: arrow.NewSchema([]arrow.Field{
				required(contract.ColPersonID, str),
				// Null when the extract's date could not be read: the
				// objection stands from the start of time.
				nullable(contract.ColReceivedDate, date),
				nullable(contract.ColWithdrawnDate, date),
			}, nil),
		},
	}
	out := make(map[string]Spec, len(specs))
	for _, s := range specs {
		out[s.Name] = s
	}
	return out
}

// Lookup returns the spec of a source, or an error naming the known ones.
func Lookup(name string) (Spec, error) {
	specs := Specs()
	if s, ok := specs[name]; ok {
		return s, nil
	}
	names := make([]string, 0, len(specs))
	for n := range specs {
		names = append(names, n)
	}
	sort.Strings(names)
	return Spec{}, fmt.Errorf("unknown source %q (known: %v)", name, names)
}

// Names lists every source in CONTRACTS §2 order.
func Names() []string { return contract.Sources() }

// StoredText is a stored cell as text: a coded field's value from its list
// (contract.CodesKey), any other cell, and a null, as Arrow's ValueStr
// writes it; "" for a coded cell whose place is not in its list.
func StoredText(f arrow.Field, col arrow.Array, i int) string {
	if j := f.Metadata.FindKey(contract.CodesKey); j >= 0 && col.IsValid(i) {
		words, err := contract.ParseCodes(f.Metadata.Values()[j])
		c, ok := col.(*array.Int8)
		if err != nil || !ok || c.Value(i) < 0 || int(c.Value(i)) >= len(words) {
			return ""
		}
		return words[c.Value(i)]
	}
	if c, ok := col.(*array.FixedSizeBinary); ok && c.IsValid(i) {
		return hex.EncodeToString(c.Value(i)) // a packed pseudonym
	}
	return col.ValueStr(i)
}
