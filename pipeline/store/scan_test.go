package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/pipeline"
)

// day is a yyyy-mm-dd date as date32 days.
func day(s string) arrow.Date32 {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return arrow.Date32FromTime(t)
}

// datedRecord is one row per id, the id's session_date from dates ("" is
// null), and an all-null date column, which has no span.
func datedRecord(mem memory.Allocator, ids []string, dates []string) arrow.Record {
	b := array.NewRecordBuilder(mem, arrow.NewSchema([]arrow.Field{
		{Name: "person_id", Type: arrow.BinaryTypes.String},
		{Name: "session_date", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{Name: "closed_date", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
	}, nil))
	defer b.Release()
	for i, id := range ids {
		b.Field(0).(*array.StringBuilder).Append(id)
		if dates[i] == "" {
			b.Field(1).AppendNull()
		} else {
			b.Field(1).(*array.Date32Builder).Append(day(dates[i]))
		}
		b.Field(2).AppendNull()
	}
	return b.NewRecord()
}

// deliver commits one delivery of attendance_sessions holding recs (each
// a list of id=date rows); it returns the delivery's file.
func deliver(t testing.TB, s *Store, mem memory.Allocator, name string, recs ...[]string) string {
	t.Helper()
	d, err := s.NewDelivery("attendance_sessions", pipeline.FileRef{Name: name, SHA256: strings.Repeat(name[:1], 16)})
	if err != nil {
		t.Fatal(err)
	}
	rows := 0
	for _, r := range recs {
		var ids, dates []string
		for _, cell := range r {
			id, date, _ := strings.Cut(cell, "=")
			ids, dates = append(ids, id), append(dates, date)
		}
		rec := datedRecord(mem, ids, dates)
		err := d.Write(rec)
		rec.Release()
		if err != nil {
			t.Fatal(err)
		}
		rows += len(r)
	}
	if err := d.Commit(int64(rows), int64(rows)); err != nil {
		t.Fatal(err)
	}
	if err := s.Settle(); err != nil {
		t.Fatal(err)
	}
	last := s.state.Deliveries[len(s.state.Deliveries)-1]
	return last.File
}

func scanSince(s *Store, mem memory.Allocator, column string, since string) ([]string, error) {
	var got []string
	err := s.ScanSince(context.Background(), mem, "attendance_sessions", column, int32(day(since)), func(rec arrow.Record) error {
		c := rec.Column(0).(*array.String)
		for i := 0; i < c.Len(); i++ {
			got = append(got, c.Value(i))
		}
		return nil
	})
	return got, err
}

// threeTerms opens a store in a new folder and stores an autumn term, a
// spring term delivered in two records with a null date, and a later
// delivery correcting an autumn date: it is judged by its own date, not by
// the spring term before it. Every Arrow buffer must be released by the
// test's end.
func threeTerms(t *testing.T) (s *Store, dir string, mem memory.Allocator, autumn string) {
	t.Helper()
	checked := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { checked.AssertSize(t, 0) })
	dir = t.TempDir()
	s, err := Open(dir, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	autumn = deliver(t, s, checked, "a_autumn.csv", []string{"a1=2024-09-02", "a2=2024-12-20"})
	deliver(t, s, checked, "b_spring.csv", []string{"s1=2025-01-06", "s2="}, []string{"s3=2025-04-04"})
	deliver(t, s, checked, "c_amend.csv", []string{"c1=2024-10-01"})
	return s, dir, checked, autumn
}

// TestScanSinceSkipsByDeliveryMax: a delivery is left out exactly when its
// own latest date is before since; what is read comes in load order with
// every row, older ones too.
func TestScanSinceSkipsByDeliveryMax(t *testing.T) {
	s, _, mem, _ := threeTerms(t)
	all := []string{"a1", "a2", "s1", "s2", "s3", "c1"}
	tests := []struct {
		name, column, since string
		want                []string
	}{
		{"before everything", "session_date", "2024-01-01", all},
		{"on the correction's day", "session_date", "2024-10-01", all},
		{"the day after the correction", "session_date", "2024-10-02", []string{"a1", "a2", "s1", "s2", "s3"}},
		{"on the autumn term's last day", "session_date", "2024-12-20", []string{"a1", "a2", "s1", "s2", "s3"}},
		{"the day after the autumn term", "session_date", "2024-12-21", []string{"s1", "s2", "s3"}},
		{"on the spring term's last day", "session_date", "2025-04-04", []string{"s1", "s2", "s3"}},
		{"after everything", "session_date", "2025-04-05", nil},
		{"a column that is always null has no span", "closed_date", "2030-01-01", all},
		{"a column the deliveries lack", "mark_date", "2030-01-01", all},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := scanSince(s, mem, tc.column, tc.since)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("ScanSince(%s, %s) = %v; want %v", tc.column, tc.since, got, tc.want)
			}
		})
	}
}

// TestScanSinceDoesNotOpenSkipped: with the autumn term's file damaged on
// disk, Scan fails, and so does ScanSince from a day the autumn term
// reaches, but ScanSince from after it succeeds: it never opened the file.
func TestScanSinceDoesNotOpenSkipped(t *testing.T) {
	s, _, mem, autumn := threeTerms(t)
	if err := os.WriteFile(s.path(autumn), []byte("not an Arrow file"), 0o640); err != nil {
		t.Fatal(err)
	}
	err := s.Scan(context.Background(), mem, "attendance_sessions", func(arrow.Record) error { return nil })
	if err == nil || !strings.Contains(err.Error(), autumn) {
		t.Errorf("Scan over a damaged file: error %v; want one naming %s", err, autumn)
	}
	if _, err := scanSince(s, mem, "session_date", "2024-12-20"); err == nil || !strings.Contains(err.Error(), autumn) {
		t.Errorf("ScanSince from the damaged delivery's last day: error %v; want one naming %s", err, autumn)
	}
	got, err := scanSince(s, mem, "session_date", "2024-12-21")
	if err != nil {
		t.Fatalf("ScanSince past the damaged delivery opened it: %v", err)
	}
	if want := []string{"s1", "s2", "s3"}; !slices.Equal(got, want) {
		t.Errorf("ScanSince = %v; want %v", got, want)
	}
}

// TestDateSpansInState: state.json records each delivery's span of every
// date32 column that has a non-null value, as yyyy-mm-dd, and they survive
// a reopen; an empty delivery records none.
func TestDateSpansInState(t *testing.T) {
	s, dir, mem, _ := threeTerms(t)
	empty, err := s.NewDelivery("attendance_sessions", pipeline.FileRef{Name: "d_empty.csv", SHA256: strings.Repeat("d", 16)})
	if err != nil {
		t.Fatal(err)
	}
	if err := empty.Commit(0, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Settle(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "store", stateFile))
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Deliveries []struct {
			Name  string                     `json:"name"`
			Dates map[string]json.RawMessage `json:"dates"`
		} `json:"deliveries"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"a_autumn.csv": `session_date={"min":"2024-09-02","max":"2024-12-20"}`,
		"b_spring.csv": `session_date={"min":"2025-01-06","max":"2025-04-04"}`,
		"c_amend.csv":  `session_date={"min":"2024-10-01","max":"2024-10-01"}`,
		"d_empty.csv":  ``,
	}
	if len(raw.Deliveries) != len(want) {
		t.Fatalf("state.json lists %d deliveries; want %d", len(raw.Deliveries), len(want))
	}
	for _, d := range raw.Deliveries {
		var got []string
		for col, span := range d.Dates {
			var c bytes.Buffer
			if err := json.Compact(&c, span); err != nil {
				t.Fatal(err)
			}
			got = append(got, col+"="+c.String())
		}
		slices.Sort(got)
		if g := strings.Join(got, " "); g != want[d.Name] {
			t.Errorf("%s: dates %s; want %s", d.Name, g, want[d.Name])
		}
	}
	s2, err := Open(dir, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := scanSince(s2, mem, "session_date", "2024-12-21"); err != nil || !slices.Equal(got, []string{"s1", "s2", "s3"}) {
		t.Errorf("ScanSince after a reopen = %v, %v; want [s1 s2 s3]", got, err)
	}
}

// TestScanSinceOldState: a state file written before date spans were
// recorded loads, and ScanSince reads every delivery it lists.
func TestScanSinceOldState(t *testing.T) {
	_, dir, mem, _ := threeTerms(t)
	// Rewrite the state as the store wrote it before: no "dates" at all.
	path := filepath.Join(dir, "store", stateFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var st map[string][]map[string]any
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	for _, d := range st["deliveries"] {
		if _, ok := d["dates"]; !ok {
			t.Fatalf("delivery %v has no dates to remove", d["name"])
		}
		delete(d, "dates")
	}
	if b, err = json.Marshal(st); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o640); err != nil {
		t.Fatal(err)
	}
	old, err := Open(dir, fixedNow)
	if err != nil {
		t.Fatalf("Open of a state file without date spans: %v", err)
	}
	got, err := scanSince(old, mem, "session_date", "2030-01-01")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a1", "a2", "s1", "s2", "s3", "c1"}; !slices.Equal(got, want) {
		t.Errorf("ScanSince over old state = %v; want every delivery, %v", got, want)
	}
}

// TestBadDateSpan: a span state.json cannot mean fails Open, naming the
// file, as any other damage to it does.
func TestBadDateSpan(t *testing.T) {
	tests := []struct{ name, span string }{
		{"not a date", `{"min": "2025-13-01", "max": "2025-12-01"}`},
		{"ends before it starts", `{"min": "2025-02-01", "max": "2025-01-01"}`},
		{"a number", `{"min": 20250101, "max": "2025-01-01"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			os.MkdirAll(filepath.Join(dir, "store"), 0o750)
			state := fmt.Sprintf(`{"deliveries": [{"source": "attendance_sessions", "name": "a.csv", "sha256": "aaaaaaaaaaaa",
				"file": "attendance_sessions/000001-aaaaaaaaaaaa.arrow", "rows_read": 1, "rows_loaded": 1,
				"loaded_at": "2026-07-20T06:00:00Z", "dates": {"session_date": %s}}]}`, tc.span)
			if err := os.WriteFile(filepath.Join(dir, "store", stateFile), []byte(state), 0o640); err != nil {
				t.Fatal(err)
			}
			if _, err := Open(dir, fixedNow); err == nil || !strings.Contains(err.Error(), stateFile) {
				t.Errorf("Open: error %v; want one naming %s", err, stateFile)
			}
		})
	}
}

// TestDateSpansAdd: spans widen over records, ignore nulls and take no
// column that is all null or not a date.
func TestDateSpansAdd(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	tests := []struct {
		name string
		recs [][]string // session_date per row, "" null
		want string     // min..max of session_date, "" none
	}{
		{"one record", [][]string{{"2025-03-01", "2025-01-01", "2025-02-01"}}, "2025-01-01..2025-03-01"},
		{"nulls ignored", [][]string{{"", "2025-02-01", "", "2025-01-15"}}, "2025-01-15..2025-02-01"},
		{"widened by a later record", [][]string{{"2025-02-01"}, {"2024-12-31"}, {"2025-06-30", ""}}, "2024-12-31..2025-06-30"},
		{"all null", [][]string{{"", ""}, {""}}, ""},
		{"no rows", [][]string{{}}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds := dateSpans{}
			for _, dates := range tc.recs {
				ids := make([]string, len(dates))
				rec := datedRecord(mem, ids, dates)
				ds.add(rec)
				rec.Release()
			}
			got := ""
			rec := ds.recorded()
			if span, ok := rec["session_date"]; ok {
				got = span.Min.FormattedString() + ".." + span.Max.FormattedString()
			}
			if got != tc.want {
				t.Errorf("session_date span %q; want %q", got, tc.want)
			}
			if _, ok := rec["closed_date"]; ok {
				t.Error("an all-null column has a span")
			}
			if _, ok := rec["person_id"]; ok {
				t.Error("a string column has a span")
			}
		})
	}
}

// TestScanSinceAfter: Deliveries names what ScanSince reads, in order, by
// the stored file's checksum, and ScanSinceAfter reads the same without
// the first ones; a store with fewer than asked to skip is an error, and
// one whose state predates checksums cannot name its deliveries.
func TestScanSinceAfter(t *testing.T) {
	s, _, mem, _ := threeTerms(t)
	since := int32(day("2024-10-02"))
	names, ok := s.Deliveries("attendance_sessions", "session_date", since)
	if !ok || len(names) != 2 || names[0] == "" || names[0] == names[1] {
		t.Fatalf("Deliveries = %v, %t; want the autumn and spring terms' two checksums", names, ok)
	}
	for i, d := range s.state.Deliveries[:2] {
		if names[i] != d.FileSHA256 {
			t.Errorf("name %d = %s; want the stored file's checksum %s", i, names[i], d.FileSHA256)
		}
	}
	read := func(skip int) ([]string, error) {
		var got []string
		err := s.ScanSinceAfter(context.Background(), mem, "attendance_sessions", "session_date", since, skip, func(rec arrow.Record) error {
			c := rec.Column(0).(*array.String)
			for i := 0; i < c.Len(); i++ {
				got = append(got, c.Value(i))
			}
			return nil
		})
		return got, err
	}
	for skip, want := range [][]string{{"a1", "a2", "s1", "s2", "s3"}, {"s1", "s2", "s3"}, nil} {
		got, err := read(skip)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("ScanSinceAfter skipping %d = %v, %v; want %v", skip, got, err, want)
		}
	}
	if _, err := read(3); err == nil {
		t.Error("ScanSinceAfter skipping more than held succeeded; want an error")
	}
	s.state.Deliveries[1].FileSHA256 = ""
	if _, ok := s.Deliveries("attendance_sessions", "session_date", since); ok {
		t.Error("Deliveries named a delivery without a checksum")
	}
}

// TestScanKeepsRecordOrder: records decoded on several goroutines still
// reach fn in load order, file by file and record by record; an error from
// fn stops the scan there, with its error, and every buffer decoded ahead
// is released (the checked allocator).
func TestScanKeepsRecordOrder(t *testing.T) {
	checked := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer checked.AssertSize(t, 0)
	s, err := Open(t.TempDir(), fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	recs := func(prefix string, n int) [][]string {
		var out [][]string
		for i := range n {
			id := fmt.Sprintf("%s%d", prefix, i)
			want = append(want, id)
			out = append(out, []string{id + "=2025-01-06"})
		}
		return out
	}
	deliver(t, s, checked, "a.csv", recs("a", 9)...)
	deliver(t, s, checked, "b.csv", recs("b", 1)...)
	deliver(t, s, checked, "c.csv", recs("c", 6)...)
	var got []string
	var records int
	stop := errors.New("stop here")
	for _, stopAt := range []int{-1, 4, 12} {
		got, records = nil, 0
		err := s.Scan(context.Background(), checked, "attendance_sessions", func(rec arrow.Record) error {
			if records == stopAt {
				return stop
			}
			records++
			c := rec.Column(0).(*array.String)
			for i := 0; i < c.Len(); i++ {
				got = append(got, c.Value(i))
			}
			return nil
		})
		switch {
		case stopAt < 0 && err != nil:
			t.Fatal(err)
		case stopAt >= 0 && !errors.Is(err, stop):
			t.Fatalf("fn's error at record %d: scan gave %v", stopAt, err)
		}
		n := len(want)
		if stopAt >= 0 {
			n = stopAt
		}
		if !slices.Equal(got, want[:n]) {
			t.Errorf("stopping at %d: rows %v; want %v", stopAt, got, want[:n])
		}
	}
}

// TestSpan: a source's span runs from its deliveries' earliest date to
// their latest, nulls aside; a column no delivery has a date in, or a
// delivery whose span was not recorded (older state), has none.
func TestSpan(t *testing.T) {
	s, _, _, _ := threeTerms(t)
	first, last, ok := s.Span("attendance_sessions", "session_date")
	if !ok || first != int32(day("2024-09-02")) || last != int32(day("2025-04-04")) {
		t.Errorf("Span = %v to %v, %t; want 2024-09-02 to 2025-04-04", arrow.Date32(first), arrow.Date32(last), ok)
	}
	if _, _, ok := s.Span("attendance_sessions", "closed_date"); ok {
		t.Error("Span of an all-null column: ok")
	}
	if _, _, ok := s.Span("hv_contacts", "session_date"); ok {
		t.Error("Span of a source with no delivery: ok")
	}
	delete(s.state.Deliveries[1].Dates, "session_date")
	if _, _, ok := s.Span("attendance_sessions", "session_date"); ok {
		t.Error("Span with a delivery whose span is not recorded: ok")
	}
}
