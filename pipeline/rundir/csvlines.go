package rundir

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// CSVLines reads the records of a run folder's CSV file, such as
// evaluation/scored_children.csv, after its header. A line with no quote
// or carriage return in it, as the writer of these files writes every
// line, is kept as it stands (Line) and split at its commas only when
// asked (Field, Record), for a reader that digests or copies lines as they
// stand: encoding/csv's reading was most of a weekly run's audit and of
// its copy of the backtest, 1.5 million rows at 300,000 children, and
// splitting every line and copying it into a string most of what was left.
// From the first line that needs it on, encoding/csv reads the rest, as
// it would have read it all.
type CSVLines struct {
	br     *bufio.Reader
	fields int
	line   []byte // the record's line, nil when csv read it
	split  bool   // rec holds line's fields
	rec    []string
	cr     *csv.Reader // once the rest is csv's
}

// NewCSVLines reads records of fields fields from br, which must be at the
// start of a line (after the header, read by a csv.Reader over br itself:
// it reads a line at a time and leaves br at the next).
func NewCSVLines(br *bufio.Reader, fields int) *CSVLines {
	return &CSVLines{br: br, fields: fields}
}

// Read returns the next record, reused by the next call; io.EOF at the end.
func (r *CSVLines) Read() ([]string, error) {
	if err := r.Next(); err != nil {
		return nil, err
	}
	return r.Record(), nil
}

// Next reads the next record; io.EOF at the end. A line of the wrong
// number of fields is an error, as it is to encoding/csv.
func (r *CSVLines) Next() error {
	r.line, r.split = nil, false
	if r.cr != nil {
		return r.readCSV()
	}
	for {
		b, err := r.br.ReadSlice('\n')
		switch {
		case err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull):
			return err
		case errors.Is(err, bufio.ErrBufferFull) || bytes.IndexByte(b, '"') >= 0 || bytes.IndexByte(b, '\r') >= 0:
			r.cr = csv.NewReader(io.MultiReader(bytes.NewReader(bytes.Clone(b)), r.br))
			r.cr.ReuseRecord, r.cr.FieldsPerRecord = true, r.fields
			return r.readCSV()
		case len(b) == 0:
			return io.EOF
		}
		body := bytes.TrimSuffix(b, []byte{'\n'})
		if len(body) == 0 {
			if errors.Is(err, io.EOF) {
				return io.EOF
			}
			continue // csv skips blank lines
		}
		if n := bytes.Count(body, []byte{','}) + 1; n != r.fields {
			return fmt.Errorf("record has %d fields, the header %d: %w", n, r.fields, csv.ErrFieldCount)
		}
		r.line = body
		return nil
	}
}

func (r *CSVLines) readCSV() error {
	rec, err := r.cr.Read()
	r.rec, r.split = rec, err == nil
	return err
}

// Line is the last record's line as it stands in the file, without its
// newline, valid until the next read; nil when encoding/csv read it.
func (r *CSVLines) Line() []byte { return r.line }

// Field is the last record's field i (0 ≤ i < fields), valid until the
// next read, found without splitting the rest of the line.
func (r *CSVLines) Field(i int) []byte {
	if r.split {
		return []byte(r.rec[i])
	}
	rest := r.line
	for range i {
		rest = rest[bytes.IndexByte(rest, ',')+1:] // Next counted the commas
	}
	if j := bytes.IndexByte(rest, ','); j >= 0 {
		return rest[:j]
	}
	return rest
}

// Record is the last record's fields, reused by the next read.
func (r *CSVLines) Record() []string {
	if r.split {
		return r.rec
	}
	line := string(r.line)
	r.rec = r.rec[:0]
	for rest := line; ; {
		i := strings.IndexByte(rest, ',')
		if i < 0 {
			r.rec = append(r.rec, rest)
			break
		}
		r.rec = append(r.rec, rest[:i])
		rest = rest[i+1:]
	}
	r.split = true
	return r.rec
}
