package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
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

func fixedNow() time.Time { return time.Date(2026, 7, 20, 6, 0, 0, 0, time.UTC) }

func record(mem memory.Allocator, ids ...string) arrow.Record {
	b := array.NewRecordBuilder(mem, arrow.NewSchema([]arrow.Field{{Name: "person_id", Type: arrow.BinaryTypes.String}}, nil))
	defer b.Release()
	b.Field(0).(*array.StringBuilder).AppendValues(ids, nil)
	return b.NewRecord()
}

func scanAll(t *testing.T, s *Store, mem memory.Allocator, source string) []string {
	t.Helper()
	var got []string
	err := s.Scan(context.Background(), mem, source, func(rec arrow.Record) error {
		c := rec.Column(0).(*array.String)
		for i := 0; i < c.Len(); i++ {
			got = append(got, c.Value(i))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	return got
}

func TestDeliveries(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	dir := t.TempDir()
	s, err := Open(dir, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	f1 := pipeline.FileRef{Name: "persons.csv", SHA256: "aaaaaaaaaaaaaaaa", Size: 10}
	f2 := pipeline.FileRef{Name: "persons.csv", SHA256: "bbbbbbbbbbbbbbbb", Size: 10}

	d, err := s.NewDelivery("persons", f1)
	if err != nil {
		t.Fatal(err)
	}
	rec := record(mem, "a", "b")
	if err := d.Write(rec); err != nil {
		t.Fatal(err)
	}
	rec.Release()
	if err := d.Commit(3, 2); err != nil {
		t.Fatal(err)
	}
	if err := s.Settle(); err != nil {
		t.Fatal(err)
	}
	// An aborted delivery leaves nothing behind, not even a temporary file.
	d2, _ := s.NewDelivery("persons", f2)
	rec = record(mem, "zzz")
	d2.Write(rec)
	rec.Release()
	d2.Abort()

	tests := []struct {
		name string
		f    pipeline.FileRef
		want bool
	}{
		{"same name and hash", f1, true},
		{"same name, new hash", f2, false},
	}
	for _, tc := range tests {
		if got, _ := s.Loaded("persons", tc.f); got != tc.want {
			t.Errorf("%s: Loaded = %v; want %v", tc.name, got, tc.want)
		}
	}
	if got := scanAll(t, s, mem, "persons"); len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Errorf("Scan = %v; want [a b]", got)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "store", "persons"))
	if len(entries) != 1 {
		t.Errorf("store/persons holds %d files; want 1 (the aborted delivery left something)", len(entries))
	}
	// The state survives a reopen.
	s2, err := Open(dir, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := s2.Loaded("persons", f1); !got {
		t.Error("reopened store forgot a delivery")
	}
	if n := s2.RowsLoaded("persons"); n != 2 {
		t.Errorf("RowsLoaded = %d; want 2", n)
	}
}

func TestReidPermissions(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir, fixedNow)
	err := s.SaveReid(map[string]map[string]string{"person_id": {"p1": "P0000001"}, "household_id": {"h1": "H01"}})
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, "store", "reid", "person_id.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("lookup mode %v; want 0600", st.Mode().Perm())
	}
	dst, _ := os.Stat(filepath.Join(dir, "store", "reid"))
	if dst.Mode().Perm() != 0o700 {
		t.Errorf("lookup folder mode %v; want 0700", dst.Mode().Perm())
	}
	s2, _ := Open(dir, fixedNow)
	if id, err := s2.Reidentify("person_id", "p1"); err != nil || id != "P0000001" {
		t.Errorf("Reidentify = %q, %v; want P0000001", id, err)
	}
	if _, err := s2.Reidentify("person_id", "nobody"); err == nil {
		t.Error("Reidentify of an unknown pseudonym succeeded")
	}
}

// TestReidMerges: a first save becomes the lookup (copied, so the caller's
// map is its own), and later saves merge into it.
func TestReidMerges(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir, fixedNow)
	first := map[string]map[string]string{"person_id": {"p1": "P0000001", "p2": "P0000002"}}
	if err := s.SaveReid(first); err != nil {
		t.Fatal(err)
	}
	first["person_id"]["p1"] = "changed by the caller"
	if err := s.SaveReid(map[string]map[string]string{"person_id": {"p3": "P0000003", "p2": "P0000022"}}); err != nil {
		t.Fatal(err)
	}
	for _, st := range []*Store{s, func() *Store { s2, _ := Open(dir, fixedNow); return s2 }()} {
		for p, want := range map[string]string{"p1": "P0000001", "p2": "P0000022", "p3": "P0000003"} {
			if id, err := st.Reidentify("person_id", p); err != nil || id != want {
				t.Errorf("Reidentify(%s) = %q, %v; want %s", p, id, err, want)
			}
		}
	}
}

func TestNewRun(t *testing.T) {
	s, _ := Open(t.TempDir(), fixedNow)
	id, dir, err := s.NewRun(fixedNow())
	if err != nil {
		t.Fatal(err)
	}
	if id != "20260720T060000Z" || filepath.Base(dir) != id {
		t.Errorf("NewRun = %s, %s", id, dir)
	}
	if _, _, err := s.NewRun(fixedNow()); !errors.Is(err, pipeline.ErrBusy) {
		t.Errorf("second NewRun in the same second = %v; want ErrBusy", err)
	}
}

// TestDeliveryWriteError: a record the background writer cannot write
// (here, of another schema) fails the delivery at the next Write or at
// Commit, leaves no file behind and records nothing in the load state.
func TestDeliveryWriteError(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	dir := t.TempDir()
	s, _ := Open(dir, fixedNow)
	ref := pipeline.FileRef{Name: "persons.csv", SHA256: "cccccccccccccccc"}
	d, err := s.NewDelivery("persons", ref)
	if err != nil {
		t.Fatal(err)
	}
	good := record(mem, "a")
	d.Write(good)
	good.Release()
	b := array.NewRecordBuilder(mem, arrow.NewSchema([]arrow.Field{{Name: "other", Type: arrow.PrimitiveTypes.Int64}}, nil))
	b.Field(0).(*array.Int64Builder).Append(1)
	bad := b.NewRecord()
	b.Release()
	werr := d.Write(bad)
	bad.Release()
	cerr := d.Commit(2, 2)
	if werr == nil && cerr == nil {
		t.Fatal("a record of another schema was written without error")
	}
	if ok, _ := s.Loaded("persons", ref); ok {
		t.Error("a failed delivery is in the load state")
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "store", "persons"))
	if len(entries) != 0 {
		t.Errorf("a failed delivery left %d files", len(entries))
	}
}

// TestKnownBySizeAndTime: a committed delivery is known by its name, size
// and time, across a reopen, and not by another time or size.
func TestKnownBySizeAndTime(t *testing.T) {
	dir := t.TempDir()
	now := func() time.Time { return time.Date(2026, 1, 5, 6, 0, 0, 0, time.UTC) }
	st, err := Open(dir, now)
	if err != nil {
		t.Fatal(err)
	}
	mod := time.Date(2025, 12, 31, 23, 59, 1, 5, time.Local)
	sha := strings.Repeat("ab", 32)
	d, err := st.NewDelivery("attendance_sessions", pipeline.FileRef{Name: "a.csv", SHA256: sha, Size: 1234, ModTime: mod})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Commit(0, 0); err != nil {
		t.Fatal(err)
	}
	if err := st.Settle(); err != nil {
		t.Fatal(err)
	}
	st, err = Open(dir, now)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		size int64
		mod  time.Time
		ok   bool
	}{
		{"a.csv", 1234, mod, true},
		{"a.csv", 1234, mod.UTC(), true},
		{"a.csv", 1234, mod.Add(time.Second), false},
		{"a.csv", 1235, mod, false},
		{"b.csv", 1234, mod, false},
		{"a.csv", 1234, time.Time{}, false},
	}
	for _, tc := range tests {
		got, ok := st.Known("attendance_sessions", tc.name, tc.size, tc.mod)
		if ok != tc.ok || ok && got != sha {
			t.Errorf("Known(%s, %d, %v) = %q, %v; want %v", tc.name, tc.size, tc.mod, got, ok, tc.ok)
		}
	}
}

// TestReidentifySortedLines: a lookup as SaveReid writes it is searched
// where it stands, not loaded into a map, and gives what the map gives;
// one with a quoted id, out of order, or with a line of three fields is
// read as csv reads it (the last an error, as before).
func TestReidentifySortedLines(t *testing.T) {
	pairs := map[string]string{"a1": "P01", "b2": "P 02", "c3": "", "d4": "P04"}
	for _, tc := range []struct {
		name, file string
		sorted     bool // searched where it stands
		bad        bool // an error
	}{
		{"as written", "", true, false},
		{"quoted", "pseudonym,id\na1,P01\nb2,\"P 02\"\nc3,\nd4,P04\n", false, false},
		{"out of order", "pseudonym,id\nb2,P 02\na1,P01\n\nd4,P04\nc3,", false, false},
		{"three fields", "pseudonym,id\na1,P01\nb2,P 02,x\nc3,\nd4,P04\n", false, true},
	} {
		dir := t.TempDir()
		s, _ := Open(dir, fixedNow)
		if tc.file == "" {
			if err := s.SaveReid(map[string]map[string]string{"person_id": pairs}); err != nil {
				t.Fatal(err)
			}
		} else {
			if err := os.MkdirAll(filepath.Join(dir, "store", "reid"), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "store", "reid", "person_id.csv"), []byte(tc.file), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		s2, _ := Open(dir, fixedNow)
		for p, want := range pairs {
			id, err := s2.Reidentify("person_id", p)
			if tc.bad {
				if err == nil {
					t.Errorf("%s: Reidentify(%s) = %q; want an error", tc.name, p, id)
				}
				continue
			}
			if err != nil || id != want {
				t.Errorf("%s: Reidentify(%s) = %q, %v; want %q", tc.name, p, id, err, want)
			}
		}
		if _, err := s2.Reidentify("person_id", "b"); err == nil {
			t.Errorf("%s: an unknown pseudonym found", tc.name)
		}
		if _, loaded := s2.reid["person_id"]; loaded == tc.sorted && !tc.bad {
			t.Errorf("%s: loaded into a map %v; want %v", tc.name, loaded, !tc.sorted)
		}
	}
}

// TestCommitSyncsBehind: a Commit leaves its file's sync running, and the
// state on disk names a delivery only once its file is synced: after the
// next Commit saves the one before, or after Settle. A sync that fails
// takes its delivery out of the state and its file off the disk, and the
// error names the delivered file.
func TestCommitSyncsBehind(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	mem := memory.NewGoAllocator()
	onDisk := func() []string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, "store", "state.json"))
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err != nil {
			t.Fatal(err)
		}
		var st state
		if err := json.Unmarshal(b, &st); err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, d := range st.Deliveries {
			names = append(names, d.Name)
		}
		return names
	}
	commitOnly := func(name string) {
		t.Helper()
		d, err := s.NewDelivery("persons", pipeline.FileRef{Name: name, SHA256: strings.Repeat(name[:1], 16)})
		if err != nil {
			t.Fatal(err)
		}
		rec := record(mem, "a")
		err = d.Write(rec)
		rec.Release()
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Commit(1, 1); err != nil {
			t.Fatal(err)
		}
	}
	commitOnly("a.csv")
	if got := onDisk(); len(got) != 0 {
		t.Errorf("after the first Commit the state on disk names %v; want none until its file is synced", got)
	}
	commitOnly("b.csv")
	if got := onDisk(); !slices.Equal(got, []string{"a.csv"}) {
		t.Errorf("after the second Commit the state on disk names %v; want [a.csv]", got)
	}
	if err := s.Settle(); err != nil {
		t.Fatal(err)
	}
	if got := onDisk(); !slices.Equal(got, []string{"a.csv", "b.csv"}) {
		t.Errorf("after Settle the state on disk names %v; want [a.csv b.csv]", got)
	}

	// A sync that failed.
	commitOnly("c.csv")
	sy := s.syncing
	<-sy.done
	sy.err = errors.New("input/output error")
	err = s.Settle()
	if err == nil || !strings.Contains(err.Error(), "c.csv") || !strings.Contains(err.Error(), "input/output error") {
		t.Errorf("Settle after a failed sync = %v; want the error, naming c.csv", err)
	}
	if ok, _ := s.Loaded("persons", pipeline.FileRef{Name: "c.csv", SHA256: strings.Repeat("c", 16)}); ok {
		t.Error("a delivery whose file failed to sync is still in the state")
	}
	if _, err := os.Stat(filepath.Join(dir, "store", sy.file)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the file that failed to sync is still there (%v)", err)
	}
	if err := s.Settle(); err != nil {
		t.Fatal(err)
	}
	if got := onDisk(); !slices.Equal(got, []string{"a.csv", "b.csv"}) {
		t.Errorf("after the failed sync the state on disk names %v; want [a.csv b.csv]", got)
	}
}

// TestReadWhileAnotherSourceLoads: a run reads a source already loaded
// while ingestion commits the next source's deliveries (the attendance
// index is read during the small sources' ingest). The reader sees the
// loaded source whole every time, and with -race this checks that the
// delivery list the writer grows is not read unguarded.
func TestReadWhileAnotherSourceLoads(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	s, err := Open(t.TempDir(), fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	deliver(t, s, mem, "autumn.csv", []string{"p1=2025-09-03", "p2=2025-09-04"})
	deliver(t, s, mem, "spring.csv", []string{"p1=2026-01-06"})
	want, _ := s.Deliveries("attendance_sessions", "session_date", math.MinInt32)

	const persons = 40
	done := make(chan struct{})
	var reads int
	var readErr error
	go func() {
		defer close(done)
		for {
			got, err := scanSince(s, mem, "session_date", "2025-01-01")
			if err == nil && len(got) != 3 {
				err = fmt.Errorf("read %v; want the 3 rows loaded", got)
			}
			names, _ := s.Deliveries("attendance_sessions", "session_date", math.MinInt32)
			if err == nil && !slices.Equal(names, want) {
				err = fmt.Errorf("deliveries %v; want %v", names, want)
			}
			reads++
			if readErr = err; err != nil || s.RowsLoaded("persons") == persons {
				return
			}
		}
	}()
	for i := range persons {
		f := pipeline.FileRef{Name: fmt.Sprintf("persons-%02d.csv", i), SHA256: fmt.Sprintf("%016x", i+1)}
		d, err := s.NewDelivery("persons", f)
		if err != nil {
			t.Fatal(err)
		}
		rec := record(mem, fmt.Sprintf("person %d", i))
		err = d.Write(rec)
		rec.Release()
		if err == nil {
			err = d.Commit(1, 1)
		}
		if err == nil {
			err = s.Settle()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	<-done
	if readErr != nil {
		t.Fatalf("after %d reads: %v", reads, readErr)
	}
	if got := len(scanAll(t, s, mem, "persons")); got != persons {
		t.Errorf("%d persons stored; want %d", got, persons)
	}
}

// TestForgetReid: once the lookups are let go, every pseudonym is still
// re-identified (from the sorted file), and pairs saved afterwards merge
// with the file's, not with an empty lookup.
func TestForgetReid(t *testing.T) {
	s, _ := Open(t.TempDir(), fixedNow)
	if err := s.SaveReid(map[string]map[string]string{"person_id": {"p1": "P0000001", "p2": "P0000002"}, "household_id": {"h1": "H01"}}); err != nil {
		t.Fatal(err)
	}
	s.ForgetReid()
	if len(s.reid) != 0 {
		t.Fatalf("%d lookups held after ForgetReid", len(s.reid))
	}
	for _, c := range []struct{ ns, p, want string }{{"person_id", "p1", "P0000001"}, {"household_id", "h1", "H01"}} {
		if id, err := s.Reidentify(c.ns, c.p); err != nil || id != c.want {
			t.Errorf("Reidentify(%s, %s) = %q, %v; want %s", c.ns, c.p, id, err, c.want)
		}
	}
	if len(s.reid) != 0 {
		t.Errorf("Reidentify loaded %d lookups into maps; want the sorted file read", len(s.reid))
	}
	if err := s.SaveReid(map[string]map[string]string{"person_id": {"p3": "P0000003"}}); err != nil {
		t.Fatal(err)
	}
	s.ForgetReid()
	for p, want := range map[string]string{"p1": "P0000001", "p2": "P0000002", "p3": "P0000003"} {
		if id, err := s.Reidentify("person_id", p); err != nil || id != want {
			t.Errorf("after a second save: Reidentify(%s) = %q, %v; want %s", p, id, err, want)
		}
	}
}
