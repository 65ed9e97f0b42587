package review

import (
	"net/http"
	"net/url"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"earlyhelp/pipeline/review/users"
)

// TestRevocation: changes an administrator makes to the users file (from
// another process, as `earlyhelp users` does) reach a running site at the
// next request: sessions of a changed account end, new accounts sign in.
func TestRevocation(t *testing.T) {
	tests := []struct {
		name   string
		change func(admin *users.File) error
		// ends: whether nav's open session ends; then whether nav signs in
		// again with the old password.
		ends, oldPasswordWorks bool
	}{
		{"removed", func(a *users.File) error { return a.Remove("nav") }, true, false},
		{"new password", func(a *users.File) error { return a.SetPassword("nav", []byte("a brand new password")) }, true, false},
		{"new role", func(a *users.File) error { return a.Add("nav", users.Auditor, nil, []byte(password)) }, true, true},
		{"new localities", func(a *users.File) error {
			return a.Add("nav", users.Navigator, []string{"North"}, []byte(password))
		}, true, true},
		{"someone else removed", func(a *users.File) error { return a.Remove("navsouth") }, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dataDir, uf := fixture(t)
			h := newHarness(t, dataDir, uf)
			c, code := h.signIn(t, "nav", password)
			if code != http.StatusSeeOther {
				t.Fatalf("sign in: %d", code)
			}
			_, body, _ := get(t, c, h.srv.URL+"/family/HH-1001")
			tok := csrf(t, body)

			admin, err := users.Load(filepath.Join(dataDir, "review", "users.json"))
			if err != nil {
				t.Fatal(err)
			}
			admin.SetCost(bcrypt.MinCost)
			if err := tt.change(admin); err != nil {
				t.Fatal(err)
			}

			code, _, hdr := get(t, c, h.srv.URL+"/list")
			if ended := code == http.StatusSeeOther && hdr.Get("Location") == "/login"; ended != tt.ends {
				t.Errorf("/list after the change: %d to %q; want session ended %v", code, hdr.Get("Location"), tt.ends)
			}
			if tt.ends {
				code, _, _ := post(t, c, h.srv.URL+"/family/HH-1001/decision", url.Values{"decision": {"offer_made"}, "csrf_token": {tok}})
				if code != http.StatusForbidden {
					t.Errorf("decision after the change: %d; want 403", code)
				}
				if latest, err := h.store.Latest(t.Context()); err != nil || len(latest) != 0 {
					t.Errorf("decisions stored: %v, %v; want none", latest, err)
				}
			}
			if _, code := h.signIn(t, "nav", password); (code == http.StatusSeeOther) != tt.oldPasswordWorks {
				t.Errorf("sign in with the old password: %d; want success %v", code, tt.oldPasswordWorks)
			}
		})
	}

	t.Run("added", func(t *testing.T) {
		dataDir, uf := fixture(t)
		h := newHarness(t, dataDir, uf)
		if _, code := h.signIn(t, "newcomer", password); code != http.StatusUnauthorized {
			t.Fatalf("unknown user: %d; want 401", code)
		}
		admin, err := users.Load(filepath.Join(dataDir, "review", "users.json"))
		if err != nil {
			t.Fatal(err)
		}
		admin.SetCost(bcrypt.MinCost)
		if err := admin.Add("newcomer", users.Navigator, []string{"South"}, []byte(password)); err != nil {
			t.Fatal(err)
		}
		c, code := h.signIn(t, "newcomer", password)
		if code != http.StatusSeeOther {
			t.Fatalf("added user signs in: %d; want 303", code)
		}
		if code, _, _ := get(t, c, h.srv.URL+"/family/HH-2002"); code != http.StatusOK {
			t.Errorf("added user's family: %d", code)
		}
	})
}
