package csvdir

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/connectors"
	"earlyhelp/pipeline"
)

// knownSink is a fakeSink whose store knows one delivery by name, size and
// time, and records the hash each Begin was given.
type knownSink struct {
	*fakeSink
	name    string
	size    int64
	modTime time.Time
	shas    map[string]string
}

const recordedSHA = "0000000000000000000000000000000000000000000000000000000000000abc"

func (s *knownSink) Known(name string, size int64, modTime time.Time) (string, bool) {
	if name == s.name && size == s.size && modTime.Equal(s.modTime) {
		return recordedSHA, true
	}
	return "", false
}

func (s *knownSink) Begin(f pipeline.FileRef) (bool, error) {
	s.shas[f.Name] = f.SHA256
	if f.SHA256 == recordedSHA {
		return false, nil // loaded before
	}
	return s.fakeSink.Begin(f)
}

// TestKnownFileSkippedUnread: a file the store knows by name, size and
// modification time is skipped without being read or hashed; touching it
// makes it hashed and compared again.
func TestKnownFileSkippedUnread(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"attendance_2023.csv", "attendance_2025.csv.gz"} {
		b, err := os.ReadFile(filepath.Join("testdata/attendance", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "attendance_2023.csv")
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	spec, _ := connectors.Lookup(connectors.AttendanceSessions)
	p, _ := connectors.NewPseudonymiser(testKey)
	run := func() *knownSink {
		t.Helper()
		sink := &knownSink{fakeSink: newFakeSink(), name: info.Name(), size: info.Size(), modTime: info.ModTime(), shas: map[string]string{}}
		src, err := New(Config{Path: dir}, spec, p)
		if err != nil {
			t.Fatal(err)
		}
		if err := src.Read(context.Background(), memory.NewGoAllocator(), sink); err != nil {
			t.Fatal(err)
		}
		return sink
	}
	sink := run()
	if sink.shas["attendance_2023.csv"] != recordedSHA || strings.Contains(strings.Join(sink.begun, ","), "attendance_2023.csv,") {
		t.Errorf("known file: begun with %q, files read %v", sink.shas["attendance_2023.csv"], sink.begun)
	}
	if got := strings.Join(sink.begun, ","); got != "attendance_2025.csv.gz" {
		t.Errorf("files read: %s; want the unknown one only", got)
	}
	// Rewritten (a new time): hashed, so its real digest reaches the sink.
	later := info.ModTime().Add(time.Hour)
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
	sink = run()
	if sha := sink.shas["attendance_2023.csv"]; len(sha) != 64 || sha == recordedSHA {
		t.Errorf("touched file: begun with %q; want its own hash", sha)
	}
}

// TestKnownFilesFallbackSameBooks: pipeline.KnownFiles is a speed-up only.
// A sink without it has every file hashed and refuses the delivery loaded
// before in Begin, by its hash; the files read, the rows loaded, the
// quarantine, the nulled cells, the re-identifications and each file's
// books are the same as a sink that skips the delivery unread.
func TestKnownFilesFallbackSameBooks(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"attendance_2023.csv", "attendance_2025.csv.gz"} {
		b, err := os.ReadFile(filepath.Join("testdata/attendance", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const loaded = "attendance_2023.csv"
	info, err := os.Stat(filepath.Join(dir, loaded))
	if err != nil {
		t.Fatal(err)
	}
	spec, _ := connectors.Lookup(connectors.AttendanceSessions)
	p, _ := connectors.NewPseudonymiser(testKey)
	readInto := func(sink pipeline.Sink) {
		t.Helper()
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		src, err := New(Config{Path: dir}, spec, p)
		if err != nil {
			t.Fatal(err)
		}
		if err := src.Read(context.Background(), mem, sink); err != nil {
			t.Fatal(err)
		}
	}
	fast := &knownSink{fakeSink: newFakeSink(), name: loaded, size: info.Size(), modTime: info.ModTime(), shas: map[string]string{}}
	readInto(fast)
	if fast.shas[loaded] != recordedSHA {
		t.Fatalf("the known delivery was begun with %q; want the recorded hash (the fast path not taken)", fast.shas[loaded])
	}
	slow := newFakeSink()
	slow.skip = map[string]bool{loaded: true}
	readInto(slow)
	if len(slow.begun) == 0 || len(slow.rows) == 0 {
		t.Fatalf("without KnownFiles: files %v, %d rows; want the other delivery loaded", slow.begun, len(slow.rows))
	}
	got, want := fast.fakeSink, slow
	for _, c := range []struct {
		what      string
		got, want any
	}{
		{"files read", got.begun, want.begun},
		{"rows read per file", got.ended, want.ended},
		{"rows loaded per file", got.emitted, want.emitted},
		{"rows quarantined per file", got.reject, want.reject},
		{"rows", got.rows, want.rows},
		{"quarantine", got.rejects, want.rejects},
		{"nulled cells", got.nulled, want.nulled},
		{"re-identifications", got.reids, want.reids},
		{"file shapes", got.shapes, want.shapes},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s with KnownFiles: %v; without: %v", c.what, c.got, c.want)
		}
	}
}
