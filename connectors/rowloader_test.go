package connectors

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/pipeline"
)

// recordingSink keeps what a row loader gives it, in order, as text.
type recordingSink struct {
	rows    []string // one line per emitted row: the record's values, "|"-separated
	records int
	rejects []pipeline.Rejected
	reids   []string
	nulled  []pipeline.NulledCell
	failAt  int // Emit fails at this record (1-based); 0: never
}

var errSinkFull = errors.New("sink full")

func (s *recordingSink) Begin(pipeline.FileRef) (bool, error) { return true, nil }
func (s *recordingSink) End(pipeline.FileRef, int64) error    { return nil }

func (s *recordingSink) Emit(rec arrow.Record) error {
	s.records++
	if s.records == s.failAt {
		return errSinkFull
	}
	for i := 0; i < int(rec.NumRows()); i++ {
		vals := make([]string, rec.NumCols())
		for c := range vals {
			vals[c] = StoredText(rec.Schema().Field(c), rec.Column(c), i)
		}
		s.rows = append(s.rows, strings.Join(vals, "|"))
	}
	return nil
}

func (s *recordingSink) Reject(r pipeline.Rejected) error {
	s.rejects = append(s.rejects, r)
	return nil
}

func (s *recordingSink) Nulled(c pipeline.NulledCell) error {
	s.nulled = append(s.nulled, c)
	return nil
}

func (s *recordingSink) Shape(pipeline.FileRef, pipeline.FileShape) error { return nil }

func (s *recordingSink) Reid(ns, pseudonym, raw string) error {
	s.reids = append(s.reids, ns+"|"+pseudonym+"|"+raw)
	return nil
}

// attendanceRows makes n attendance rows, about one in seven of them
// invalid in one of the ways councils' extracts are, and a second header
// part-way.
func attendanceRows(t *testing.T, n int) [][]string {
	t.Helper()
	var rows [][]string
	for i := range n {
		rest := fmt.Sprintf("%03d2%03d%05d", 800+i%7, 100+i%50, i/2%99999)
		letter, ok := UPNCheckLetter(rest)
		if !ok {
			t.Fatalf("no check letter for %s", rest)
		}
		upn := string(letter) + rest
		day := fmt.Sprintf("2025-%02d-%02d", 9+i/20000%4, 1+i/2%28)
		row := []string{strconv.Itoa(100000 + i%40), upn, day, [2]string{"AM", "PM"}[i%2], [4]string{"/", "\\", "L", "N"}[i%4], "", ""}
		if row[4] == "L" {
			row[5] = strconv.Itoa(i % 30)
		}
		switch i % 7 {
		case 3:
			switch i % 5 {
			case 0:
				row[1] = "Z" + rest // a wrong check letter
			case 1:
				row[4] = "?" // no such code
			case 2:
				row[2] = "45123" // an Excel serial
			case 3:
				row = row[:5] // too short
			case 4:
				row[5] = "-3" // out of range
			}
		}
		if i == n/2 {
			rows = append(rows, []string{"school_urn", "upn", "session_date", "session", "attendance_code", "minutes_late", "mark_updated_at"})
		}
		rows = append(rows, row)
	}
	return rows
}

// loadRows runs a row loader with the given number of checkers over rows.
func loadRows(t *testing.T, spec Spec, rows [][]string, workers int, sink pipeline.Sink) (int64, error) {
	t.Helper()
	r, err := NewRules(spec, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return loadRowsWith(t, r, testPseudonymiser(t), spec, rows, workers, sink)
}

// loadRowsWith is loadRows with the source's rules and pseudonymiser
// given, as a source's files share them.
func loadRowsWith(t *testing.T, r *Rules, p *Pseudonymiser, spec Spec, rows [][]string, workers int, sink pipeline.Sink) (int64, error) {
	t.Helper()
	ts, err := NewTimestampParser()
	if err != nil {
		t.Fatal(err)
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	l := newRowLoader(r, p, ts, mem, sink, "file test.csv", workers)
	defer l.Release()
	if err := l.Header(spec.ColumnNames()); err != nil {
		t.Fatal(err)
	}
	for i, row := range rows {
		if err := l.Row(row, int64(i+2)); err != nil {
			return 0, err
		}
	}
	return l.Finish(context.Background())
}

// TestCheckersGiveTheSameOutput: however many checkers a loader runs, the
// sink gets the same records, quarantine entries and order, and every row
// is loaded or quarantined.
func TestCheckersGiveTheSameOutput(t *testing.T) {
	spec, err := Lookup(AttendanceSessions)
	if err != nil {
		t.Fatal(err)
	}
	rows := attendanceRows(t, 3*BatchRows+1234)
	var want *recordingSink
	for _, workers := range []int{1, 2, 3} {
		t.Run(strconv.Itoa(workers), func(t *testing.T) {
			sink := &recordingSink{}
			read, err := loadRows(t, spec, rows, workers, sink)
			if err != nil {
				t.Fatal(err)
			}
			if read != int64(len(rows)) || int64(len(sink.rows)+len(sink.rejects)) != read {
				t.Fatalf("read %d, loaded %d, quarantined %d; want %d read = loaded + quarantined", read, len(sink.rows), len(sink.rejects), len(rows))
			}
			if len(sink.rejects) < len(rows)/10 || sink.records < 4 {
				t.Fatalf("%d rejects in %d records: the fixture should reject about one row in seven over several records", len(sink.rejects), sink.records)
			}
			for i := 1; i < len(sink.rejects); i++ {
				if sink.rejects[i].Row <= sink.rejects[i-1].Row {
					t.Fatalf("quarantine out of order: line %d after %d", sink.rejects[i].Row, sink.rejects[i-1].Row)
				}
			}
			if want == nil {
				want = sink
				return
			}
			if strings.Join(sink.rows, "\n") != strings.Join(want.rows, "\n") {
				t.Error("loaded rows differ from one checker's")
			}
			if fmt.Sprint(sink.rejects) != fmt.Sprint(want.rejects) {
				t.Error("quarantine differs from one checker's")
			}
		})
	}
}

// TestKeyedSourceHasOneChecker: a duplicate is the second of two rows in
// delivery order, which only a checker that sees every row can tell.
func TestKeyedSourceHasOneChecker(t *testing.T) {
	for _, name := range Names() {
		r := rulesFor(t, name)
		l := NewRowLoader(r, nil, nil, memory.DefaultAllocator, &recordingSink{}, "test")
		if r.key != nil && l.workers != 1 {
			t.Errorf("%s has a duplicate key but %d checkers", name, l.workers)
		}
		l.Release()
	}
}

// TestSinkErrorStopsTheLoader: the sink's error reaches the connector
// (from Row or Finish), naming the delivery but not the source, which the
// source's caller names; and Release frees every buffer.
func TestSinkErrorStopsTheLoader(t *testing.T) {
	spec, err := Lookup(AttendanceSessions)
	if err != nil {
		t.Fatal(err)
	}
	rows := attendanceRows(t, 6*BatchRows)
	for _, workers := range []int{1, 2} {
		sink := &recordingSink{failAt: 2}
		_, err := loadRows(t, spec, rows, workers, sink)
		if !errors.Is(err, errSinkFull) || !strings.HasPrefix(err.Error(), "file test.csv: ") || strings.Contains(err.Error(), AttendanceSessions) {
			t.Errorf("%d checkers: error %v; want the sink's, naming the file and not the source", workers, err)
		}
	}
}

// TestIdentifierMemoOnlyWhereCellsRecur: a column whose identifiers never
// recur (a register's own keys) drops its memo after the trial, and the
// pseudonymiser stops memoising them too; one whose identifiers recur
// keeps it; both give every cell's own pseudonym.
func TestIdentifierMemoOnlyWhereCellsRecur(t *testing.T) {
	r, p := rulesFor(t, AttendanceSessions), testPseudonymiser(t)
	upn := slices.IndexFunc(r.cols, func(c column) bool { return c.ns == NSUPN })
	if upn < 0 {
		t.Fatal("attendance has no UPN column")
	}
	l := newRowLoader(r, p, nil, memory.DefaultAllocator, &recordingSink{}, "test", 1)
	defer l.Release()
	for _, tc := range []struct {
		name     string
		distinct int // the cells cycle over this many UPNs
		keep     bool
	}{
		{"unique", 3 * memoTrial, false},
		{"recurring", memoTrial / 4, true},
	} {
		c := newChecker(l, p.fork(1))
		for i := range 3 * memoTrial {
			rest := fmt.Sprintf("8012%03d%05d", i%tc.distinct/100000, i%tc.distinct%100000)
			letter, ok := UPNCheckLetter(rest)
			if !ok {
				t.Fatalf("no check letter for %s", rest)
			}
			raw := string(letter) + rest
			e := c.identifier(upn, raw)
			if want := p.Pseudonym(NSUPN, NormaliseID(NSUPN, raw)); e.reason != "" || e.pseudonym != want {
				t.Fatalf("%s: cell %d: pseudonym %q (reason %q); want %q", tc.name, i, e.pseudonym, e.reason, want)
			}
		}
		if kept := c.ids.memo[upn] != nil; kept != tc.keep {
			t.Errorf("%s: memo kept = %v; want %v", tc.name, kept, tc.keep)
		}
		// Nor does the pseudonymiser's own memo grow once the column's is
		// dropped: it would hold every value, to be found again never.
		if n := len(c.pseud.memo[NSUPN]); !tc.keep && n > memoTrial {
			t.Errorf("%s: the pseudonymiser memoised %d UPNs after the column's memo was dropped at %d", tc.name, n, memoTrial)
		}
		c.release()
		p.Forget() // the next case is another read
	}
}

// rulesFor is a source's rules with the default options.
func rulesFor(t *testing.T, name string) *Rules {
	t.Helper()
	spec, err := Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRules(spec, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// testPseudonymiser is the row loader tests' pseudonymiser.
func testPseudonymiser(t *testing.T) *Pseudonymiser {
	t.Helper()
	p, err := NewPseudonymiser([]byte("row-loader-test-key-of-32-bytes!"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestIdentifierMemoCarriesToTheNextFile: the loader of a source's second
// file finds the identifiers the first file's checkers worked out, so a
// pupil named in both is worked out once per checker, not once per file,
// and it runs one checker more than the first;
// the second file's records are those a fresh read gives; and another
// source's rules do not take the cells over.
func TestIdentifierMemoCarriesToTheNextFile(t *testing.T) {
	spec, err := Lookup(AttendanceSessions)
	if err != nil {
		t.Fatal(err)
	}
	r, p := rulesFor(t, AttendanceSessions), testPseudonymiser(t)
	upn := slices.IndexFunc(r.cols, func(c column) bool { return c.ns == NSUPN })
	rows := attendanceRows(t, 2*BatchRows)
	load := func(r *Rules, p *Pseudonymiser) *recordingSink {
		t.Helper()
		sink := &recordingSink{}
		if _, err := loadRowsWith(t, r, p, spec, rows, 1, sink); err != nil {
			t.Fatal(err)
		}
		return sink
	}
	workers := func() int {
		l := NewRowLoader(r, p, nil, memory.DefaultAllocator, &recordingSink{}, "file test.csv")
		defer l.Release()
		return l.workers
	}
	firstWorkers := workers()
	// The memo counts the cells it found (hits) and worked out (misses)
	// since it was made.
	first := load(r, p)
	// A later file runs a checker more, which works out its cells only
	// once in the read.
	if got, want := workers(), min(firstWorkers+1, maxCheckers); got != want {
		t.Errorf("a later file's loader runs %d checkers; want %d, against the first's %d", got, want, firstWorkers)
	}
	hits, misses := p.ids.hits[upn], p.ids.misses[upn]
	if misses == 0 {
		t.Fatal("the first file worked out no identifier: the test proves nothing")
	}
	second := load(r, p)
	if got := p.ids.misses[upn]; got != misses {
		t.Errorf("the second file worked out %d identifiers again; want 0", got-misses)
	}
	if got := p.ids.hits[upn]; got != 2*hits+misses {
		t.Errorf("the memo found %d cells over the two files; want %d, each of the second's", got, 2*hits+misses)
	}
	if !slices.Equal(second.rows, first.rows) {
		t.Error("the second file's records differ from the first's, with the same rows")
	}
	// Other rules (another source, or the same one with other options)
	// start afresh.
	load(rulesFor(t, AttendanceSessions), p)
	if got, gotHits := p.ids.misses[upn], p.ids.hits[upn]; got != misses || gotHits != hits {
		t.Errorf("a source with other rules worked out %d identifiers and found %d; want %d and %d, as a first file", got, gotHits, misses, hits)
	}
	p.Forget()
	if n := p.Memoised(); n != 0 {
		t.Errorf("after Forget the pseudonymiser holds %d identifiers; want 0", n)
	}
}

// TestDateCellsReadAlikeRepeated: a date cell read as the row before's
// (the checker remembers the last) gives what it gives read alone, in
// every way a date can read: valid, in another spelling, unreadable, a
// system's "none", or too long to be remembered.
func TestDateCellsReadAlikeRepeated(t *testing.T) {
	spec, err := Lookup(AttendanceSessions)
	if err != nil {
		t.Fatal(err)
	}
	dates := []string{
		"2025-01-06", "2025-01-06", "06/01/2025", "06/01/2025", "2025-01-06",
		"2025-13-01", "2025-13-01", "2025-01-07", "01/01/1900", "01/01/1900",
		"2025-01-07T00:00:00+00:00", "2025-01-07T00:00:00+00:00", "2025-01-08", "45123", "45123", "2025-01-08",
	}
	letter, ok := UPNCheckLetter("801200000001")
	if !ok {
		t.Fatal("no check letter")
	}
	row := func(d string) []string {
		return []string{"100001", string(letter) + "801200000001", d, "AM", "/", "", ""}
	}
	var rows [][]string
	for _, d := range dates {
		rows = append(rows, row(d))
	}
	together := &recordingSink{}
	if _, err := loadRows(t, spec, rows, 1, together); err != nil {
		t.Fatal(err)
	}
	var alone []string
	for _, d := range dates {
		sink := &recordingSink{}
		if _, err := loadRows(t, spec, [][]string{row(d)}, 1, sink); err != nil {
			t.Fatal(err)
		}
		alone = append(alone, sink.rows...)
		for _, rj := range sink.rejects {
			alone = append(alone, "rejected: "+rj.Reason+" "+rj.Column)
		}
	}
	var got []string
	next := 0
	for i := range dates {
		// Rows and rejects in the order given: a reject names its line.
		if k := slices.IndexFunc(together.rejects, func(rj pipeline.Rejected) bool { return rj.Row == int64(i+2) }); k >= 0 {
			got = append(got, "rejected: "+together.rejects[k].Reason+" "+together.rejects[k].Column)
			continue
		}
		got = append(got, together.rows[next])
		next++
	}
	if !slices.Equal(got, alone) {
		t.Errorf("read in turn:\n%s\nread alone:\n%s", strings.Join(got, "\n"), strings.Join(alone, "\n"))
	}
	if len(together.rejects) == 0 || len(together.rows) == 0 {
		t.Errorf("%d rows loaded and %d rejected: the test needs both", len(together.rows), len(together.rejects))
	}
}
