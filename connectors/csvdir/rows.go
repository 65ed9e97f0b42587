package csvdir

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"unsafe"

	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/connectors"
	"earlyhelp/pipeline"
)

// This file turns one file's CSV records into the cells of the shared row
// loop (connectors.RowLoader), which checks, pseudonymises and loads them.

// Rows are parsed from CSV on a goroutine of their own and handed to the
// row loop in chunks, so decoding and parsing one chunk overlaps checking
// and loading the one before. chunksInFlight chunks are allocated per file
// and recycled, which bounds the memory whatever the file's size.
const (
	chunkRows      = 8192
	chunkBytes     = 4 << 20 // of text, so long lines do not blow the bound
	chunksInFlight = 4
)

// chunk is a run of a file's non-blank records. Their text is copied into
// one arena, which holds no pointers for the collector to scan or the
// write barrier to track; cells are sliced out of it as they are loaded.
type chunk struct {
	text  []byte  // the cells' bytes, end to end
	cells []int32 // per cell: where it ends in text
	ends  []int32 // per record: where its cells end in cells
	lines []int64 // per record: the line it starts on
	err   error   // after the records: io.EOF at the end of the file, or why it could not be read
}

// record fills cells with record i's cells, which alias c.text: they are
// good until c is recycled.
func (c *chunk) record(i int, cells []string) []string {
	first := int32(0)
	if i > 0 {
		first = c.ends[i-1]
	}
	start := int32(0)
	if first > 0 {
		start = c.cells[first-1]
	}
	cells = cells[:0]
	for _, end := range c.cells[first:c.ends[i]] {
		cells = append(cells, unsafe.String(unsafe.SliceData(c.text[start:end]), end-start))
		start = end
	}
	return cells
}

// parse reads one file's rows into the sink and returns how many it read.
func (s *Source) parse(ctx context.Context, mem memory.Allocator, sink pipeline.Sink, name string, r io.Reader) (int64, error) {
	cr := newLexer(r)
	header, err := s.header(cr, name)
	if err != nil {
		return 0, err
	}
	rl := connectors.NewRowLoader(s.rules, s.pseud, s.ts, mem, sink, "file "+name)
	defer rl.Release()
	if err := rl.Header(header); err != nil {
		return 0, err
	}

	free := make(chan *chunk, chunksInFlight)
	for range chunksInFlight {
		c, _ := s.chunks.Get().(*chunk)
		if c == nil {
			c = &chunk{} // grown by its first records, then reused
		}
		free <- c
	}
	full := make(chan *chunk, chunksInFlight)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		readChunks(cr, free, full, stop)
	}()
	// However parse returns, the reader stops before the file is closed.
	defer func() {
		close(stop)
		<-done
		for {
			select {
			case c := <-free:
				s.chunks.Put(c)
			case c := <-full:
				s.chunks.Put(c)
			default:
				return
			}
		}
	}()

	var read int64
	var cells []string
	for {
		c := <-full
		for i, line := range c.lines {
			read++
			if read%connectors.BatchRows == 0 {
				if err := ctx.Err(); err != nil {
					return 0, err
				}
			}
			// The row loader keeps no reference to cells (see
			// connectors.RowLoader), so they may alias the recycled arena.
			cells = c.record(i, cells)
			if err := rl.Row(cells, line); err != nil {
				return 0, err
			}
		}
		if c.err == io.EOF {
			break
		}
		if c.err != nil {
			return 0, s.parseErr(name, c.err)
		}
		free <- c
	}
	return rl.Finish()
}

// errRecordTooLong ends a file with a record of nearly 2 GiB, more than a
// chunk can index.
var errRecordTooLong = errors.New("record too long")

// readChunks parses records into chunks taken from free and sends them on
// full, until the file ends, a record cannot be parsed, or stop is closed.
// The last chunk sent carries the error that ended the file.
func readChunks(cr *lexer, free <-chan *chunk, full chan<- *chunk, stop <-chan struct{}) {
	for {
		var c *chunk
		select {
		case c = <-free:
		case <-stop:
			return
		}
		// Locals, so that growing the arena does not go through the write
		// barrier of c's fields row by row.
		text, cells, ends, lines := c.text[:0], c.cells[:0], c.ends[:0], c.lines[:0]
		var err error
		for len(ends) < chunkRows && len(text) < chunkBytes {
			textAt, cellsAt := len(text), len(cells)
			var line int
			if text, cells, line, err = cr.record(text, cells); err != nil {
				text, cells = text[:textAt], cells[:cellsAt]
				break
			}
			if blank(text[textAt:]) {
				text, cells = text[:textAt], cells[:cellsAt]
				continue
			}
			if len(text) > math.MaxInt32 {
				err = errRecordTooLong
				break
			}
			ends = append(ends, int32(len(cells)))
			lines = append(lines, int64(line))
		}
		c.text, c.cells, c.ends, c.lines, c.err = text, cells, ends, lines, err
		select {
		case full <- c:
		case <-stop:
			return
		}
		if c.err != nil {
			return
		}
	}
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
