package connectors

import (
	"strings"
	"testing"
)

// TestCellPolicy: a bad required cell quarantines its row; a bad optional
// cell is nulled and noted with the row kept; a null spelling is a null,
// not a bad cell. Every sink counts nulled cells (pipeline.Sink.Nulled), so
// nothing is stored unaccounted.
func TestCellPolicy(t *testing.T) {
	spec, err := Lookup(Persons)
	if err != nil {
		t.Fatal(err)
	}
	// person_id, upn, nhs_number, date_of_birth, sex, ethnicity, sen_status
	tests := []struct {
		name       string
		row        []string
		reject     string // the quarantine reason, or "" when loaded
		nulled     string // column/reason of the one nulled cell, if any
		showsValue string // the nulled cell's value in the cells file
	}{
		{name: "good", row: []string{"P1", "", "", "2019-05-01", "M", "WHITE_BRITISH", "sen_support"}},
		{name: "bad required date", row: []string{"P2", "", "", "31/02/2019", "M", "", ""}, reject: "bad_date"},
		{name: "missing required id", row: []string{"", "", "", "2019-05-01", "M", "", ""}, reject: "missing_required"},
		{name: "bad optional code", row: []string{"P3", "", "", "2019-05-01", "X", "", ""}, nulled: "sex/bad_code", showsValue: "X"},
		{name: "bad optional identifier", row: []string{"P4", "A12345678901Z", "", "2019-05-01", "F", "", ""}, nulled: "upn/bad_upn_check"},
		{name: "null spelling dash", row: []string{"P5", "-", "?", "2019-05-01", "-", "Unknown", "-"}},
		{name: "school census SEN code", row: []string{"P7", "", "", "2015-05-01", "F", "", "K"}},
		{name: "bad optional SEN status", row: []string{"P8", "", "", "2015-05-01", "F", "", "maybe"}, nulled: "sen_status/bad_code", showsValue: "maybe"},
		{name: "null spelling not known", row: []string{"P6", "Not Known", "unknown", "2019-05-01", "NOT KNOWN", "?", "Not Known"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sink := &recordingSink{}
			if _, err := loadRows(t, spec, [][]string{tc.row}, 1, sink); err != nil {
				t.Fatal(err)
			}
			gotReject := ""
			if len(sink.rejects) > 0 {
				gotReject = sink.rejects[0].Reason
			}
			if gotReject != tc.reject || len(sink.rows)+len(sink.rejects) != 1 {
				t.Fatalf("rejected %q, %d loaded; want rejected %q and read = loaded + quarantined", gotReject, len(sink.rows), tc.reject)
			}
			gotNulled := ""
			for _, n := range sink.nulled {
				gotNulled += n.Column + "/" + n.Reason
				if n.Row != 2 {
					t.Errorf("nulled cell at row %d; want 2", n.Row)
				}
				if tc.showsValue != "" && n.Value != tc.showsValue {
					t.Errorf("nulled value %q; want %q", n.Value, tc.showsValue)
				}
				if n.Column == "upn" && (n.Value == "" || strings.Contains(n.Value, "12345678901")) {
					t.Errorf("nulled identifier shown as %q; want its pseudonym", n.Value)
				}
			}
			if gotNulled != tc.nulled {
				t.Errorf("nulled %q; want %q", gotNulled, tc.nulled)
			}
		})
	}
}

// TestEndBeforeStartNullsTheEnd: an optional end date before its start is
// an unreadable end date, so it is nulled and the row kept.
func TestEndBeforeStartNullsTheEnd(t *testing.T) {
	spec, err := Lookup(CSCReferrals)
	if err != nil {
		t.Fatal(err)
	}
	sink := &recordingSink{}
	row := []string{"R1", "P1", "2024-05-01", "", "assessment", "2024-04-01"}
	if _, err := loadRows(t, spec, [][]string{row}, 1, sink); err != nil {
		t.Fatal(err)
	}
	if len(sink.rows) != 1 || len(sink.nulled) != 1 || sink.nulled[0].Column != "case_closed_date" || sink.nulled[0].Reason != "out_of_range" {
		t.Fatalf("loaded %d, nulled %+v; want the row loaded and case_closed_date nulled as out_of_range", len(sink.rows), sink.nulled)
	}
	if !strings.HasSuffix(sink.rows[0], "|(null)") {
		t.Errorf("stored row %q; want case_closed_date null", sink.rows[0])
	}
}
