package users

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

const pw = "correct horse battery"

// TestReload: a File sees changes another process makes to its file at
// the next read, and a file it cannot read leaves it with no users.
func TestReload(t *testing.T) {
	tests := []struct {
		name   string
		change func(t *testing.T, admin *File, path string)
		check  func(t *testing.T, served *File, before User)
	}{
		{"removed user is gone", func(t *testing.T, admin *File, _ string) {
			if err := admin.Remove("nav"); err != nil {
				t.Fatal(err)
			}
		}, func(t *testing.T, served *File, _ User) {
			if _, ok := served.Lookup("nav"); ok {
				t.Error("Lookup still finds the removed user")
			}
			if _, err := served.Authenticate("nav", []byte(pw)); !errors.Is(err, ErrBadCredentials) {
				t.Errorf("removed user authenticates: %v", err)
			}
		}},
		{"added user signs in", func(t *testing.T, admin *File, _ string) {
			if err := admin.Add("newcomer", Auditor, nil, []byte(pw)); err != nil {
				t.Fatal(err)
			}
		}, func(t *testing.T, served *File, _ User) {
			if _, err := served.Authenticate("newcomer", []byte(pw)); err != nil {
				t.Errorf("added user: %v", err)
			}
		}},
		{"new password", func(t *testing.T, admin *File, _ string) {
			if err := admin.SetPassword("nav", []byte("another long password")); err != nil {
				t.Fatal(err)
			}
		}, func(t *testing.T, served *File, before User) {
			if _, err := served.Authenticate("nav", []byte(pw)); !errors.Is(err, ErrBadCredentials) {
				t.Errorf("old password: %v; want bad credentials", err)
			}
			u, err := served.Authenticate("nav", []byte("another long password"))
			if err != nil || u.Role != Navigator || len(u.Localities) != 1 {
				t.Errorf("new password: %+v, %v", u, err)
			}
			if u.Same(before) {
				t.Error("Same reports no change after a new password")
			}
		}},
		{"new localities", func(t *testing.T, admin *File, _ string) {
			if err := admin.Add("nav", Navigator, []string{"North", "South"}, []byte(pw)); err != nil {
				t.Fatal(err)
			}
		}, func(t *testing.T, served *File, before User) {
			if u, ok := served.Lookup("nav"); !ok || u.Same(before) || len(u.Localities) != 2 {
				t.Errorf("Lookup = %+v, %v; want the new localities", u, ok)
			}
		}},
		{"damaged file fails closed", func(t *testing.T, _ *File, path string) {
			if err := os.WriteFile(path, []byte(`{"users": [`), 0o600); err != nil {
				t.Fatal(err)
			}
		}, func(t *testing.T, served *File, _ User) {
			if _, ok := served.Lookup("nav"); ok {
				t.Error("Lookup finds a user in a damaged file")
			}
			if _, err := served.Authenticate("nav", []byte(pw)); err == nil || errors.Is(err, ErrBadCredentials) {
				t.Errorf("Authenticate over a damaged file: %v; want the load error", err)
			}
			if err := served.Add("other", Auditor, nil, []byte(pw)); err == nil {
				t.Error("Add over a damaged file overwrote it")
			}
		}},
		{"deleted file has no users", func(t *testing.T, _ *File, path string) {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
		}, func(t *testing.T, served *File, _ User) {
			if _, ok := served.Lookup("nav"); ok {
				t.Error("Lookup finds a user after the file was deleted")
			}
		}},
		{"unchanged file", func(*testing.T, *File, string) {}, func(t *testing.T, served *File, before User) {
			if u, ok := served.Lookup("nav"); !ok || !u.Same(before) {
				t.Errorf("Lookup = %+v, %v; want the same user", u, ok)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "users.json")
			served := load(t, path)
			if err := served.Add("nav", Navigator, []string{"North"}, []byte(pw)); err != nil {
				t.Fatal(err)
			}
			before, err := served.Authenticate("nav", []byte(pw))
			if err != nil {
				t.Fatal(err)
			}
			tt.change(t, load(t, path), path) // as `earlyhelp users` would
			tt.check(t, served, before)
		})
	}
}

// TestReloadConcurrent: reads while another File rewrites the file see
// the old list or the new one, never a failure (run with -race).
func TestReloadConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.json")
	served := load(t, path)
	if err := served.Add("nav", Navigator, []string{"North"}, []byte(pw)); err != nil {
		t.Fatal(err)
	}
	admin := load(t, path)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, ok := served.Lookup("nav"); !ok {
					t.Error("nav vanished while others were added")
					return
				}
				served.Users()
			}
		}()
	}
	for i := range 20 {
		if err := admin.Add("aud"+string(rune('a'+i)), Auditor, nil, []byte(pw)); err != nil {
			t.Error(err)
		}
	}
	close(stop)
	wg.Wait()
	if got := len(served.Users()); got != 21 {
		t.Errorf("%d users after 20 adds; want 21", got)
	}
}
