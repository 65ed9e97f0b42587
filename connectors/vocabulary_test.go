package connectors

import (
	"strings"
	"testing"
)

// baseRows are one valid row per source, by column, that the vocabulary
// tests vary one cell of.
var baseRows = map[string]map[string]string{
	Persons: {"person_id": "P1", "upn": "", "nhs_number": "9434765919", "date_of_birth": "2019-05-01", "sex": "F", "ethnicity": "WHITE_BRITISH"},
	Households: {"household_id": "H1", "person_id": "P1", "role": "child", "uprn": "100023336956", "lsoa_code": "E01000001",
		"locality": "East", "from_date": "2020-01-01", "to_date": ""},
	HVContacts: {"contact_id": "C1", "nhs_number": "9434765919", "contact_type": "NEW_BIRTH", "appointment_date": "2025-02-03",
		"attendance_status": "5", "da_enquiry": "", "da_disclosed": ""},
	HVAssessments: {"contact_id": "C1", "nhs_number": "9434765919", "instrument": "EPDS", "subject": "mother",
		"score_total": "5", "asq_domains_below": "", "outcome": ""},
	RentAccounts: {"tenancy_ref": "T1", "lead_person_id": "P1", "snapshot_date": "2025-02-03", "balance": "10.00",
		"weekly_rent": "", "arrears_stage": "none"},
	AttendanceSessions: {"school_urn": "100001", "upn": "A801200100001", "session_date": "2025-02-03", "session": "AM",
		"attendance_code": "/", "minutes_late": "", "mark_updated_at": ""},
	EarlyHelpEpisodes: {"episode_id": "E1", "household_id": "H1", "start_date": "2024-01-01", "end_date": ""},
	Objections:        {"person_id": "P1", "received_date": "2025-01-01", "withdrawn_date": ""},
	Deprivation:       {"lsoa_code": "E01000001", "imd_decile": "3", "idaci_decile": "", "vintage": "IoD2025"},
}

// loadCell loads the base row of source with column set to cell and
// returns how that column was stored: its value, "null", "nulled:<reason>"
// or "rejected:<reason>".
func loadCell(t *testing.T, source, column, cell string) string {
	t.Helper()
	return loadCells(t, source, map[string]string{column: cell}, column)
}

// loadCells is loadCell with several cells of the base row set, reporting
// how column was stored.
func loadCells(t *testing.T, source string, cells map[string]string, column string) string {
	t.Helper()
	spec, err := Lookup(source)
	if err != nil {
		t.Fatal(err)
	}
	row := make([]string, len(spec.Columns))
	for i, c := range spec.Columns {
		row[i] = baseRows[source][c.Name]
		if v, ok := cells[c.Name]; ok {
			row[i] = v
		}
	}
	if source == AttendanceSessions && row[1] != "" {
		row[1] = validUPN(t)
	}
	sink := &recordingSink{}
	if _, err := loadRows(t, spec, [][]string{row}, 1, sink); err != nil {
		t.Fatal(err)
	}
	if len(sink.rejects) == 1 {
		return "rejected:" + sink.rejects[0].Reason
	}
	for _, n := range sink.nulled {
		if n.Column == column {
			return "nulled:" + n.Reason
		}
	}
	field := spec.Schema.FieldIndices(column)[0]
	v := strings.Split(sink.rows[0], "|")[field]
	if v == "(null)" {
		return "null"
	}
	return v
}

func validUPN(t *testing.T) string {
	rest := "801200100001"
	l, ok := UPNCheckLetter(rest)
	if !ok {
		t.Fatal("no check letter")
	}
	return string(l) + rest
}

// TestVocabularies: each value class the reference lists, with the
// canonical value the store keeps.
func TestVocabularies(t *testing.T) {
	tests := []struct {
		source, column, cell, want string
	}{
		// Null spellings.
		{Persons, "sex", "-", "null"},
		{Persons, "sex", "Unknown", "null"},
		{Persons, "sex", "Not Known", "null"},
		{Persons, "sex", "?", "null"},
		{Persons, "sex", "", "null"},
		{Persons, "date_of_birth", "Not Known", "rejected:missing_required"},
		// da_enquiry: the enum and the booleans.
		{HVContacts, "da_enquiry", "asked", "asked"},
		{HVContacts, "da_enquiry", "Not_Asked_Partner_Present", "not_asked_partner_present"},
		{HVContacts, "da_enquiry", "not_asked_other", "not_asked_other"},
		{HVContacts, "da_enquiry", "declined", "declined"},
		{HVContacts, "da_enquiry", "not_recorded", "not_recorded"},
		{HVContacts, "da_enquiry", "true", "asked"},
		{HVContacts, "da_enquiry", "Y", "asked"},
		{HVContacts, "da_enquiry", "false", "not_asked_other"},
		{HVContacts, "da_enquiry", "maybe", "nulled:bad_code"},
		// Ethnicity: ONS, DfE main and extended, NHS letters.
		{Persons, "ethnicity", "white_british", "WHITE_BRITISH"},
		{Persons, "ethnicity", "WBRI", "WHITE_BRITISH"},
		{Persons, "ethnicity", "WENG", "WHITE_BRITISH"},
		{Persons, "ethnicity", "REFU", "NOT_STATED"},
		{Persons, "ethnicity", "NOBT", "NOT_STATED"},
		{Persons, "ethnicity", "APKN", "ASIAN_PAKISTANI"},
		{Persons, "ethnicity", "A", "WHITE_BRITISH"},
		{Persons, "ethnicity", "R", "ASIAN_CHINESE"},
		{Persons, "ethnicity", "Z", "NOT_STATED"},
		{Persons, "ethnicity", "99", "NOT_STATED"},
		{Persons, "ethnicity", "WROM", "nulled:ambiguous_code"},
		{Persons, "ethnicity", "British", "nulled:bad_code"},
		// SEN status: the contract's values and the school census's codes.
		{Persons, "sen_status", "sen_support", "sen_support"},
		{Persons, "sen_status", "EHCP", "ehcp"},
		{Persons, "sen_status", "K", "sen_support"},
		{Persons, "sen_status", "e", "ehcp"},
		{Persons, "sen_status", "N", "none"},
		{Persons, "sen_status", "Not Known", "null"},
		{Persons, "sen_status", "dyslexia", "nulled:bad_code"},
		// Sentinel and two-digit-year dates.
		{Households, "to_date", "31/12/9999", "null"},
		{Households, "to_date", "01/01/1900", "null"},
		{Households, "to_date", "00/00/0000", "null"},
		{EarlyHelpEpisodes, "end_date", "9999-12-31", "null"},
		{Objections, "received_date", "31/12/9999", "null"},
		{Objections, "withdrawn_date", "01/01/1900", "null"},
		{Households, "from_date", "01/01/1900", "rejected:missing_required"},
		{Households, "from_date", "03/02/25", "2025-02-03"},
		{Households, "to_date", "30/02/2025", "nulled:bad_date"},
		// Attendance status 7 is stored as the code; WasNotBrought counts it.
		{HVContacts, "attendance_status", "7", "7"},
		{HVContacts, "attendance_status", "3", "3"},
		{HVContacts, "attendance_status", "8", "rejected:bad_code"},
		// Instruments, subjects and totals.
		{HVAssessments, "instrument", "GAD2", "GAD2"},
		{HVAssessments, "instrument", "ASQ3_24", "ASQ3"},
		{HVAssessments, "instrument", "ASQ3_27", "ASQ3"},
		{HVAssessments, "instrument", "asq3_30", "ASQ3"},
		{HVAssessments, "instrument", "ASQSE2_24", "ASQSE2"},
		{HVAssessments, "instrument", "ASQSE2_30", "ASQSE2"},
		{HVAssessments, "subject", "father_partner", "father_partner"},
		{HVAssessments, "score_total", "31", "nulled:out_of_range"}, // EPDS tops out at 30
		// Contact types.
		{HVContacts, "contact_type", "THREE_FOUR_MONTH", "THREE_FOUR_MONTH"},
		{HVContacts, "contact_type", "SIX_MONTH", "SIX_MONTH"},
		{HVContacts, "contact_type", "clinic", "CLINIC"},
		{HVContacts, "contact_type", "TELEPHONE", "TELEPHONE"},
		// UPRNs.
		{Households, "uprn", "0", "null"},
		{Households, "uprn", "-1", "null"},
		{Households, "uprn", "100023336956.0", "pseudonym"},
		{Households, "uprn", "1.00023E+11", "nulled:bad_code"}, // digits lost: not guessed
		// Dummy NHS numbers.
		{Persons, "nhs_number", "0000000000", "null"},
		{Persons, "nhs_number", "9999999999", "null"},
		{HVContacts, "nhs_number", "9999999999", "rejected:missing_required"},
		// Money.
		{RentAccounts, "balance", "£-123.45", "-123.45"},
		{RentAccounts, "balance", "1234.56 CR", "-1234.56"},
		{RentAccounts, "balance", "123.45-", "-123.45"},
		{RentAccounts, "balance", "£1,234.56 DR", "1234.56"},
		{RentAccounts, "balance", "(123.45)", "-123.45"},
		// mark_updated_at as a UK date without a time: midnight London.
		{AttendanceSessions, "mark_updated_at", "03/02/2025", "2025-02-03 00:00:00Z"},
		{AttendanceSessions, "mark_updated_at", "03/07/2025", "2025-07-02 23:00:00Z"},
	}
	for _, tc := range tests {
		t.Run(tc.source+"/"+tc.column+"/"+tc.cell, func(t *testing.T) {
			got := loadCell(t, tc.source, tc.column, tc.cell)
			if tc.want == "pseudonym" {
				if got == "null" || strings.Contains(got, ":") || got == tc.cell {
					t.Errorf("stored %q; want a pseudonym", got)
				}
				return
			}
			if got != tc.want {
				t.Errorf("stored %q; want %q", got, tc.want)
			}
		})
	}
}

// TestWasNotBrought: the NHS codes children's services count as a child
// not brought (domain-data §2.3).
func TestWasNotBrought(t *testing.T) {
	for code, want := range map[string]bool{"0": false, "2": false, "3": true, "4": false, "5": false, "6": false, "7": true} {
		if got := WasNotBrought(code); got != want {
			t.Errorf("WasNotBrought(%q) = %v; want %v", code, got, want)
		}
	}
}

// TestVocabularyRows: value classes that only show with two cells of a row
// set together: a total read against its instrument's own range, and the
// IoD vintage of a deprivation row.
func TestVocabularyRows(t *testing.T) {
	tests := []struct {
		source string
		cells  map[string]string
		column string
		want   string
	}{
		// ASQ:SE-2 totals run far past EPDS's 30.
		{HVAssessments, map[string]string{"instrument": "ASQSE2_24", "subject": "child", "score_total": "45"}, "score_total", "45"},
		{HVAssessments, map[string]string{"instrument": "ASQSE2_30", "subject": "child", "score_total": "45"}, "instrument", "ASQSE2"},
		{HVAssessments, map[string]string{"instrument": "ASQSE2_24", "score_total": "401"}, "score_total", "nulled:out_of_range"},
		{HVAssessments, map[string]string{"instrument": "EPDS", "score_total": "45"}, "score_total", "nulled:out_of_range"},
		{HVAssessments, map[string]string{"instrument": "GAD2", "subject": "father_partner", "score_total": "4"}, "score_total", "4"},
		{HVAssessments, map[string]string{"instrument": "GAD2", "subject": "father_partner", "score_total": "4"}, "subject", "father_partner"},
		{HVAssessments, map[string]string{"instrument": "GAD2", "score_total": "7"}, "score_total", "nulled:out_of_range"},
		// Both IoD vintages are read, as the source spells them.
		{Deprivation, map[string]string{"vintage": "IoD2019"}, "vintage", "IoD2019"},
		{Deprivation, map[string]string{"vintage": "iod2025"}, "vintage", "IoD2025"},
		{Deprivation, map[string]string{"vintage": "IoD2015"}, "vintage", "nulled:bad_code"},
		// Attendance status 4 is the provider's cancellation, not a child
		// not brought; 7 (arrived late, not seen) is.
		{HVContacts, map[string]string{"attendance_status": "4"}, "attendance_status", "4"},
		{HVContacts, map[string]string{"attendance_status": "0", "contact_type": "TELEPHONE"}, "contact_type", "TELEPHONE"},
	}
	for _, tc := range tests {
		t.Run(tc.source+"/"+tc.column+"/"+tc.cells[tc.column], func(t *testing.T) {
			if got := loadCells(t, tc.source, tc.cells, tc.column); got != tc.want {
				t.Errorf("stored %q; want %q", got, tc.want)
			}
		})
	}
}
