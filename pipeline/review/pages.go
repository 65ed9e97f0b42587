package review

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"earlyhelp/pipeline"
	"earlyhelp/pipeline/contract"
	"earlyhelp/pipeline/review/decisions"
	"earlyhelp/pipeline/review/users"
	"earlyhelp/pipeline/rundir"
)

// page is what every template gets.
type page struct {
	Title   string
	Marking string // the protective marking, in every page's header and footer
	User    *users.User
	CSRF    string
	Data    any
}

// render executes a template into a buffer first, so a failure gives an
// error page rather than half a page.
func (s *Site) render(w http.ResponseWriter, r *http.Request, code int, name string, sess *session, title string, data any) {
	p := page{Title: title, Marking: s.cfg.Marking, Data: data}
	if sess != nil {
		u := sess.user
		p.User, p.CSRF = &u, sess.csrf
	}
	var buf bytes.Buffer
	if err := s.pages.ExecuteTemplate(&buf, name, p); err != nil {
		s.cfg.Log.Error().Err(err).Str("template", name).Msg("review: render")
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}

func (s *Site) errorPage(w http.ResponseWriter, r *http.Request, code int, title, detail string) {
	s.render(w, r, code, "error.html", s.session(r), title, detail)
}

// fail logs an internal error without its detail reaching the page: the
// detail may name a file of the data_dir.
func (s *Site) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, errNoList) {
		s.errorPage(w, r, http.StatusServiceUnavailable, "No list yet", "No weekly run has finished yet. Try again after the next run.")
		return
	}
	// The route's pattern, not the path: a path may hold a household ref,
	// which belongs in the access log only.
	s.cfg.Log.Error().Err(err).Str("route", r.Pattern).Msg("review: page failed")
	s.errorPage(w, r, http.StatusInternalServerError, "Sorry, there is a problem", "The page could not be shown. The engineers have been told in the log.")
}

// --- signing in and out ---

func (s *Site) loginForm(w http.ResponseWriter, r *http.Request, sess *session) {
	if sess != nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	s.showLogin(w, r, http.StatusOK, "")
}

func (s *Site) showLogin(w http.ResponseWriter, r *http.Request, code int, problem string) {
	t := token()
	http.SetCookie(w, s.cookie(loginCookie, t, 3600))
	identified(w)
	s.render(w, r, code, "login.html", nil, "Sign in", map[string]string{"Token": t, "Problem": problem})
}

func (s *Site) login(w http.ResponseWriter, r *http.Request, _ *session) {
	c, err := r.Cookie(loginCookie)
	if err != nil || !s.validCSRF(r, c.Value) {
		s.errorPage(w, r, http.StatusForbidden, "The form has expired", "Go back, reload the sign-in page and try again.")
		return
	}
	name := strings.TrimSpace(r.PostFormValue("username"))
	password := []byte(r.PostFormValue("password"))
	// Each attempt is reserved, from the address and then the name, before
	// the password is compared: checking and counting in one step is what
	// stops forty simultaneous guesses all passing a check that none has
	// yet been counted against.
	addr, ok := s.cfg.AddrThrottle.Reserve(clientAddr(r))
	if !ok {
		s.cfg.Log.Warn().Msg("review: sign-in refused: too many failures from the address")
		s.showLogin(w, r, http.StatusTooManyRequests, "Too many failed sign-ins from your network. Try again in a few minutes or ask an engineer.")
		return
	}
	acct, ok := s.cfg.Throttle.Reserve(name)
	if !ok {
		addr.Fail()
		s.cfg.Log.Warn().Msg("review: sign-in refused: account locked")
		s.showLogin(w, r, http.StatusTooManyRequests, "Too many wrong passwords: this account is locked for a while. Try again later or ask an engineer.")
		return
	}
	u, err := s.cfg.Users.Authenticate(name, password)
	switch {
	case errors.Is(err, users.ErrBadCredentials):
		acct.Fail()
		addr.Fail()
		s.cfg.Log.Info().Msg("review: sign-in failed")
		s.showLogin(w, r, http.StatusUnauthorized, "The username or password is wrong.")
		return
	case err != nil:
		// Not the password's fault (the users file is unreadable): not
		// counted against anyone.
		acct.Release()
		addr.Release()
		s.fail(w, r, err)
		return
	}
	acct.Release()
	addr.Release()
	s.cfg.Throttle.Success(name)
	http.SetCookie(w, s.cookie(loginCookie, "", -1))
	http.SetCookie(w, s.cookie(sessionCookie, s.startSession(u), 0))
	s.cfg.Log.Info().Str(users.RoleKey, u.Role).Msg("review: signed in")
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// clientAddr is the address a sign-in is throttled by: the connection's
// host without its port, which changes with every connection.
func clientAddr(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

func (s *Site) logout(w http.ResponseWriter, r *http.Request, _ *session) {
	s.endSession(r)
	http.SetCookie(w, s.cookie(sessionCookie, "", -1))
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// home sends each role to its first page.
func (s *Site) home(w http.ResponseWriter, r *http.Request, sess *session) {
	to := map[string]string{users.Navigator: "/list", users.Auditor: "/audit", users.Engineer: "/runs"}[sess.user.Role]
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// --- navigators ---

// mine reports whether a navigator may see families of locality.
func mine(u users.User, locality string) bool { return slices.Contains(u.Localities, locality) }

type listView struct {
	Week     *week
	Families []*family
	// Groups are Families by locality, in the navigator's order of
	// localities: printed, each starts a page.
	Groups     []localityGroup
	Localities []string
	Locality   string
	Sort       string
	Sorts      []string
}

func (s *Site) list(w http.ResponseWriter, r *http.Request, sess *session) {
	wk, err := s.runs.week()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// Decisions recorded since the run are the store's: show the latest,
	// so a navigator sees what a colleague did this week.
	latest, err := s.cfg.Decisions.Latest(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := listView{Week: wk, Localities: sess.user.Localities, Sort: r.URL.Query().Get("sort"),
		Locality: r.URL.Query().Get(contract.ColLocality), Sorts: []string{"rank", "status", contract.ColLocality, "weeks"}}
	for _, f := range wk.Families {
		if mine(sess.user, f.Locality) && (v.Locality == "" || f.Locality == v.Locality) {
			row := *f
			if d, ok := latest[f.Pseudonym]; ok && f.Pseudonym != "" {
				row.Decision, row.DecisionAt = d.Kind, d.At.Format(time.DateOnly)
			}
			v.Families = append(v.Families, &row)
		}
	}
	switch v.Sort {
	case "status":
		sort.SliceStable(v.Families, func(i, j int) bool { return v.Families[i].Status < v.Families[j].Status })
	case contract.ColLocality:
		sort.SliceStable(v.Families, func(i, j int) bool { return v.Families[i].Locality < v.Families[j].Locality })
	case "weeks":
		sort.SliceStable(v.Families, func(i, j int) bool { return v.Families[i].WeeksOnList > v.Families[j].WeeksOnList })
	default:
		v.Sort = "rank"
	}
	v.Groups = byLocality(v.Families, sess.user.Localities)
	// The list names families too: its views are logged, with how many
	// families it showed.
	if err := s.access.write(Access{At: s.cfg.Now().UTC(), User: sess.user.Name, Role: sess.user.Role,
		Page: r.URL.String(), Why: fmt.Sprintf("viewed this week's list (%d families)", len(v.Families))}); err != nil {
		s.fail(w, r, err)
		return
	}
	identified(w)
	s.render(w, r, http.StatusOK, "list.html", sess, "This week's list", v)
}

type localityGroup struct {
	Locality string
	Families []*family
}

// byLocality groups families by locality, keeping their order within each:
// the navigator's localities first, in their order, then any other.
func byLocality(fams []*family, order []string) []localityGroup {
	at := map[string]int{}
	var out []localityGroup
	add := func(loc string) int {
		i, ok := at[loc]
		if !ok {
			i = len(out)
			at[loc] = i
			out = append(out, localityGroup{Locality: loc})
		}
		return i
	}
	for _, loc := range order {
		add(loc)
	}
	for _, f := range fams {
		i := add(f.Locality)
		out[i].Families = append(out[i].Families, f)
	}
	return slices.DeleteFunc(out, func(g localityGroup) bool { return len(g.Families) == 0 })
}

// lookup finds a family the navigator may see. A family of another
// locality is "not found", so the page does not confirm it is listed; the
// attempt is in the access log as denied, since asking for a family one
// may not see is what an auditor of the log looks for.
func (s *Site) lookup(w http.ResponseWriter, r *http.Request, sess *session) (*week, *family, bool) {
	wk, err := s.runs.week()
	if err != nil {
		s.fail(w, r, err)
		return nil, nil, false
	}
	ref := r.PathValue("ref")
	f := wk.byRef[ref]
	if f == nil || !mine(sess.user, f.Locality) {
		s.refuse(w, r, sess, whyDenied, http.StatusNotFound, "Family not found", "This family is not on this week's list for your localities.")
		return nil, nil, false
	}
	return wk, f, true
}

// logAccess writes the access-log line for sess's request about the family
// ref ("" for none).
func (s *Site) logAccess(r *http.Request, sess *session, ref, why string) error {
	return s.access.write(Access{At: s.cfg.Now().UTC(), User: sess.user.Name, Role: sess.user.Role,
		Household: bounded(ref, 64), Page: bounded(r.URL.Path, 128), Why: why})
}

// bounded cuts s to at most n bytes and a mark: a made-up ref from a URL
// is logged too, but not at any length.
func bounded(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// refuse shows an error page for a request the site will not serve. One
// by a signed-in user about a family (a /family/{ref} path) is logged
// first as why (denied or rejected): if that cannot be logged, the user
// sees the failure instead.
func (s *Site) refuse(w http.ResponseWriter, r *http.Request, sess *session, why string, code int, title, detail string) {
	if ref := r.PathValue("ref"); sess != nil && ref != "" {
		if err := s.logAccess(r, sess, ref, why); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	s.errorPage(w, r, code, title, detail)
}

type familyView struct {
	Week    *week
	Family  *family
	History []decisions.Decision
	Kinds   []kindOption
	Reasons []kindOption // a not_appropriate decision's categories
	Chart   *chart
	Events  []pipeline.TimelineEvent
	// Child is the child the timeline is filtered to (?child=), "" for
	// the whole household; NoSuchChild is a ?child= not of this family.
	Child       string
	NoSuchChild string
	Saved       bool
	Problem     *formProblem
	Form        decisionForm // the form's values when it is shown again
}

type kindOption struct{ Value, Label string }

// formProblem is a decision form error: the field at fault, for the error
// summary's link and the field's own message, and what to tell the
// navigator.
type formProblem struct{ Field, Text string }

type decisionForm struct{ Decision, Reason, Note string }

// checkDecision validates a decision form's values; nil means they can be
// recorded.
func checkDecision(f decisionForm) *formProblem {
	switch {
	case !slices.Contains(decisions.Kinds(), f.Decision):
		return &formProblem{"decision", "Choose what was decided."}
	case f.Decision == decisions.NotAppropriate && !slices.Contains(decisions.ReasonCategories(), f.Reason):
		return &formProblem{"reason", "Choose why an offer of early help is not appropriate."}
	case f.Decision != decisions.NotAppropriate && f.Reason != "":
		return &formProblem{"reason", "Only choose why it is not appropriate when the decision is \"Not appropriate\"."}
	case len(f.Note) > decisions.MaxNoteBytes:
		return &formProblem{"note", fmt.Sprintf("The note must be %d characters or fewer.", decisions.MaxNoteBytes)}
	}
	return nil
}

// reasonLabels are the reason categories as the form and history say them.
func reasonLabels() map[string]string {
	return map[string]string{
		decisions.NoConcern:                "No concern: early help is not needed",
		decisions.AlreadyKnownElsewhere:    "Already known to another service",
		decisions.SafeguardingRouteInstead: "A safeguarding route instead",
		decisions.FamilyMoved:              "The family has moved away",
		decisions.OtherReason:              "Another reason (say in the note)",
	}
}

func reasonOptions() []kindOption {
	labels := reasonLabels()
	var out []kindOption
	for _, c := range decisions.ReasonCategories() {
		out = append(out, kindOption{c, labels[c]})
	}
	return out
}

func kindOptions() []kindOption {
	labels := map[string]string{
		decisions.OfferMade: "Offer of early help made", decisions.OfferAccepted: "Offer accepted",
		decisions.OfferDeclined: "Offer declined", decisions.NotAppropriate: "Not appropriate",
		decisions.AlreadySupported: "Already supported", decisions.UnableToContact: "Unable to contact",
	}
	var out []kindOption
	for _, k := range decisions.Kinds() {
		out = append(out, kindOption{k, labels[k]})
	}
	return out
}

func (s *Site) family(w http.ResponseWriter, r *http.Request, sess *session) {
	wk, f, ok := s.lookup(w, r, sess)
	if !ok {
		return
	}
	s.showFamily(w, r, sess, wk, f, "viewed family page", http.StatusOK, nil, decisionForm{})
}

// showFamily shows the family page, after logging the view as why.
func (s *Site) showFamily(w http.ResponseWriter, r *http.Request, sess *session, wk *week, f *family, why string, code int, problem *formProblem, form decisionForm) {
	// On disk before the page leaves: no log line, no page.
	if err := s.logAccess(r, sess, f.Ref, why); err != nil {
		s.fail(w, r, err)
		return
	}
	v := familyView{Week: wk, Family: f, Kinds: kindOptions(), Reasons: reasonOptions(),
		Saved: r.URL.Query().Get("saved") == "1", Problem: problem, Form: form}
	if c := r.URL.Query().Get("child"); c != "" && r.Method == http.MethodGet {
		if f.hasChild(c) {
			v.Child = c
		} else {
			v.NoSuchChild = c
		}
	}
	if f.Pseudonym != "" {
		hist, err := s.cfg.Decisions.History(r.Context(), f.Pseudonym)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		v.History = hist
	}
	if f.Timeline != nil {
		weeks, events := timelineFor(f.Timeline, v.Child)
		v.Chart, v.Events = newChart(weeks, events), events
	}
	identified(w)
	s.render(w, r, code, "family.html", sess, "Family "+f.Ref, v)
}

func (s *Site) decide(w http.ResponseWriter, r *http.Request, sess *session) {
	wk, f, ok := s.lookup(w, r, sess)
	if !ok {
		return
	}
	form := decisionForm{Decision: r.PostFormValue("decision"), Reason: r.PostFormValue("reason"),
		Note: strings.TrimSpace(r.PostFormValue("note"))}
	if p := checkDecision(form); p != nil {
		// The page is shown again with the problem: a view, logged as a
		// rejected decision rather than a recorded one.
		s.showFamily(w, r, sess, wk, f, whyRejected, http.StatusBadRequest, p, form)
		return
	}
	kind := form.Decision
	if f.Pseudonym == "" {
		s.fail(w, r, fmt.Errorf("rank %d of run %s has no pseudonym in %s", f.Rank, wk.RunID, rundir.FamiliesFile))
		return
	}
	// Logged before it is stored: a decision the access log does not
	// record is not made.
	if err := s.logAccess(r, sess, f.Ref, "recorded a decision: "+kind); err != nil {
		s.cfg.Log.Error().Err(err).Msg("review: decision not stored: access log unwritable")
		s.errorPage(w, r, http.StatusInternalServerError, "Your decision was not saved",
			"The access log could not be written, so the decision was not recorded. Try again later, and tell an engineer if it happens again.")
		return
	}
	if _, err := s.cfg.Decisions.Record(r.Context(), decisions.Decision{
		Household: f.Pseudonym, Kind: kind, ReasonCategory: form.Reason, Note: form.Note, Navigator: sess.user.Name,
		Locality: f.Locality, Group: wk.groups[f.Pseudonym], At: s.cfg.Now().UTC(),
	}); err != nil {
		// The log already says recorded: correct it, as far as it can be.
		if lerr := s.logAccess(r, sess, f.Ref, "decision not stored: "+kind); lerr != nil {
			err = errors.Join(err, lerr)
		}
		s.fail(w, r, err)
		return
	}
	if s.cfg.OnDecision != nil {
		s.cfg.OnDecision(kind)
	}
	s.cfg.Log.Info().Str("decision", kind).Msg("review: decision recorded")
	http.Redirect(w, r, "/family/"+pathEscape(f.Ref)+"?saved=1", http.StatusSeeOther)
}

// --- auditors: no household appears on these pages ---

type auditView struct {
	RunID     string
	Headline  string
	Findings  *fairnessFindings
	Overrides []overrideRow
	HasReport bool
}

// fairnessFindings is the audit's findings.json (models/fairness
// FindingsFile): the page opens with them.
type fairnessFindings struct {
	Findings     []fairnessFinding `json:"findings"`
	Inconclusive []fairnessFinding `json:"inconclusive"`
	More         int               `json:"more"`
	// Decisions are the navigators' decisions' findings and inconclusive
	// comparisons by group.
	Decisions []fairnessFinding `json:"decisions"`
}

type fairnessFinding struct {
	Text  string `json:"text"`
	Chart string `json:"chart"`
}

// overrideRow is a row of the overrides table as shown: counts from 1 to
// suppressMax, and any figure they would let a reader work out, are
// withheld, as in the audit's publishable tables.
type overrideRow struct {
	By, Key                      string
	Total, NotAppropriate, Share string
}

// suppressMax is the largest count the auditors' pages show as "fewer than
// 10" rather than as itself: small numbers can identify a family.
const suppressMax = 9

func suppressed(n int64) bool { return n > 0 && n <= suppressMax }

func overrideRows(ovs []decisions.Override) []overrideRow {
	out := make([]overrideRow, len(ovs))
	for i, o := range ovs {
		r := overrideRow{By: o.By, Key: o.Key, Total: strconv.FormatInt(o.Total, 10),
			NotAppropriate: strconv.FormatInt(o.NotAppropriate, 10), Share: fmt.Sprintf("%.0f%%", 100*o.Share)}
		// The other decisions' count, Total − NotAppropriate, is as
		// telling as the two shown: suppress it by suppressing both.
		if suppressed(o.Total) {
			r.Total = "fewer than 10"
		}
		if suppressed(o.Total) || suppressed(o.NotAppropriate) || suppressed(o.Total-o.NotAppropriate) {
			r.NotAppropriate, r.Share = "suppressed", "suppressed"
		}
		out[i] = r
	}
	return out
}

func (s *Site) audit(w http.ResponseWriter, r *http.Request, sess *session) {
	run, err := s.runs.latest()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ms, err := s.runs.manifests()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := auditView{RunID: run.ID()}
	for _, m := range ms {
		if m.RunID == run.ID() {
			v.Headline = m.Fairness
		}
	}
	ov, err := s.cfg.Decisions.Overrides(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Overrides = overrideRows(ov)
	if b, err := os.ReadFile(run.Audit().FindingsJSON()); err == nil {
		var f fairnessFindings
		if json.Unmarshal(b, &f) == nil {
			v.Findings = &f
		}
	}
	_, statErr := os.Stat(run.Audit().ReportHTML())
	v.HasReport = statErr == nil
	s.render(w, r, http.StatusOK, "audit.html", sess, "Fairness audit", v)
}

// auditReport serves the run's audit/report.html, which is aggregates
// only. It is a document of its own with its styles inline, so it gets a
// CSP that allows inline style and still no script.
func (s *Site) auditReport(w http.ResponseWriter, r *http.Request, sess *session) {
	run, err := s.runs.latest()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	b, err := os.ReadFile(run.Audit().ReportHTML())
	if errors.Is(err, os.ErrNotExist) {
		s.errorPage(w, r, http.StatusNotFound, "No fairness report", "The latest run did not write a fairness report.")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(b)
}

type modelView struct {
	RunID string
	Card  map[string]any
	Keys  []string
	Text  string
}

func (s *Site) model(w http.ResponseWriter, r *http.Request, sess *session) {
	run, err := s.runs.latest()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := modelView{RunID: run.ID()}
	if b, err := os.ReadFile(run.ModelCardMD()); err == nil {
		v.Text = string(b)
	}
	if b, err := os.ReadFile(run.ModelCardJSON()); err == nil && json.Unmarshal(b, &v.Card) == nil {
		for k, val := range v.Card {
			switch val.(type) {
			case string, float64, bool:
				v.Keys = append(v.Keys, k)
			}
		}
		sort.Strings(v.Keys)
	}
	s.render(w, r, http.StatusOK, "model.html", sess, "Model card", v)
}

// --- engineers: runs and their books, no household ---

func (s *Site) runsPage(w http.ResponseWriter, r *http.Request, sess *session) {
	ms, err := s.runs.manifests()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(ms) > 52 {
		ms = ms[:52]
	}
	s.render(w, r, http.StatusOK, "runs.html", sess, "Runs", ms)
}
