package csvdir

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/connectors"
	"earlyhelp/pipeline"
)

// The fuzz targets write the fuzzer's bytes as one delivered file and read
// it with the real Source. Whatever the bytes, Read must not panic, must
// release every Arrow buffer, and must either fail naming the file or
// account for every row it read; no identifier may leave it except as a
// pseudonym. Hand-written broken files (bare quotes, BOM, CRLF, cp1252,
// NUL, long lines) are in testdata/fuzz/<FuzzName>/.

func FuzzReadAttendance(f *testing.F) {
	addFileSeeds(f, "attendance/attendance_2023.csv", "attendance/attendance_2025.csv.gz",
		"bad_quote/attendance_2025.csv", "missing_column/attendance_2025.csv", "repeated_header/attendance_2025.csv")
	addLongLineSeeds(f, "school_urn,upn,session_date,session,attendance_code,minutes_late,mark_updated_at\n",
		"100002,E801200005003,2025-01-13,AM,/,,\n")
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, connectors.AttendanceSessions, "attendance_fuzz.csv", data)
	})
}

func FuzzReadPersons(f *testing.F) {
	addFileSeeds(f, "persons/persons_2025.csv")
	addLongLineSeeds(f, "person_id,upn,nhs_number,date_of_birth,sex,ethnicity\n",
		"P0001,B801200005001,943 476 5919,03/02/2015,F,WHITE_BRITISH\n")
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, connectors.Persons, "persons_fuzz.csv", data)
	})
}

// addFileSeeds adds fixtures from testdata, gunzipped.
func addFileSeeds(f *testing.F, names ...string) {
	f.Helper()
	for _, name := range names {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		if strings.HasSuffix(name, ".gz") {
			zr, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				f.Fatal(err)
			}
			if b, err = io.ReadAll(zr); err != nil {
				f.Fatal(err)
			}
		}
		f.Add(b)
	}
}

// addLongLineSeeds adds lines longer than the source's 256 KiB read buffers,
// too big to keep as corpus files.
func addLongLineSeeds(f *testing.F, header, row string) {
	long := strings.Repeat("x", 300<<10)
	f.Add([]byte(header + row + long + "\n" + row))
	f.Add([]byte(header + row + `"` + long + "\n" + long + `",1` + "\n" + row))
	f.Add([]byte(header + strings.Repeat(row, (300<<10)/len(row)) + "caf\xe9\n"))
}

// fuzzRead reads data as the one file of a source's folder and checks the
// books, the memory and the identifiers.
func fuzzRead(t *testing.T, source, name string, data []byte) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
		t.Fatal(err)
	}
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
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	sink := newBookSink(t, spec, p, int64(len(data)))
	sink.rawUPNs, sink.echoed = upnCells(data, spec)

	err = src.Read(context.Background(), mem, sink)
	mem.AssertSize(t, 0)

	if err != nil {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("Read error %q does not name the file %s", err, name)
		}
		if sink.ended != 0 {
			t.Errorf("Read failed (%v) after End", err)
		}
		return
	}
	if sink.begun != 1 || sink.ended != 1 {
		t.Fatalf("Read succeeded with %d Begin and %d End; want 1 of each", sink.begun, sink.ended)
	}
	if sink.rowsRead != sink.emitted+sink.rejected {
		t.Errorf("rows read %d; emitted %d + rejected %d = %d", sink.rowsRead, sink.emitted, sink.rejected, sink.emitted+sink.rejected)
	}
	if source == connectors.Persons && int64(sink.reids) != sink.emitted {
		t.Errorf("Reid called %d times for %d loaded persons", sink.reids, sink.emitted)
	}
}

// bookSink keeps the books of one read and checks each call as it comes.
type bookSink struct {
	t       *testing.T
	spec    connectors.Spec
	pseud   *connectors.Pseudonymiser
	size    int64
	idField map[int]bool // stored fields that hold pseudonyms
	// rawUPNs are the UPN-looking cells of the input's identifier columns;
	// echoed are the cells of its other columns, which may come back as
	// they were.
	rawUPNs, echoed map[string]bool

	begun, ended                int
	open                        bool
	emitted, rejected, rowsRead int64
	nulled                      int64
	reids                       int
	lastRow                     int64
}

var _ pipeline.Sink = (*bookSink)(nil)

func newBookSink(t *testing.T, spec connectors.Spec, p *connectors.Pseudonymiser, size int64) *bookSink {
	s := &bookSink{t: t, spec: spec, pseud: p, size: size, idField: map[int]bool{}}
	for _, c := range spec.Columns {
		if c.Pseudonym != "" {
			s.idField[spec.Schema.FieldIndices(c.Name)[0]] = true
		}
	}
	return s
}

func (s *bookSink) Begin(f pipeline.FileRef) (bool, error) {
	if s.open {
		s.t.Errorf("Begin(%s) inside another file", f.Name)
	}
	if len(f.SHA256) != 64 || f.Size != s.size {
		s.t.Errorf("Begin(%+v): want a SHA-256 and size %d", f, s.size)
	}
	s.begun++
	s.open = true
	return true, nil
}

func (s *bookSink) Emit(rec arrow.Record) error {
	if !s.open {
		s.t.Error("Emit outside a file")
	}
	if !rec.Schema().Equal(s.spec.Schema) {
		s.t.Fatalf("emitted schema %s; want %s", rec.Schema(), s.spec.Schema)
	}
	for j, col := range rec.Columns() {
		if col.Len() != int(rec.NumRows()) {
			s.t.Fatalf("column %s has %d rows in a record of %d", rec.ColumnName(j), col.Len(), rec.NumRows())
		}
		str, ok := col.(*array.String)
		if !ok {
			continue
		}
		for i := 0; i < str.Len(); i++ {
			if str.IsNull(i) {
				continue
			}
			v := str.Value(i)
			if s.idField[j] && !isPseudonym(v) {
				s.t.Errorf("emitted %s %q is not a pseudonym", rec.ColumnName(j), v)
			}
			s.checkNotRaw("emitted "+rec.ColumnName(j), v)
		}
	}
	s.emitted += rec.NumRows()
	return nil
}

func (s *bookSink) Reject(r pipeline.Rejected) error {
	if !s.open {
		s.t.Error("Reject outside a file")
	}
	if r.Row < 2 || r.Row <= s.lastRow {
		s.t.Errorf("rejected row %d after row %d; want increasing data lines from 2", r.Row, s.lastRow)
	}
	s.lastRow = r.Row
	if !knownReasons[r.Reason] {
		s.t.Errorf("rejected row %d: unknown reason %q", r.Row, r.Reason)
	}
	if len(r.Values) != len(s.spec.Columns) {
		s.t.Fatalf("rejected row %d has %d values; want %d", r.Row, len(r.Values), len(s.spec.Columns))
	}
	for i, v := range r.Values {
		c := s.spec.Columns[i]
		if c.Pseudonym != "" && v != "" && !isPseudonym(v) {
			s.t.Errorf("rejected row %d %s %q is not a pseudonym", r.Row, c.Name, v)
		}
		s.checkNotRaw(fmt.Sprintf("rejected row %d %s", r.Row, c.Name), v)
	}
	s.rejected++
	return nil
}

func (s *bookSink) Nulled(c pipeline.NulledCell) error {
	if !s.open {
		s.t.Error("Nulled outside a file")
	}
	if c.Row < 2 {
		s.t.Errorf("nulled cell at row %d; want a data line from 2", c.Row)
	}
	if !knownReasons[c.Reason] {
		s.t.Errorf("nulled cell at row %d: unknown reason %q", c.Row, c.Reason)
	}
	s.checkNotRaw(fmt.Sprintf("nulled cell at row %d %s", c.Row, c.Column), c.Value)
	s.nulled++
	return nil
}

func (s *bookSink) Shape(f pipeline.FileRef, _ pipeline.FileShape) error {
	if !s.open {
		s.t.Errorf("Shape(%s) outside a file", f.Name)
	}
	return nil
}

func (s *bookSink) checkNotRaw(where, v string) {
	if s.rawUPNs[v] && !s.echoed[v] {
		s.t.Errorf("%s holds the raw UPN %q", where, v)
	}
}

func (s *bookSink) Reid(ns, pseudonym, raw string) error {
	if ns != connectors.NSPerson && ns != connectors.NSHousehold {
		s.t.Errorf("Reid in namespace %q; only person and household ids are re-identified", ns)
	}
	if want := s.pseud.Pseudonym(ns, raw); pseudonym != want {
		s.t.Errorf("Reid(%q, %q, %q): the pseudonym of that id is %q", ns, pseudonym, raw, want)
	}
	s.reids++
	return nil
}

func (s *bookSink) End(f pipeline.FileRef, rowsRead int64) error {
	if !s.open {
		s.t.Errorf("End(%s) without Begin", f.Name)
	}
	s.open = false
	s.ended++
	s.rowsRead = rowsRead
	return nil
}

var knownReasons = map[string]bool{
	pipeline.ReasonMissingRequired: true, pipeline.ReasonBadDate: true, pipeline.ReasonBadCode: true,
	pipeline.ReasonBadUPNCheck: true, pipeline.ReasonBadNHSCheck: true, pipeline.ReasonDuplicate: true,
	pipeline.ReasonUnknownPerson: true, pipeline.ReasonOutOfRange: true, pipeline.ReasonBadNumber: true,
	pipeline.ReasonMalformedRow: true, connectors.ReasonTruncated: true,
}

// isPseudonym reports 20 lower-case hex digits.
func isPseudonym(v string) bool {
	if len(v) != 20 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// upnCells reads the input as the source would, up to its first CSV error,
// and returns the 13-character cells passing connectors.CheckUPN (as
// written, trimmed or normalised) found in identifier columns, and every
// cell of the other columns as written and trimmed. Only ASCII matters to
// a UPN, so the Windows-1252 decoding the source may apply changes neither.
func upnCells(data []byte, spec connectors.Spec) (ids, other map[string]bool) {
	ids, other = map[string]bool{}, map[string]bool{}
	isID := map[string]bool{}
	for _, c := range spec.Columns {
		if c.Pseudonym != "" {
			isID[c.Name] = true
		}
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	var header []string
	for {
		rec, err := cr.Read()
		if err != nil {
			return ids, other
		}
		if blank([]byte(strings.Join(rec, ""))) {
			continue
		}
		if header == nil {
			for _, h := range rec {
				header = append(header, strings.ToLower(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(h), "\uFEFF"))))
			}
			continue
		}
		for j, cell := range rec {
			if j >= len(header) {
				break
			}
			if !isID[header[j]] {
				other[cell], other[strings.TrimSpace(cell)] = true, true
				continue
			}
			for _, v := range []string{cell, strings.TrimSpace(cell), connectors.NormaliseUPN(cell)} {
				if len(v) == 13 && connectors.CheckUPN(v) == nil {
					ids[v] = true
				}
			}
		}
	}
}
