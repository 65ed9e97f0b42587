package csvdir

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/connectors"
)

// TestHashAhead: the next file's hash, taken while the one before it is
// read, reaches the sink only while the file's size and time are those it
// was hashed at; a file the store knows is not hashed ahead; and a read
// of several files gives each file its own hash.
func TestHashAhead(t *testing.T) {
	names := []string{"attendance_2023.csv", "attendance_2025.csv.gz"}
	setup := func(t *testing.T) (string, *Source) {
		t.Helper()
		dir := t.TempDir()
		for _, name := range names {
			b, err := os.ReadFile(filepath.Join("testdata/attendance", name))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		spec, _ := connectors.Lookup(connectors.AttendanceSessions)
		p, _ := connectors.NewPseudonymiser(testKey)
		src, err := New(Config{Path: dir}, spec, p)
		if err != nil {
			t.Fatal(err)
		}
		ts, err := connectors.NewTimestampParser()
		if err != nil {
			t.Fatal(err)
		}
		src.ts = ts
		return dir, src
	}
	newSink := func() *knownSink { return &knownSink{fakeSink: newFakeSink(), shas: map[string]string{}} }
	hashOf := func(t *testing.T, path string) string {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		return hex.EncodeToString(sum[:])
	}
	ctx := context.Background()
	name := names[0]

	t.Run("rewritten after hashing: hashed again", func(t *testing.T) {
		dir, src := setup(t)
		path := filepath.Join(dir, name)
		sink := newSink()
		a := src.hashAhead(sink, name)
		if a == nil {
			t.Fatal("an unknown file was not hashed ahead")
		}
		a.wait()
		old := a.fp.ref.SHA256
		f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString("100001,A123456789012,2023-10-02,PM,/,,\n"); err != nil {
			t.Fatal(err)
		}
		f.Close()
		later := time.Now().Add(time.Hour)
		if err := os.Chtimes(path, later, later); err != nil {
			t.Fatal(err)
		}
		if err := src.readFile(ctx, memory.NewGoAllocator(), sink, sink, name, a, func() {}); err != nil {
			t.Fatal(err)
		}
		if got, want := sink.shas[name], hashOf(t, path); got != want || got == old {
			t.Errorf("begun with %s; want the rewritten file's %s (hashed ahead: %s)", got, want, old)
		}
	})

	t.Run("unchanged: the hash taken ahead is used", func(t *testing.T) {
		// Shown by a change the size and time cannot see (the store's
		// Known makes the same assumption): same length, time put back.
		dir, src := setup(t)
		path := filepath.Join(dir, name)
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		sink := newSink()
		a := src.hashAhead(sink, name)
		a.wait()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		b[len(b)-2] ^= 1
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, info.ModTime(), info.ModTime()); err != nil {
			t.Fatal(err)
		}
		if err := src.readFile(ctx, memory.NewGoAllocator(), sink, sink, name, a, func() {}); err != nil {
			t.Fatal(err)
		}
		if got := sink.shas[name]; got != a.fp.ref.SHA256 || got == hashOf(t, path) {
			t.Errorf("begun with %s; want the hash taken ahead, %s", got, a.fp.ref.SHA256)
		}
	})

	t.Run("known to the store: not hashed ahead", func(t *testing.T) {
		dir, src := setup(t)
		info, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		sink := newSink()
		sink.name, sink.size, sink.modTime = name, info.Size(), info.ModTime()
		if a := src.hashAhead(sink, name); a != nil {
			a.wait()
			t.Error("a file the store knows was hashed ahead")
		}
	})

	t.Run("a read of every file: each its own hash", func(t *testing.T) {
		dir, src := setup(t)
		sink := newSink()
		if err := src.Read(ctx, memory.NewGoAllocator(), sink); err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			if got, want := sink.shas[n], hashOf(t, filepath.Join(dir, n)); got != want {
				t.Errorf("%s: begun with %s; want %s", n, got, want)
			}
		}
	})
}
