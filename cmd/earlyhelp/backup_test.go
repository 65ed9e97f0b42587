package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"earlyhelp/pipeline/review"
	"earlyhelp/pipeline/review/decisions"
	"earlyhelp/pipeline/review/users"
)

// seedReviewFiles gives a data folder every file a backup holds besides
// the decisions: a user, a current model, the store's state and views in
// the access log.
func seedReviewFiles(t *testing.T, dataDir string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dataDir, "review"), 0o750); err != nil {
		t.Fatal(err)
	}
	uf, err := users.Load(reviewPath(dataDir, usersFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := uf.Add("nav.one", users.Navigator, []string{"North"}, []byte("correct horse battery")); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		filepath.Join(dataDir, "models", "current.json"): `{"trained_for":"2026-07-06","run_id":"20260706T060000Z","model":{}}`,
		filepath.Join(dataDir, "store", "state.json"):    `{"deliveries":[]}`,
	}
	var log bytes.Buffer
	for i := 0; i < 5; i++ {
		b, _ := json.Marshal(review.Access{At: time.Now().Add(-time.Duration(i) * time.Hour), User: "nav.one", Role: "navigator", Page: "/list", Why: "viewed list"})
		log.Write(append(b, '\n'))
	}
	files[reviewPath(dataDir, accessLogFile)] = log.String()
	for p, s := range files {
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// lockedBuffer is an io.Writer serve may write to from its goroutine while
// the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestBackupRestoreWhileServing (issue 20, acceptance 4): serve runs on a
// data folder while decisions are written to it; a backup taken mid-stream
// and restored into a fresh data folder holds every decision committed
// before the backup began. Restore refuses the served folder itself.
func TestBackupRestoreWhileServing(t *testing.T) {
	cfg, cfgPath := retentionConfig(t, "")
	seedReviewFiles(t, cfg.DataDir)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	serveOut, serveErr := &lockedBuffer{}, &lockedBuffer{}
	served := make(chan int, 1)
	go func() {
		served <- run(ctx, []string{"serve", "--config", cfgPath, "--listen", "127.0.0.1:0", "--log-format", "json"}, serveOut, serveErr)
	}()
	defer func() {
		cancel()
		if code := <-served; code != 0 {
			t.Errorf("serve exited %d: %s", code, serveErr.String())
		}
	}()
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(serveOut.String(), "serving on"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start: %s", serveErr.String())
		}
	}

	// The writer records through its own connection to the file serve has
	// open, as the site's decision form does through serve's.
	st, err := decisions.Open(reviewPath(cfg.DataDir, decisionsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var mu sync.Mutex
	var committed []decisions.Decision
	stop := make(chan struct{})
	writerDone := make(chan error, 1)
	go func() {
		kinds := decisions.Kinds()
		for i := 0; ; i++ {
			select {
			case <-stop:
				writerDone <- nil
				return
			default:
			}
			d := decisions.Decision{Household: fmt.Sprintf("hh%03d", i%40), Kind: kinds[i%len(kinds)], Note: fmt.Sprintf("note %d", i),
				Navigator: "nav.one", Locality: "North", At: time.Date(2026, 7, 6, 9, 0, i, 0, time.UTC)}
			if d.Kind == decisions.NotAppropriate {
				d.ReasonCategory = decisions.NoConcern
			}
			got, err := st.Record(context.Background(), d)
			if err != nil {
				writerDone <- err
				return
			}
			mu.Lock()
			committed = append(committed, got)
			mu.Unlock()
		}
	}()
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(committed)
	}
	waitFor := func(n int) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); count() < n; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("only %d decisions written in 20s; want %d", count(), n)
			}
		}
	}
	waitFor(100)
	mu.Lock()
	before := append([]decisions.Decision(nil), committed...)
	mu.Unlock()
	out := filepath.Join(t.TempDir(), "backup")
	code, stdout, stderr := runCLI(t, "backup", "--config", cfgPath, "--out", out)
	if code != 0 {
		t.Fatalf("backup: exit %d: %s", code, stderr)
	}
	waitFor(len(before) + 50) // and the writer went on after it
	close(stop)
	if err := <-writerDone; err != nil {
		t.Fatalf("writer: %v", err)
	}
	if !strings.Contains(stdout, "backup: 5 files") {
		t.Errorf("backup output lacks its 5 files:\n%s", stdout)
	}

	// Not into the folder serve is using.
	code, _, stderr = runCLI(t, "restore", "--config", cfgPath, "--from", out)
	if code != exitFailed || !strings.Contains(stderr, "serve is running") || !strings.Contains(stderr, "nothing was restored") {
		t.Errorf("restore under serve: exit %d, %q; want exit 1 saying serve is running", code, stderr)
	}

	fresh, freshPath := retentionConfig(t, "")
	code, stdout, stderr = runCLI(t, "restore", "--config", freshPath, "--from", out)
	if code != 0 {
		t.Fatalf("restore: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "restore: 5 files") {
		t.Errorf("restore output:\n%s", stdout)
	}
	restored, err := decisions.Open(reviewPath(fresh.DataDir, decisionsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer restored.Close()
	got := map[int64]decisions.Decision{}
	for h := 0; h < 40; h++ {
		hist, err := restored.History(context.Background(), fmt.Sprintf("hh%03d", h))
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range hist {
			got[d.ID] = d
		}
	}
	for _, want := range before {
		d, ok := got[want.ID]
		if !ok {
			t.Fatalf("decision %d, committed before the backup began, is missing from the restored folder (%d restored, %d committed before)", want.ID, len(got), len(before))
		}
		if d != want {
			t.Errorf("decision %d restored as %+v; want %+v", want.ID, d, want)
		}
	}
	if len(got) >= count() {
		t.Errorf("restored %d decisions of %d: the backup should predate the writer's last ones", len(got), count())
	}
	for _, it := range backupItems() {
		if it.name == "decisions.db" {
			continue
		}
		if a, b := read(t, filepath.Join(cfg.DataDir, it.rel)), read(t, filepath.Join(fresh.DataDir, it.rel)); a != b {
			t.Errorf("%s restored differs from the served folder's", it.rel)
		}
		if fi, err := os.Stat(filepath.Join(fresh.DataDir, it.rel)); err != nil || fi.Mode().Perm() != it.perm {
			t.Errorf("%s restored with mode %v (%v); want %v", it.rel, fi.Mode().Perm(), err, it.perm)
		}
	}
	// The restored users file is one the site can sign in with.
	uf, err := users.Load(reviewPath(fresh.DataDir, usersFile))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := uf.Authenticate("nav.one", []byte("correct horse battery")); err != nil {
		t.Errorf("restored users file: %v", err)
	}
}

// TestBackupRefusesUsedFolder: a backup never mixes with another.
func TestBackupRefusesUsedFolder(t *testing.T) {
	_, cfgPath := retentionConfig(t, "")
	out := t.TempDir()
	if err := os.WriteFile(filepath.Join(out, "old.json"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, "backup", "--config", cfgPath, "--out", out)
	if code != exitFailed || !strings.Contains(stderr, "is not empty") {
		t.Errorf("backup into a used folder: exit %d, %q; want exit 1 saying it is not empty", code, stderr)
	}
	code, _, stderr = runCLI(t, "backup", "--config", cfgPath)
	if code != exitUsage || !strings.Contains(stderr, "--out is required") {
		t.Errorf("backup without --out: exit %d, %q", code, stderr)
	}
}

// TestRestoreRefusesCorrupted: a damaged or incomplete backup is refused
// before anything in the data folder changes.
func TestRestoreRefusesCorrupted(t *testing.T) {
	src, srcPath := retentionConfig(t, "")
	seedReviewFiles(t, src.DataDir)
	st, err := decisions.Open(reviewPath(src.DataDir, decisionsFile))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 300; i++ {
		if _, err := st.Record(context.Background(), decisions.Decision{Household: fmt.Sprintf("hh%d", i), Kind: decisions.OfferMade,
			Navigator: "nav.one", At: time.Date(2026, 7, 6, 9, 0, 0, 0, time.UTC)}); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	good := filepath.Join(t.TempDir(), "backup")
	if code, _, stderr := runCLI(t, "backup", "--config", srcPath, "--out", good); code != 0 {
		t.Fatalf("backup: %s", stderr)
	}

	// Each case damages a fresh copy of the good backup.
	flip := func(name string, at func(n int) int) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			p := filepath.Join(dir, name)
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			b[at(len(b))] ^= 0xff
			if err := os.WriteFile(p, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	editManifest := func(edit func(m *backupManifest)) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			p := filepath.Join(dir, backupManifestFile)
			var m backupManifest
			if err := json.Unmarshal([]byte(read(t, p)), &m); err != nil {
				t.Fatal(err)
			}
			edit(&m)
			if err := writeJSONAtomic(p, &m); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name   string
		damage func(t *testing.T, dir string)
		want   string
	}{
		{"a byte of the decisions changed", flip("decisions.db", func(n int) int { return n / 2 }), "decisions.db is damaged"},
		{"a byte of the users file changed", flip("users.json", func(n int) int { return n - 3 }), "users.json is damaged"},
		{"access log cut short", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "access.log")
			if err := os.Truncate(p, 10); err != nil {
				t.Fatal(err)
			}
		}, "access.log is damaged"},
		{"a file gone", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, "state.json")); err != nil {
				t.Fatal(err)
			}
		}, "state.json"},
		{"no manifest", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, backupManifestFile)); err != nil {
				t.Fatal(err)
			}
		}, "not a backup, or one that did not finish"},
		{"manifest names a file outside the list", editManifest(func(m *backupManifest) {
			m.Files[0].Name = "../../etc/passwd"
		}), `unexpected file "../../etc/passwd"`},
		{"decisions damaged and its checksum forged", func(t *testing.T, dir string) {
			// Zeros over the middle third: pages whose b-tree no longer
			// adds up, which only SQLite's integrity check can see.
			p := filepath.Join(dir, "decisions.db")
			b := []byte(read(t, p))
			for i := len(b) / 3; i < 2*len(b)/3; i++ {
				b[i] = 0
			}
			if err := os.WriteFile(p, b, 0o600); err != nil {
				t.Fatal(err)
			}
			sum, n, err := fileSHA256(filepath.Join(dir, "decisions.db"))
			if err != nil {
				t.Fatal(err)
			}
			editManifest(func(m *backupManifest) {
				for i := range m.Files {
					if m.Files[i].Name == "decisions.db" {
						m.Files[i].SHA256, m.Files[i].Bytes = sum, n
					}
				}
			})(t, dir)
		}, "decisions: verify"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "backup")
			if err := os.MkdirAll(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			for _, e := range mustReadDir(t, good) {
				if err := os.WriteFile(filepath.Join(dir, e), []byte(read(t, filepath.Join(good, e))), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			tc.damage(t, dir)
			target, targetPath := retentionConfig(t, "")
			code, _, stderr := runCLI(t, "restore", "--config", targetPath, "--from", dir)
			if code != exitFailed || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, "nothing was restored") {
				t.Errorf("exit %d, %q; want exit 1 mentioning %q and that nothing was restored", code, stderr, tc.want)
			}
			for _, it := range backupItems() {
				if _, err := os.Stat(filepath.Join(target.DataDir, it.rel)); err == nil {
					t.Errorf("%s was written by a refused restore", it.rel)
				}
			}
		})
	}
	// The undamaged backup restores, so the refusals above are the damage's.
	_, targetPath := retentionConfig(t, "")
	if code, _, stderr := runCLI(t, "restore", "--config", targetPath, "--from", good); code != 0 {
		t.Errorf("restore of the good backup: exit %d: %s", code, stderr)
	}
}

func mustReadDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}
