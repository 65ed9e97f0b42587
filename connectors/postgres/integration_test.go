package postgres_test

// TestIntegrationPostgres loads a synthetic council into PostgreSQL and
// shows that every source ingested through a query gives the rows that
// csvdir gives from the CSV files: the same counts, values and pseudonyms.
// csvdir and synthetic are imported by this test only, as references.

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/jackc/pgx/v5"

	"earlyhelp/connectors"
	"earlyhelp/connectors/csvdir"
	"earlyhelp/connectors/postgres"
	"earlyhelp/connectors/synthetic"
	"earlyhelp/pipeline"
	"earlyhelp/pipeline/contract"
)

const dsnEnv = "EARLYHELP_PG_DSN"

func TestIntegrationPostgres(t *testing.T) {
	dsn := os.Getenv(dsnEnv)
	if dsn == "" {
		t.Skipf("%s is not set: skipping the PostgreSQL integration test (.ci/run starts a server and sets it)", dsnEnv)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir := t.TempDir()
	if _, err := synthetic.Generate(ctx, synthetic.Config{Out: dir, Children: 500, Defects: synthetic.DefectsNone}); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(context.Background())
	schema := fmt.Sprintf("eh_it_%d", os.Getpid())
	mustExec(t, conn, "drop schema if exists "+schema+" cascade")
	mustExec(t, conn, "create schema "+schema)
	defer conn.Exec(context.Background(), "drop schema if exists "+schema+" cascade")
	// Naive timestamps and dd/mm/yyyy dates read as the CSV connector reads
	// them.
	mustExec(t, conn, "set timezone = 'Europe/London'")
	mustExec(t, conn, "set datestyle = 'ISO, DMY'")

	p, err := connectors.NewPseudonymiser([]byte("integration-test-key-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range connectors.Names() {
		spec, _ := connectors.Lookup(name)
		folder := filepath.Join(dir, "incoming", name)
		files, _ := filepath.Glob(filepath.Join(folder, "*"))
		table := schema + "." + name
		header := loadTable(ctx, t, conn, spec, table, files)
		if header == nil {
			t.Logf("%s: no files in the synthetic council", name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			want := read(t, func() (pipeline.Source, error) { return csvdir.New(csvdir.Config{Path: folder}, spec, p) })
			got := read(t, func() (pipeline.Source, error) {
				return postgres.New(postgres.Config{DSNEnv: dsnEnv, Query: "select * from " + table}, spec, p)
			})
			if len(want.rows) == 0 && name != connectors.Objections {
				t.Errorf("csvdir loaded no rows")
			}
			if len(got.rows) != len(want.rows) || got.rejects != want.rejects || len(got.nulled) != len(want.nulled) {
				t.Errorf("loaded %d, rejected %d, nulled %d cells; want %d, %d, %d", len(got.rows), got.rejects, len(got.nulled),
					len(want.rows), want.rejects, len(want.nulled))
			}
			sort.Strings(got.rows)
			sort.Strings(want.rows)
			if !reflect.DeepEqual(got.rows, want.rows) {
				for i := range min(len(got.rows), len(want.rows)) {
					if got.rows[i] != want.rows[i] {
						t.Errorf("first difference:\n got %s\nwant %s", got.rows[i], want.rows[i])
						break
					}
				}
			}
			t.Logf("%d rows, %d rejected, same pseudonyms and values", len(got.rows), got.rejects)
		})
	}
}

func mustExec(t *testing.T, conn *pgx.Conn, sql string) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// loadTable creates a table for one source, typed as the store types its
// columns (text for extra columns), and copies the source's CSV files in.
// It returns the header, nil when the source has no files.
func loadTable(ctx context.Context, t *testing.T, conn *pgx.Conn, spec connectors.Spec, table string, files []string) []string {
	t.Helper()
	var header []string
	for _, f := range files {
		base := strings.TrimSuffix(filepath.Base(f), ".gz")
		if ok, _ := filepath.Match(spec.Pattern, base); !ok {
			continue
		}
		r := open(t, f)
		first := firstLine(t, r)
		if header == nil {
			header = strings.Split(strings.TrimRight(first, "\r\n"), ",")
			cols := make([]string, len(header))
			for i, h := range header {
				cols[i] = fmt.Sprintf("%q %s", h, sqlType(spec, h))
			}
			mustExec(t, conn, fmt.Sprintf("create table %s (%s)", table, strings.Join(cols, ", ")))
		}
		// The header line has been read: the rest is data.
		if _, err := conn.PgConn().CopyFrom(ctx, r, fmt.Sprintf("copy %s from stdin with (format csv)", table)); err != nil {
			t.Fatalf("copy %s into %s: %v", filepath.Base(f), table, err)
		}
	}
	return header
}

func sqlType(spec connectors.Spec, col string) string {
	i := spec.Schema.FieldIndices(col)
	if len(i) == 0 {
		return "text"
	}
	f := spec.Schema.Field(i[0])
	if f.Metadata.FindKey(contract.CodesKey) >= 0 {
		return "text" // stored as a place in a list, held by councils as text
	}
	switch f.Type.ID() {
	case arrow.DATE32:
		return "date"
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64:
		return "bigint"
	case arrow.TIMESTAMP:
		return "timestamptz"
	case arrow.BOOL:
		return "boolean"
	case arrow.FLOAT64:
		return "numeric"
	}
	return "text"
}

func open(t *testing.T, path string) io.Reader {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if !strings.HasSuffix(path, ".gz") {
		return f
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	return zr
}

// firstLine reads up to and including the first newline, byte by byte, so
// the reader is left at the first data row.
func firstLine(t *testing.T, r io.Reader) string {
	t.Helper()
	var b strings.Builder
	one := make([]byte, 1)
	for {
		if _, err := io.ReadFull(r, one); err != nil {
			t.Fatalf("header: %v", err)
		}
		b.WriteByte(one[0])
		if one[0] == '\n' {
			return strings.TrimPrefix(b.String(), "\uFEFF")
		}
	}
}

type result struct {
	rows    []string
	rejects int
	nulled  []pipeline.NulledCell
}

type sink struct{ r *result }

func (s sink) Begin(pipeline.FileRef) (bool, error) { return true, nil }
func (s sink) Emit(rec arrow.Record) error {
	for i := 0; i < int(rec.NumRows()); i++ {
		var b strings.Builder
		for j, c := range rec.Columns() {
			fmt.Fprintf(&b, "%s=%s;", rec.ColumnName(j), c.ValueStr(i))
		}
		s.r.rows = append(s.r.rows, b.String())
	}
	return nil
}
func (s sink) Reject(pipeline.Rejected) error                   { s.r.rejects++; return nil }
func (s sink) Reid(string, string, string) error                { return nil }
func (s sink) Nulled(c pipeline.NulledCell) error               { s.r.nulled = append(s.r.nulled, c); return nil }
func (s sink) Shape(pipeline.FileRef, pipeline.FileShape) error { return nil }
func (s sink) End(pipeline.FileRef, int64) error                { return nil }

func read(t *testing.T, newSrc func() (pipeline.Source, error)) *result {
	t.Helper()
	src, err := newSrc()
	if err != nil {
		t.Fatal(err)
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	r := &result{}
	if err := src.Read(context.Background(), mem, sink{r}); err != nil {
		t.Fatal(err)
	}
	return r
}
