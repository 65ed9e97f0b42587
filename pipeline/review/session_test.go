package review

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable Config.Now, safe for the server's goroutines.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestSessionLimits: a session ends when idle for SessionTTL, and also
// SessionMaxAge after sign-in however often it is used.
func TestSessionLimits(t *testing.T) {
	for _, tc := range []struct {
		name  string
		steps []time.Duration // a request after each step of the clock
		alive []bool          // whether that request was still signed in
	}{
		{"used every hour", []time.Duration{time.Hour, time.Hour, time.Hour}, []bool{true, true, true}},
		{"idle past the idle limit", []time.Duration{time.Hour, 8*time.Hour + time.Second}, []bool{true, false}},
		{"busy past the absolute limit", []time.Duration{6 * time.Hour, 5 * time.Hour, 59 * time.Minute, time.Minute}, []bool{true, true, true, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dataDir, uf := fixture(t)
			clk := &fakeClock{t: time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)}
			h := newHarness(t, dataDir, uf, func(c *Config) {
				c.Now = clk.now
				c.SessionTTL = 8 * time.Hour
				c.SessionMaxAge = 12 * time.Hour
			})
			c, code := h.signIn(t, "nav", password)
			if code != http.StatusSeeOther {
				t.Fatalf("sign in: %d", code)
			}
			for i, d := range tc.steps {
				clk.advance(d)
				code, _, hdr := get(t, c, h.srv.URL+"/list")
				alive := code == http.StatusOK
				if alive != tc.alive[i] {
					t.Fatalf("request %d: %d (to %q); want signed in %v", i+1, code, hdr.Get("Location"), tc.alive[i])
				}
				if !alive && hdr.Get("Location") != "/login" {
					t.Errorf("request %d: redirected to %q; want /login", i+1, hdr.Get("Location"))
				}
			}
		})
	}
}

// TestNoStoreEverywhere: every route's response, signed in with a role that
// may use it, tells browsers and proxies not to keep it.
func TestNoStoreEverywhere(t *testing.T) {
	dataDir, uf := fixture(t)
	h := newHarness(t, dataDir, uf)
	who := map[string]string{"navigator": "nav", "auditor": "aud", "engineer": "eng"}
	for _, rt := range Routes() {
		method, path, _ := strings.Cut(rt.Pattern, " ")
		path = strings.NewReplacer("{ref}", "HH-1001", "{$}", "").Replace(path)
		roles := rt.Roles
		if roles == nil {
			roles = []string{""}
		}
		for _, role := range roles {
			c := client(t)
			tok := ""
			if role != "" {
				c, _ = h.signIn(t, who[role], password)
				tok = h.token(t, c)
			}
			var code int
			var hdr http.Header
			if method == http.MethodGet {
				code, _, hdr = get(t, c, h.srv.URL+path)
			} else {
				code, _, hdr = post(t, c, h.srv.URL+path, url.Values{"csrf_token": {tok}, "decision": {"offer_made"}})
			}
			if got := hdr.Get("Cache-Control"); got != "no-store" {
				t.Errorf("%s as %q (%d): Cache-Control %q; want no-store", rt.Pattern, role, code, got)
			}
		}
	}
}
