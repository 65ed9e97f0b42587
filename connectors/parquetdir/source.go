// Package parquetdir loads one source from a folder of Parquet extracts
// (CONTRACTS §2 tables saved as Parquet), streamed record batch by record
// batch through the same row loop as the CSV connector, so validation and
// pseudonymisation are identical.
package parquetdir

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"earlyhelp/connectors"
	"earlyhelp/pipeline"
)

// Config is a parquetdir source's configuration.
type Config struct {
	Path string // the folder the source's files are dropped into
	// BalanceSign is connectors.LoadOptions.BalanceSign.
	BalanceSign string
}

// Source reads the files of one source's folder that match its pattern with
// ".csv" replaced by ".parquet" (attendance*.parquet), in name order.
type Source struct {
	cfg     Config
	spec    connectors.Spec
	pattern string
	rules   *connectors.Rules
	pseud   *connectors.Pseudonymiser
	ts      *connectors.TimestampParser
}

var _ pipeline.Source = (*Source)(nil)

// New checks the configuration against the spec and does no I/O. The source
// keeps its own clone of p.
func New(cfg Config, spec connectors.Spec, p *connectors.Pseudonymiser) (*Source, error) {
	if spec.Name == "" {
		return nil, errors.New("parquetdir: spec has no name")
	}
	if cfg.Path == "" {
		return nil, errors.New("parquetdir: path is empty")
	}
	pattern := strings.TrimSuffix(strings.ToLower(spec.Pattern), ".csv") + ".parquet"
	if _, err := filepath.Match(pattern, ""); err != nil || spec.Pattern == "" {
		return nil, fmt.Errorf("parquetdir: bad file pattern %q", spec.Pattern)
	}
	if p == nil {
		return nil, errors.New("parquetdir: no pseudonymiser")
	}
	opts := connectors.LoadOptions{BalanceSign: cfg.BalanceSign}
	if err := opts.Validate(spec.Name); err != nil {
		return nil, fmt.Errorf("parquetdir: %w", err)
	}
	r, err := connectors.NewRules(spec, opts)
	if err != nil {
		return nil, fmt.Errorf("parquetdir: %w", err)
	}
	return &Source{cfg: cfg, spec: spec, pattern: pattern, rules: r, pseud: p.Clone()}, nil
}

// Read offers every matching file to the sink and streams the accepted ones
// into it. It stops at the first file that cannot be read at all.
func (s *Source) Read(ctx context.Context, mem memory.Allocator, sink pipeline.Sink) error {
	if s.ts == nil {
		ts, err := connectors.NewTimestampParser()
		if err != nil {
			return err
		}
		s.ts = ts
	}
	defer s.pseud.Forget() // see Forget: no raw identifier outlives the read
	defer s.rules.ForgetBuffers()
	return connectors.EachFile(ctx, s.cfg.Path, []string{s.pattern}, func(name string) error {
		return s.readFile(ctx, mem, sink, name)
	})
}

func (s *Source) readFile(ctx context.Context, mem memory.Allocator, sink pipeline.Sink, name string) error {
	f, err := os.Open(filepath.Join(s.cfg.Path, name))
	if err != nil {
		return s.fileErr(name, connectors.UnwrapPath(err))
	}
	defer f.Close()
	ref, err := fingerprint(f)
	if err != nil {
		return s.fileErr(name, err)
	}
	ref.Name = name
	ok, err := sink.Begin(ref)
	if err != nil || !ok {
		if err != nil {
			return s.fileErr(name, err)
		}
		return nil
	}
	pf, err := file.NewParquetReader(f)
	if err != nil {
		return s.fileErr(name, fmt.Errorf("not a Parquet file: %w", err))
	}
	defer pf.Close()
	rows, err := s.load(ctx, mem, sink, name, pf)
	if err != nil {
		return err
	}
	if err := sink.End(ref, rows); err != nil {
		return s.fileErr(name, err)
	}
	return nil
}

// load streams one file's rows, BatchRows at a time, into the row loop.
// Only the top-level columns that the spec names are read: a wide extract's
// other columns are never decoded.
func (s *Source) load(ctx context.Context, mem memory.Allocator, sink pipeline.Sink, name string, pf *file.Reader) (int64, error) {
	want := make(map[string]bool, len(s.spec.Columns))
	for _, c := range s.spec.Columns {
		want[c.Name] = true
	}
	sc := pf.MetaData().Schema
	var leaves []int
	var names []string
	for i := 0; i < sc.NumColumns(); i++ {
		col := sc.Column(i)
		if len(col.ColumnPath()) == 1 && want[strings.ToLower(strings.TrimSpace(col.Name()))] {
			leaves = append(leaves, i)
			names = append(names, col.Name())
		}
	}
	rl := connectors.NewRowLoader(s.rules, s.pseud, s.ts, mem, sink, "file "+name)
	defer rl.Release()
	if err := rl.Header(names); err != nil {
		return 0, err
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: connectors.BatchRows}, mem)
	if err != nil {
		return 0, s.fileErr(name, err)
	}
	rr, err := fr.GetRecordReader(ctx, leaves, nil)
	if err != nil {
		return 0, s.fileErr(name, err)
	}
	defer rr.Release()
	conv := make([]cellFunc, len(names))
	for i, f := range rr.Schema().Fields() {
		if conv[i], err = converter(f.Type); err != nil {
			return 0, s.fileErr(name, fmt.Errorf("column %q: %w", f.Name, err))
		}
	}
	cells := make([]string, len(names))
	line := int64(1) // the header's place, as in a CSV
	for rr.Next() {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		rec := rr.Record()
		cols := rec.Columns()
		for i, n := 0, int(rec.NumRows()); i < n; i++ {
			for j, c := range cols {
				cells[j] = ""
				if c.IsValid(i) {
					cells[j] = conv[j](c, i)
				}
			}
			line++
			if err := rl.Row(cells, line); err != nil {
				return 0, err
			}
		}
	}
	if err := rr.Err(); err != nil && !errors.Is(err, io.EOF) {
		return 0, s.fileErr(name, err)
	}
	return rl.Finish(ctx)
}

// fileErr names the file. Read's errors leave the source to its caller
// (see connectors.ListFolder), so it is named once.
func (s *Source) fileErr(name string, err error) error {
	return fmt.Errorf("file %s: %w", name, err)
}

// fingerprint hashes a file as delivered and rewinds it.
func fingerprint(f *os.File) (pipeline.FileRef, error) {
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return pipeline.FileRef{}, connectors.UnwrapPath(err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return pipeline.FileRef{}, connectors.UnwrapPath(err)
	}
	return pipeline.FileRef{SHA256: hex.EncodeToString(h.Sum(nil)), Size: n}, nil
}
