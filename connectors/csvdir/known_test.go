package csvdir

import (
	"context"
	"os"
	"path/filepath"
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
