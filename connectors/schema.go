package connectors

import (
	"fmt"
	"sort"

	"github.com/apache/arrow/go/v15/arrow"
)

// Source names of CONTRACTS §2.
const (
	Persons            = "persons"
	Households         = "households"
	Deprivation        = "deprivation"
	AttendanceSessions = "attendance_sessions"
	CSCReferrals       = "csc_referrals"
	HVContacts         = "hv_contacts"
	HVAssessments      = "hv_assessments"
	HomelessnessCases  = "homelessness_cases"
	TemporaryAccom     = "temporary_accommodation"
	RentAccounts       = "rent_accounts"
	EarlyHelpEpisodes  = "early_help_episodes"
	Objections         = "objections"
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

// Pseudonym namespaces. A value is pseudonymised under its namespace, so the
// same digits as a UPRN and as a case reference give different pseudonyms,
// while lead_person_id and person_id share one.
const (
	NSPerson    = "person_id"
	NSHousehold = "household_id"
	NSUPN       = "upn"
	NSNHS       = "nhs_number"
	NSUPRN      = "uprn"
	NSCaseRef   = "case_ref"
	NSTenancy   = "tenancy_ref"
	// The source systems' own record ids: not identifiers of a person, but
	// a council officer can look a family up by them, so they leave the
	// connectors as pseudonyms too (joins, such as an assessment to its
	// contact, still match).
	NSContact   = "contact_id"
	NSReferral  = "referral_id"
	NSEpisode   = "episode_id"
	NSPlacement = "placement_id"
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

// Specs returns the contract of every source this build can load, by name.
// It builds new values on each call so callers cannot change a shared one.
func Specs() map[string]Spec {
	specs := []Spec{
		{
			Name: Persons, Pattern: "persons*.csv",
			Columns: []Column{
				{Name: "person_id", Required: true, Pseudonym: NSPerson},
				{Name: "upn", Pseudonym: NSUPN},
				{Name: "nhs_number", Pseudonym: NSNHS},
				{Name: "date_of_birth", Required: true},
				{Name: "sex"},
				{Name: "ethnicity"},
				// For the equality analysis only (eqia.md): never a feature.
				{Name: "sen_status"},
			},
			Schema: arrow.NewSchema([]arrow.Field{
				required("person_id", str),
				nullable("upn", str),
				nullable("nhs_number", str),
				required("date_of_birth", date),
				nullable("sex", str),
				nullable("ethnicity", str),
				nullable("sen_status", str),
			}, nil),
		},
		{
			Name: Households, Pattern: "households*.csv",
			Columns: []Column{
				{Name: "household_id", Required: true, Pseudonym: NSHousehold},
				{Name: "person_id", Required: true, Pseudonym: NSPerson},
				{Name: "role", Required: true},
				{Name: "uprn", Pseudonym: NSUPRN},
				{Name: "lsoa_code", Required: true},
				{Name: "locality"},
				{Name: "from_date", Required: true},
				{Name: "to_date"},
			},
			Schema: arrow.NewSchema([]arrow.Field{
				required("household_id", str),
				required("person_id", str),
				required("role", str),
				nullable("uprn", str),
				required("lsoa_code", str),
				nullable("locality", str),
				required("from_date", date),
				nullable("to_date", date),
			}, nil),
		},
		{
			Name: Deprivation, Pattern: "deprivation*.csv",
			Columns: []Column{
				{Name: "lsoa_code", Required: true},
				{Name: "imd_decile", Required: true},
				{Name: "idaci_decile"},
				{Name: "vintage"},
			},
			Schema: arrow.NewSchema([]arrow.Field{
				required("lsoa_code", str),
				required("imd_decile", arrow.PrimitiveTypes.Int8),
				nullable("idaci_decile", arrow.PrimitiveTypes.Int8),
				nullable("vintage", str),
			}, nil),
		},
		{
			Name: AttendanceSessions, Pattern: "attendance*.csv",
			Columns: []Column{
				{Name: "school_urn", Required: true},
				{Name: "upn", Required: true, Pseudonym: NSUPN},
				{Name: "session_date", Required: true},
				{Name: "session", Required: true},
				{Name: "attendance_code", Required: true},
				{Name: "minutes_late"},
				{Name: "mark_updated_at"},
			},
			Schema: arrow.NewSchema([]arrow.Field{
				required("school_urn", arrow.PrimitiveTypes.Int32),
				required("upn", str),
				required("session_date", date),
				required("session", str), // "AM" or "PM"
				// The canonical code: legacy single-character substitutes are
				// decoded, case is normalised.
				required("attendance_code", str),
				nullable("minutes_late", arrow.PrimitiveTypes.Int16),
				nullable("mark_updated_at", arrow.FixedWidthTypes.Timestamp_s),
				// Derived: present, aea, auth, unauth, not_counted or missing
				// (domain-data §1.2, by the code set of the session's
				// academic year).
				required("category", str),
			}, nil),
		},
		{
			Name: CSCReferrals, Pattern: "csc_referrals*.csv",
			Columns: []Column{
				{Name: "referral_id", Required: true, Pseudonym: NSReferral},
				{Name: "person_id", Required: true, Pseudonym: NSPerson},
				{Name: "referral_date", Required: true},
				{Name: "referral_source"},
				{Name: "outcome"},
				{Name: "case_closed_date"},
			},
			Schema: arrow.NewSchema([]arrow.Field{
				required("referral_id", str),
				required("person_id", str),
				required("referral_date", date),
				nullable("referral_source", str),
				nullable("outcome", str),
				nullable("case_closed_date", date),
			}, nil),
		},
		{
			Name: HVContacts, Pattern: "hv_contacts*.csv",
			Columns: []Column{
				{Name: "contact_id", Required: true, Pseudonym: NSContact},
				{Name: "nhs_number", Required: true, Pseudonym: NSNHS},
				{Name: "contact_type", Required: true},
				{Name: "appointment_date", Required: true},
				{Name: "attendance_status", Required: true},
				{Name: "da_enquiry"},
				{Name: "da_disclosed"},
			},
			Schema: arrow.NewSchema([]arrow.Field{
				required("contact_id", str),
				required("nhs_number", str),
				// ANTENATAL, NEW_BIRTH, SIX_EIGHT_WEEK, TWELVE_MONTH,
				// TWO_TWO_HALF_YEAR, TARGETED, OTHER
				required("contact_type", str),
				required("appointment_date", date),
				// NHS attended-or-did-not-attend codes: 5 attended on
				// time, 6 arrived late but seen, 7 arrived late and not
				// seen, 2 cancelled by or for the patient, 3 did not
				// attend without warning, 4 cancelled or postponed by the
				// provider, 0 not applicable. 3 and 7 are "was not
				// brought" for a child (WasNotBrought).
				required("attendance_status", str),
				// asked, not_asked_partner_present, not_asked_other,
				// declined, not_recorded (vocabulary.go)
				nullable("da_enquiry", str),
				nullable("da_disclosed", boolean),
			}, nil),
		},
		{
			Name: HVAssessments, Pattern: "hv_assessments*.csv",
			Columns: []Column{
				{Name: "contact_id", Required: true, Pseudonym: NSContact},
				{Name: "nhs_number", Required: true, Pseudonym: NSNHS},
				{Name: "instrument", Required: true},
				{Name: "subject"},
				{Name: "score_total"},
				{Name: "asq_domains_below"},
				{Name: "outcome"},
			},
			Schema: arrow.NewSchema([]arrow.Field{
				required("contact_id", str),
				required("nhs_number", str),
				required("instrument", str), // WHOOLEY, EPDS, ASQ3, GAD2, ASQSE2
				nullable("subject", str),    // mother, father_partner, child
				nullable("score_total", arrow.PrimitiveTypes.Int16),
				nullable("asq_domains_below", arrow.PrimitiveTypes.Int8),
				nullable("outcome", str),
			}, nil),
		},
		{
			Name: HomelessnessCases, Pattern: "homelessness*.csv",
			Columns: []Column{
				{Name: "case_ref", Required: true, Pseudonym: NSCaseRef},
				{Name: "approach_date", Required: true},
				{Name: "lead_person_id", Required: true, Pseudonym: NSPerson},
				{Name: "uprn_at_approach", Pseudonym: NSUPRN},
				{Name: "duty_owed"},
				{Name: "reason_loss_of_settled_home"},
				{Name: "main_duty_decision"},
				{Name: "case_closed_date"},
			},
			Schema: arrow.NewSchema([]arrow.Field{
				required("case_ref", str),
				required("approach_date", date),
				required("lead_person_id", str),
				nullable("uprn_at_approach", str),
				nullable("duty_owed", str), // prevention, relief, none_advice_only, ineligible
				nullable("reason_loss_of_settled_home", str),
				nullable("main_duty_decision", str),
				nullable("case_closed_date", date),
			}, nil),
		},
		{
			Name: TemporaryAccom, Pattern: "temporary_accommodation*.csv",
			Columns: []Column{
				{Name: "placement_id", Required: true, Pseudonym: NSPlacement},
				{Name: "case_ref", Required: true, Pseudonym: NSCaseRef},
				{Name: "placement_start", Required: true},
				{Name: "placement_end"},
				{Name: "ta_type"},
				{Name: "out_of_area"},
			},
			Schema: arrow.NewSchema([]arrow.Field{
				required("placement_id", str),
				required("case_ref", str),
				required("placement_start", date),
				nullable("placement_end", date),
				nullable("ta_type", str),
				nullable("out_of_area", boolean),
			}, nil),
		},
		{
			Name: RentAccounts, Pattern: "rent_accounts*.csv",
			Columns: []Column{
				{Name: "tenancy_ref", Required: true, Pseudonym: NSTenancy},
				{Name: "lead_person_id", Required: true, Pseudonym: NSPerson},
				{Name: "snapshot_date", Required: true},
				{Name: "balance", Required: true},
				{Name: "weekly_rent"},
				{Name: "arrears_stage"},
			},
			Schema: arrow.NewSchema([]arrow.Field{
				required("tenancy_ref", str),
				required("lead_person_id", str),
				required("snapshot_date", date),
				required("balance", money),
				nullable("weekly_rent", money),
				// none, letter_1, letter_2, nosp_served, claim_issued,
				// order_suspended, order_outright, warrant_applied, evicted
				nullable("arrears_stage", str),
			}, nil),
		},
		{
			Name: EarlyHelpEpisodes, Pattern: "early_help*.csv",
			Columns: []Column{
				{Name: "episode_id", Required: true, Pseudonym: NSEpisode},
				{Name: "household_id", Required: true, Pseudonym: NSHousehold},
				{Name: "start_date", Required: true},
				{Name: "end_date"},
			},
			Schema: arrow.NewSchema([]arrow.Field{
				required("episode_id", str),
				required("household_id", str),
				required("start_date", date),
				nullable("end_date", date),
			}, nil),
		},
		{
			Name: Objections, Pattern: "objections*.csv",
			Columns: []Column{
				{Name: "person_id", Required: true, Pseudonym: NSPerson},
				{Name: "received_date", Required: true, FailSafe: true},
				{Name: "withdrawn_date"},
			},
			Schema: arrow.NewSchema([]arrow.Field{
				required("person_id", str),
				// Null when the extract's date could not be read: the
				// objection stands from the start of time.
				nullable("received_date", date),
				nullable("withdrawn_date", date),
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
func Names() []string {
	return []string{
		Persons, Households, Deprivation, AttendanceSessions, HVContacts, HVAssessments,
		HomelessnessCases, TemporaryAccom, RentAccounts, CSCReferrals, EarlyHelpEpisodes, Objections,
	}
}
