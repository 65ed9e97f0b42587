package users

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func load(t *testing.T, path string) *File {
	t.Helper()
	f, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	f.SetCost(bcrypt.MinCost)
	return f
}

func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.json")
	f := load(t, path)
	if got := f.Users(); len(got) != 0 {
		t.Fatalf("a missing file has users %v", got)
	}
	adds := []struct {
		name, role string
		localities []string
		password   string
	}{
		{"nav.one", Navigator, []string{"south", "north"}, "correct horse battery"},
		{"aud_1", Auditor, nil, "auditor password 1"},
		{"eng-1", Engineer, nil, "engineer password 1"},
		{"zz", Navigator, []string{"east"}, "to be removed soon"},
	}
	for _, a := range adds {
		if err := f.Add(a.name, a.role, a.localities, []byte(a.password)); err != nil {
			t.Fatalf("Add(%s): %v", a.name, err)
		}
	}
	// Replacing a user changes their role and password.
	if err := f.Add("eng-1", Auditor, nil, []byte("new engineer pass")); err != nil {
		t.Fatal(err)
	}
	if err := f.Remove("zz"); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if err := f.Remove("zz"); err == nil {
		t.Error("removing an unknown user succeeded")
	}

	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("users file mode %o, want 600", mode)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "correct horse") {
		t.Error("the users file holds a password in clear")
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("folder holds %d files, want only the users file", len(entries))
	}

	g := load(t, path)
	want := []User{
		{Name: "aud_1", Role: Auditor},
		{Name: "eng-1", Role: Auditor},
		{Name: "nav.one", Role: Navigator, Localities: []string{"north", "south"}},
	}
	got := g.Users()
	for i := range got {
		got[i].stamp = "" // a digest of the hash, different every run
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Users after reload = %+v, want %+v", got, want)
	}
	if u, ok := g.Lookup("nav.one"); !ok || u.Role != Navigator || u.Hash != "" {
		t.Errorf("Lookup(nav.one) = %+v, %v", u, ok)
	}
	if _, ok := g.Lookup("zz"); ok {
		t.Error("Lookup found a removed user")
	}

	tests := []struct {
		name, password string
		wantRole       string
		wantErr        error
	}{
		{"nav.one", "correct horse battery", Navigator, nil},
		{"eng-1", "new engineer pass", Auditor, nil},
		{"eng-1", "engineer password 1", "", ErrBadCredentials},
		{"nav.one", "correct horse batterY", "", ErrBadCredentials},
		{"nav.one", "", "", ErrBadCredentials},
		{"nav.one", "correct horse battery" + strings.Repeat("x", 80), "", ErrBadCredentials},
		{"zz", "to be removed soon", "", ErrBadCredentials},
		{"nobody", "correct horse battery", "", ErrBadCredentials},
		{"", "correct horse battery", "", ErrBadCredentials},
	}
	for _, tt := range tests {
		u, err := g.Authenticate(tt.name, []byte(tt.password))
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("Authenticate(%q, …) error = %v, want %v", tt.name, err, tt.wantErr)
			continue
		}
		if err != nil && strings.Contains(err.Error(), tt.password) && tt.password != "" {
			t.Errorf("Authenticate error %q quotes the password", err)
		}
		if err == nil && (u.Name != tt.name || u.Role != tt.wantRole || u.Hash != "") {
			t.Errorf("Authenticate(%q) = %+v", tt.name, u)
		}
	}
}

func TestAddValidation(t *testing.T) {
	const pw = "twelve bytes"
	tests := []struct {
		name, user, role string
		localities       []string
		password         string
		wantErr          string
	}{
		{"too short name", "a", Auditor, nil, pw, "user name"},
		{"too long name", strings.Repeat("a", 65), Auditor, nil, pw, "user name"},
		{"upper case", "Alice", Auditor, nil, pw, "user name"},
		{"space", "al ice", Auditor, nil, pw, "user name"},
		{"slash", "al/ice", Auditor, nil, pw, "user name"},
		{"unicode", "alicé", Auditor, nil, pw, "user name"},
		{"unknown role", "alice", "admin", nil, pw, "unknown role"},
		{"empty role", "alice", "", nil, pw, "unknown role"},
		{"navigator without localities", "alice", Navigator, nil, pw, "at least one locality"},
		{"navigator with empty locality", "alice", Navigator, []string{""}, pw, "empty locality"},
		{"navigator with locality twice", "alice", Navigator, []string{"n", "n"}, pw, "twice"},
		{"auditor with localities", "alice", Auditor, []string{"north"}, pw, "cannot have localities"},
		{"engineer with localities", "alice", Engineer, []string{"north"}, pw, "cannot have localities"},
		{"short password", "alice", Auditor, nil, "eleven byte", "shorter than 12"},
		{"empty password", "alice", Auditor, nil, "", "shorter than 12"},
		{"long password", "alice", Auditor, nil, strings.Repeat("p", 73), "longer than the 72"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "users.json")
			f := load(t, path)
			err := f.Add(tt.user, tt.role, tt.localities, []byte(tt.password))
			if err == nil {
				t.Fatal("Add succeeded")
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not mention %q", err, tt.wantErr)
			}
			if tt.password != "" && strings.Contains(err.Error(), tt.password) {
				t.Errorf("error %q quotes the password", err)
			}
			if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a refused Add wrote the file (stat: %v)", err)
			}
		})
	}

	valid := []struct {
		user, role string
		localities []string
		password   string
	}{
		{"ab", Auditor, nil, "twelve bytes"},
		{strings.Repeat("a", 64), Engineer, nil, strings.Repeat("p", 72)},
		{"a.b_c-9", Navigator, []string{"north"}, "twelve bytes"},
	}
	for _, v := range valid {
		f := load(t, filepath.Join(t.TempDir(), "users.json"))
		if err := f.Add(v.user, v.role, v.localities, []byte(v.password)); err != nil {
			t.Errorf("Add(%q, %q): %v", v.user, v.role, err)
		}
	}
}

func TestLoadRejectsDamagedFile(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("twelve bytes"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, content, wantErr string
	}{
		{"not json", "{", "unexpected end"},
		{"bad role", `{"users":[{"name":"al","role":"root","hash":"` + string(hash) + `"}]}`, "unknown role"},
		{"no hash", `{"users":[{"name":"al","role":"auditor","hash":""}]}`, "no usable bcrypt hash"},
		{"twice", `{"users":[{"name":"al","role":"auditor","hash":"` + string(hash) + `"},{"name":"al","role":"auditor","hash":"` + string(hash) + `"}]}`, "listed twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "users.json")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Load error = %v, want one mentioning %q", err, tt.wantErr)
			}
		})
	}
}

func TestUsersReturnsCopies(t *testing.T) {
	f := load(t, filepath.Join(t.TempDir(), "users.json"))
	if err := f.Add("nav", Navigator, []string{"north"}, []byte("twelve bytes")); err != nil {
		t.Fatal(err)
	}
	f.Users()[0].Localities[0] = "changed"
	u, _ := f.Lookup("nav")
	u.Localities[0] = "changed"
	if u, _ := f.Lookup("nav"); u.Localities[0] != "north" {
		t.Errorf("a caller's change reached the File: %v", u.Localities)
	}
}
