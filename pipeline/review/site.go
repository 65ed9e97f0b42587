package review

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"earlyhelp/pipeline/review/assets"
	"earlyhelp/pipeline/review/decisions"
	"earlyhelp/pipeline/review/users"
)

// Config wires the site. Everything is passed in: the site opens nothing
// but the access log.
type Config struct {
	DataDir   string // the store's data_dir: the site reads runs/ under it
	Users     Accounts
	Decisions *decisions.Store
	// Throttle locks a name out after repeated wrong passwords; nil uses
	// users' defaults (10 in a minute lock it for 15 minutes).
	Throttle *users.Throttle
	// AddrThrottle does the same per client address (the connection's,
	// so behind a proxy every client shares one); nil uses users'
	// defaults (30 in a minute lock it for 5 minutes).
	AddrThrottle *users.Throttle
	// AccessLog is the append-only JSON-lines file of every view of an
	// identified family.
	AccessLog string
	// Secure marks the cookies Secure: set it when the site is behind TLS.
	Secure bool
	// SessionTTL ends an idle session; 0 means 8 hours, a working day.
	SessionTTL time.Duration
	// SessionMaxAge ends a session this long after sign-in however busy it
	// is, so a stolen cookie kept alive by use still dies; 0 means 12
	// hours, a long working day.
	SessionMaxAge time.Duration
	// OnDecision is told of every decision recorded, for the
	// earlyhelp_decisions_total counter; may be nil.
	OnDecision func(kind string)
	// Marking is the protective marking shown in the header and footer of
	// every page, on screen and in print; "" means DefaultMarking.
	Marking string
	// PrivacyNotice is the council's text (list.privacy_notice_file) for
	// the guidance page's "why were we contacted"; "" shows a default.
	PrivacyNotice string
	Now           func() time.Time // default time.Now
	Log           zerolog.Logger
}

// Accounts is who may sign in; *users.File is the one the command wires.
// Both methods may be called concurrently.
type Accounts interface {
	// Authenticate returns the user if password is theirs, and an error
	// wrapping users.ErrBadCredentials if not.
	Authenticate(name string, password []byte) (users.User, error)
	// Lookup returns the named user as the accounts now have them.
	Lookup(name string) (users.User, bool)
}

var _ Accounts = (*users.File)(nil)

// DefaultMarking is the Government Security Classification of a list that
// names families.
const DefaultMarking = "OFFICIAL-SENSITIVE"

// Site is the review site's http.Handler.
type Site struct {
	cfg    Config
	runs   *runs
	pages  *template.Template
	access *accessLog
	mux    *http.ServeMux

	mu       sync.Mutex
	sessions map[string]*session // by token
}

// session is one signed-in user.
type session struct {
	user    users.User
	csrf    string
	expires time.Time // idle limit, pushed back by every request
	ends    time.Time // absolute limit, fixed at sign-in
}

// over reports whether the session has ended by either limit at now.
func (s *session) over(now time.Time) bool { return now.After(s.expires) || !now.Before(s.ends) }

const (
	sessionCookie = "eh_session"
	loginCookie   = "eh_login" // the login form's CSRF token, before a session exists
)

// New checks cfg and builds the site. It opens the access log for
// appending.
func New(cfg Config) (*Site, error) {
	switch {
	case cfg.DataDir == "":
		return nil, errors.New("review: no data_dir")
	case cfg.Users == nil:
		return nil, errors.New("review: no users file")
	case cfg.Decisions == nil:
		return nil, errors.New("review: no decisions store")
	case cfg.AccessLog == "":
		return nil, errors.New("review: no access log path")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Throttle == nil {
		cfg.Throttle = users.NewThrottle(users.DefaultMaxFailures, users.DefaultWindow, users.DefaultLockout, cfg.Now)
	}
	if cfg.AddrThrottle == nil {
		cfg.AddrThrottle = users.NewThrottle(users.DefaultAddrMaxFailures, users.DefaultAddrWindow, users.DefaultAddrLockout, cfg.Now)
	}
	if cfg.Marking == "" {
		cfg.Marking = DefaultMarking
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 8 * time.Hour
	}
	if cfg.SessionMaxAge <= 0 {
		cfg.SessionMaxAge = 12 * time.Hour
	}
	pages, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(cfg.AccessLog), 0o750); err != nil {
		return nil, fmt.Errorf("review: access log: %w", err)
	}
	al, err := openAccessLog(cfg.AccessLog, cfg.Now())
	if err != nil {
		return nil, err
	}
	s := &Site{
		cfg: cfg, runs: &runs{dataDir: cfg.DataDir}, pages: pages, access: al,
		sessions: map[string]*session{},
	}
	s.routes()
	return s, nil
}

// Close closes the access log.
func (s *Site) Close() error { return s.access.close() }

// Route is one page of the site and the roles that may see it; the
// authorisation matrix test walks this table.
type Route struct {
	Pattern string
	Roles   []string // nil: anyone, signed in or not
}

// Routes lists every route with its roles.
func Routes() []Route {
	nav, aud, eng := []string{users.Navigator}, []string{users.Auditor}, []string{users.Engineer}
	all := []string{users.Navigator, users.Auditor, users.Engineer}
	return []Route{
		{"GET /login", nil},
		{"POST /login", nil},
		{"POST /logout", all},
		{"GET /{$}", all},
		{"GET /help", all},
		{"GET /guidance", all},
		{"GET /list", nav},
		{"GET /family/{ref}", nav},
		{"POST /family/{ref}/decision", nav},
		{"GET /audit", aud},
		{"GET /audit/report", aud},
		{"GET /model", aud},
		{"GET /runs", eng},
	}
}

func (s *Site) routes() {
	handlers := map[string]func(http.ResponseWriter, *http.Request, *session){
		"GET /login":                  s.loginForm,
		"POST /login":                 s.login,
		"POST /logout":                s.logout,
		"GET /{$}":                    s.home,
		"GET /help":                   s.help,
		"GET /guidance":               s.guidance,
		"GET /list":                   s.list,
		"GET /family/{ref}":           s.family,
		"POST /family/{ref}/decision": s.decide,
		"GET /audit":                  s.audit,
		"GET /audit/report":           s.auditReport,
		"GET /model":                  s.model,
		"GET /runs":                   s.runsPage,
	}
	s.mux = http.NewServeMux()
	for _, r := range Routes() {
		s.mux.Handle(r.Pattern, s.guard(r, handlers[r.Pattern]))
	}
	s.mux.Handle("GET /assets/", assets.Handler())
	// Anything else: a known page asked with the wrong method is 405, the
	// rest 404. (The catch-all pattern would otherwise hide the 405.)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		var allow []string
		for _, m := range []string{http.MethodGet, http.MethodPost} {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pattern := s.mux.Handler(probe); pattern != "/" {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			s.errorPage(w, r, http.StatusMethodNotAllowed, "Not allowed", "That page cannot be used that way.")
			return
		}
		s.errorPage(w, r, http.StatusNotFound, "Page not found", "Check the address, or go back to the start.")
	})
}

// ServeHTTP adds the security headers every response carries and routes.
func (s *Site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	if s.cfg.Secure {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
	// Every page but the shared assets is either a form with a token or
	// shows what a signed-in user may see: no browser or proxy keeps one.
	// Set here rather than per page, so a new page cannot forget it.
	if !strings.HasPrefix(r.URL.Path, "/assets/") {
		identified(w)
	}
	// No page reads more than a small form: a body is cut off at the limit
	// so a client cannot make the site buffer or parse megabytes.
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	s.mux.ServeHTTP(w, r)
}

// guard enforces the route's roles: a page for signed-in users redirects
// the others to /login, a role without access gets 403, and every POST
// but the login form's needs the session's CSRF token.
func (s *Site) guard(rt Route, h func(http.ResponseWriter, *http.Request, *session)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess := s.session(r)
		if r.Method == http.MethodPost {
			if code, detail := parseForm(r); code != 0 {
				s.refuse(w, r, sess, whyRejected, code, "The form could not be used", detail)
				return
			}
		}
		if rt.Roles == nil {
			h(w, r, sess)
			return
		}
		if sess == nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/login", http.StatusSeeOther)
				return
			}
			s.errorPage(w, r, http.StatusForbidden, "Sign in first", "Your session has ended. Sign in again.")
			return
		}
		if !slices.Contains(rt.Roles, sess.user.Role) {
			s.refuse(w, r, sess, whyDenied, http.StatusForbidden, "You cannot see this page", "Your role does not give access to it.")
			return
		}
		if r.Method == http.MethodPost && !s.validCSRF(r, sess.csrf) {
			s.refuse(w, r, sess, whyRejected, http.StatusForbidden, "The form has expired", "Go back, reload the page and try again.")
			return
		}
		h(w, r, sess)
	})
}

// maxBodyBytes bounds every request body. The largest form, a decision,
// is a few kilobytes even with a full note (decisions.MaxNoteBytes).
const maxBodyBytes = 64 << 10

// parseForm reads a POST's urlencoded form, the only kind the site's
// pages send. It returns 0 if the form was read, or the status to refuse
// it with and why: 415 for any other kind (multipart would spool files to
// disk), 413 for one over maxBodyBytes, 400 for one that does not parse.
func parseForm(r *http.Request) (code int, detail string) {
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || ct != "application/x-www-form-urlencoded" {
		return http.StatusUnsupportedMediaType, "Go back, reload the page and try again."
	}
	// A declared length over the limit is refused before a byte is read.
	if r.ContentLength > maxBodyBytes {
		return http.StatusRequestEntityTooLarge, "The form is too large. Shorten the note and try again."
	}
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return http.StatusRequestEntityTooLarge, "The form is too large. Shorten the note and try again."
		}
		return http.StatusBadRequest, "Go back, reload the page and try again."
	}
	return 0, ""
}

func (s *Site) validCSRF(r *http.Request, want string) bool {
	got := r.PostFormValue("csrf_token")
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// session returns the request's live session, if any.
func (s *Site) session(r *http.Request) *session {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	now := s.cfg.Now()
	s.mu.Lock()
	sess := s.sessions[c.Value]
	if sess != nil && sess.over(now) {
		delete(s.sessions, c.Value)
		sess = nil
	}
	s.mu.Unlock()
	if sess == nil {
		return nil
	}
	// A session is for the account as it was at sign-in: a user removed
	// from the users file, or given a new password, role or localities,
	// is signed out at their next request. (Lookup re-reads the file when
	// it changes, so this needs no restart; it runs outside s.mu so no
	// other request waits on that read. sess.user never changes.)
	if u, ok := s.cfg.Users.Lookup(sess.user.Name); !ok || !u.Same(sess.user) {
		s.mu.Lock()
		delete(s.sessions, c.Value)
		s.mu.Unlock()
		return nil
	}
	s.mu.Lock()
	sess.expires = now.Add(s.cfg.SessionTTL)
	s.mu.Unlock()
	return sess
}

func token() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("review: crypto/rand: %v", err)) // the runtime guarantees it does not fail
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *Site) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: s.cfg.Secure, SameSite: http.SameSiteStrictMode,
	}
}

// startSession signs u in and returns the cookie's token.
func (s *Site) startSession(u users.User) string {
	t := token()
	now := s.cfg.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range s.sessions { // keep the map to live sessions
		if v.over(now) {
			delete(s.sessions, k)
		}
	}
	s.sessions[t] = &session{user: u, csrf: token(), expires: now.Add(s.cfg.SessionTTL), ends: now.Add(s.cfg.SessionMaxAge)}
	return t
}

func (s *Site) endSession(r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		s.mu.Lock()
		delete(s.sessions, c.Value)
		s.mu.Unlock()
	}
}

// identified marks a response that browsers and proxies must not keep:
// a page that shows a family, a form with a token, anything behind sign-in.
func identified(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
}
