package review

import (
	"encoding/json"
	"fmt"
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
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"

	"earlyhelp/pipeline"
	"earlyhelp/pipeline/review/decisions"
	"earlyhelp/pipeline/review/users"
	"earlyhelp/pipeline/rundir"
)

const password = "correct horse battery"

// Household references of the fixture list: the auditor's and engineer's
// pages must show none of them.
var refs = []string{"HH-1001", "HH-2002", "HH-3003", "HH-4004"}

// listRows are the fixture's navigator_list.csv rows, in the current
// columns: HH-1001 has a contact-safety instruction, the others none.
const listRows = "1,HH-1001,North,very high,0.412,new,1,2,P-1 (age 7);P-2 (age 3),attendance fell from 96% to 81% over 6 weeks;two missed health-visitor reviews,absence_change_6w;hv_missed,,," +
	"Speak to the safeguarding lead before contacting,about 1 in 4,area deprivation (IMD decile 3);two children\n" +
	"2,HH-2002,South,high,0.301,continuing,3,1,P-3 (age 12),'=in temporary accommodation since 14 Sep,ta_weeks,offer_made,2025-12-20,,about 1 in 6,\n" +
	"3,HH-3003,North,raised,0.150,returning,1,1,P-4 (age 9),late arrivals,late_13w,,,,about 1 in 9,\n" +
	"4,HH-4004,East,raised,0.120,new,1,1,P-5 (age 5),late arrivals,late_13w,,,,about 1 in 9,\n"

// families is the fixture's families.json: HH-1001 has two children with
// their own weeks and events, and a contact-safety fact.
func families() []pipeline.ListFamily {
	return []pipeline.ListFamily{
		{Rank: 1, Household: "HH-1001", Pseudonym: "hh_aaaa", Score: 0.412, Band: "very high", Likelihood: "about 1 in 4",
			ContactSafety: []pipeline.FamilySafety{{Kind: pipeline.SafetyDomesticAbuse, Date: "2025-11-03",
				Instruction: "Speak to the safeguarding lead before contacting"}},
			Reasons: []pipeline.FamilyReason{
				{Code: "absence_change_6w", Child: "P-1", Age: 7, Date: "2025-12-29", Text: "P-1 (7): attendance fell from 96% to 81% over 6 weeks, to 29 Dec"},
				{Code: "hv_missed", Child: "P-2", Age: 3, Date: "2025-12-30", Text: "P-2 (3): 12-month review: was not brought, 30 Dec"},
			},
			Context: []string{"area deprivation (IMD decile 3)", "two children"},
			Children: []pipeline.FamilyChild{
				{Ref: "P-1", Age: 7, School: "100001", SchoolName: "Northgate Primary",
					Signals: []pipeline.FamilySignal{{Code: "absence_change_6w", Date: "2025-12-29", Text: "attendance fell from 96% to 81% over 6 weeks"}}},
				{Ref: "P-2", Age: 3, Signals: []pipeline.FamilySignal{{Code: "hv_missed", Date: "2025-12-30", Text: "12-month review: was not brought"}}},
			},
			Timeline: &pipeline.Timeline{
				Weeks: []pipeline.TimelineWeek{{Start: "2025-12-22", Possible: 0}, {Start: "2025-12-29", Possible: 10, Absent: 3, Late: 1}},
				Events: []pipeline.TimelineEvent{
					{Date: "2025-12-30", Kind: "health", Text: "12-month review: was not brought", Child: "P-2"},
					{Date: "2025-12-31", Kind: "housing", Text: "moved to temporary accommodation"},
				},
				Children: []pipeline.ChildWeeks{
					{Child: "P-1", Weeks: []pipeline.TimelineWeek{{Start: "2025-12-22", Possible: 0}, {Start: "2025-12-29", Possible: 10, Absent: 3, Late: 1}}},
					{Child: "P-2", Weeks: []pipeline.TimelineWeek{{Start: "2025-12-22"}, {Start: "2025-12-29"}}},
				}}},
		{Rank: 2, Household: "HH-2002", Pseudonym: "hh_bbbb", Score: 0.301, Band: "high", Likelihood: "about 1 in 6"},
		{Rank: 3, Household: "HH-3003", Pseudonym: "hh_cccc", Score: 0.150, Band: "raised", Likelihood: "about 1 in 9",
			Children: []pipeline.FamilyChild{{Ref: "P-4", Age: 9, School: "100002"}}},
		{Rank: 4, Household: "HH-4004", Pseudonym: "hh_dddd", Score: 0.120, Band: "raised", Likelihood: "about 1 in 9",
			Children: []pipeline.FamilyChild{{Ref: "P-5", Age: 5}}},
	}
}

// fixture writes a data_dir with one succeeded run and its list, and a
// users file with one account per role plus a navigator of another
// locality.
func fixture(t *testing.T) (dataDir string, uf *users.File) {
	t.Helper()
	dataDir = t.TempDir()
	run := filepath.Join(dataDir, "runs", "20260105T060000Z")
	for _, d := range []string{"list", "model", "audit", "evaluation"} {
		if err := os.MkdirAll(filepath.Join(run, d), 0o750); err != nil {
			t.Fatal(err)
		}
	}
	man := pipeline.Manifest{RunID: "20260105T060000Z", AsOf: "2026-01-05", Status: "succeeded",
		Fairness: "Recall ratio 0.92 across ethnicity groups; no group outside the band.",
		Sources:  map[string]*pipeline.SourceManifest{"attendance_sessions": {Read: 10, Loaded: 9, Quarantined: 1, ByReason: map[string]int64{"bad_code": 1}}}}
	write := func(rel string, v any) {
		var b []byte
		switch v := v.(type) {
		case string:
			b = []byte(v)
		default:
			var err error
			if b, err = json.Marshal(v); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(run, rel), b, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	write("manifest.json", man)
	write("list/navigator_list.csv", strings.Join(pipeline.ListColumns(), ",")+"\n"+listRows)
	// The export writes the list's Parquet copy beside the CSV, and the
	// site reads that: here it is the CSV's rows, as rundir reads them.
	rd := rundir.Open(run)
	rows, err := rd.List()
	if err != nil {
		t.Fatal(err)
	}
	if err := rd.WriteList(rows); err != nil {
		t.Fatal(err)
	}
	write("list/families.json", families())
	write("evaluation/scored_children.csv", "as_of,model,person_id,household_id,score,selected,label,ethnicity5,ethnicity,imd_decile\n"+
		"2025-06-02,logistic,pp1,hh_aaaa,0.3,0,0,White,WHITE_BRITISH,3\n"+ // a backtest date: not this week's
		"2026-01-05,logistic,pp1,hh_aaaa,0.41,1,,Asian,ASIAN_INDIAN,3\n"+
		"2026-01-05,logistic,pp2,hh_aaaa,0.41,1,,Asian,ASIAN_INDIAN,3\n"+
		"2026-01-05,logistic,pp3,hh_bbbb,0.30,1,,Black,BLACK_AFRICAN,5\n")
	write("model/model_card.json", map[string]any{"model_id": "logistic_l1-abc", "kind": "logistic_l1"})
	write("model/model_card.md", "# Model card\n\nIntended use: a prompt for a navigator's conversation.\n")
	write("audit/report.html", "<!DOCTYPE html><html><body><h1>Fairness report</h1></body></html>")

	uf, err = users.Load(filepath.Join(dataDir, "review", "users.json"))
	if err != nil {
		t.Fatal(err)
	}
	uf.SetCost(bcrypt.MinCost)
	for _, u := range []struct {
		name, role string
		locs       []string
	}{
		{"nav", users.Navigator, []string{"North", "East"}},
		{"navsouth", users.Navigator, []string{"South"}},
		{"aud", users.Auditor, nil},
		{"eng", users.Engineer, nil},
	} {
		if err := uf.Add(u.name, u.role, u.locs, []byte(password)); err != nil {
			t.Fatal(err)
		}
	}
	return dataDir, uf
}

type harness struct {
	site    *Site
	srv     *httptest.Server
	dataDir string
	store   *decisions.Store
	counted map[string]int
}

// newHarness serves a site over dataDir; each opt may change its Config
// before the site is built.
func newHarness(t *testing.T, dataDir string, uf *users.File, opts ...func(*Config)) *harness {
	t.Helper()
	store, err := decisions.Open(filepath.Join(dataDir, "review", "decisions.db"))
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{dataDir: dataDir, store: store, counted: map[string]int{}}
	cfg := Config{
		DataDir: dataDir, Users: uf, Decisions: store,
		AccessLog:  filepath.Join(dataDir, "review", "access.log"),
		OnDecision: func(k string) { h.counted[k]++ },
		Log:        zerolog.Nop(),
	}
	for _, o := range opts {
		o(&cfg)
	}
	site, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.site = site
	h.srv = httptest.NewServer(site)
	t.Cleanup(func() {
		h.srv.Close()
		site.Close()
		store.Close()
	})
	return h
}

// client is a browser without JavaScript: it keeps cookies and does not
// follow redirects, so tests see them.
func client(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var tokenRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func get(t *testing.T, c *http.Client, u string) (int, string, http.Header) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func post(t *testing.T, c *http.Client, u string, form url.Values) (int, string, http.Header) {
	t.Helper()
	resp, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func csrf(t *testing.T, body string) string {
	t.Helper()
	m := tokenRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no csrf_token in page")
	}
	return m[1]
}

// signIn signs name in and returns the client and a page's CSRF token.
func (h *harness) signIn(t *testing.T, name, pw string) (*http.Client, int) {
	t.Helper()
	c := client(t)
	_, body, _ := get(t, c, h.srv.URL+"/login")
	code, _, _ := post(t, c, h.srv.URL+"/login", url.Values{"username": {name}, "password": {pw}, "csrf_token": {csrf(t, body)}})
	return c, code
}

func (h *harness) token(t *testing.T, c *http.Client) string {
	t.Helper()
	code, body, _ := get(t, c, h.srv.URL+"/")
	if code != http.StatusSeeOther {
		t.Fatalf("GET / = %d", code)
	}
	for _, p := range []string{"/list", "/audit", "/runs"} {
		if code, body, _ = get(t, c, h.srv.URL+p); code == http.StatusOK {
			return csrf(t, body)
		}
	}
	t.Fatal("no page with a token")
	return ""
}

// TestAuthorisationMatrix: every role, and nobody, against every route.
func TestAuthorisationMatrix(t *testing.T) {
	dataDir, uf := fixture(t)
	h := newHarness(t, dataDir, uf)
	const (
		ok, redirect, forbidden = http.StatusOK, http.StatusSeeOther, http.StatusForbidden
	)
	want := map[string]map[string]int{ // route → role ("" nobody) → status
		"GET /login":                    {"": ok, "navigator": redirect, "auditor": redirect, "engineer": redirect},
		"GET /":                         {"": redirect, "navigator": redirect, "auditor": redirect, "engineer": redirect},
		"GET /list":                     {"": redirect, "navigator": ok, "auditor": forbidden, "engineer": forbidden},
		"GET /family/HH-1001":           {"": redirect, "navigator": ok, "auditor": forbidden, "engineer": forbidden},
		"POST /family/HH-1001/decision": {"": forbidden, "navigator": redirect, "auditor": forbidden, "engineer": forbidden},
		"GET /audit":                    {"": redirect, "navigator": forbidden, "auditor": ok, "engineer": forbidden},
		"GET /audit/report":             {"": redirect, "navigator": forbidden, "auditor": ok, "engineer": forbidden},
		"GET /model":                    {"": redirect, "navigator": forbidden, "auditor": ok, "engineer": forbidden},
		"GET /runs":                     {"": redirect, "navigator": forbidden, "auditor": forbidden, "engineer": ok},
		"GET /help":                     {"": redirect, "navigator": ok, "auditor": ok, "engineer": ok},
		"GET /guidance":                 {"": redirect, "navigator": ok, "auditor": ok, "engineer": ok},
		"POST /logout":                  {"": forbidden, "navigator": redirect, "auditor": redirect, "engineer": redirect},
	}
	// Every route of the site is in the matrix.
	for _, r := range Routes() {
		found := false
		for k := range want {
			m, p, _ := strings.Cut(k, " ")
			rm, rp, _ := strings.Cut(r.Pattern, " ")
			if m == rm && (p == rp || strings.Contains(rp, "{") && strings.HasPrefix(p, rp[:strings.Index(rp, "{")]) || rp == "/{$}" && p == "/") {
				found = true
			}
		}
		if !found && r.Pattern != "POST /login" {
			t.Errorf("route %s is not in the matrix", r.Pattern)
		}
	}
	names := map[string]string{"navigator": "nav", "auditor": "aud", "engineer": "eng"}
	for route, byRole := range want {
		for role, code := range byRole {
			c := client(t)
			tok := ""
			if role != "" {
				var got int
				if c, got = h.signIn(t, names[role], password); got != http.StatusSeeOther {
					t.Fatalf("sign in %s: %d", role, got)
				}
				tok = h.token(t, c)
			}
			method, path, _ := strings.Cut(route, " ")
			var got int
			if method == "GET" {
				got, _, _ = get(t, c, h.srv.URL+path)
			} else {
				got, _, _ = post(t, c, h.srv.URL+path, url.Values{"csrf_token": {tok}, "decision": {"offer_made"}})
			}
			if got != code {
				t.Errorf("%s as %q: %d; want %d", route, role, got, code)
			}
		}
	}
}

func TestNavigatorRecordsDecision(t *testing.T) {
	dataDir, uf := fixture(t)
	h := newHarness(t, dataDir, uf)
	c, code := h.signIn(t, "nav", password)
	if code != http.StatusSeeOther {
		t.Fatalf("sign in: %d", code)
	}
	// The list shows the navigator's locality only.
	code, body, hdr := get(t, c, h.srv.URL+"/list")
	if code != http.StatusOK || !strings.Contains(body, "HH-1001") || !strings.Contains(body, "HH-3003") || strings.Contains(body, "HH-2002") {
		t.Fatalf("list: %d, wrong families", code)
	}
	if hdr.Get("Cache-Control") != "no-store" {
		t.Errorf("list Cache-Control %q", hdr.Get("Cache-Control"))
	}
	// Another locality's family is not found, and not logged as seen.
	if code, _, _ := get(t, c, h.srv.URL+"/family/HH-2002"); code != http.StatusNotFound {
		t.Errorf("other locality's family: %d; want 404", code)
	}
	code, body, _ = get(t, c, h.srv.URL+"/family/HH-1001")
	if code != http.StatusOK || !strings.Contains(body, "attendance fell from 96% to 81%") || !strings.Contains(body, "<svg") ||
		!strings.Contains(body, "12-month review: was not brought") {
		t.Fatalf("family page: %d, missing reasons or timeline", code)
	}
	tok := csrf(t, body)
	// Without the token the decision is refused and nothing is stored.
	if code, _, _ := post(t, c, h.srv.URL+"/family/HH-1001/decision", url.Values{"decision": {"offer_made"}}); code != http.StatusForbidden {
		t.Errorf("POST without CSRF token: %d; want 403", code)
	}
	if code, _, _ := post(t, c, h.srv.URL+"/family/HH-1001/decision", url.Values{"decision": {"offer_made"}, "csrf_token": {"forged"}}); code != http.StatusForbidden {
		t.Errorf("POST with a wrong CSRF token: %d; want 403", code)
	}
	// An unknown decision is a form error.
	if code, body, _ := post(t, c, h.srv.URL+"/family/HH-1001/decision", url.Values{"decision": {"call_police"}, "csrf_token": {tok}}); code != http.StatusBadRequest || !strings.Contains(body, "Choose what was decided") {
		t.Errorf("unknown decision: %d", code)
	}
	code, _, hdr = post(t, c, h.srv.URL+"/family/HH-1001/decision", url.Values{"decision": {"offer_made"}, "note": {"Spoke to mum at school gate"}, "csrf_token": {tok}})
	if code != http.StatusSeeOther || hdr.Get("Location") != "/family/HH-1001?saved=1" {
		t.Fatalf("decision: %d to %q", code, hdr.Get("Location"))
	}
	// The decision carries the household's audit group for the auditors'
	// override analysis (never shown to the navigator).
	ov, err := h.store.Overrides(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	foundGroup := false
	for _, o := range ov {
		foundGroup = foundGroup || o.By == "group" && o.Key == "Asian" && o.Total == 1
	}
	if !foundGroup {
		t.Errorf("overrides by group: %+v", ov)
	}
	if h.counted["offer_made"] != 1 {
		t.Errorf("decisions counted: %v", h.counted)
	}
	latest, err := h.store.Latest(t.Context())
	if err != nil || latest["hh_aaaa"].Kind != "offer_made" {
		t.Fatalf("store latest: %v, %v", latest, err)
	}
	// The access log has the views, in order, flushed.
	b, err := os.ReadFile(filepath.Join(dataDir, "review", "access.log"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	var last Access
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil {
		t.Fatal(err)
	}
	if len(lines) < 2 || last.User != "nav" || last.Household != "HH-1001" || !strings.HasPrefix(last.Why, "recorded a decision") {
		t.Errorf("access log: %d lines, last %+v", len(lines), last)
	}
	// The refused view of another locality's family is logged as denied,
	// never as seen.
	for _, l := range lines {
		var e Access
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("access log line %q: %v", l, err)
		}
		if e.Household == "HH-2002" && e.Why != "denied" {
			t.Errorf("a refused view is in the access log as %q", e.Why)
		}
	}
	if info, err := os.Stat(filepath.Join(dataDir, "review", "access.log")); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("access log mode: %v %v", info.Mode(), err)
	}

	// A restart: a new site over the same files still shows the decision.
	h.srv.Close()
	h.site.Close()
	h.store.Close()
	h2 := newHarness(t, dataDir, uf)
	c2, _ := h2.signIn(t, "nav", password)
	if _, body, _ := get(t, c2, h2.srv.URL+"/family/HH-1001"); !strings.Contains(body, "Spoke to mum at school gate") || !strings.Contains(body, "offer made") {
		t.Error("the decision did not survive a restart")
	}
	// Signing out ends the session.
	_, body, _ = get(t, c2, h2.srv.URL+"/list")
	post(t, c2, h2.srv.URL+"/logout", url.Values{"csrf_token": {csrf(t, body)}})
	if code, _, _ := get(t, c2, h2.srv.URL+"/list"); code != http.StatusSeeOther {
		t.Errorf("after sign-out /list: %d; want a redirect to sign in", code)
	}
}

// TestNoIdentifiersForAuditorsAndEngineers: their pages show no household.
func TestNoIdentifiersForAuditorsAndEngineers(t *testing.T) {
	dataDir, uf := fixture(t)
	h := newHarness(t, dataDir, uf)
	// A decision, so the override table has a row.
	if _, err := h.store.Record(t.Context(), decisions.Decision{Household: "hh_aaaa", Kind: "not_appropriate", ReasonCategory: "no_concern", Navigator: "nav", Locality: "North", At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	for name, pages := range map[string][]string{"aud": {"/audit", "/audit/report", "/model"}, "eng": {"/runs"}} {
		c, _ := h.signIn(t, name, password)
		for _, p := range pages {
			code, body, _ := get(t, c, h.srv.URL+p)
			if code != http.StatusOK {
				t.Errorf("%s %s: %d", name, p, code)
			}
			for _, ref := range append(refs, "hh_aaaa", "P-1") {
				if strings.Contains(body, ref) {
					t.Errorf("%s %s shows %s", name, p, ref)
				}
			}
		}
	}
}

func TestLoginThrottle(t *testing.T) {
	dataDir, uf := fixture(t)
	h := newHarness(t, dataDir, uf)
	for i := range 10 {
		if _, code := h.signIn(t, "nav", "wrong password!"); code != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: %d", i+1, code)
		}
	}
	if _, code := h.signIn(t, "nav", password); code != http.StatusTooManyRequests {
		t.Errorf("right password after ten wrong: %d; want 429 (locked)", code)
	}
	// Another account is not locked.
	if _, code := h.signIn(t, "aud", password); code != http.StatusSeeOther {
		t.Errorf("another account: %d", code)
	}
	// A login POST without the form's token is refused.
	if code, _, _ := post(t, client(t), h.srv.URL+"/login", url.Values{"username": {"aud"}, "password": {password}}); code != http.StatusForbidden {
		t.Errorf("login without token: %d", code)
	}
}

func TestHTTPHygiene(t *testing.T) {
	dataDir, uf := fixture(t)
	h := newHarness(t, dataDir, uf)
	c := client(t)
	code, body, hdr := get(t, c, h.srv.URL+"/login")
	if code != http.StatusOK {
		t.Fatalf("login page %d", code)
	}
	for k, want := range map[string]string{
		"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
	} {
		if got := hdr.Get(k); got != want {
			t.Errorf("%s = %q; want %q", k, got, want)
		}
	}
	if csp := hdr.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP %q", csp)
	}
	if strings.Contains(body, "<script>") || regexp.MustCompile(`<script[^>]*>[^<]+</script>`).MatchString(body) {
		t.Error("inline script on the login page")
	}
	for _, ck := range c.Jar.Cookies(mustURL(t, h.srv.URL)) {
		_ = ck // the jar hides attributes; checked below from the header
	}
	resp, err := http.Get(h.srv.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if sc := resp.Header.Get("Set-Cookie"); !strings.Contains(sc, "HttpOnly") || !strings.Contains(sc, "SameSite=Strict") {
		t.Errorf("cookie %q", sc)
	}
	if code, body, _ := get(t, c, h.srv.URL+"/no/such/page"); code != http.StatusNotFound || !strings.Contains(body, "Page not found") {
		t.Errorf("404 page: %d", code)
	}
	req, _ := http.NewRequest(http.MethodDelete, h.srv.URL+"/list", nil)
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || !strings.Contains(string(b), "Not allowed") {
		t.Errorf("DELETE /list: %d", resp.StatusCode)
	}
	if code, _, _ := get(t, c, h.srv.URL+"/assets/app.css"); code != http.StatusOK {
		t.Errorf("assets: %d", code)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestListByLocalityWithMarking: the list has one eh-locality section per
// locality the navigator sees, the marking at its top and bottom, and the
// glossary for print.
func TestListByLocalityWithMarking(t *testing.T) {
	dataDir, uf := fixture(t)
	h := newHarness(t, dataDir, uf)
	c, _ := h.signIn(t, "nav", password)
	tests := []struct {
		query      string
		localities []string
	}{
		{"", []string{"East", "North"}}, // the navigator's localities, in order
		{"?sort=status", []string{"East", "North"}},
		{"?locality=East", []string{"East"}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			code, body, _ := get(t, c, h.srv.URL+"/list"+tt.query)
			if code != http.StatusOK {
				t.Fatalf("GET: %d", code)
			}
			if n := strings.Count(body, `<section class="eh-locality"`); n != len(tt.localities) {
				t.Errorf("%d locality sections; want %d", n, len(tt.localities))
			}
			last := -1
			for _, loc := range tt.localities {
				i := strings.Index(body, `-title">`+loc+` <span`)
				if i <= last {
					t.Errorf("section %s missing or out of order", loc)
				}
				last = i
			}
			if n := strings.Count(body, ">"+DefaultMarking+"<"); n != 2 {
				t.Errorf("the marking appears %d times; want header and footer", n)
			}
			if !strings.Contains(body, `class="eh-print-only eh-print-glossary"`) || !strings.Contains(body, "What this list is not") {
				t.Error("no glossary for print")
			}
			if !strings.Contains(body, `href="/help"`) {
				t.Error("no link to /help")
			}
		})
	}
}

func TestMarkingFromConfig(t *testing.T) {
	dataDir, uf := fixture(t)
	h := newHarness(t, dataDir, uf)
	h.site.cfg.Marking = "OFFICIAL"
	for _, name := range []string{"nav", "aud", "eng"} {
		c, _ := h.signIn(t, name, password)
		for _, p := range []string{"/help", "/guidance"} {
			code, body, _ := get(t, c, h.srv.URL+p)
			if code != http.StatusOK || strings.Count(body, ">OFFICIAL<") != 2 {
				t.Errorf("%s %s: %d, or the configured marking not in header and footer", name, p, code)
			}
		}
	}
}

func TestHelpAndGuidance(t *testing.T) {
	dataDir, uf := fixture(t)
	h := newHarness(t, dataDir, uf)
	c, _ := h.signIn(t, "aud", password)
	_, body, _ := get(t, c, h.srv.URL+"/help")
	for _, want := range []string{"Very high", "High", "Raised", "about 1 in N", "backtest", "26 weeks",
		"before the register closed", "after the register closed", "Was not brought", "Edinburgh Postnatal Depression Scale",
		"13 or more", "Whooley", "Ages and Stages Questionnaire", "IMD decile", "What this list is not", "Article 22"} {
		if !strings.Contains(body, want) {
			t.Errorf("/help lacks %q", want)
		}
	}
	_, body, _ = get(t, c, h.srv.URL+"/guidance")
	for _, want := range []string{"Never mention the score or the band", "Never contact a family where", "Never record case notes", "privacy notice"} {
		if !strings.Contains(body, want) {
			t.Errorf("/guidance lacks %q", want)
		}
	}
	h.site.cfg.PrivacyNotice = "Northshire's notice: <see our website>."
	if _, body, _ = get(t, c, h.srv.URL+"/guidance"); !strings.Contains(body, "Northshire&#39;s notice: &lt;see our website&gt;.") {
		t.Error("/guidance does not show the council's privacy notice, escaped")
	}
}

// TestFamilyPageSafetyFirst: the contact-safety panel is the first thing
// above the reasons on a family with safety facts, and absent without.
func TestFamilyPageSafetyFirst(t *testing.T) {
	dataDir, uf := fixture(t)
	h := newHarness(t, dataDir, uf)
	c, _ := h.signIn(t, "nav", password)
	tests := []struct {
		ref        string
		wantSafety bool
	}{
		{"HH-1001", true},
		{"HH-3003", false},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			code, body, _ := get(t, c, h.srv.URL+"/family/"+tt.ref)
			if code != http.StatusOK {
				t.Fatalf("GET: %d", code)
			}
			safety, reasons := strings.Index(body, `id="contact-safety"`), strings.Index(body, `id="reasons"`)
			if reasons < 0 {
				t.Fatal("no reasons")
			}
			if got := safety >= 0; got != tt.wantSafety {
				t.Fatalf("safety panel shown = %v; want %v", got, tt.wantSafety)
			}
			if tt.wantSafety {
				if safety > reasons || safety > strings.Index(body, "<h1") {
					t.Errorf("safety panel at %d, after the heading or the reasons (%d)", safety, reasons)
				}
				if !strings.Contains(body, "Speak to the safeguarding lead before contacting") || !strings.Contains(body, "2025-11-03") {
					t.Error("the panel lacks the instruction or its date")
				}
			}
			if !strings.Contains(body, `href="/guidance"`) || !strings.Contains(body, `href="/help`) {
				t.Error("no link to the guidance or the help")
			}
		})
	}
	_, body, _ := get(t, c, h.srv.URL+"/family/HH-1001")
	for _, want := range []string{
		"very high — about 1 in 4",
		"Raw score, for those who want it", "0.412",
		"P-2 (3): 12-month review: was not brought, 30 Dec",
		"Context the model also weighed (not reasons):", "area deprivation (IMD decile 3)",
		"Northgate Primary", "not known", // P-2 has no school
	} {
		if !strings.Contains(body, want) {
			t.Errorf("family page lacks %q", want)
		}
	}
	if i, j := strings.Index(body, "0.412"), strings.Index(body, `id="raw-score"`); i < j {
		t.Error("the raw score is shown outside its <details>")
	}
}

// TestFamilyChildFilter: ?child= draws that child's weeks and lists only
// their events; an unknown child shows everything.
func TestFamilyChildFilter(t *testing.T) {
	dataDir, uf := fixture(t)
	h := newHarness(t, dataDir, uf)
	c, _ := h.signIn(t, "nav", password)
	events := func(body string) string {
		i := strings.Index(body, `id="events"`)
		if i < 0 {
			return ""
		}
		return body[i : i+strings.Index(body[i:], "</table>")]
	}
	tests := []struct {
		query      string
		wantEvents []string
		noEvents   []string
		wantBars   bool
		allLink    bool
	}{
		{"", []string{"was not brought", "temporary accommodation"}, nil, true, false},
		{"?child=P-2", []string{"was not brought"}, []string{"temporary accommodation"}, false, true},
		{"?child=P-1", nil, []string{"was not brought", "temporary accommodation"}, true, true},
		{"?child=P-9", []string{"was not brought", "temporary accommodation"}, nil, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			code, body, _ := get(t, c, h.srv.URL+"/family/HH-1001"+tt.query)
			if code != http.StatusOK {
				t.Fatalf("GET: %d", code)
			}
			ev := events(body)
			for _, w := range tt.wantEvents {
				if !strings.Contains(ev, w) {
					t.Errorf("events lack %q", w)
				}
			}
			for _, w := range tt.noEvents {
				if strings.Contains(ev, w) {
					t.Errorf("events show %q", w)
				}
			}
			if got := strings.Contains(body, "<rect"); got != tt.wantBars {
				t.Errorf("bars drawn = %v; want %v", got, tt.wantBars)
			}
			if got := strings.Contains(body, `id="all-children"`); got != tt.allLink {
				t.Errorf("link to all children = %v; want %v", got, tt.allLink)
			}
		})
	}
}

func TestTimelineHostileAndShortWeeks(t *testing.T) {
	pages, err := parseTemplates()
	if err != nil {
		t.Fatal(err)
	}
	weeks := []pipeline.TimelineWeek{
		{Start: "2025", Possible: 10, Absent: 1},
		{Start: "", Possible: 10, Late: 2},
		{Start: `<script>alert(1)</script>`, Possible: 5},
		{Start: "2025-12-29", Possible: 10},
		{Start: "2026-01-05", Possible: 10},
	}
	events := []pipeline.TimelineEvent{{Date: "2025-12-30", Kind: "health", Text: `"><img src=x onerror=alert(1)>`}}
	var b strings.Builder
	if err := pages.ExecuteTemplate(&b, "timeline", newChart(weeks, events)); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, bad := range []string{"<script>", "<img"} {
		if strings.Contains(out, bad) {
			t.Errorf("the chart lets %q through: %s", bad, out)
		}
	}
	if !strings.Contains(out, ">2025</text>") {
		t.Errorf("a short week start is not shown whole")
	}
}

func TestShortDate(t *testing.T) {
	for in, want := range map[string]string{"2025-12-29": "12-29", "2025": "2025", "": "", "2025/12/29": "2025/12/29", "2025-1-2x": "2025-1-2x"} {
		if got := shortDate(in); got != want {
			t.Errorf("shortDate(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestCheckDecision(t *testing.T) {
	tests := []struct {
		name      string
		form      decisionForm
		wantField string
	}{
		{"offer made", decisionForm{Decision: "offer_made"}, ""},
		{"not appropriate with a category", decisionForm{Decision: "not_appropriate", Reason: "family_moved"}, ""},
		{"every category", decisionForm{Decision: "not_appropriate", Reason: "safeguarding_route_instead"}, ""},
		{"no decision", decisionForm{}, "decision"},
		{"unknown decision", decisionForm{Decision: "call_police"}, "decision"},
		{"not appropriate without a category", decisionForm{Decision: "not_appropriate"}, "reason"},
		{"not appropriate, unknown category", decisionForm{Decision: "not_appropriate", Reason: "bored"}, "reason"},
		{"category with another decision", decisionForm{Decision: "offer_declined", Reason: "no_concern"}, "reason"},
		{"long note", decisionForm{Decision: "offer_made", Note: strings.Repeat("x", 2001)}, "note"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ""
			if p := checkDecision(tt.form); p != nil {
				got = p.Field
			}
			if got != tt.wantField {
				t.Errorf("checkDecision(%+v) faults %q; want %q", tt.form, got, tt.wantField)
			}
		})
	}
}

// TestNotAppropriateNeedsReason: through the form, with the error summary,
// and the category in the history.
func TestNotAppropriateNeedsReason(t *testing.T) {
	dataDir, uf := fixture(t)
	h := newHarness(t, dataDir, uf)
	c, _ := h.signIn(t, "nav", password)
	_, body, _ := get(t, c, h.srv.URL+"/family/HH-1001")
	tok := csrf(t, body)
	u := h.srv.URL + "/family/HH-1001/decision"
	code, body, _ := post(t, c, u, url.Values{"decision": {"not_appropriate"}, "csrf_token": {tok}})
	if code != http.StatusBadRequest || !strings.Contains(body, "govuk-error-summary") || !strings.Contains(body, `href="#reason"`) {
		t.Errorf("not_appropriate without a reason: %d, or no error summary linking the field", code)
	}
	if code, _, _ := post(t, c, u, url.Values{"decision": {"offer_made"}, "reason": {"no_concern"}, "csrf_token": {tok}}); code != http.StatusBadRequest {
		t.Errorf("a reason with offer_made: %d; want 400", code)
	}
	if hist, _ := h.store.History(t.Context(), "hh_aaaa"); len(hist) != 0 {
		t.Fatalf("a refused decision was stored: %+v", hist)
	}
	if code, _, _ := post(t, c, u, url.Values{"decision": {"not_appropriate"}, "reason": {"already_known_elsewhere"}, "csrf_token": {tok}}); code != http.StatusSeeOther {
		t.Fatalf("not_appropriate with a reason: %d", code)
	}
	hist, err := h.store.History(t.Context(), "hh_aaaa")
	if err != nil || len(hist) != 1 || hist[0].ReasonCategory != "already_known_elsewhere" {
		t.Fatalf("stored: %+v, %v", hist, err)
	}
	if _, body, _ := get(t, c, h.srv.URL+"/family/HH-1001"); !strings.Contains(body, "Already known to another service") {
		t.Error("the history does not show the reason")
	}
}

// TestAuditPageOpensWithFindings: /audit opens with the audit's findings in
// words, each linked to its chart, then the inconclusive ones apart; and
// the overrides table shows no count from 1 to 9, nor one that would
// reveal it.
func TestAuditPageOpensWithFindings(t *testing.T) {
	dataDir, uf := fixture(t)
	findings := `{"findings":[{"text":"Children in group Asian were found at 0.18 times the rate of group White, a finding.","chart":"chart-tpr-ethnicity5"}],
"inconclusive":[{"text":"Children in group Mixed were found at 0.61 times the rate, inconclusive.","chart":""}],"more":0}`
	if err := os.WriteFile(filepath.Join(dataDir, "runs", "20260105T060000Z", "audit", "findings.json"), []byte(findings), 0o640); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, dataDir, uf)
	// 12 decisions in North, 3 of them not appropriate: 3 and 9 are small.
	for i := range 12 {
		d := decisions.Decision{Household: fmt.Sprintf("hh_%02d", i), Kind: "offer_made", Navigator: "nav", Locality: "North", At: time.Now()}
		if i < 3 {
			d.Kind, d.ReasonCategory = "not_appropriate", "no_concern"
		}
		if _, err := h.store.Record(t.Context(), d); err != nil {
			t.Fatal(err)
		}
	}
	c, _ := h.signIn(t, "aud", password)
	code, body, _ := get(t, c, h.srv.URL+"/audit")
	if code != http.StatusOK {
		t.Fatalf("/audit: %d", code)
	}
	f, inc := strings.Index(body, "group Asian"), strings.Index(body, "group Mixed")
	if f < 0 || inc < f || !strings.Contains(body, `href="/audit/report#chart-tpr-ethnicity5"`) {
		t.Errorf("/audit does not open with the finding linked to its chart, then the inconclusive one")
	}
	table := body[strings.Index(body, `id="overrides"`):]
	table = table[:strings.Index(table, "</table>")]
	for _, m := range regexp.MustCompile(`>\s*([1-9])\s*<`).FindAllStringSubmatch(table, -1) {
		t.Errorf("overrides table shows the small count %s", m[1])
	}
	if !strings.Contains(table, ">12<") || !strings.Contains(table, "suppressed") {
		t.Errorf("overrides table: want the total 12 shown and the 3 (and 9) suppressed:\n%s", table)
	}
}

// TestListReadFromParquet: the site reads the list's Parquet copy through
// rundir, not the CSV: with the CSV emptied to its header, the families
// are still listed.
func TestListReadFromParquet(t *testing.T) {
	dataDir, uf := fixture(t)
	run, err := rundir.Latest(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(run.ListCSV(), []byte(strings.Join(pipeline.ListColumns(), ",")+"\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, dataDir, uf)
	c, _ := h.signIn(t, "nav", password)
	code, body, _ := get(t, c, h.srv.URL+"/list")
	if code != http.StatusOK || !strings.Contains(body, "HH-1001") || !strings.Contains(body, "HH-3003") {
		t.Fatalf("list: %d; want HH-1001 and HH-3003 from the Parquet", code)
	}
}
