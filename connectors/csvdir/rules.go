package csvdir

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/apache/arrow/go/v15/arrow"

	"earlyhelp/connectors"
	"earlyhelp/pipeline"
)

// This file turns a connectors.Spec into the row checks of CONTRACTS §2:
// how each column is parsed, which values it may hold, the checks across
// columns of one row and the key that finds duplicates.

// kind is how a stored field is built from a cell.
type kind uint8

const (
	kindString kind = iota
	kindDate
	kindInt
	kindTimestamp
	kindBool
	kindFloat
)

// value is one parsed field of a row, in the stored schema's order.
type value struct {
	s    string  // kindString (a pseudonym for an identifier)
	n    int64   // kindInt, kindDate (days), kindTimestamp (Unix seconds), kindBool (0/1)
	f    float64 // kindFloat
	null bool
}

// column is a spec column as the row loop handles it.
type column struct {
	name     string
	required bool
	ns       string // pseudonym namespace; "" when not an identifier
	field    int    // index in the stored schema
	kind     kind
	typ      arrow.Type
	lo, hi   int64 // kindInt: the accepted range
	// check validates a trimmed, non-null cell (for an identifier, the
	// normalised value) and returns the value to store or a reason.
	check func(v string) (canonical, reason string)
}

// rowCheck validates across the columns of a parsed row and fills derived
// fields. It returns the reason and column of the first failure.
type rowCheck func(v []value) (reason, column string)

// rules is a spec compiled for the row loop.
type rules struct {
	cols    []column
	fields  []kind // per stored field
	types   []arrow.Type
	rowChk  []rowCheck
	key     []int    // stored fields that identify a row for duplicate checks; nil: no check
	keyCol  string   // the column named in a duplicate rejection
	reid    []int    // spec columns whose raw values the sink keeps for re-identification
	reidNSs []string // their namespaces
}

func compile(spec connectors.Spec) (*rules, error) {
	if spec.Schema == nil {
		return nil, fmt.Errorf("%s: spec has no schema", spec.Name)
	}
	fieldIdx := make(map[string]int, spec.Schema.NumFields())
	r := &rules{}
	for i, f := range spec.Schema.Fields() {
		fieldIdx[f.Name] = i
		k, err := fieldKind(f.Type)
		if err != nil {
			return nil, fmt.Errorf("%s: field %q: %w", spec.Name, f.Name, err)
		}
		r.fields = append(r.fields, k)
		r.types = append(r.types, f.Type.ID())
	}
	covered := make([]bool, len(r.fields))
	for _, c := range spec.Columns {
		i, ok := fieldIdx[c.Name]
		if !ok {
			return nil, fmt.Errorf("%s: column %q is not in the stored schema", spec.Name, c.Name)
		}
		covered[i] = true
		col := column{
			name: c.Name, required: c.Required, ns: c.Pseudonym, field: i,
			kind: r.fields[i], typ: r.types[i],
			check: cellCheck(spec.Name, c),
		}
		if col.ns != "" && col.kind != kindString {
			return nil, fmt.Errorf("%s: identifier column %q must be stored as a string", spec.Name, c.Name)
		}
		if col.kind == kindInt {
			col.lo, col.hi = intRange(c.Name, col.typ)
		}
		r.cols = append(r.cols, col)
	}
	field := func(name string) int { return fieldIdx[name] }
	switch spec.Name {
	case connectors.Persons:
		r.key, r.keyCol = []int{field("person_id")}, "person_id"
	case connectors.Households:
		r.rowChk = append(r.rowChk, notBefore(field("to_date"), field("from_date"), "to_date"))
		r.key = []int{field("household_id"), field("person_id"), field("from_date")}
		r.keyCol = "household_id"
	case connectors.Deprivation:
		// Unchanged LSOAs keep their code from 2011 to 2021, so one file
		// may hold an LSOA once per IoD vintage.
		r.key, r.keyCol = []int{field("lsoa_code"), field("vintage")}, "lsoa_code"
	case connectors.CSCReferrals:
		r.rowChk = append(r.rowChk, notBefore(field("case_closed_date"), field("referral_date"), "case_closed_date"))
		r.key, r.keyCol = []int{field("referral_id")}, "referral_id"
	case connectors.HVContacts:
		r.key, r.keyCol = []int{field("contact_id")}, "contact_id"
	case connectors.HVAssessments:
		// One contact may record several instruments, for mother and child.
		r.key = []int{field("contact_id"), field("instrument"), field("subject"), field("nhs_number")}
		r.keyCol = "contact_id"
	case connectors.HomelessnessCases:
		r.rowChk = append(r.rowChk, notBefore(field("case_closed_date"), field("approach_date"), "case_closed_date"))
		r.key, r.keyCol = []int{field("case_ref")}, "case_ref"
	case connectors.TemporaryAccom:
		r.rowChk = append(r.rowChk, notBefore(field("placement_end"), field("placement_start"), "placement_end"))
		r.key, r.keyCol = []int{field("placement_id")}, "placement_id"
	case connectors.RentAccounts:
		r.key, r.keyCol = []int{field("tenancy_ref"), field("snapshot_date")}, "tenancy_ref"
	case connectors.EarlyHelpEpisodes:
		r.rowChk = append(r.rowChk, notBefore(field("end_date"), field("start_date"), "end_date"))
		r.key, r.keyCol = []int{field("episode_id")}, "episode_id"
	case connectors.Objections:
		r.rowChk = append(r.rowChk, notBefore(field("withdrawn_date"), field("received_date"), "withdrawn_date"))
		r.key, r.keyCol = []int{field("person_id"), field("received_date")}, "person_id"
	case connectors.AttendanceSessions:
		// No duplicate check: a re-sent mark is an amendment and the latest
		// wins downstream; a key set over ten million rows would not pay.
		cat, ok := fieldIdx["category"]
		if !ok {
			return nil, fmt.Errorf("%s: schema has no category field", spec.Name)
		}
		covered[cat] = true
		r.rowChk = append(r.rowChk, attendanceCheck(field("session_date"), field("attendance_code"), cat))
	}
	for i, ok := range covered {
		if !ok {
			return nil, fmt.Errorf("%s: no rule fills derived field %q", spec.Name, spec.Schema.Field(i).Name)
		}
	}
	if spec.Name == connectors.Persons || spec.Name == connectors.Households {
		for i, c := range spec.Columns {
			// Only the council's own ids are re-identified, never a UPN, NHS
			// number or UPRN.
			if c.Pseudonym == connectors.NSPerson || c.Pseudonym == connectors.NSHousehold {
				r.reid = append(r.reid, i)
				r.reidNSs = append(r.reidNSs, c.Pseudonym)
			}
		}
	}
	return r, nil
}

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
	}
	return 0, fmt.Errorf("type %s is not supported by csvdir", t)
}

// intRange is the accepted range of an integer column: the domain's where
// it has one, else the stored type's.
func intRange(name string, t arrow.Type) (lo, hi int64) {
	switch name {
	case "imd_decile", "idaci_decile":
		return 1, 10
	case "school_urn":
		return 100000, 999999 // six digits
	case "minutes_late":
		return 0, 180
	case "asq_domains_below":
		return 0, 5
	case "score_total":
		return 0, 30 // EPDS tops out at 30; Whooley counts 0–2
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

// cellCheck returns the value check of a column, nil when any text goes.
func cellCheck(source string, c connectors.Column) func(string) (string, string) {
	switch c.Pseudonym {
	case connectors.NSUPN:
		return checkUPN
	case connectors.NSNHS:
		return checkNHS
	case connectors.NSUPRN:
		return checkUPRN
	}
	switch c.Name {
	case "sex":
		return oneOf("M", "F")
	case "ethnicity":
		return checkEthnicity
	case "role":
		return oneOf("parent", "carer", "child", "other_adult")
	case "lsoa_code":
		return checkLSOA
	case "vintage":
		return oneOf("IoD2019", "IoD2025")
	case "session":
		return oneOf("AM", "PM")
	case "outcome":
		if source == connectors.CSCReferrals {
			return oneOf("nfa", "early_help", "assessment", "cin_plan", "cp_plan", "looked_after")
		}
	case "contact_type":
		return oneOf("ANTENATAL", "NEW_BIRTH", "SIX_EIGHT_WEEK", "TWELVE_MONTH", "TWO_TWO_HALF_YEAR", "TARGETED", "OTHER")
	case "attendance_status":
		return oneOf("0", "2", "3", "4", "5", "6", "7")
	case "instrument":
		return oneOf("WHOOLEY", "EPDS", "ASQ3")
	case "subject":
		return oneOf("mother", "child")
	case "duty_owed":
		return oneOf("prevention", "relief", "none_advice_only", "ineligible")
	case "arrears_stage":
		return oneOf("none", "letter_1", "letter_2", "nosp_served", "claim_issued",
			"order_suspended", "order_outright", "warrant_applied", "evicted")
	}
	return nil
}

// oneOf accepts the listed codes in any case and stores them as listed.
func oneOf(codes ...string) func(string) (string, string) {
	return func(v string) (string, string) {
		for _, c := range codes {
			if v == c || strings.EqualFold(v, c) {
				return c, ""
			}
		}
		return "", pipeline.ReasonBadCode
	}
}

func checkUPN(v string) (string, string) {
	if connectors.CheckUPN(v) != nil {
		return "", pipeline.ReasonBadUPNCheck
	}
	return v, ""
}

func checkNHS(v string) (string, string) {
	if connectors.CheckNHS(v) != nil || strings.Count(v, v[:1]) == len(v) {
		// 0000000000, 1111111111 and 9999999999 pass mod 11 but are the
		// dummies systems use for "unknown".
		return "", pipeline.ReasonBadNHSCheck
	}
	return v, ""
}

func checkUPRN(v string) (string, string) {
	if !connectors.CheckUPRN(v) {
		return "", pipeline.ReasonBadCode
	}
	return v, ""
}

func checkEthnicity(v string) (string, string) {
	if c, ok := connectors.EthnicityCode(v); ok {
		return c, ""
	}
	return "", pipeline.ReasonBadCode
}

// checkLSOA accepts an English LSOA code: E01 and six digits.
func checkLSOA(v string) (string, string) {
	if len(v) != 9 || !strings.EqualFold(v[:3], "E01") {
		return "", pipeline.ReasonBadCode
	}
	for i := 3; i < 9; i++ {
		if v[i] < '0' || v[i] > '9' {
			return "", pipeline.ReasonBadCode
		}
	}
	if v[0] == 'e' {
		return strings.ToUpper(v), ""
	}
	return v, ""
}

// isUPNPlaceholder reports the "UPN unknown" codes UN1-UN10 that social
// care systems put in the UPN column; they mean no UPN, not a bad one.
func isUPNPlaceholder(v string) bool {
	if len(v) < 3 || len(v) > 4 || v[:2] != "UN" {
		return false
	}
	switch v[2:] {
	case "1", "2", "3", "4", "5", "6", "7", "8", "9", "10":
		return true
	}
	return false
}

// notBefore checks that an optional end date is on or after a start date.
func notBefore(end, start int, column string) rowCheck {
	return func(v []value) (string, string) {
		if !v[end].null && !v[start].null && v[end].n < v[start].n {
			return pipeline.ReasonOutOfRange, column
		}
		return "", ""
	}
}

// attendanceCheck refuses weekend sessions, reads the code by the code set
// of the session's date, and fills the derived category.
func attendanceCheck(date, code, category int) rowCheck {
	return func(v []value) (string, string) {
		days := int32(v[date].n)
		if wd := connectors.Weekday(days); wd == time.Saturday || wd == time.Sunday {
			return pipeline.ReasonOutOfRange, "session_date"
		}
		c, cat, ok := connectors.AttendanceCategoryDays(v[code].s, days)
		if !ok {
			return pipeline.ReasonBadCode, "attendance_code"
		}
		v[code].s = c
		v[category] = value{s: cat}
		return "", ""
	}
}
