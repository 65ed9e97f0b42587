package connectors

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestNormaliseHeader(t *testing.T) {
	tests := []struct{ in, want string }{
		{"School URN", "school_urn"},
		{"Session Date", "session_date"},
		{"Mark Updated At", "mark_updated_at"},
		{"  UPN ", "upn"},
		{"\uFEFFschool_urn", "school_urn"},
		{"SessionDate", "session_date"},
		{"markUpdatedAt", "mark_updated_at"},
		{"Date-of-Birth", "date_of_birth"},
		{"NHS No.", "nhs_no"},
		{"AM/PM", "am_pm"},
		{"LSOA11CD", "lsoa11cd"},
		{"", ""},
	}
	for _, tc := range tests {
		if got := NormaliseHeader(tc.in); got != tc.want {
			t.Errorf("NormaliseHeader(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}

func TestHeaderMatching(t *testing.T) {
	spec, err := Lookup(Persons)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		columns map[string]string
		header  []string
		want    map[string]int // contract column → index
		wantErr string
	}{
		{name: "contract names", header: []string{"person_id", "date_of_birth"}, want: map[string]int{"person_id": 0, "date_of_birth": 1}},
		{name: "human and variant", header: []string{"Person ID", "DOB", "NHS No"}, want: map[string]int{"person_id": 0, "date_of_birth": 1, "nhs_number": 2}},
		{name: "map wins over the contract name", columns: map[string]string{"date_of_birth": "Born"},
			header: []string{"person_id", "date_of_birth", "Born"}, want: map[string]int{"date_of_birth": 2}},
		{name: "mapped header absent falls back", columns: map[string]string{"date_of_birth": "Born"},
			header: []string{"person_id", "Date of Birth"}, want: map[string]int{"date_of_birth": 1}},
		{name: "twice", header: []string{"person_id", "Person ID", "dob"}, wantErr: `column "person_id" appears twice`},
		{name: "missing", header: []string{"Person Ref", "Birth"}, wantErr: `missing required column "person_id" (and "date_of_birth"); headers found: "Person Ref", "Birth"; closest to person_id: "Person Ref"; closest to date_of_birth: "Birth"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := newHeaderMatcher(spec, tc.columns)
			if err != nil {
				t.Fatal(err)
			}
			idx, err := m.resolve(tc.header)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error: got %v; want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for col, want := range tc.want {
				i := slices.Index(spec.ColumnNames(), col)
				if idx[i] != want {
					t.Errorf("%s: got header %d; want %d", col, idx[i], want)
				}
			}
		})
	}
}

func TestColumnMapNamesUnknownColumn(t *testing.T) {
	spec, err := Lookup(Persons)
	if err != nil {
		t.Fatal(err)
	}
	_, err = NewRules(spec, LoadOptions{Columns: map[string]string{"school_urn": "URN"}})
	if err == nil || !strings.Contains(err.Error(), `"school_urn" is not a column of persons`) {
		t.Errorf("error: got %v; want one naming school_urn", err)
	}
	var he *HeaderError
	if errors.As(err, &he) {
		t.Error("a bad map is not a header error")
	}
}
