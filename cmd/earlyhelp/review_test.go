package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	usersPkg "earlyhelp/pipeline/review/users"
)

// TestDemoReviewSite: the demo prints one account per role, and its
// navigator can sign in to the site over the demo's run, open a listed
// family with its timeline, and record a decision that the next run reads
// under the household's pseudonym.
func TestDemoReviewSite(t *testing.T) {
	out := smallDemo(t)
	m := regexp.MustCompile(`(?m)^\s+demo-navigator\s+navigator\s+(\S+)$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("demo printed no navigator account:\n%s", out)
	}
	pw := m[1]
	for _, role := range []string{"demo-auditor", "demo-engineer"} {
		if !strings.Contains(out, role) {
			t.Errorf("demo printed no %s account", role)
		}
	}
	// A copy of the demo's run and accounts, so the decision below does not
	// reach the other tests' runs.
	runDir, _ := latestRun(t)
	dataDir := t.TempDir()
	copyTree(t, runDir, filepath.Join(dataDir, "runs", filepath.Base(runDir)))
	copyTree(t, filepath.Join(filepath.Dir(filepath.Dir(runDir)), "review", usersFile), filepath.Join(dataDir, "review", usersFile))

	site, closeSite, err := openSite(dataDir, false, sitePack{}, nil, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer closeSite()
	srv := httptest.NewServer(site)
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	body := fetch(t, c, srv.URL+"/login", nil)
	token := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
	body = fetch(t, c, srv.URL+"/login", url.Values{"username": {"demo-navigator"}, "password": {pw}, "csrf_token": {token.FindStringSubmatch(body)[1]}})
	if !strings.Contains(body, `id="navigator-list"`) {
		t.Fatalf("signed-in navigator did not land on the list")
	}
	// The first listed household, from the list file.
	f, err := os.Open(filepath.Join(runDir, "list", "navigator_list.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(rows) < 2 {
		t.Fatalf("list: %d rows, %v", len(rows), err)
	}
	ref := rows[1][1]
	body = fetch(t, c, srv.URL+"/family/"+url.PathEscape(ref), nil)
	if !strings.Contains(body, `<svg class="eh-timeline"`) || !strings.Contains(body, "<rect") {
		t.Errorf("family page has no attendance timeline")
	}
	fetch(t, c, srv.URL+"/family/"+url.PathEscape(ref)+"/decision",
		url.Values{"decision": {"unable_to_contact"}, "csrf_token": {token.FindStringSubmatch(body)[1]}})

	got, err := decisionsFor(dataDir)(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("decisions for the next run: %v", got)
	}
	for hh, d := range got {
		if d.Decision != "unable_to_contact" || strings.Contains(hh, ref) {
			t.Errorf("decision %q under %q; want unable_to_contact under the household's pseudonym", d.Decision, hh)
		}
	}
}

func fetch(t *testing.T, c *http.Client, u string, form url.Values) string {
	t.Helper()
	var resp *http.Response
	var err error
	if form == nil {
		resp, err = c.Get(u)
	} else {
		resp, err = c.PostForm(u, form)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	io.Copy(&b, resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d", u, resp.StatusCode)
	}
	return b.String()
}

// copyTree copies a file or a folder.
func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.Walk(from, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if info.IsDir() {
			return os.MkdirAll(dst, 0o750)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestUsersCommand: accounts are added with the password on standard
// input, listed without hashes, and removed; bad use is exit code 2.
func TestUsersCommand(t *testing.T) {
	smallDemo(t)
	base, err := os.ReadFile(filepath.Join(demoDir, "earlyhelp.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "earlyhelp.yaml")
	if err := os.WriteFile(cfgPath, base, 0o600); err != nil {
		t.Fatal(err)
	}
	users := func(stdin string, args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		err := runUsers(context.Background(), append(args, "--config", cfgPath), strings.NewReader(stdin), &out, &errb)
		if err != nil {
			errb.WriteString(err.Error())
		}
		return exitCode(err), out.String(), errb.String()
	}
	if code, _, stderr := users("a long enough password\n", "add", "amira", "--role", "navigator", "--localities", "North, South"); code != 0 {
		t.Fatalf("add: %d %s", code, stderr)
	}
	code, out, _ := users("", "list")
	if code != 0 || !strings.Contains(out, "amira\tnavigator\tNorth,South") || strings.Contains(out, "$2") {
		t.Errorf("list: %d %q", code, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "var", "review", usersFile))
	if err != nil {
		t.Fatalf("users file: %v", err)
	}
	if strings.Contains(string(b), "a long enough password") {
		t.Error("the users file holds the password in clear")
	}
	for _, tc := range []struct {
		stdin string
		args  []string
		code  int
	}{
		{"pw that is long enough\n", []string{"add", "x1", "--role", "captain"}, exitFailed},
		{"short\n", []string{"add", "x2", "--role", "auditor"}, exitFailed},
		{"", []string{"add", "x3", "--role", "auditor"}, exitFailed},
		{"", []string{"add"}, exitUsage},
		{"", []string{"promote", "amira"}, exitUsage},
		{"", []string{"remove", "nobody"}, exitFailed},
	} {
		if code, _, stderr := users(tc.stdin, tc.args...); code != tc.code {
			t.Errorf("users %v: exit %d (%s); want %d", tc.args, code, stderr, tc.code)
		}
	}
	// A new password: the old one no longer signs in, the new one does.
	if code, _, stderr := users("a different long password\n", "passwd", "amira"); code != 0 {
		t.Fatalf("passwd: %d %s", code, stderr)
	}
	uf, err := usersPkg.Load(filepath.Join(dir, "var", "review", usersFile))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := uf.Authenticate("amira", []byte("a long enough password")); err == nil {
		t.Error("the old password still signs in after passwd")
	}
	if u, err := uf.Authenticate("amira", []byte("a different long password")); err != nil || u.Role != "navigator" {
		t.Errorf("new password: %+v, %v; want amira as a navigator", u, err)
	}
	for _, tc := range []struct {
		stdin string
		args  []string
		code  int
	}{
		{"short\n", []string{"passwd", "amira"}, exitFailed},
		{"", []string{"passwd", "amira"}, exitFailed},
		{"pw that is long enough\n", []string{"passwd", "nobody"}, exitFailed},
		{"pw that is long enough\n", []string{"passwd"}, exitUsage},
	} {
		if code, _, stderr := users(tc.stdin, tc.args...); code != tc.code {
			t.Errorf("users %v: exit %d (%s); want %d", tc.args, code, stderr, tc.code)
		}
	}
	if code, _, stderr := users("", "remove", "amira"); code != 0 {
		t.Errorf("remove: %d %s", code, stderr)
	}
	if _, out, _ := users("", "list"); strings.Contains(out, "amira") {
		t.Error("removed user still listed")
	}
}
