package review

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAccessLogMendsTornTail: opening a log whose last line was torn by a
// crash moves the fragment aside and cuts the log back to its last whole
// line, so the next entry is a line of its own.
func TestAccessLogMendsTornTail(t *testing.T) {
	whole := `{"at":"2026-01-05T09:00:00Z","user":"nav","why":"viewed family page"}` + "\n"
	long := strings.Repeat("x", 10000) // a fragment longer than one read-back block
	at := time.Unix(1767600000, 0)
	for _, tc := range []struct {
		name, before   string
		wantLog, wantS string // log content after opening; side file ("" none)
	}{
		{"new log", "", "", ""},
		{"whole lines", whole + whole, whole + whole, ""},
		{"torn after whole lines", whole + whole + `{"at":"2026-01-0`, whole + whole, `{"at":"2026-01-0`},
		{"only a fragment", `{"at":`, "", `{"at":`},
		{"long fragment", whole + long, whole, long},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "access.log")
			if tc.before != "" {
				if err := os.WriteFile(path, []byte(tc.before), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			a, err := openAccessLog(path, at)
			if err != nil {
				t.Fatal(err)
			}
			defer a.close()
			if got := read(t, path); got != tc.wantLog {
				t.Errorf("log after opening = %q; want %q", short(got), short(tc.wantLog))
			}
			side := path + ".torn-1767600000"
			got, err := os.ReadFile(side)
			switch {
			case tc.wantS == "" && err == nil:
				t.Errorf("side file %s written for a whole log", side)
			case tc.wantS != "" && string(got) != tc.wantS:
				t.Errorf("side file = %q (%v); want %q", short(string(got)), err, short(tc.wantS))
			}
			if err := a.write(Access{At: at, User: "nav", Why: "viewed family page"}); err != nil {
				t.Fatal(err)
			}
			for i, l := range strings.SplitAfter(read(t, path), "\n") {
				if l == "" {
					continue
				}
				var e Access
				if !strings.HasSuffix(l, "\n") || json.Unmarshal([]byte(l), &e) != nil {
					t.Errorf("line %d is not one whole entry: %q", i+1, short(l))
				}
			}
		})
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func short(s string) string {
	if len(s) > 80 {
		return s[:40] + "..." + s[len(s)-40:]
	}
	return s
}

// fakeLogFile records what the access log does with its file, and can
// fail a write after some bytes.
type fakeLogFile struct {
	data    []byte
	calls   []string // "write", "sync", "truncate"
	failAt  int      // bytes a failing write puts down; -1 never fails
	failErr error
}

func (f *fakeLogFile) Write(p []byte) (int, error) {
	f.calls = append(f.calls, "write")
	if f.failAt >= 0 {
		n := min(f.failAt, len(p))
		f.data = append(f.data, p[:n]...)
		return n, f.failErr
	}
	f.data = append(f.data, p...)
	return len(p), nil
}

func (f *fakeLogFile) Sync() error  { f.calls = append(f.calls, "sync"); return nil }
func (f *fakeLogFile) Close() error { return nil }
func (f *fakeLogFile) Truncate(n int64) error {
	f.calls = append(f.calls, "truncate")
	f.data = f.data[:n]
	return nil
}

// TestAccessLogWrite: each entry is one Write of a whole line then a sync,
// and a write that fails part-way is cut back off.
func TestAccessLogWrite(t *testing.T) {
	for _, tc := range []struct {
		name      string
		failAt    int
		wantErr   bool
		wantCalls string
	}{
		{"ok", -1, false, "write sync write sync"},
		{"fails with nothing written", 0, true, "write sync write"},
		{"fails part-way", 10, true, "write sync write truncate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeLogFile{failAt: -1, failErr: errors.New("no space left on device")}
			a := &accessLog{f: f}
			if err := a.write(Access{User: "nav", Why: "first"}); err != nil {
				t.Fatal(err)
			}
			first := string(f.data)
			f.failAt = tc.failAt
			err := a.write(Access{User: "nav", Why: "second"})
			if (err != nil) != tc.wantErr {
				t.Errorf("second write: %v; want error %v", err, tc.wantErr)
			}
			if got := strings.Join(f.calls, " "); got != tc.wantCalls {
				t.Errorf("calls %q; want %q", got, tc.wantCalls)
			}
			if tc.wantErr && string(f.data) != first {
				t.Errorf("after a failed write the log is %q; want only the first line", f.data)
			}
			if !strings.HasSuffix(string(f.data), "\n") {
				t.Errorf("log %q does not end a line", f.data)
			}
		})
	}
}

// TestAccessLogOutcomes: refused family lookups are logged as denied,
// refused decisions as rejected, and a decision whose log line cannot be
// written is not stored.
func TestAccessLogOutcomes(t *testing.T) {
	dataDir, uf := fixture(t)
	h := newHarness(t, dataDir, uf)
	nav, _ := h.signIn(t, "nav", password)
	aud, _ := h.signIn(t, "aud", password)
	_, body, _ := get(t, nav, h.srv.URL+"/family/HH-1001")
	tok := csrf(t, body)
	logPath := filepath.Join(dataDir, "review", "access.log")
	lastEntry := func() Access {
		t.Helper()
		lines := strings.Split(strings.TrimSpace(read(t, logPath)), "\n")
		var e Access
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &e); err != nil {
			t.Fatal(err)
		}
		return e
	}
	postForm := func(c *http.Client, path string, form url.Values) int {
		code, _, _ := post(t, c, h.srv.URL+path, form)
		return code
	}
	for _, tc := range []struct {
		name string
		do   func() int
		code int
		user string
		ref  string
		why  string
	}{
		{"another locality's family", func() int { c, _, _ := get(t, nav, h.srv.URL+"/family/HH-2002"); return c },
			http.StatusNotFound, "nav", "HH-2002", "denied"},
		{"an unknown family", func() int { c, _, _ := get(t, nav, h.srv.URL+"/family/HH-9999"); return c },
			http.StatusNotFound, "nav", "HH-9999", "denied"},
		{"a made-up ref, bounded", func() int {
			c, _, _ := get(t, nav, h.srv.URL+"/family/"+strings.Repeat("X", 1000))
			return c
		}, http.StatusNotFound, "nav", strings.Repeat("X", 64) + "...", "denied"},
		{"a family, as an auditor", func() int { c, _, _ := get(t, aud, h.srv.URL+"/family/HH-1001"); return c },
			http.StatusForbidden, "aud", "HH-1001", "denied"},
		{"a decision for another locality", func() int {
			return postForm(nav, "/family/HH-2002/decision", url.Values{"decision": {"offer_made"}, "csrf_token": {tok}})
		}, http.StatusNotFound, "nav", "HH-2002", "denied"},
		{"an unknown decision", func() int {
			return postForm(nav, "/family/HH-1001/decision", url.Values{"decision": {"call_police"}, "csrf_token": {tok}})
		}, http.StatusBadRequest, "nav", "HH-1001", "rejected"},
		{"a decision with a forged token", func() int {
			return postForm(nav, "/family/HH-1001/decision", url.Values{"decision": {"offer_made"}, "csrf_token": {"forged"}})
		}, http.StatusForbidden, "nav", "HH-1001", "rejected"},
		{"a decision too large", func() int {
			return postForm(nav, "/family/HH-1001/decision", url.Values{"decision": {"offer_made"}, "note": {strings.Repeat("a", 70<<10)}, "csrf_token": {tok}})
		}, http.StatusRequestEntityTooLarge, "nav", "HH-1001", "rejected"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code := tc.do(); code != tc.code {
				t.Errorf("status %d; want %d", code, tc.code)
			}
			if e := lastEntry(); e.User != tc.user || e.Household != tc.ref || e.Why != tc.why {
				t.Errorf("last access-log entry %+v; want %s, %s, %s", e, tc.user, tc.ref, tc.why)
			}
		})
	}
	if latest, err := h.store.Latest(t.Context()); err != nil || len(latest) != 0 {
		t.Fatalf("decisions stored by refused requests: %v, %v", latest, err)
	}

	t.Run("log unwritable", func(t *testing.T) {
		h.site.access.mu.Lock()
		h.site.access.f = &fakeLogFile{failAt: 0, failErr: errors.New("no space left on device")}
		h.site.access.mu.Unlock()
		code, body, _ := post(t, nav, h.srv.URL+"/family/HH-1001/decision", url.Values{"decision": {"offer_made"}, "csrf_token": {tok}})
		if code != http.StatusInternalServerError || !strings.Contains(body, "Your decision was not saved") ||
			!strings.Contains(body, "access log could not be written") {
			t.Errorf("decision with the log unwritable: %d, no page saying it was not saved", code)
		}
		if latest, err := h.store.Latest(t.Context()); err != nil || len(latest) != 0 {
			t.Errorf("decision stored though its log line was not written: %v, %v", latest, err)
		}
		if h.counted["offer_made"] != 0 {
			t.Errorf("decision counted: %v", h.counted)
		}
	})
}
