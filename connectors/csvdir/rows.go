package csvdir

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/connectors"
	"earlyhelp/pipeline"
)

// This file turns one file's CSV records into the rows of the shared row
// loop (connectors.RowLoader), which checks, pseudonymises and loads them.

// parse reads one file's rows into the sink and returns how many it read.
// The lexer writes each record's text straight into the row loader's
// buffer; the loader checks and loads full buffers on goroutines of its
// own while the next is lexed. The file's shape (shape.go) is read once:
// the header row and delimiter before the first row, summary lines and a
// row cut short in the last buffer only.
func (s *Source) parse(ctx context.Context, mem memory.Allocator, sink pipeline.Sink, name string, r io.Reader) (int64, pipeline.FileShape, error) {
	var shape pipeline.FileShape
	mj := &mojibake{r: r}
	cr := newLexer(mj)
	preamble, err := s.findHeader(cr)
	if err != nil {
		return 0, shape, s.fileErr(name, err)
	}
	header, err := s.header(cr, name)
	if err != nil {
		return 0, shape, err
	}
	rl := connectors.NewRowLoader(s.rules, s.pseud, s.ts, mem, sink, "file "+name)
	defer rl.Release()
	if err := rl.Header(header); err != nil {
		return 0, shape, err
	}
	var rows, footer int64
	truncated := false
	for {
		if err := ctx.Err(); err != nil {
			return 0, shape, err
		}
		b, err := rl.Buffer()
		if err != nil {
			return 0, shape, err
		}
		err = readRecords(cr, b)
		if err == nil {
			// A buffer that filled on the file's last record is its last:
			// its end must be looked at like any last buffer's.
			if _, perr := cr.r.Peek(1); perr == io.EOF {
				err = io.EOF
			}
		}
		if err == io.EOF {
			footer, truncated = trailer(b, len(header), cr.unterminated)
			if truncated && rows+int64(b.Len()) == 1 {
				return 0, shape, s.fileErr(name, errors.New("no complete row: the file ends in the middle of its first row (an export cut off?)"))
			}
		}
		rows += int64(b.Len())
		if serr := rl.Submit(); serr != nil {
			return 0, shape, serr
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, shape, s.parseErr(name, err)
		}
	}
	shape.SkippedLines = preamble + footer
	shape.MojibakeRows = mj.rows
	n, err := rl.Finish(ctx)
	return n, shape, err
}

// errRecordTooLong ends a file with a record of nearly 2 GiB, more than a
// buffer can index.
var errRecordTooLong = errors.New("record too long")

// readRecords lexes records into b until it is full (nil), the file ends
// (io.EOF) or a record cannot be read. Blank records are skipped.
func readRecords(cr *lexer, b *connectors.RawRows) error {
	// Locals, so that growing the arena does not go through the write
	// barrier of b's fields record by record.
	text, cells, ends, lines := b.Text, b.Cells, b.Ends, b.Lines
	defer func() { b.Text, b.Cells, b.Ends, b.Lines = text, cells, ends, lines }()
	for len(ends) < connectors.BatchRows && len(text) < connectors.RawBytes { // b.Full
		textAt, cellsAt := len(text), len(cells)
		var line int
		var err error
		if text, cells, line, err = cr.record(text, cells); err != nil {
			var pe *csv.ParseError
			if cr.unterminated && errors.As(err, &pe) && pe.Err == csv.ErrQuote && len(text) <= math.MaxInt32 {
				// The file ends inside a quoted cell: an export cut off.
				// The row is kept only to be quarantined as truncated.
				cells = append(cells, int32(len(text)))
				ends = append(ends, int32(len(cells)))
				lines = append(lines, -int64(line))
				return io.EOF
			}
			text, cells = text[:textAt], cells[:cellsAt]
			return err
		}
		if blank(text[textAt:]) {
			text, cells = text[:textAt], cells[:cellsAt]
			continue
		}
		if len(text) > math.MaxInt32 {
			text, cells = text[:textAt], cells[:cellsAt]
			return errRecordTooLong
		}
		ends = append(ends, int32(len(cells)))
		lines = append(lines, int64(line))
	}
	return nil
}

func (s *Source) parseErr(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		if pe.StartLine != pe.Line {
			return fmt.Errorf("file %s: line %d (record from line %d): %w", name, pe.Line, pe.StartLine, pe.Err)
		}
		return fmt.Errorf("file %s: line %d: %w", name, pe.Line, pe.Err)
	}
	return s.fileErr(name, err)
}

// header reads the first non-blank record. The row loader normalises the
// names.
func (s *Source) header(cr *lexer, name string) ([]string, error) {
	for {
		rec, err := cr.header()
		if err == io.EOF {
			return nil, s.fileErr(name, errors.New("no header row"))
		}
		if err != nil {
			return nil, s.parseErr(name, err)
		}
		if blank([]byte(strings.Join(rec, ""))) {
			continue
		}
		return rec, nil
	}
}

// blank reports a record with nothing in it (given its cells end to end):
// a line of spaces, a row of empty cells from a spreadsheet, or the old DOS
// end-of-file mark. Such lines are not data rows and are not counted.
func blank(text []byte) bool {
	for _, c := range text {
		if c != ' ' && c != '\t' && c != '\x1a' {
			return false
		}
	}
	return true
}
