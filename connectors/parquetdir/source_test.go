package parquetdir_test

// The tests compare parquetdir with csvdir over the same rows: the two must
// load the same values under the same pseudonyms and quarantine the same
// rows for the same reasons. csvdir is imported by these tests only, as the
// reference.

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"
	"golang.org/x/text/encoding/charmap"

	"earlyhelp/connectors"
	"earlyhelp/connectors/csvdir"
	"earlyhelp/connectors/parquetdir"
	"earlyhelp/pipeline"
)

var testKey = []byte("0123456789abcdef")

// recSink records rows as text, rejects and re-identifications.
type recSink struct {
	files   []string
	rows    []string
	rejects []pipeline.Rejected
	reids   []string
	nulled  []pipeline.NulledCell
	read    int64
}

func (s *recSink) Begin(f pipeline.FileRef) (bool, error) {
	if len(f.SHA256) != 64 || f.Size <= 0 {
		return false, fmt.Errorf("bad file ref %+v", f)
	}
	s.files = append(s.files, f.Name)
	return true, nil
}

func (s *recSink) Emit(rec arrow.Record) error {
	for i := 0; i < int(rec.NumRows()); i++ {
		var b strings.Builder
		for j, c := range rec.Columns() {
			fmt.Fprintf(&b, "%s=%s;", rec.ColumnName(j), c.ValueStr(i))
		}
		s.rows = append(s.rows, b.String())
	}
	return nil
}

func (s *recSink) Reject(r pipeline.Rejected) error { s.rejects = append(s.rejects, r); return nil }
func (s *recSink) Reid(ns, p, raw string) error {
	s.reids = append(s.reids, ns+"/"+p+"/"+raw)
	return nil
}
func (s *recSink) End(_ pipeline.FileRef, rows int64) error         { s.read += rows; return nil }
func (s *recSink) Nulled(c pipeline.NulledCell) error               { s.nulled = append(s.nulled, c); return nil }
func (s *recSink) Shape(pipeline.FileRef, pipeline.FileShape) error { return nil }

type source interface {
	Read(ctx context.Context, mem memory.Allocator, sink pipeline.Sink) error
}

func run(t *testing.T, name string, newSrc func(spec connectors.Spec, p *connectors.Pseudonymiser) (source, error)) *recSink {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	spec, err := connectors.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	p, err := connectors.NewPseudonymiser(testKey)
	if err != nil {
		t.Fatal(err)
	}
	src, err := newSrc(spec, p)
	if err != nil {
		t.Fatal(err)
	}
	sink := &recSink{}
	if err := src.Read(context.Background(), mem, sink); err != nil {
		t.Fatal(err)
	}
	return sink
}

func readCSV(t *testing.T, name, dir string, balance string) *recSink {
	return run(t, name, func(spec connectors.Spec, p *connectors.Pseudonymiser) (source, error) {
		return csvdir.New(csvdir.Config{Path: dir, BalanceSign: balance}, spec, p)
	})
}

func readParquet(t *testing.T, name, dir string, balance string) *recSink {
	return run(t, name, func(spec connectors.Spec, p *connectors.Pseudonymiser) (source, error) {
		return parquetdir.New(parquetdir.Config{Path: dir, BalanceSign: balance}, spec, p)
	})
}

// TestSameAsCSV converts csvdir's fixtures to Parquet (every column a
// string, as a CSV cell) and loads both.
func TestSameAsCSV(t *testing.T) {
	tests := []struct{ source, dir string }{
		{connectors.Persons, "persons"},
		{connectors.Households, "households"},
		{connectors.Deprivation, "deprivation"},
		{connectors.AttendanceSessions, "attendance"},
		{connectors.CSCReferrals, "csc_referrals"},
		{connectors.HVContacts, "hv_contacts"},
		{connectors.RentAccounts, "rent_accounts"},
	}
	for _, tc := range tests {
		t.Run(tc.source, func(t *testing.T) {
			csvDir := filepath.Join("..", "csvdir", "testdata", tc.dir)
			pqDir := t.TempDir()
			dropped := convertFolder(t, tc.source, csvDir, pqDir)
			want := readCSV(t, tc.source, csvDir, "")
			got := readParquet(t, tc.source, pqDir, "")
			compare(t, got, want, dropped)
		})
	}
}

func compare(t *testing.T, got, want *recSink, dropped int) {
	t.Helper()
	if len(got.rows) == 0 {
		t.Fatal("no rows loaded")
	}
	if !reflect.DeepEqual(got.rows, want.rows) {
		t.Errorf("rows differ:\n got %q\nwant %q", got.rows, want.rows)
	}
	if !reflect.DeepEqual(got.reids, want.reids) {
		t.Errorf("reids: got %q; want %q", got.reids, want.reids)
	}
	if got.read+int64(dropped) != want.read {
		t.Errorf("rows read: got %d + %d dropped; want %d", got.read, dropped, want.read)
	}
	// Rows of the wrong width cannot be written to Parquet: they are counted
	// apart. The other rejects must match one for one.
	key := func(rs []pipeline.Rejected) (out []string, malformed int) {
		for _, r := range rs {
			if r.Reason == pipeline.ReasonMalformedRow {
				malformed++
				continue
			}
			out = append(out, fmt.Sprintf("%s %s %q", r.Reason, r.Column, r.Values))
		}
		return out, malformed
	}
	g, gm := key(got.rejects)
	w, wm := key(want.rejects)
	if !reflect.DeepEqual(g, w) {
		t.Errorf("rejects:\n got %q\nwant %q", g, w)
	}
	if gm+dropped != wm {
		t.Errorf("malformed rows: got %d + %d dropped; want %d", gm, dropped, wm)
	}
	t.Logf("%d rows loaded, %d rejected (%d malformed), %d dropped in conversion", len(got.rows), len(got.rejects), gm, dropped)
}

// convertFolder writes each CSV fixture of a source as a Parquet file of
// string columns and returns how many rows of the wrong width it dropped.
func convertFolder(t *testing.T, source, from, to string) int {
	t.Helper()
	spec, _ := connectors.Lookup(source)
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	dropped := 0
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".gz")
		if ok, _ := filepath.Match(spec.Pattern, name); !ok {
			continue
		}
		header, rows, d := decodeCSV(t, filepath.Join(from, e.Name()))
		dropped += d
		fields := make([]arrow.Field, len(header))
		for i, h := range header {
			fields[i] = arrow.Field{Name: h, Type: arrow.BinaryTypes.String, Nullable: true}
		}
		sc := arrow.NewSchema(fields, nil)
		b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
		for _, r := range rows {
			for i, c := range r {
				if c == "" {
					b.Field(i).AppendNull()
				} else {
					b.Field(i).(*array.StringBuilder).Append(c)
				}
			}
		}
		rec := b.NewRecord()
		b.Release()
		writeParquet(t, filepath.Join(to, strings.TrimSuffix(name, ".csv")+".parquet"), rec)
		rec.Release()
	}
	return dropped
}

// decodeCSV reads a fixture as csvdir would: gunzipped, without a BOM,
// Windows-1252 when not UTF-8, blank lines skipped.
func decodeCSV(t *testing.T, path string) (header []string, rows [][]string, dropped int) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if raw, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	raw = bytes.TrimPrefix(raw, []byte("\xEF\xBB\xBF"))
	if !utf8.Valid(raw) {
		if raw, err = charmap.Windows1252.NewDecoder().Bytes(raw); err != nil {
			t.Fatal(err)
		}
	}
	cr := csv.NewReader(bytes.NewReader(raw))
	cr.FieldsPerRecord = -1
	recs, err := cr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if strings.TrimSpace(strings.Join(r, "")) == "" {
			continue
		}
		switch {
		case header == nil:
			header = r
		case len(r) != len(header):
			dropped++
		default:
			rows = append(rows, r)
		}
	}
	return header, rows, dropped
}

func writeParquet(t *testing.T, path string, rec arrow.Record) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	// Small row groups and batches: the reader must cross their boundaries.
	props := parquet.NewWriterProperties(parquet.WithMaxRowGroupLength(7))
	w, err := pqarrow.NewFileWriter(rec.Schema(), f, props, pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestTypedColumns loads Parquet columns of their natural types (int,
// date, timestamp, bool, float) and compares them with the same rows as CSV
// text, with the rent balance sign flipped on both.
func TestTypedColumns(t *testing.T) {
	mem := memory.DefaultAllocator
	day := func(s string) arrow.Date32 {
		d, _ := time.Parse(time.DateOnly, s)
		return arrow.Date32FromTime(d)
	}

	att := arrow.NewSchema([]arrow.Field{
		{Name: "School_URN", Type: arrow.PrimitiveTypes.Int32},
		{Name: "upn", Type: arrow.BinaryTypes.String},
		{Name: "session_date", Type: arrow.FixedWidthTypes.Date32},
		{Name: "session", Type: arrow.BinaryTypes.String},
		{Name: "attendance_code", Type: arrow.BinaryTypes.String},
		{Name: "minutes_late", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "mark_updated_at", Type: &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}, Nullable: true},
		{Name: "extra", Type: arrow.ListOf(arrow.PrimitiveTypes.Int32), Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(mem, att)
	upn := "B801200005001"
	csvText := "school_urn,upn,session_date,session,attendance_code,minutes_late,mark_updated_at\n"
	for i, r := range []struct {
		urn        int32
		date, code string
		late       int64
	}{{100001, "2025-01-06", "/", -1}, {100001, "2025-01-07", "L", 7}, {99, "2025-01-08", "/", -1}, {100001, "2025-01-11", "/", -1}, {100001, "2025-01-09", "ZZ", -1}, {100001, "2025-01-10", "N", 500}} {
		b.Field(0).(*array.Int32Builder).Append(r.urn)
		b.Field(1).(*array.StringBuilder).Append(upn)
		b.Field(2).(*array.Date32Builder).Append(day(r.date))
		b.Field(3).(*array.StringBuilder).Append("AM")
		b.Field(4).(*array.StringBuilder).Append(r.code)
		late := ""
		if r.late < 0 {
			b.Field(5).AppendNull()
		} else {
			b.Field(5).(*array.Int64Builder).Append(r.late)
			late = fmt.Sprint(r.late)
		}
		ts := time.Date(2025, 1, 6+i, 9, 5, 0, 0, time.UTC)
		b.Field(6).(*array.TimestampBuilder).Append(arrow.Timestamp(ts.UnixMilli()))
		b.Field(7).AppendNull()
		csvText += fmt.Sprintf("%d,%s,%s,AM,%s,%s,%s\n", r.urn, upn, r.date, r.code, late, ts.Format(time.RFC3339))
	}
	checkTyped(t, connectors.AttendanceSessions, "attendance_x", b.NewRecord(), csvText, "")
	b.Release()

	rent := arrow.NewSchema([]arrow.Field{
		{Name: "tenancy_ref", Type: arrow.BinaryTypes.String},
		{Name: "lead_person_id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "snapshot_date", Type: arrow.FixedWidthTypes.Date32},
		{Name: "balance", Type: arrow.PrimitiveTypes.Float64},
		{Name: "weekly_rent", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
	}, nil)
	b = array.NewRecordBuilder(mem, rent)
	csvText = "tenancy_ref,lead_person_id,snapshot_date,balance,weekly_rent\n"
	for i, bal := range []float64{-120.5, 0, 35.25, -1234.56} {
		b.Field(0).(*array.StringBuilder).Append(fmt.Sprintf("T%03d", i))
		b.Field(1).(*array.Int64Builder).Append(int64(1000 + i))
		b.Field(2).(*array.Date32Builder).Append(day("2025-01-06"))
		b.Field(3).(*array.Float64Builder).Append(bal)
		b.Field(4).(*array.Float32Builder).Append(105.5)
		csvText += fmt.Sprintf("T%03d,%d,2025-01-06,%v,105.50\n", i, 1000+i, bal)
	}
	checkTyped(t, connectors.RentAccounts, "rent_accounts_x", b.NewRecord(), csvText, connectors.BalanceNegativeArrears)
	b.Release()
}

func checkTyped(t *testing.T, source, base string, rec arrow.Record, csvText, balance string) {
	t.Helper()
	defer rec.Release()
	pqDir, csvDir := t.TempDir(), t.TempDir()
	writeParquet(t, filepath.Join(pqDir, base+".parquet"), rec)
	if err := os.WriteFile(filepath.Join(csvDir, base+".csv"), []byte(csvText), 0o600); err != nil {
		t.Fatal(err)
	}
	want := readCSV(t, source, csvDir, balance)
	got := readParquet(t, source, pqDir, balance)
	if len(want.rejects) == 0 && source == connectors.AttendanceSessions {
		t.Error("the attendance rows should include rejects")
	}
	compare(t, got, want, 0)
	for i := range got.rejects {
		if g, w := got.rejects[i].Row, want.rejects[i].Row; g != w {
			t.Errorf("reject %d row: got %d; want %d", i, g, w)
		}
	}
}

// beginFails is a sink whose Begin fails, as the store's does when it
// cannot write.
type beginFails struct{ recSink }

func (s *beginFails) Begin(pipeline.FileRef) (bool, error) {
	return false, fmt.Errorf("store is read-only")
}

// TestReadErrorsNameTheSourceOnce: a folder connector's Read errors name
// the file or folder and leave the source to Read's caller, so the message
// an operator reads names it once. The caller's prefix is the one the
// pipeline's ingest and the dry run add (fmt.Errorf("%s: %w", name, err));
// before, the connectors added it too ("attendance_sessions:
// attendance_sessions: file …").
func TestReadErrorsNameTheSourceOnce(t *testing.T) {
	const sourceName = connectors.AttendanceSessions
	csvHeader := "school_urn,upn,session_date,session,attendance_code\n"
	tests := []struct {
		name    string
		kind    string // csvdir or parquetdir
		file    string // "" for no folder at all
		content string
		sink    pipeline.Sink
		want    string // what the error must also say
	}{
		{"csv: no folder", "csvdir", "", "", &recSink{}, "source folder"},
		{"parquet: no folder", "parquetdir", "", "", &recSink{}, "source folder"},
		{"csv: unterminated quote", "csvdir", "attendance_x.csv",
			csvHeader + "100002,E801200005003,2025-01-13,AM,\"/\n", &recSink{}, "file attendance_x.csv: line 2"},
		{"csv: missing required column", "csvdir", "attendance_x.csv",
			"school_urn,session_date,session,attendance_code\n", &recSink{}, `file attendance_x.csv: missing required column "upn"`},
		{"parquet: not parquet", "parquetdir", "attendance_x.parquet", "PAR1 but no more", &recSink{}, "file attendance_x.parquet: "},
		{"csv: sink refuses the file", "csvdir", "attendance_x.csv", csvHeader, &beginFails{}, "file attendance_x.csv: store is read-only"},
		{"parquet: sink refuses the file", "parquetdir", "attendance_x.parquet", "PAR1", &beginFails{}, "file attendance_x.parquet: store is read-only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "in")
			if tt.file != "" {
				if err := os.Mkdir(dir, 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, tt.file), []byte(tt.content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			spec, err := connectors.Lookup(sourceName)
			if err != nil {
				t.Fatal(err)
			}
			p, err := connectors.NewPseudonymiser(testKey)
			if err != nil {
				t.Fatal(err)
			}
			var src source
			if tt.kind == "csvdir" {
				src, err = csvdir.New(csvdir.Config{Path: dir}, spec, p)
			} else {
				src, err = parquetdir.New(parquetdir.Config{Path: dir}, spec, p)
			}
			if err != nil {
				t.Fatal(err)
			}
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			err = src.Read(context.Background(), mem, tt.sink)
			if err == nil {
				t.Fatal("Read: got nil; want an error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q; want it to say %q", err, tt.want)
			}
			reported := fmt.Errorf("%s: %w", sourceName, err).Error()
			if n := strings.Count(reported, sourceName); n != 1 {
				t.Errorf("reported as %q: the source is named %d times; want once", reported, n)
			}
		})
	}
}
