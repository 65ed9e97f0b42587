package csvdir

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/connectors"
	"earlyhelp/pipeline"
)

var testKey = []byte("0123456789abcdef")

// fakeSink records what a source sends it, copying what it keeps.
type fakeSink struct {
	skip       map[string]bool // Begin reports false for these names
	allowEmpty bool            // accept a zero-byte file
	begun      []string
	ended      map[string]int64
	fields     []string
	rows       []map[string]string // emitted rows by field name; null is ""
	rejects    []pipeline.Rejected
	reids      [][3]string // namespace, pseudonym, raw
	nulled     []pipeline.NulledCell
	shapes     map[string]pipeline.FileShape
	emitted    map[string]int64
	reject     map[string]int64
	cur        string
}

func newFakeSink() *fakeSink {
	return &fakeSink{ended: map[string]int64{}, emitted: map[string]int64{}, reject: map[string]int64{}}
}

func (s *fakeSink) Begin(f pipeline.FileRef) (bool, error) {
	if len(f.SHA256) != 64 || f.Size < 0 || f.Size == 0 && !s.allowEmpty {
		return false, fmt.Errorf("bad file ref %+v", f)
	}
	if s.skip[f.Name] {
		return false, nil
	}
	s.begun = append(s.begun, f.Name)
	s.cur = f.Name
	return true, nil
}

func (s *fakeSink) Emit(rec arrow.Record) error {
	for i := 0; i < int(rec.NumRows()); i++ {
		row := make(map[string]string, rec.NumCols())
		for j, col := range rec.Columns() {
			row[rec.ColumnName(j)] = cellString(rec.Schema().Field(j), col, i)
		}
		s.rows = append(s.rows, row)
	}
	s.emitted[s.cur] += rec.NumRows()
	return nil
}

func cellString(f arrow.Field, col arrow.Array, i int) string {
	if col.IsNull(i) {
		return ""
	}
	if ts, ok := col.(*array.Timestamp); ok {
		return time.Unix(int64(ts.Value(i)), 0).UTC().Format(time.RFC3339)
	}
	// Cloned: a string value aliases the record's buffer, which the row
	// loader reuses once the record is released.
	return strings.Clone(connectors.StoredText(f, col, i))
}

func (s *fakeSink) Reject(r pipeline.Rejected) error {
	s.rejects = append(s.rejects, r)
	s.reject[s.cur]++
	return nil
}

func (s *fakeSink) Reid(namespace, pseudonym, raw string) error {
	s.reids = append(s.reids, [3]string{namespace, pseudonym, raw})
	return nil
}

func (s *fakeSink) Nulled(c pipeline.NulledCell) error {
	s.nulled = append(s.nulled, c)
	return nil
}

func (s *fakeSink) Shape(f pipeline.FileRef, sh pipeline.FileShape) error {
	if s.shapes == nil {
		s.shapes = map[string]pipeline.FileShape{}
	}
	s.shapes[f.Name] = sh
	return nil
}

func (s *fakeSink) End(f pipeline.FileRef, rowsRead int64) error {
	s.ended[f.Name] = rowsRead
	return nil
}

func (s *fakeSink) reasons() map[string]int {
	out := map[string]int{}
	for _, r := range s.rejects {
		out[r.Reason]++
	}
	return out
}

// read runs a source over a testdata folder with a checked allocator.
func read(t *testing.T, source, dir string, sink *fakeSink) error {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	spec, err := connectors.Lookup(source)
	if err != nil {
		t.Fatal(err)
	}
	p, err := connectors.NewPseudonymiser(testKey)
	if err != nil {
		t.Fatal(err)
	}
	src, err := New(Config{Path: dir}, spec, p)
	if err != nil {
		t.Fatal(err)
	}
	return src.Read(context.Background(), mem, sink)
}

func TestRead(t *testing.T) {
	tests := []struct {
		name        string
		source      string
		dir         string
		wantFiles   []string
		wantLoaded  int
		wantReasons map[string]int
		// wantNulled counts, by reason, the unreadable optional cells
		// stored as null with their row kept (CONTRACTS §2 cell policy).
		wantNulled map[string]int
	}{
		{
			name: "persons: BOM, CRLF, header case, dd/mm/yyyy", source: connectors.Persons, dir: "persons",
			// A dummy NHS number (9999999999) reads as none and DfE WBRI as
			// WHITE_BRITISH; a placeholder date of birth (1900-01-01) is missing.
			wantFiles: []string{"persons_2025.csv"}, wantLoaded: 10,
			wantReasons: map[string]int{
				pipeline.ReasonMissingRequired: 3, pipeline.ReasonBadDate: 1, pipeline.ReasonDuplicate: 1,
				pipeline.ReasonMalformedRow: 1,
			},
			wantNulled: map[string]int{pipeline.ReasonBadUPNCheck: 2, pipeline.ReasonBadNHSCheck: 1, pipeline.ReasonBadCode: 1},
		},
		{
			name: "households: Windows-1252", source: connectors.Households, dir: "households",
			// A to_date of 31/12/9999 is no end.
			wantFiles: []string{"households_2025.csv"}, wantLoaded: 8,
			wantReasons: map[string]int{
				pipeline.ReasonBadCode: 2, pipeline.ReasonDuplicate: 1, pipeline.ReasonMissingRequired: 1,
			},
			wantNulled: map[string]int{pipeline.ReasonBadCode: 1, pipeline.ReasonOutOfRange: 1},
		},
		{
			name: "deprivation", source: connectors.Deprivation, dir: "deprivation",
			wantFiles: []string{"deprivation.csv"}, wantLoaded: 5,
			wantReasons: map[string]int{
				pipeline.ReasonOutOfRange: 1, pipeline.ReasonBadNumber: 1, pipeline.ReasonBadCode: 1,
				pipeline.ReasonDuplicate: 1, pipeline.ReasonMissingRequired: 1,
			},
			wantNulled: map[string]int{pipeline.ReasonOutOfRange: 1, pipeline.ReasonBadCode: 1},
		},
		{
			name: "csc referrals", source: connectors.CSCReferrals, dir: "csc_referrals",
			wantFiles: []string{"csc_referrals_2025.csv"}, wantLoaded: 5,
			wantReasons: map[string]int{pipeline.ReasonDuplicate: 1, pipeline.ReasonBadDate: 1},
			wantNulled:  map[string]int{pipeline.ReasonBadCode: 1, pipeline.ReasonOutOfRange: 1},
		},
		{
			name: "attendance: legacy CSV and 2024 gzip", source: connectors.AttendanceSessions, dir: "attendance",
			wantFiles: []string{"attendance_2023.csv", "attendance_2025.csv.gz"}, wantLoaded: 9 + 8 + 3,
			wantReasons: map[string]int{
				pipeline.ReasonBadCode: 2 + 6, pipeline.ReasonOutOfRange: 1 + 2, pipeline.ReasonBadNumber: 1,
				pipeline.ReasonBadUPNCheck: 1, pipeline.ReasonMissingRequired: 1, pipeline.ReasonBadDate: 1,
				pipeline.ReasonMalformedRow: 1,
			},
			// minutes_late out of range and unreadable, mark_updated_at unreadable
			wantNulled: map[string]int{pipeline.ReasonOutOfRange: 1, pipeline.ReasonBadNumber: 1, pipeline.ReasonBadDate: 1},
		},
		{
			name: "rent accounts: money as finance systems print it", source: connectors.RentAccounts, dir: "rent_accounts",
			wantFiles: []string{"rent_accounts_2025-01.csv"}, wantLoaded: 4,
			wantReasons: map[string]int{pipeline.ReasonBadNumber: 2, pipeline.ReasonMissingRequired: 1},
			wantNulled:  map[string]int{pipeline.ReasonBadCode: 1}, // arrears_stage
		},
		{
			name: "hv contacts: codes and booleans", source: connectors.HVContacts, dir: "hv_contacts",
			wantFiles: []string{"hv_contacts.csv"}, wantLoaded: 4,
			wantReasons: map[string]int{pipeline.ReasonBadCode: 1, pipeline.ReasonBadNHSCheck: 1},
			wantNulled:  map[string]int{pipeline.ReasonBadCode: 1}, // da_enquiry
		},
		{
			name: "repeated header row", source: connectors.AttendanceSessions, dir: "repeated_header",
			wantFiles: []string{"attendance_2025.csv"}, wantLoaded: 2,
			wantReasons: map[string]int{pipeline.ReasonMalformedRow: 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sink := newFakeSink()
			if err := read(t, tc.source, filepath.Join("testdata", tc.dir), sink); err != nil {
				t.Fatalf("Read: %v", err)
			}
			if got := strings.Join(sink.begun, ","); got != strings.Join(tc.wantFiles, ",") {
				t.Errorf("files read: got %s; want %s", got, strings.Join(tc.wantFiles, ","))
			}
			if got := len(sink.rows); got != tc.wantLoaded {
				t.Errorf("rows loaded: got %d; want %d", got, tc.wantLoaded)
			}
			got := sink.reasons()
			for reason, n := range tc.wantReasons {
				if got[reason] != n {
					t.Errorf("rejected as %s: got %d; want %d", reason, got[reason], n)
				}
			}
			for reason, n := range got {
				if _, ok := tc.wantReasons[reason]; !ok {
					t.Errorf("rejected as %s: got %d; want 0", reason, n)
				}
			}
			nulled := map[string]int{}
			for _, n := range sink.nulled {
				nulled[n.Reason]++
			}
			if !maps.Equal(nulled, tc.wantNulled) {
				t.Errorf("nulled cells by reason: got %v; want %v", nulled, tc.wantNulled)
			}
			for _, f := range tc.wantFiles {
				if read, sum := sink.ended[f], sink.emitted[f]+sink.reject[f]; read != sum {
					t.Errorf("%s: rows read %d; emitted + rejected = %d", f, read, sum)
				}
			}
			if t.Failed() {
				for _, r := range sink.rejects {
					t.Logf("rejected row %d: %s %s", r.Row, r.Reason, r.Column)
				}
				for _, n := range sink.nulled {
					t.Logf("nulled row %d: %s %s", n.Row, n.Reason, n.Column)
				}
			}
		})
	}
}

// TestMoneyAndBooleans checks the stored values of the new column kinds.
func TestMoneyAndBooleans(t *testing.T) {
	sink := newFakeSink()
	if err := read(t, connectors.RentAccounts, filepath.Join("testdata", "rent_accounts"), sink); err != nil {
		t.Fatal(err)
	}
	var balances []string
	for _, r := range sink.rows {
		balances = append(balances, r["balance"])
	}
	// The last row's arrears stage is unreadable: nulled, the row kept.
	if got, want := strings.Join(balances, " "), "120.5 1234.56 -15.2 10"; got != want {
		t.Errorf("balances %q; want %q", got, want)
	}
	sink = newFakeSink()
	if err := read(t, connectors.HVContacts, filepath.Join("testdata", "hv_contacts"), sink); err != nil {
		t.Fatal(err)
	}
	var flags []string
	for _, r := range sink.rows {
		flags = append(flags, r["contact_type"]+"/"+r["da_enquiry"]+"/"+r["da_disclosed"])
	}
	// The targeted contact's da_enquiry is unreadable: nulled, the row kept.
	if got, want := strings.Join(flags, " "), "NEW_BIRTH/asked/false SIX_EIGHT_WEEK/asked/false TWELVE_MONTH// TARGETED//false"; got != want {
		t.Errorf("contacts %q; want %q", got, want)
	}
}

func TestPersonsValues(t *testing.T) {
	sink := newFakeSink()
	if err := read(t, connectors.Persons, "testdata/persons", sink); err != nil {
		t.Fatal(err)
	}
	p, _ := connectors.NewPseudonymiser(testKey)
	byPerson := map[string]map[string]string{}
	for _, r := range sink.rows {
		byPerson[r["person_id"]] = r
	}
	p1 := byPerson[p.Pseudonym(connectors.NSPerson, "P0001")]
	if p1 == nil {
		t.Fatal("P0001 not loaded under its pseudonym")
	}
	want := map[string]string{
		"upn":           p.Pseudonym(connectors.NSUPN, "B801200005001"),
		"nhs_number":    p.Pseudonym(connectors.NSNHS, "9434765919"),
		"date_of_birth": "2015-02-03",
		"sex":           "F",
		"ethnicity":     "WHITE_BRITISH",
	}
	for k, v := range want {
		if p1[k] != v {
			t.Errorf("P0001 %s: got %q; want %q", k, p1[k], v)
		}
	}
	p2 := byPerson[p.Pseudonym(connectors.NSPerson, "P0002")]
	if p2["upn"] != p.Pseudonym(connectors.NSUPN, "Q801200005002") || p2["sex"] != "M" || p2["ethnicity"] != "ASIAN_INDIAN" {
		t.Errorf("P0002 not normalised: %v", p2)
	}
	if p4 := byPerson[p.Pseudonym(connectors.NSPerson, "P0004")]; p4 == nil || p4["upn"] != "" || p4["nhs_number"] != "" {
		t.Errorf("P0004: placeholder UPN and NULL NHS number should load as missing: %v", p4)
	}
	// Row numbers are file lines: the header is line 1, a blank line 6.
	rows := map[int64]string{}
	for _, r := range sink.rejects {
		rows[r.Row] = r.Reason + "/" + r.Column
	}
	for line, want := range map[int64]string{
		7: "missing_required/person_id", 9: "bad_date/date_of_birth", 10: "missing_required/date_of_birth",
		11: "", 13: "", 14: "", 15: "", 16: "", 17: "duplicate/person_id", 18: "malformed_row/",
	} {
		if rows[line] != want {
			t.Errorf("line %d: got %q; want %q", line, rows[line], want)
		}
	}
	// An unreadable optional cell is nulled and counted, its row kept.
	nulled := map[int64]string{}
	for _, n := range sink.nulled {
		nulled[n.Row] = n.Reason + "/" + n.Column
	}
	for line, want := range map[int64]string{
		11: "bad_upn_check/upn", 12: "bad_upn_check/upn", 13: "bad_nhs_check/nhs_number", 14: "",
		15: "bad_code/sex", 16: "",
	} {
		if nulled[line] != want {
			t.Errorf("line %d nulled: got %q; want %q", line, nulled[line], want)
		}
	}
	// Re-identification covers every loaded person and nothing else.
	if len(sink.reids) != len(sink.rows) {
		t.Errorf("Reid calls: got %d; want %d", len(sink.reids), len(sink.rows))
	}
	for _, r := range sink.reids {
		if r[0] != connectors.NSPerson || r[1] != p.Pseudonym(r[0], r[2]) {
			t.Errorf("Reid(%q, %q, %q): want person_id and a matching pseudonym", r[0], r[1], r[2])
		}
	}
}

func TestHouseholdsValues(t *testing.T) {
	sink := newFakeSink()
	if err := read(t, connectors.Households, "testdata/households", sink); err != nil {
		t.Fatal(err)
	}
	p, _ := connectors.NewPseudonymiser(testKey)
	localities := map[string]bool{}
	uprns := map[string]int{}
	for _, r := range sink.rows {
		localities[r["locality"]] = true
		uprns[r["uprn"]]++
	}
	for _, want := range []string{"St Mary’s", "Crèche Lane", "Hôpital – East"} {
		if !localities[want] {
			t.Errorf("locality %q not decoded from Windows-1252; got %v", want, localities)
		}
	}
	// "100023336956" and "100023336956.0" are one property.
	if n := uprns[p.Pseudonym(connectors.NSUPRN, "100023336956")]; n != 3 {
		t.Errorf("rows with UPRN 100023336956: got %d; want 3", n)
	}
	var roles, lsoas []string
	for _, r := range sink.rows {
		roles = append(roles, r["role"])
		lsoas = append(lsoas, r["lsoa_code"])
	}
	// Two rows are kept with an unreadable optional cell nulled (a UPRN, a
	// to_date before the from_date).
	if got := strings.Join(roles, ","); got != "child,parent,carer,child,child,child,child,child" {
		t.Errorf("roles: got %s", got)
	}
	if got := strings.Join(lsoas, ","); got != "E01000001,E01000001,E01000002,E01000003,E01000003,E01000003,E01000003,E01000001" {
		t.Errorf("lsoa codes: got %s", got)
	}
	namespaces := map[string]int{}
	for _, r := range sink.reids {
		namespaces[r[0]]++
	}
	if namespaces[connectors.NSPerson] != 8 || namespaces[connectors.NSHousehold] != 8 || len(namespaces) != 2 {
		t.Errorf("Reid namespaces: got %v; want 8 person_id and 8 household_id", namespaces)
	}
}

func TestAttendanceCodesByDate(t *testing.T) {
	sink := newFakeSink()
	if err := read(t, connectors.AttendanceSessions, "testdata/attendance", sink); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range sink.rows {
		got = append(got, r["session_date"]+" "+r["session"]+" "+r["attendance_code"]+" "+r["category"])
	}
	want := []string{
		"2023-11-06 AM / present",
		`2023-11-06 PM \ present`,
		"2023-11-07 AM H auth",
		"2023-11-07 PM J aea",
		"2023-11-07 AM Y not_counted",
		"2023-11-07 PM X01 not_counted",
		"2023-11-08 AM L present",
		"2023-11-08 PM - missing",
		"2024-08-16 AM X not_counted",
		"2025-01-13 AM C1 auth",
		"2025-01-13 PM C1 auth",
		"2025-01-14 AM J1 auth",
		"2025-01-14 PM Y2 not_counted",
		"2025-01-15 AM K aea",
		"2025-01-15 PM U unauth",
		"2025-01-23 AM L present", // minutes_late out of range: nulled
		"2025-01-23 PM L present", // minutes_late unreadable: nulled
		"2025-01-24 AM / present", // mark_updated_at unreadable: nulled
		"2025-01-24 PM / present",
		"2025-01-24 PM / present",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("loaded marks:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	first, late := sink.rows[0], sink.rows[14]
	if first["school_urn"] != "100001" || first["mark_updated_at"] != "2023-11-06T09:01:00Z" || first["minutes_late"] != "" {
		t.Errorf("first row: %v", first)
	}
	if sink.rows[1]["mark_updated_at"] != "2023-11-06T13:30:00Z" { // naive London time in GMT
		t.Errorf("naive timestamp: got %q", sink.rows[1]["mark_updated_at"])
	}
	if late["minutes_late"] != "45" {
		t.Errorf("minutes_late: got %q; want 45", late["minutes_late"])
	}
	if r := sink.rows[15:18]; r[0]["minutes_late"] != "" || r[1]["minutes_late"] != "" || r[2]["mark_updated_at"] != "" {
		t.Errorf("rows with an unreadable optional cell: %v; want the cell null", r)
	}
	if len(sink.reids) != 0 {
		t.Errorf("attendance re-identified %d values; want none", len(sink.reids))
	}
}

func TestReadFails(t *testing.T) {
	notDir := filepath.Join("testdata", "deprivation", "deprivation.csv")
	tests := []struct {
		name    string
		dir     string
		wantErr string
	}{
		{"missing required column", "testdata/missing_column",
			`file attendance_2025.csv: missing required column "upn"; headers found: "school_urn", "pupil", "session_date", "session", "attendance_code"; nothing close to upn; map them under sources.<name>.columns`},
		{"missing folder", "testdata/nope",
			"source folder testdata/nope: no such directory"},
		{"not a folder", notDir,
			"source folder " + notDir + ": not a directory"},
		{"unterminated quote", "testdata/bad_quote",
			`file attendance_2025.csv: line 3: extraneous or missing " in quoted-field`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sink := newFakeSink()
			err := read(t, connectors.AttendanceSessions, tc.dir, sink)
			if err == nil || err.Error() != tc.wantErr {
				t.Fatalf("error: got %v; want %s", err, tc.wantErr)
			}
			if tc.name == "missing required column" && (len(sink.rows) != 0 || len(sink.rejects) != 0 || len(sink.ended) != 0) {
				t.Errorf("failed file still sent %d rows, %d rejects, %d ends", len(sink.rows), len(sink.rejects), len(sink.ended))
			}
		})
	}
}

func TestReadFailsOnUnreadableFiles(t *testing.T) {
	header := "school_urn,upn,session_date,session,attendance_code\n"
	row := "100002,E801200005003,2025-01-13,AM,/\n"
	var gz strings.Builder
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(header + strings.Repeat(row, 1000)))
	zw.Close()
	tests := []struct {
		name    string
		content string
		wantErr string
	}{
		{"truncated gzip", gz.String()[:gz.Len()/2], "unexpected EOF"},
		{"empty", "", "no header row"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			name := "attendance_x.csv"
			if tc.name == "truncated gzip" {
				name += ".gz"
			}
			if err := os.WriteFile(filepath.Join(dir, name), []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			sink := newFakeSink()
			sink.allowEmpty = true
			err := read(t, connectors.AttendanceSessions, dir, sink)
			want := "file " + name + ": "
			if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error: got %v; want %s...%s", err, want, tc.wantErr)
			}
			if len(sink.ended) != 0 {
				t.Error("End called for a failed file")
			}
		})
	}
}

func TestSniffUTF8AcrossReads(t *testing.T) {
	// A two-byte character split by the sniffer's 256 KiB reads.
	text := strings.Repeat("a", 256<<10-1) + "é" + strings.Repeat("b", 10)
	tests := []struct {
		name    string
		content string
		want    bool
	}{
		{"split rune", text, true},
		{"Windows-1252 late in the file", text + "caf\xe9\n", false},
		{"truncated rune at the end", text + "\xc3", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "f.csv")
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := sniffUTF8(path, false)
			if err != nil || got != tc.want {
				t.Errorf("sniffUTF8 = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestRedeliveredFileSkipped(t *testing.T) {
	sink := newFakeSink()
	sink.skip = map[string]bool{"attendance_2023.csv": true}
	if err := read(t, connectors.AttendanceSessions, "testdata/attendance", sink); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(sink.begun, ","); got != "attendance_2025.csv.gz" {
		t.Errorf("files read: got %s; want attendance_2025.csv.gz", got)
	}
	if _, ok := sink.ended["attendance_2023.csv"]; ok {
		t.Error("End called for a skipped file")
	}
	if len(sink.rows) != 11 {
		t.Errorf("rows loaded: got %d; want 11 (the gzip file only)", len(sink.rows))
	}
}

func TestContextCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	spec, _ := connectors.Lookup(connectors.Persons)
	p, _ := connectors.NewPseudonymiser(testKey)
	src, err := New(Config{Path: "testdata/persons"}, spec, p)
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Read(ctx, memory.NewGoAllocator(), newFakeSink()); !errors.Is(err, context.Canceled) {
		t.Errorf("Read with a cancelled context: got %v; want context.Canceled", err)
	}
}

func TestNewValidates(t *testing.T) {
	spec, _ := connectors.Lookup(connectors.Persons)
	p, _ := connectors.NewPseudonymiser(testKey)
	bad := spec
	bad.Pattern = "[persons"
	tests := []struct {
		name string
		cfg  Config
		spec connectors.Spec
		p    *connectors.Pseudonymiser
	}{
		{"no path", Config{}, spec, p},
		{"no pseudonymiser", Config{Path: "x"}, spec, nil},
		{"bad pattern", Config{Path: "x"}, bad, p},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.cfg, tc.spec, tc.p); err == nil {
				t.Error("New accepted it; want an error")
			}
		})
	}
	if _, err := New(Config{Path: "does/not/exist"}, spec, p); err != nil {
		t.Errorf("New does I/O or rejects a folder that may appear later: %v", err)
	}
}

// TestNoRawIdentifiers reads every fixture and checks that no identifier
// value from the files reaches the sink except through Reid.
func TestNoRawIdentifiers(t *testing.T) {
	for _, c := range []struct{ source, dir string }{
		{connectors.Persons, "persons"}, {connectors.Households, "households"},
		{connectors.CSCReferrals, "csc_referrals"}, {connectors.AttendanceSessions, "attendance"},
	} {
		t.Run(c.source, func(t *testing.T) {
			dir := filepath.Join("testdata", c.dir)
			spec, _ := connectors.Lookup(c.source)
			raw := rawIdentifiers(t, dir, spec)
			if len(raw) == 0 {
				t.Fatal("no identifiers found in the fixtures")
			}
			sink := newFakeSink()
			if err := read(t, c.source, dir, sink); err != nil {
				t.Fatal(err)
			}
			check := func(where, v string) {
				for id := range raw {
					if v != "" && strings.Contains(v, id) {
						t.Errorf("%s holds raw identifier %q", where, id)
					}
				}
			}
			for _, r := range sink.rows {
				for k, v := range r {
					check("emitted "+k, v)
				}
			}
			for _, r := range sink.rejects {
				for i, v := range r.Values {
					check(fmt.Sprintf("rejected line %d %s", r.Row, spec.Columns[i].Name), v)
				}
			}
		})
	}
}

// rawIdentifiers collects the identifier cells of a folder's files, as
// written and normalised.
func rawIdentifiers(t *testing.T, dir string, spec connectors.Spec) map[string]bool {
	t.Helper()
	ns := map[string]string{}
	for _, c := range spec.Columns {
		if c.Pseudonym != "" {
			ns[c.Name] = c.Pseudonym
		}
	}
	out := map[string]bool{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		var r io.Reader = f
		if strings.HasSuffix(e.Name(), ".gz") {
			if r, err = gzip.NewReader(f); err != nil {
				t.Fatal(err)
			}
		}
		cr := csv.NewReader(r)
		cr.FieldsPerRecord = -1
		recs, err := cr.ReadAll()
		f.Close()
		if err != nil || len(recs) == 0 {
			continue
		}
		for _, rec := range recs[1:] {
			for i, h := range recs[0] {
				h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\uFEFF")))
				if n, ok := ns[h]; ok && i < len(rec) && len(strings.TrimSpace(rec[i])) > 3 {
					out[strings.TrimSpace(rec[i])] = true
					out[connectors.NormaliseID(n, rec[i])] = true
				}
			}
		}
	}
	return out
}

// BenchmarkAttendance reads a generated 200,000-row attendance extract.
func BenchmarkAttendance(b *testing.B) {
	const rows = 200_000
	dir := b.TempDir()
	writeAttendance(b, filepath.Join(dir, "attendance_bench.csv"), rows)
	spec, _ := connectors.Lookup(connectors.AttendanceSessions)
	p, _ := connectors.NewPseudonymiser(testKey)
	mem := memory.NewGoAllocator()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		src, err := New(Config{Path: dir}, spec, p)
		if err != nil {
			b.Fatal(err)
		}
		sink := &countingSink{}
		if err := src.Read(context.Background(), mem, sink); err != nil {
			b.Fatal(err)
		}
		if sink.rows != rows {
			b.Fatalf("rows loaded: got %d; want %d", sink.rows, rows)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/time.Since(start).Seconds(), "rows/s")
}

// writeAttendance writes a realistic extract: 2,000 pupils, both sessions
// of consecutive school days, mostly present.
func writeAttendance(b *testing.B, path string, rows int) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	w.WriteString("school_urn,upn,session_date,session,attendance_code,minutes_late,mark_updated_at\n")
	const pupils = 2000
	upns := make([]string, pupils)
	for i := range upns {
		rest := fmt.Sprintf("801200%06d", i)
		c, _ := connectors.UPNCheckLetter(rest)
		upns[i] = string(c) + rest
	}
	codes := []string{"/", "/", "/", "/", "/", "/", "/", "/", "L", "I", "N", "C1"}
	day := time.Date(2025, 1, 6, 0, 0, 0, 0, time.UTC)
	n := 0
	for n < rows {
		for pu := 0; pu < pupils && n < rows; pu++ {
			for s, session := range []string{"AM", "PM"} {
				code := codes[(pu*7+n)%len(codes)]
				if s == 1 && code == "/" {
					code = `\`
				}
				late := ""
				if code == "L" {
					late = "7"
				}
				fmt.Fprintf(w, "%d,%s,%s,%s,%s,%s,%sT09:05:00Z\n", 100000+pu/500, upns[pu],
					day.Format(time.DateOnly), session, code, late, day.Format(time.DateOnly))
				n++
			}
		}
		day = day.AddDate(0, 0, 1)
		for day.Weekday() == time.Saturday || day.Weekday() == time.Sunday {
			day = day.AddDate(0, 0, 1)
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}

// countingSink counts what it is sent and keeps nothing.
type countingSink struct{ rows, rejects int64 }

func (s *countingSink) Begin(pipeline.FileRef) (bool, error)             { return true, nil }
func (s *countingSink) Emit(rec arrow.Record) error                      { s.rows += rec.NumRows(); return nil }
func (s *countingSink) Reject(pipeline.Rejected) error                   { s.rejects++; return nil }
func (s *countingSink) Reid(string, string, string) error                { return nil }
func (s *countingSink) End(pipeline.FileRef, int64) error                { return nil }
func (s *countingSink) Nulled(pipeline.NulledCell) error                 { return nil }
func (s *countingSink) Shape(pipeline.FileRef, pipeline.FileShape) error { return nil }

// memoSink records how many identifiers the source's pseudonymiser held
// as each file ended.
type memoSink struct {
	*fakeSink
	p    *connectors.Pseudonymiser
	seen int
	// kept is the most raw buffers the source's rules held for its next
	// file as a file ended (the file before's, by then).
	rules *connectors.Rules
	kept  int
}

func (s *memoSink) End(f pipeline.FileRef, rowsRead int64) error {
	s.seen = max(s.seen, s.p.Memoised())
	s.kept = max(s.kept, s.rules.KeptBuffers())
	return s.fakeSink.End(f, rowsRead)
}

// TestReadForgetsIdentifiers: the memo of raw identifiers to pseudonyms
// lives for one read only, so no UPN or NHS number stays in memory for the
// rest of the run.
func TestReadForgetsIdentifiers(t *testing.T) {
	spec, err := connectors.Lookup(connectors.Persons)
	if err != nil {
		t.Fatal(err)
	}
	p, err := connectors.NewPseudonymiser(testKey)
	if err != nil {
		t.Fatal(err)
	}
	src, err := New(Config{Path: filepath.Join("testdata", "persons")}, spec, p)
	if err != nil {
		t.Fatal(err)
	}
	sink := &memoSink{fakeSink: newFakeSink(), p: src.pseud, rules: src.rules}
	if err := src.Read(context.Background(), memory.NewGoAllocator(), sink); err != nil {
		t.Fatal(err)
	}
	if sink.seen == 0 {
		t.Fatal("the pseudonymiser memoised nothing during the read: the test proves nothing")
	}
	if n := src.pseud.Memoised(); n != 0 {
		t.Errorf("after the read the pseudonymiser still holds %d identifiers; want 0", n)
	}
	// The raw buffers hold the rows' text as received, identifiers and
	// all: kept from file to file, they go when the read ends.
	if sink.kept == 0 {
		t.Fatal("no raw buffer was kept between files: the test proves nothing")
	}
	if n := src.rules.KeptBuffers(); n != 0 {
		t.Errorf("after the read the source keeps %d raw buffers; want 0", n)
	}
}
