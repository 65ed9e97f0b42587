package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/rs/zerolog"

	"earlyhelp/pipeline"
	"earlyhelp/pipeline/config"
	"earlyhelp/pipeline/review"
	"earlyhelp/pipeline/review/decisions"
	"earlyhelp/pipeline/review/users"
)

// The review site keeps its files beside the store, under
// data_dir/review/: no configuration key is needed to find them.
func reviewPath(dataDir, name string) string { return filepath.Join(dataDir, "review", name) }

const (
	usersFile     = "users.json"
	decisionsFile = "decisions.db"
	accessLogFile = "access.log"
)

// decisionsFor gives a run the navigators' latest decisions, read from the
// decisions store when there is one (the site writes it; a council without
// the site has none).
func decisionsFor(dataDir string) func(context.Context) (map[string]pipeline.Decision, error) {
	return func(ctx context.Context) (map[string]pipeline.Decision, error) {
		path := reviewPath(dataDir, decisionsFile)
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		st, err := decisions.Open(path)
		if err != nil {
			return nil, err
		}
		defer st.Close()
		latest, err := st.Latest(ctx)
		if err != nil {
			return nil, err
		}
		out := make(map[string]pipeline.Decision, len(latest))
		for hh, d := range latest {
			out[hh] = pipeline.Decision{Decision: d.Kind, At: d.At}
		}
		return out, nil
	}
}

// sitePack is what a council sets for the site's printed pages and
// navigators' guidance (the list: block of its config).
type sitePack struct {
	Marking       string // protective marking; the site's default when empty
	PrivacyNotice string // text for the guidance page; the site's default when empty
}

// packOf reads a config's site pack: its marking and privacy-notice text.
func packOf(cfg *config.Config) (sitePack, error) {
	p := sitePack{Marking: cfg.List.ProtectiveMarking}
	if f := cfg.List.PrivacyNoticeFile; f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return p, cfg.Errorf("list.privacy_notice_file", "%v", err)
		}
		p.PrivacyNotice = strings.TrimSpace(string(b))
	}
	return p, nil
}

// openSite wires the review site over dataDir. The caller closes it.
func openSite(dataDir string, secure bool, pack sitePack, metrics *pipeline.Metrics, log zerolog.Logger) (*review.Site, func(), error) {
	if err := os.MkdirAll(filepath.Join(dataDir, "review"), 0o750); err != nil {
		return nil, nil, fmt.Errorf("review: %w", err)
	}
	uf, err := users.Load(reviewPath(dataDir, usersFile))
	if err != nil {
		return nil, nil, err
	}
	st, err := decisions.Open(reviewPath(dataDir, decisionsFile))
	if err != nil {
		return nil, nil, err
	}
	cfg := review.Config{
		DataDir: dataDir, Users: uf, Decisions: st, AccessLog: reviewPath(dataDir, accessLogFile),
		Secure: secure, Log: log, Marking: pack.Marking, PrivacyNotice: pack.PrivacyNotice,
	}
	if metrics != nil {
		cfg.OnDecision = func(kind string) { metrics.Decisions.WithLabelValues(kind).Inc() }
	}
	site, err := review.New(cfg)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return site, func() { site.Close(); st.Close() }, nil
}

// runUsers manages the review site's accounts:
//
//	earlyhelp users add NAME --role ROLE [--localities A,B] --config F  (password on standard input)
//	earlyhelp users passwd NAME --config F  (new password on standard input)
//	earlyhelp users remove NAME --config F
//	earlyhelp users list --config F
//
// A running site sees each change at its next request: no restart.
func runUsers(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return &usageError{"users: want add, passwd, remove or list"}
	}
	verb, args := args[0], args[1:]
	fs := flag.NewFlagSet("users "+verb, flag.ContinueOnError)
	role := fs.String(users.RoleKey, "", "navigator, auditor or engineer (add)")
	locs := fs.String("localities", "", "a navigator's localities, comma-separated (add)")
	var cf commonFlags
	cf.withConfig(fs)
	cf.register(fs)
	// The name comes first: earlyhelp users add NAME --role ...
	name := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	cfg, _, err := cf.load(stderr)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(cfg.DataDir, "review"), 0o750); err != nil {
		return err
	}
	uf, err := users.Load(reviewPath(cfg.DataDir, usersFile))
	if err != nil {
		return err
	}
	switch verb {
	case "add":
		if name == "" {
			return &usageError{"users add: NAME is required"}
		}
		var localities []string
		for _, l := range strings.Split(*locs, ",") {
			if l = strings.TrimSpace(l); l != "" {
				localities = append(localities, l)
			}
		}
		pw, err := readPassword(stdin)
		if err != nil {
			return err
		}
		if err := uf.Add(name, *role, localities, pw); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "user %s added as %s\n", name, *role)
	case "passwd":
		if name == "" {
			return &usageError{"users passwd: NAME is required"}
		}
		pw, err := readPassword(stdin)
		if err != nil {
			return err
		}
		if err := uf.SetPassword(name, pw); err != nil {
			return err
		}
		// The site signs the user out everywhere at their next request.
		fmt.Fprintf(stdout, "user %s has a new password\n", name)
	case "remove":
		if name == "" {
			return &usageError{"users remove: NAME is required"}
		}
		if err := uf.Remove(name); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "user %s removed\n", name)
	case "list":
		for _, u := range uf.Users() {
			fmt.Fprintf(stdout, "%s\t%s\t%s\n", u.Name, u.Role, strings.Join(u.Localities, ","))
		}
	default:
		return &usageError{fmt.Sprintf("users: unknown action %q: want add, passwd, remove or list", verb)}
	}
	return nil
}

// readPassword reads the first line of standard input: a password manager
// or `read -s` pipes it in, so it never appears in the process list.
func readPassword(r io.Reader) ([]byte, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("reading the password from standard input: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return nil, errors.New("no password on standard input")
	}
	return []byte(line), nil
}

// demoAccounts writes one account per role for the demo council, with
// fresh random passwords, and returns them to print.
func demoAccounts(dataDir string, localities []string) ([][3]string, error) {
	if err := os.MkdirAll(filepath.Join(dataDir, "review"), 0o750); err != nil {
		return nil, err
	}
	uf, err := users.Load(reviewPath(dataDir, usersFile))
	if err != nil {
		return nil, err
	}
	var out [][3]string
	for _, a := range []struct{ name, role string }{
		{"demo-navigator", users.Navigator}, {"demo-auditor", users.Auditor}, {"demo-engineer", users.Engineer},
	} {
		b := make([]byte, 12)
		rand.Read(b)
		pw := base64.RawURLEncoding.EncodeToString(b)
		var locs []string
		if a.role == users.Navigator {
			locs = localities
		}
		if err := uf.Add(a.name, a.role, locs, []byte(pw)); err != nil {
			return nil, err
		}
		out = append(out, [3]string{a.name, a.role, pw})
	}
	return out, nil
}
