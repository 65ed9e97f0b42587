package postgres

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/jackc/pgx/v5/pgtype"

	"earlyhelp/connectors"
	"earlyhelp/pipeline"
)

var testKey = []byte("0123456789abcdef")

func newSource(t *testing.T, cfg Config) *Source {
	t.Helper()
	spec, _ := connectors.Lookup(connectors.Persons)
	p, _ := connectors.NewPseudonymiser(testKey)
	s, err := New(cfg, spec, p)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNewValidates(t *testing.T) {
	spec, _ := connectors.Lookup(connectors.Persons)
	p, _ := connectors.NewPseudonymiser(testKey)
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no dsn_env", Config{Query: "select 1"}, "dsn_env is empty"},
		{"dsn in dsn_env", Config{DSNEnv: "postgres://u:secret@h/db", Query: "select 1"}, "not hold a connection string"},
		{"no query", Config{DSNEnv: "X"}, "query is empty"},
		{"balance sign on persons", Config{DSNEnv: "X", Query: "q", BalanceSign: connectors.BalanceNegativeArrears}, "rent_accounts only"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg, spec, p)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "secret") {
				t.Errorf("New: got %v; want an error containing %q and no secret", err, tc.want)
			}
		})
	}
}

type nopSink struct{ begun []pipeline.FileRef }

func (s *nopSink) Begin(f pipeline.FileRef) (bool, error) {
	s.begun = append(s.begun, f)
	return true, nil
}
func (s *nopSink) Emit(arrow.Record) error                          { return nil }
func (s *nopSink) Reject(pipeline.Rejected) error                   { return nil }
func (s *nopSink) Reid(string, string, string) error                { return nil }
func (s *nopSink) Nulled(pipeline.NulledCell) error                 { return nil }
func (s *nopSink) Shape(pipeline.FileRef, pipeline.FileShape) error { return nil }
func (s *nopSink) End(pipeline.FileRef, int64) error                { return nil }

func TestReadWithoutDSN(t *testing.T) {
	t.Setenv("EARLYHELP_TEST_UNSET_DSN", "")
	s := newSource(t, Config{DSNEnv: "EARLYHELP_TEST_UNSET_DSN", Query: "select 1"})
	err := s.Read(context.Background(), memory.NewGoAllocator(), &nopSink{})
	if err == nil || !strings.Contains(err.Error(), "EARLYHELP_TEST_UNSET_DSN is not set") {
		t.Errorf("Read: got %v; want the variable named", err)
	}
}

// TestConnectRetries dials a closed port: three attempts with doubling
// waits, then an error that names the attempts and never the DSN (nor the
// source, which Read's caller names).
func TestConnectRetries(t *testing.T) {
	const dsn = "postgres://someuser:hunter2secret@127.0.0.1:1/somedb?sslmode=disable&connect_timeout=2"
	t.Setenv("EARLYHELP_TEST_DSN", dsn)
	s := newSource(t, Config{DSNEnv: "EARLYHELP_TEST_DSN", Query: "select 1"})
	var waits []time.Duration
	s.sleep = func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
	err := s.Read(context.Background(), memory.NewGoAllocator(), &nopSink{})
	if err == nil {
		t.Fatal("Read: got nil; want a connection error")
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "postgres: cannot connect after 3 attempts: ") || strings.Contains(msg, connectors.Persons) {
		t.Errorf("error: got %q; want the attempts, without the source", msg)
	}
	for _, secret := range []string{"hunter2secret", "someuser", "somedb", dsn} {
		if strings.Contains(msg, secret) {
			t.Errorf("error %q quotes %q", msg, secret)
		}
	}
	if want := []time.Duration{time.Second, 2 * time.Second}; len(waits) != 2 || waits[0] != want[0] || waits[1] != want[1] {
		t.Errorf("waits: got %v; want %v", waits, want)
	}
}

func TestDelivery(t *testing.T) {
	at := time.Date(2025, 3, 30, 23, 30, 0, 0, time.UTC) // 00:30 BST on the 31st
	clock := func() time.Time { return at }
	a := newSource(t, Config{DSNEnv: "X", Query: "select * from persons", Now: clock})
	a.london, _ = time.LoadLocation("Europe/London")
	b := newSource(t, Config{DSNEnv: "X", Query: "select * from persons where true", Now: clock})
	b.london = a.london
	ra, rb := a.delivery(), b.delivery()
	if ra.Name != "query-2025-03-31" || len(ra.SHA256) != 64 || ra.Size <= 0 {
		t.Errorf("delivery: got %+v; want query-2025-03-31 with a SHA-256", ra)
	}
	if ra != a.delivery() || ra.SHA256 == rb.SHA256 {
		t.Errorf("delivery: same query must give the same ref, another query another hash: %+v %+v", ra, rb)
	}
}

func TestCell(t *testing.T) {
	ts := time.Date(2025, 1, 6, 9, 5, 0, 0, time.UTC)
	n := pgtype.Numeric{}
	if err := n.Scan("-1234.50"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		v    any
		oid  uint32
		want string
	}{
		{"null", nil, pgtype.TextOID, ""},
		{"text", "P0001", pgtype.TextOID, "P0001"},
		{"int", int32(100001), pgtype.Int4OID, "100001"},
		{"bool", true, pgtype.BoolOID, "true"},
		{"float", 120.5, pgtype.Float8OID, "120.5"},
		{"numeric", n, pgtype.NumericOID, "-1234.50"},
		{"date", time.Date(2025, 1, 6, 0, 0, 0, 0, time.UTC), pgtype.DateOID, "2025-01-06"},
		{"timestamp", ts, pgtype.TimestampOID, "2025-01-06T09:05:00"},
		{"timestamptz", ts.In(time.FixedZone("BST", 3600)), pgtype.TimestamptzOID, "2025-01-06T09:05:00Z"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := cell(tc.v, tc.oid)
			if err != nil || got != tc.want {
				t.Errorf("cell(%v) = %q, %v; want %q", tc.v, got, err, tc.want)
			}
		})
	}
	if _, err := cell(struct{}{}, 0); err == nil {
		t.Error("cell(struct{}): got nil error; want unsupported")
	}
}
