package store

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/pipeline"
)

// commit stores one delivery of source holding ids, the delivered file
// named name with hash hash (at least 12 characters); it returns the
// store file.
func commit(t *testing.T, s *Store, mem memory.Allocator, source, name, hash string, ids ...string) string {
	t.Helper()
	d, err := s.NewDelivery(source, pipeline.FileRef{Name: name, SHA256: hash})
	if err != nil {
		t.Fatal(err)
	}
	rec := record(mem, ids...)
	err = d.Write(rec)
	rec.Release()
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Commit(int64(len(ids)), int64(len(ids))); err != nil {
		t.Fatal(err)
	}
	if err := s.Settle(); err != nil {
		t.Fatal(err)
	}
	return s.state.Deliveries[len(s.state.Deliveries)-1].File
}

// TestCheck: Check finds every damaged store file, by checksum or, for a
// file without one, by decoding it, and passes intact ones of both kinds.
func TestCheck(t *testing.T) {
	tests := []struct {
		name     string
		damage   func(t *testing.T, path string) // nil: intact
		legacy   bool                            // no checksum recorded
		wantErr  error                           // nil: not damaged
		anyError bool                            // damaged, by whatever error
	}{
		{"intact", nil, false, nil, false},
		{"intact, no checksum", nil, true, nil, false},
		{"flipped byte", flipByte, false, ErrChecksum, false},
		{"truncated, no checksum", truncate, true, nil, true},
		{"missing", func(t *testing.T, path string) { os.Remove(path) }, false, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewGoAllocator()
			s, err := Open(t.TempDir(), fixedNow)
			if err != nil {
				t.Fatal(err)
			}
			commit(t, s, mem, "persons", "p1.csv", "111111111111", "a", "b")
			bad := commit(t, s, mem, "persons", "p2.csv", "222222222222", "c", "d")
			if tc.legacy {
				s.state.Deliveries[1].FileSHA256 = ""
			}
			if tc.damage != nil {
				tc.damage(t, s.path(bad))
			}
			rep, err := s.Check(t.Context(), mem)
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			wantUnsummed := 0
			if tc.legacy {
				wantUnsummed = 1
			}
			if rep.Files != 2 || rep.Unsummed != wantUnsummed {
				t.Errorf("Check counted %d files, %d without checksum; want 2, %d", rep.Files, rep.Unsummed, wantUnsummed)
			}
			damaged := tc.wantErr != nil || tc.anyError
			switch {
			case !damaged && len(rep.Damaged) != 0:
				t.Errorf("Check found %v; want nothing damaged", rep.Damaged)
			case damaged && (len(rep.Damaged) != 1 || rep.Damaged[0].File != bad || rep.Damaged[0].Name != "p2.csv"):
				t.Errorf("Check found %v; want only %s damaged (of p2.csv)", rep.Damaged, bad)
			case tc.wantErr != nil && !errors.Is(rep.Damaged[0].Err, tc.wantErr):
				t.Errorf("Check error %v; want %v", rep.Damaged[0].Err, tc.wantErr)
			}
		})
	}
}

func flipByte(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 1
	if err := os.WriteFile(path, b, 0o640); err != nil {
		t.Fatal(err)
	}
}

func truncate(t *testing.T, path string) {
	t.Helper()
	if err := os.Truncate(path, 100); err != nil {
		t.Fatal(err)
	}
}

// TestForget: forgetting a damaged delivery takes it and every later
// delivery of its source out of the load state and the store, leaves other
// sources alone, and lets the next ingest load those files again, in their
// order, without a new file taking a kept file's name.
func TestForget(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	s, err := Open(t.TempDir(), fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	a1 := commit(t, s, mem, "attendance", "a1.csv", "aaaaaaaaaaaa", "x1")
	p1 := commit(t, s, mem, "persons", "p1.csv", "111111111111", "p1")
	p2 := commit(t, s, mem, "persons", "p2.csv", "222222222222", "p2")
	a2 := commit(t, s, mem, "attendance", "a2.csv", "bbbbbbbbbbbb", "x2")
	p3 := commit(t, s, mem, "persons", "p3.csv", "333333333333", "p3")

	if _, err := s.Forget([]string{p2}); err == nil {
		t.Fatal("Forget without the lock succeeded; want an error")
	}
	unlock, err := s.Lock()
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	cache, err := s.CacheDir()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cache, "derived.bin"), []byte("rows of p2"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Forget([]string{"persons/nothing.arrow"}); err == nil || len(s.state.Deliveries) != 5 {
		t.Fatalf("Forget of no delivery's file = %v, %d deliveries left; want an error and all 5", err, len(s.state.Deliveries))
	}
	got, err := s.Forget([]string{p2})
	if err != nil {
		t.Fatal(err)
	}
	want := []Forgotten{{"persons", "p2.csv", true}, {"persons", "p3.csv", false}}
	if !slices.Equal(got, want) {
		t.Errorf("Forget = %v; want %v", got, want)
	}
	// What was derived from the deliveries goes with them.
	if _, err := os.Stat(cache); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cache folder after Forget: %v; want it gone", err)
	}
	for _, f := range []struct {
		rel  string
		kept bool
	}{{a1, true}, {p1, true}, {p2, false}, {a2, true}, {p3, false}} {
		if _, err := os.Stat(s.path(f.rel)); (err == nil) != f.kept {
			t.Errorf("%s on disk: %v; want kept %v", f.rel, err, f.kept)
		}
	}
	// The state on disk says the same: a store opened anew would load p2
	// and p3 again.
	again, err := Open(s.Dir(), fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"p2.csv", "p3.csv"} {
		hash := strings.Repeat(name[1:2], 12)
		if loaded, _ := again.Loaded("persons", pipeline.FileRef{Name: name, SHA256: hash}); loaded {
			t.Errorf("%s still loaded after Forget", name)
		}
	}
	// Reloaded, the files come back in their order.
	commit(t, s, mem, "persons", "p2.csv", "222222222222", "p2")
	commit(t, s, mem, "persons", "p3.csv", "333333333333", "p3")
	if got := scanAll(t, s, mem, "persons"); !slices.Equal(got, []string{"p1", "p2", "p3"}) {
		t.Errorf("persons after reloading = %v; want p1, p2, p3 in order", got)
	}
	// With p2 and p3 not yet reloaded, three deliveries are kept and the
	// next is numbered 4, as a2 is: a3.csv, holding a2's bytes (so its
	// hash), must not be written over a2's file.
	s.state.Deliveries = s.state.Deliveries[:3]
	a3 := commit(t, s, mem, "attendance", "a3.csv", "bbbbbbbbbbbb", "x3")
	if a3 == a2 {
		t.Errorf("a new delivery was written over %s", a2)
	}
	if got := scanAll(t, s, mem, "attendance"); !slices.Equal(got, []string{"x1", "x2", "x3"}) {
		t.Errorf("attendance = %v; want x1, x2, x3", got)
	}
}
