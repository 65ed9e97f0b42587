package csvdir

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/connectors"
	"earlyhelp/pipeline"
)

// This file turns one file's CSV records into the cells of the shared row
// loop (connectors.RowLoader), which checks, pseudonymises and loads them.

// parse reads one file's rows into the sink and returns how many it read.
func (s *Source) parse(ctx context.Context, mem memory.Allocator, sink pipeline.Sink, name string, r io.Reader) (int64, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true

	header, err := s.header(cr, name)
	if err != nil {
		return 0, err
	}
	rl := connectors.NewRowLoader(s.rules, s.pseud, s.ts, mem, sink, "file "+name)
	defer rl.Release()
	if err := rl.Header(header); err != nil {
		return 0, err
	}
	var read int64
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, s.parseErr(name, err)
		}
		if blank(rec) {
			continue
		}
		read++
		if read%connectors.BatchRows == 0 {
			if err := ctx.Err(); err != nil {
				return 0, err
			}
		}
		line, _ := cr.FieldPos(0)
		if err := rl.Row(rec, int64(line)); err != nil {
			return 0, err
		}
	}
	return rl.Finish()
}

func (s *Source) parseErr(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		if pe.StartLine != pe.Line {
			return fmt.Errorf("%s: file %s: line %d (record from line %d): %w", s.spec.Name, name, pe.Line, pe.StartLine, pe.Err)
		}
		return fmt.Errorf("%s: file %s: line %d: %w", s.spec.Name, name, pe.Line, pe.Err)
	}
	return s.fileErr(name, err)
}

// header reads the first non-blank record. The row loader normalises the
// names.
func (s *Source) header(cr *csv.Reader, name string) ([]string, error) {
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil, s.fileErr(name, errors.New("no header row"))
		}
		if err != nil {
			return nil, s.parseErr(name, err)
		}
		if blank(rec) {
			continue
		}
		// The reader reuses rec.
		return append([]string(nil), rec...), nil
	}
}

// blank reports a record with nothing in it: a line of spaces, a row of
// empty cells from a spreadsheet, or the old DOS end-of-file mark. Such
// lines are not data rows and are not counted.
func blank(rec []string) bool {
	for _, f := range rec {
		for i := 0; i < len(f); i++ {
			if c := f[i]; c != ' ' && c != '\t' && c != '\x1a' {
				return false
			}
		}
	}
	return true
}
