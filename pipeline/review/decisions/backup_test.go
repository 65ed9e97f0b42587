package decisions

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestBackupWhileWriting: a copy taken while a writer records decisions
// holds every decision recorded before the copy began, whole, and the
// writer is not held up by it.
func TestBackupWhileWriting(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, filepath.Join(dir, "decisions.db"))

	var mu sync.Mutex
	var done []Decision
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			d, err := s.Record(ctx, decision(fmt.Sprintf("h%d", i%50), Kinds()[i%len(Kinds())], t0().Add(time.Duration(i)*time.Second)))
			if err != nil {
				t.Errorf("Record: %v", err)
				return
			}
			mu.Lock()
			done = append(done, d)
			mu.Unlock()
		}
	}()
	waitFor := func(n int) {
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			mu.Lock()
			got := len(done)
			mu.Unlock()
			if got >= n {
				return
			}
		}
		t.Fatalf("the writer recorded fewer than %d decisions in 10s", n)
	}
	waitFor(50)
	mu.Lock()
	before := append([]Decision(nil), done...)
	mu.Unlock()
	dst := filepath.Join(dir, "copy.db")
	if err := s.Backup(ctx, dst); err != nil {
		t.Fatalf("Backup: %v", err)
	}
	waitFor(len(before) + 20) // the writer went on during and after the copy
	close(stop)
	wg.Wait()

	if err := Verify(ctx, dst); err != nil {
		t.Fatalf("Verify of a fresh copy: %v", err)
	}
	if fi, err := os.Stat(dst); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("copy mode: %v %v; want 0600", fi.Mode().Perm(), err)
	}
	c := open(t, dst)
	got := map[int64]Decision{}
	for h := 0; h < 50; h++ {
		hist, err := c.History(ctx, fmt.Sprintf("h%d", h))
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
			t.Fatalf("decision %d, recorded before the backup began, is not in the copy", want.ID)
		}
		if d.Kind != want.Kind || d.Household != want.Household || !d.At.Equal(want.At) || d.ReasonCategory != want.ReasonCategory {
			t.Errorf("decision %d: got %+v; want %+v", want.ID, d, want)
		}
	}
	mu.Lock()
	total := len(done)
	mu.Unlock()
	if len(got) >= total {
		t.Errorf("copy holds %d decisions, the store %d: the copy should predate the last ones", len(got), total)
	}
	// The copy is still append-only.
	if _, err := c.db.ExecContext(ctx, `DELETE FROM decisions`); err == nil {
		t.Error("DELETE on the copy succeeded; the append-only triggers were lost")
	}
}

func TestBackupRefusesExisting(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, filepath.Join(dir, "decisions.db"))
	dst := filepath.Join(dir, "there.db")
	if err := os.WriteFile(dst, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.Backup(ctx, dst); !errors.Is(err, fs.ErrExist) {
		t.Errorf("Backup over an existing file: got %v; want fs.ErrExist", err)
	}
}

func TestVerify(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, filepath.Join(dir, "decisions.db"))
	for i := 0; i < 200; i++ {
		if _, err := s.Record(ctx, decision(fmt.Sprintf("h%d", i), OfferMade, t0())); err != nil {
			t.Fatal(err)
		}
	}
	good := filepath.Join(dir, "good.db")
	if err := s.Backup(ctx, good); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// Zeros over the middle pages: the b-tree no longer adds up.
	damaged := append([]byte(nil), b...)
	for i := len(damaged) / 3; i < 2*len(damaged)/3; i++ {
		damaged[i] = 0
	}
	tests := []struct {
		name string
		path string
		ok   bool
	}{
		{"fresh copy", good, true},
		{"damaged pages", write("damaged.db", damaged), false},
		{"not sqlite", write("text.db", []byte("decisions, honest\n")), false},
		{"missing", filepath.Join(dir, "none.db"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Verify(ctx, tc.path)
			if (err == nil) != tc.ok {
				t.Errorf("Verify: got %v; want ok=%v", err, tc.ok)
			}
			for _, side := range []string{"-wal", "-shm", "-journal"} {
				if _, err := os.Stat(tc.path + side); err == nil {
					t.Errorf("Verify left %s beside the file", side)
				}
			}
		})
	}
}
