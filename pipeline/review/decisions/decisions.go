// Package decisions is the navigators' record of what they decided about each
// listed household, kept in a SQLite file beside the review server.
//
// The record is append-only: a changed mind is a new decision, so the
// history a household's navigator sees, and the override analysis an auditor
// runs, are never rewritten after the fact. The store offers no update or
// delete, and triggers in the schema refuse them from any other client too.
package decisions

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Kinds of decision (CONTRACTS §6).
const (
	OfferMade        = "offer_made"
	OfferAccepted    = "offer_accepted"
	OfferDeclined    = "offer_declined"
	NotAppropriate   = "not_appropriate"
	AlreadySupported = "already_supported"
	UnableToContact  = "unable_to_contact"
)

// Kinds returns every kind of decision, in a fresh slice the caller may keep
// or change.
func Kinds() []string {
	return []string{OfferMade, OfferAccepted, OfferDeclined, NotAppropriate, AlreadySupported, UnableToContact}
}

// Reason categories of a not_appropriate decision (CONTRACTS §6): why a
// navigator turned down the list's suggestion, so an auditor can tell "no
// concern" from "known elsewhere" when reading the override rates.
const (
	NoConcern                = "no_concern"
	AlreadyKnownElsewhere    = "already_known_elsewhere"
	SafeguardingRouteInstead = "safeguarding_route_instead"
	FamilyMoved              = "family_moved"
	OtherReason              = "other"
)

// ReasonCategories returns every reason category of a not_appropriate
// decision, in a fresh slice the caller may keep or change.
func ReasonCategories() []string {
	return []string{NoConcern, AlreadyKnownElsewhere, SafeguardingRouteInstead, FamilyMoved, OtherReason}
}

// MaxNoteBytes bounds a decision's note: enough for a navigator's reason,
// short enough that the note field does not become a case file.
const MaxNoteBytes = 2000

// Decision is one navigator's decision about one household.
type Decision struct {
	ID        int64
	Household string // household pseudonym (the key the pipeline uses)
	Kind      string
	Note      string // free text, at most MaxNoteBytes bytes
	Navigator string // username
	Locality  string // the household's locality when decided (for override analysis)
	Group     string // an audit group label (e.g. ethnicity 5-group); may be ""
	// ReasonCategory is why a not_appropriate decision was made, one of
	// ReasonCategories; "" for every other kind, and for not_appropriate
	// decisions recorded before categories existed (schema version 1).
	ReasonCategory string
	At             time.Time
}

// Latest is a household's most recent decision.
type Latest struct {
	Kind string
	At   time.Time
}

// Override is the share of decisions that were not_appropriate within one
// locality or one audit group: a navigator turning down the model's
// suggestion far more often for one group than another is what an auditor
// needs to see.
type Override struct {
	By             string // "locality" or "group"
	Key            string
	Total          int64
	NotAppropriate int64
	Share          float64
}

// Store is an open decisions file. It is safe for concurrent use.
type Store struct {
	db *sql.DB
}

// timeLayout is RFC 3339 with the fraction always nine digits. Plain
// RFC3339Nano trims trailing zeros, and then "…:05Z" sorts after
// "…:05.5Z"; a fixed width keeps text order equal to time order, so the
// database can order by the column. Both layouts parse the other's output.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// migrations returns the schema's steps in order; step i (from 0) is
// version i+1. Steps are only ever appended: a file records which versions
// it has, and an edited step would never be re-run on files that have it.
func migrations() []string {
	return []string{
		// kind is checked in Go rather than by a CHECK constraint, because
		// SQLite cannot alter a constraint and a new kind would otherwise
		// need the table copied. The triggers make the table append-only
		// for every client, not just this package.
		`CREATE TABLE decisions (
			id          INTEGER PRIMARY KEY AUTOINCREMENT,
			household   TEXT NOT NULL CHECK (household <> ''),
			kind        TEXT NOT NULL,
			note        TEXT NOT NULL,
			navigator   TEXT NOT NULL CHECK (navigator <> ''),
			locality    TEXT NOT NULL,
			audit_group TEXT NOT NULL,
			at          TEXT NOT NULL
		);
		CREATE INDEX decisions_household_at ON decisions (household, at, id);
		CREATE TRIGGER decisions_no_update BEFORE UPDATE ON decisions
			BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END;
		CREATE TRIGGER decisions_no_delete BEFORE DELETE ON decisions
			BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END;`,
		// Version 2: a not_appropriate decision's reason category. Rows
		// recorded before it keep '' (not recorded); ADD COLUMN rewrites no
		// row, so the append-only triggers are not fired.
		`ALTER TABLE decisions ADD COLUMN reason_category TEXT NOT NULL DEFAULT ''`,
		// Version 3: the capacity-margin lottery's allocations (see
		// allocations.go), append-only like the decisions, so the arm a
		// household was drawn into cannot be changed once its outcome is
		// known.
		`CREATE TABLE evaluation_allocations (
			id        INTEGER PRIMARY KEY AUTOINCREMENT,
			run_id    TEXT NOT NULL CHECK (run_id <> ''),
			as_of     TEXT NOT NULL,
			household TEXT NOT NULL CHECK (household <> ''),
			rank      INTEGER NOT NULL CHECK (rank >= 1),
			arm       TEXT NOT NULL CHECK (arm IN ('offered', 'not_offered')),
			margin    INTEGER NOT NULL,
			seed      INTEGER NOT NULL,
			at        TEXT NOT NULL,
			UNIQUE (run_id, household)
		);
		CREATE INDEX evaluation_allocations_household ON evaluation_allocations (household, as_of, id);
		CREATE TRIGGER evaluation_allocations_no_update BEFORE UPDATE ON evaluation_allocations
			BEGIN SELECT RAISE(ABORT, 'allocations are append-only'); END;
		CREATE TRIGGER evaluation_allocations_no_delete BEFORE DELETE ON evaluation_allocations
			BEGIN SELECT RAISE(ABORT, 'allocations are append-only'); END;`,
	}
}

// Open opens the decisions file at path, creating it with mode 0600 if it
// does not exist, and brings its schema up to date. A file written by a
// newer version of this package is refused rather than half-understood.
func Open(path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("decisions: open: empty path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("decisions: open %s: %w", path, err)
	}
	// Created here rather than by SQLite so the mode is 0600 whatever the
	// umask; SQLite gives the -wal and -shm files the database file's mode.
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("decisions: open %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("decisions: open %s: %w", path, err)
	}

	// The pragmas go in the DSN because database/sql pools connections and
	// busy_timeout and foreign_keys are per connection. _txlock=immediate
	// makes every transaction take the write lock at BEGIN, so two
	// processes migrating at once wait on busy_timeout instead of failing
	// to upgrade a read lock. The path goes through url.URL so a '?' or '#'
	// in it is escaped rather than read as the start of the query.
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Set("_txlock", "immediate")
	dsn := (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}).String()

	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("decisions: open %s: %w", path, err)
	}
	s := &Store{db: db}
	if err := s.check(); err != nil {
		db.Close()
		return nil, fmt.Errorf("decisions: open %s: %w", path, err)
	}
	if err := s.migrate(); err != nil {
		db.Close()
		return nil, fmt.Errorf("decisions: open %s: %w", path, err)
	}
	return s, nil
}

// check confirms the connection really is in WAL mode: SQLite falls back
// silently where WAL is unsupported (some network filesystems), and then
// readers would block the writer.
func (s *Store) check() error {
	var mode string
	if err := s.db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil {
		return fmt.Errorf("read journal mode: %w", err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal mode is %q, want wal", mode)
	}
	return nil
}

// migrate applies the steps the file lacks, each in its own transaction with
// its row in schema_migrations, so a crash leaves the file at a whole
// version.
func (s *Store) migrate() error {
	ctx := context.Background()
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		applied_at TEXT NOT NULL
	)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	steps := migrations()
	var have sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&have); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if have.Int64 > int64(len(steps)) {
		return fmt.Errorf("schema version %d is newer than this program knows (%d); upgrade earlyhelp before opening this file", have.Int64, len(steps))
	}
	for i, step := range steps {
		v := i + 1
		if int64(v) <= have.Int64 {
			continue
		}
		if err := s.apply(ctx, v, step); err != nil {
			return fmt.Errorf("migrate to version %d: %w", v, err)
		}
	}
	return nil
}

func (s *Store) apply(ctx context.Context, v int, step string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// Another process may have applied this version between our read of
	// MAX(version) and this transaction taking the write lock.
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, v).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, step); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
		v, time.Now().UTC().Format(timeLayout)); err != nil {
		return err
	}
	return tx.Commit()
}

// Close closes the file.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("decisions: close: %w", err)
	}
	return nil
}

// validate checks d before it is written. The messages never quote the
// household: error text ends up in logs, and a pseudonym there can be joined
// back to a family.
func validate(d Decision) error {
	if d.Household == "" {
		return errors.New("decisions: household is empty")
	}
	if !slices.Contains(Kinds(), d.Kind) {
		return fmt.Errorf("decisions: unknown kind %q", d.Kind)
	}
	if d.Navigator == "" {
		return errors.New("decisions: navigator is empty")
	}
	switch {
	case d.Kind == NotAppropriate && !slices.Contains(ReasonCategories(), d.ReasonCategory):
		if d.ReasonCategory == "" {
			return errors.New("decisions: not_appropriate needs a reason category")
		}
		return fmt.Errorf("decisions: unknown reason category %q", d.ReasonCategory)
	case d.Kind != NotAppropriate && d.ReasonCategory != "":
		return fmt.Errorf("decisions: a reason category is for not_appropriate only, not %s", d.Kind)
	}
	if len(d.Note) > MaxNoteBytes {
		return fmt.Errorf("decisions: note is %d bytes, more than the %d allowed", len(d.Note), MaxNoteBytes)
	}
	if d.At.IsZero() {
		return errors.New("decisions: time of decision is not set")
	}
	// Outside these years the fixed-width text would not sort as time does.
	if y := d.At.UTC().Year(); y < 1 || y > 9999 {
		return fmt.Errorf("decisions: time of decision has year %d, outside 1-9999", y)
	}
	return nil
}

// Record appends d and returns it with its ID set and At in UTC.
func (s *Store) Record(ctx context.Context, d Decision) (Decision, error) {
	if err := validate(d); err != nil {
		return Decision{}, err
	}
	d.At = d.At.UTC()
	res, err := s.db.ExecContext(ctx, `INSERT INTO decisions
		(household, kind, note, navigator, locality, audit_group, reason_category, at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		d.Household, d.Kind, d.Note, d.Navigator, d.Locality, d.Group, d.ReasonCategory, d.At.Format(timeLayout))
	if err != nil {
		return Decision{}, fmt.Errorf("decisions: record %s: %w", d.Kind, err)
	}
	if d.ID, err = res.LastInsertId(); err != nil {
		return Decision{}, fmt.Errorf("decisions: record %s: read id: %w", d.Kind, err)
	}
	return d, nil
}

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}

// Latest returns each household's most recent decision, by the time it was
// decided; of two at the same instant, the one recorded later wins.
func (s *Store) Latest(ctx context.Context) (map[string]Latest, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT household, kind, at FROM (
		SELECT household, kind, at,
			ROW_NUMBER() OVER (PARTITION BY household ORDER BY at DESC, id DESC) AS rn
		FROM decisions
	) WHERE rn = 1`)
	if err != nil {
		return nil, fmt.Errorf("decisions: latest: %w", err)
	}
	defer rows.Close()
	out := make(map[string]Latest)
	for rows.Next() {
		var household, kind, at string
		if err := rows.Scan(&household, &kind, &at); err != nil {
			return nil, fmt.Errorf("decisions: latest: %w", err)
		}
		t, err := parseTime(at)
		if err != nil {
			return nil, fmt.Errorf("decisions: latest: %w", err)
		}
		out[household] = Latest{Kind: kind, At: t}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("decisions: latest: %w", err)
	}
	return out, nil
}

// LatestDecisions returns each household's most recent decision, whole
// (its locality and reason category with it), for the audit of the
// navigators' decisions. Notes are left out: the audit never reads them.
func (s *Store) LatestDecisions(ctx context.Context) (map[string]Decision, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, household, kind, navigator, locality, audit_group, reason_category, at FROM (
		SELECT id, household, kind, navigator, locality, audit_group, reason_category, at,
			ROW_NUMBER() OVER (PARTITION BY household ORDER BY at DESC, id DESC) AS rn
		FROM decisions
	) WHERE rn = 1`)
	if err != nil {
		return nil, fmt.Errorf("decisions: latest decisions: %w", err)
	}
	defer rows.Close()
	out := map[string]Decision{}
	for rows.Next() {
		var d Decision
		var at string
		if err := rows.Scan(&d.ID, &d.Household, &d.Kind, &d.Navigator, &d.Locality, &d.Group, &d.ReasonCategory, &at); err != nil {
			return nil, fmt.Errorf("decisions: latest decisions: %w", err)
		}
		if d.At, err = parseTime(at); err != nil {
			return nil, fmt.Errorf("decisions: latest decisions: decision %d: %w", d.ID, err)
		}
		out[d.Household] = d
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("decisions: latest decisions: %w", err)
	}
	return out, nil
}

// History returns a household's decisions, newest first.
func (s *Store) History(ctx context.Context, household string) ([]Decision, error) {
	if household == "" {
		return nil, errors.New("decisions: history: household is empty")
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, household, kind, note, navigator, locality, audit_group, reason_category, at
		FROM decisions WHERE household = ? ORDER BY at DESC, id DESC`, household)
	if err != nil {
		return nil, fmt.Errorf("decisions: history: %w", err)
	}
	defer rows.Close()
	var out []Decision
	for rows.Next() {
		var d Decision
		var at string
		if err := rows.Scan(&d.ID, &d.Household, &d.Kind, &d.Note, &d.Navigator, &d.Locality, &d.Group, &d.ReasonCategory, &at); err != nil {
			return nil, fmt.Errorf("decisions: history: %w", err)
		}
		if d.At, err = parseTime(at); err != nil {
			return nil, fmt.Errorf("decisions: history: decision %d: %w", d.ID, err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("decisions: history: %w", err)
	}
	return out, nil
}

// Counts returns how many decisions of each kind are recorded. Every kind is
// present, zero if none, so a metric built from it has a series per kind
// from the start.
func (s *Store) Counts(ctx context.Context) (map[string]int64, error) {
	out := make(map[string]int64)
	for _, k := range Kinds() {
		out[k] = 0
	}
	rows, err := s.db.QueryContext(ctx, `SELECT kind, COUNT(*) FROM decisions GROUP BY kind`)
	if err != nil {
		return nil, fmt.Errorf("decisions: counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind string
		var n int64
		if err := rows.Scan(&kind, &n); err != nil {
			return nil, fmt.Errorf("decisions: counts: %w", err)
		}
		out[kind] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("decisions: counts: %w", err)
	}
	return out, nil
}

// Overrides returns, for every locality and every audit group, how many
// decisions were recorded and what share of them were not_appropriate,
// sorted by By then Key. Every decision counts, not just each household's
// latest, because each is a separate judgement by a navigator. An empty
// locality or group is reported under the key "" rather than dropped:
// decisions about households whose group was never recorded are part of
// what an auditor must see.
func (s *Store) Overrides(ctx context.Context) ([]Override, error) {
	rows, err := s.db.QueryContext(ctx, `
		SELECT 'locality', locality, COUNT(*), SUM(kind = ?) FROM decisions GROUP BY locality
		UNION ALL
		SELECT 'group', audit_group, COUNT(*), SUM(kind = ?) FROM decisions GROUP BY audit_group`,
		NotAppropriate, NotAppropriate)
	if err != nil {
		return nil, fmt.Errorf("decisions: overrides: %w", err)
	}
	defer rows.Close()
	var out []Override
	for rows.Next() {
		var o Override
		if err := rows.Scan(&o.By, &o.Key, &o.Total, &o.NotAppropriate); err != nil {
			return nil, fmt.Errorf("decisions: overrides: %w", err)
		}
		if o.Total > 0 {
			o.Share = float64(o.NotAppropriate) / float64(o.Total)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("decisions: overrides: %w", err)
	}
	// Sorted here rather than in SQL so the order is Go's byte order
	// whatever collation the columns carry.
	slices.SortFunc(out, func(a, b Override) int {
		if c := strings.Compare(a.By, b.By); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	return out, nil
}

// OverrideReason is how many not_appropriate decisions gave one reason
// category within one locality or one audit group.
type OverrideReason struct {
	By       string // "locality" or "group"
	Key      string
	Category string // "" for decisions recorded before categories existed
	Count    int64
}

// OverrideReasons breaks Overrides' not_appropriate decisions down by
// reason category, for every locality and every audit group, sorted by By,
// Key then Category. Decisions from before categories existed count under
// the category "".
func (s *Store) OverrideReasons(ctx context.Context) ([]OverrideReason, error) {
	rows, err := s.db.QueryContext(ctx, `
		SELECT 'locality', locality, reason_category, COUNT(*) FROM decisions WHERE kind = ? GROUP BY locality, reason_category
		UNION ALL
		SELECT 'group', audit_group, reason_category, COUNT(*) FROM decisions WHERE kind = ? GROUP BY audit_group, reason_category`,
		NotAppropriate, NotAppropriate)
	if err != nil {
		return nil, fmt.Errorf("decisions: override reasons: %w", err)
	}
	defer rows.Close()
	var out []OverrideReason
	for rows.Next() {
		var o OverrideReason
		if err := rows.Scan(&o.By, &o.Key, &o.Category, &o.Count); err != nil {
			return nil, fmt.Errorf("decisions: override reasons: %w", err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("decisions: override reasons: %w", err)
	}
	slices.SortFunc(out, func(a, b OverrideReason) int {
		if c := strings.Compare(a.By, b.By); c != 0 {
			return c
		}
		if c := strings.Compare(a.Key, b.Key); c != 0 {
			return c
		}
		return strings.Compare(a.Category, b.Category)
	})
	return out, nil
}
