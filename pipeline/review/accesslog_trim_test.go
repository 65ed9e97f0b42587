package review

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTrimAccessLog: entries before the cut-off go, later ones and lines
// that cannot be dated stay, a torn last line stays torn, and a log with
// nothing to drop is left untouched.
func TestTrimAccessLog(t *testing.T) {
	cut := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	entry := func(at time.Time, page string) string {
		b, _ := json.Marshal(Access{At: at, User: "nav", Role: "navigator", Page: page, Why: "viewed family page"})
		return string(b) + "\n"
	}
	old1, old2 := entry(cut.AddDate(-1, 0, 0), "/old1"), entry(cut.Add(-time.Second), "/old2")
	new1, new2 := entry(cut, "/new1"), entry(cut.AddDate(0, 3, 0), "/new2")
	garbled := "not json at all\n"
	torn := `{"at":"2020-01-0`
	tests := []struct {
		name, before, after string
		dropped, kept       int
	}{
		{"old and new", old1 + new1 + old2 + new2, new1 + new2, 2, 2},
		{"all old", old1 + old2, "", 2, 0},
		{"none old", new1 + new2, new1 + new2, 0, 2},
		{"undatable kept", old1 + garbled + new1, garbled + new1, 1, 2},
		{"torn tail kept as it is", old1 + new1 + torn, new1 + torn, 1, 2},
		{"empty", "", "", 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "access.log")
			if err := os.WriteFile(path, []byte(tc.before), 0o600); err != nil {
				t.Fatal(err)
			}
			before, _ := os.Stat(path)
			res, err := TrimAccessLog(path, cut)
			if err != nil {
				t.Fatal(err)
			}
			if got := read(t, path); got != tc.after {
				t.Errorf("log after trimming = %q; want %q", got, tc.after)
			}
			if res.Dropped != tc.dropped || res.Kept != tc.kept || res.Bytes != int64(len(tc.before)-len(tc.after)) {
				t.Errorf("got %+v; want %d dropped, %d kept, %d bytes", res, tc.dropped, tc.kept, len(tc.before)-len(tc.after))
			}
			after, _ := os.Stat(path)
			if same := os.SameFile(before, after); same != (tc.dropped == 0) {
				t.Errorf("log replaced = %v; want a rewrite only when something was dropped", !same)
			}
			if after.Mode().Perm() != 0o600 {
				t.Errorf("mode %v; want 0600", after.Mode().Perm())
			}
			if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*.tmp")); len(left) > 0 {
				t.Errorf("temporary files left: %v", left)
			}
		})
	}
	if res, err := TrimAccessLog(filepath.Join(t.TempDir(), "none.log"), cut); err != nil || res != (TrimResult{}) {
		t.Errorf("missing log: got %+v, %v; want nothing done", res, err)
	}
}

// TestSiteTrimAccessLog: a serving site trimmed under its feet goes on
// logging into the trimmed log, not into the file it replaced.
func TestSiteTrimAccessLog(t *testing.T) {
	cut := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "access.log")
	al, err := openAccessLog(path, cut)
	if err != nil {
		t.Fatal(err)
	}
	s := &Site{cfg: Config{AccessLog: path}, access: al}
	defer s.Close()
	for _, at := range []time.Time{cut.AddDate(0, -6, 0), cut.AddDate(0, -1, 0), cut.AddDate(0, 1, 0)} {
		if err := al.write(Access{At: at, User: "nav", Page: "/family/x", Why: "viewed family page"}); err != nil {
			t.Fatal(err)
		}
	}
	res, err := s.TrimAccessLog(cut)
	if err != nil {
		t.Fatal(err)
	}
	if res.Dropped != 2 || res.Kept != 1 {
		t.Errorf("got %+v; want 2 dropped and 1 kept", res)
	}
	later := cut.AddDate(0, 2, 0)
	if err := al.write(Access{At: later, User: "nav", Page: "/family/y", Why: "viewed family page"}); err != nil {
		t.Fatalf("write after trimming: %v", err)
	}
	lines := strings.Split(strings.TrimSuffix(read(t, path), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("log holds %d lines; want the kept entry and the new one:\n%s", len(lines), read(t, path))
	}
	var e Access
	if err := json.Unmarshal([]byte(lines[1]), &e); err != nil || !e.At.Equal(later) || e.Page != "/family/y" {
		t.Errorf("last line %q (%v); want the entry written after trimming", lines[1], err)
	}
}
