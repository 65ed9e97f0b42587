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

	site, closeSite, err := openSite(dataDir, false, nil, zerolog.Nop())
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
