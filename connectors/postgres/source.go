// Package postgres loads one source from a PostgreSQL query, streamed row
// by row through the same row loop as the file connectors, so validation
// and pseudonymisation are identical to a CSV extract's.
//
// A query has no file to fingerprint, and the pipeline must know a
// delivery's identity before reading it (Sink.Begin may skip it). A query's
// delivery is therefore a daily snapshot: it is named "query-<day>" (the
// day of the read in Europe/London) and its SHA-256 is taken over the
// query text and that day. Ingesting twice in one day loads the query once;
// the next day's ingest loads a fresh snapshot, and a changed query loads at
// once. Hashing the result instead would need two passes over the data (or
// a held snapshot transaction) for large sources such as attendance; the
// store's "newest mark wins" makes a daily reload of unchanged rows
// harmless.
package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"earlyhelp/connectors"
	"earlyhelp/pipeline"
)

// Connection attempts and the first wait between them; the wait doubles
// (1s, 2s, 4s, …).
const (
	connectAttempts = 3
	firstBackoff    = time.Second
)

// Config is a postgres source's configuration.
type Config struct {
	// DSNEnv names the environment variable that holds the connection
	// string. It is read when Read starts and never logged or quoted.
	DSNEnv string
	// Query returns the source's columns by name (extra columns ignored).
	Query string
	// BalanceSign is connectors.LoadOptions.BalanceSign.
	BalanceSign string
	// Now is the clock that dates a delivery; nil means time.Now.
	Now func() time.Time
}

// Source runs one configured query.
type Source struct {
	cfg    Config
	spec   connectors.Spec
	rules  *connectors.Rules
	pseud  *connectors.Pseudonymiser
	ts     *connectors.TimestampParser
	london *time.Location
	// sleep waits between connection attempts; tests shorten it.
	sleep func(ctx context.Context, d time.Duration) error
}

var _ pipeline.Source = (*Source)(nil)

// New checks the configuration against the spec and does no I/O: the
// environment variable is read, and the connection opened, by Read.
func New(cfg Config, spec connectors.Spec, p *connectors.Pseudonymiser) (*Source, error) {
	if spec.Name == "" {
		return nil, errors.New("postgres: spec has no name")
	}
	if cfg.DSNEnv == "" {
		return nil, errors.New("postgres: dsn_env is empty")
	}
	if strings.ContainsAny(cfg.DSNEnv, "=:/@ ") {
		// Most likely a connection string pasted where its variable's name
		// belongs: say so without echoing it.
		return nil, errors.New("postgres: dsn_env must name an environment variable, not hold a connection string")
	}
	if strings.TrimSpace(cfg.Query) == "" {
		return nil, errors.New("postgres: query is empty")
	}
	if p == nil {
		return nil, errors.New("postgres: no pseudonymiser")
	}
	opts := connectors.LoadOptions{BalanceSign: cfg.BalanceSign}
	if err := opts.Validate(spec.Name); err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	r, err := connectors.NewRules(spec, opts)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Source{cfg: cfg, spec: spec, rules: r, pseud: p.Clone(), sleep: sleepCtx}, nil
}

// Read runs the query and streams its rows into the sink as one delivery.
func (s *Source) Read(ctx context.Context, mem memory.Allocator, sink pipeline.Sink) error {
	if s.ts == nil {
		ts, err := connectors.NewTimestampParser()
		if err != nil {
			return err
		}
		london, err := time.LoadLocation("Europe/London")
		if err != nil {
			return err
		}
		s.ts, s.london = ts, london
	}
	defer s.pseud.Forget() // see Forget: no raw identifier outlives the read
	defer s.rules.ForgetBuffers()
	dsn := os.Getenv(s.cfg.DSNEnv)
	if dsn == "" {
		return fmt.Errorf("postgres: environment variable %s is not set", s.cfg.DSNEnv)
	}
	ref := s.delivery()
	ok, err := sink.Begin(ref)
	if err != nil {
		return fmt.Errorf("%s: %w", ref.Name, err)
	}
	if !ok {
		return nil
	}
	conn, err := s.connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := s.stream(ctx, mem, sink, conn, ref.Name, dsn)
	if err != nil {
		return err
	}
	if err := sink.End(ref, rows); err != nil {
		return fmt.Errorf("%s: %w", ref.Name, err)
	}
	return nil
}

// delivery is the identity of today's run of the query (see the package
// comment). Size is the query text's length: there are no file bytes.
func (s *Source) delivery() pipeline.FileRef {
	day := s.cfg.Now().In(s.london).Format(time.DateOnly)
	h := sha256.New()
	fmt.Fprintf(h, "earlyhelp postgres delivery v1\x00%s\x00%s\x00%s", s.spec.Name, s.cfg.Query, day)
	return pipeline.FileRef{Name: "query-" + day, SHA256: hex.EncodeToString(h.Sum(nil)), Size: int64(len(s.cfg.Query))}
}

// connect opens a connection, retrying with backoff. The error never holds
// the DSN: pgx's own messages quote the user and database, so only the
// cause under them is kept, with any password scrubbed.
func (s *Source) connect(ctx context.Context, dsn string) (*pgx.Conn, error) {
	cc, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: the connection string in %s cannot be parsed", s.cfg.DSNEnv)
	}
	wait := firstBackoff
	for attempt := 1; ; attempt++ {
		conn, err := pgx.ConnectConfig(ctx, cc)
		if err == nil {
			return conn, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if attempt == connectAttempts {
			return nil, fmt.Errorf("postgres: cannot connect after %d attempts: %s", attempt, scrub(err, dsn, cc.Password))
		}
		if err := s.sleep(ctx, wait); err != nil {
			return nil, err
		}
		wait *= 2
	}
}

// scrub returns err's text without the DSN or the password.
func scrub(err error, dsn, password string) string {
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) && ce.Unwrap() != nil {
		err = ce.Unwrap()
	}
	msg := err.Error()
	msg = strings.ReplaceAll(msg, dsn, "[dsn]")
	if password != "" {
		msg = strings.ReplaceAll(msg, password, "[password]")
	}
	return msg
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
