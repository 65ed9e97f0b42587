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
// line, is split at its commas and its text kept (Raw), for a reader that
// digests or copies lines as they stand: encoding/csv's reading was most
// of a weekly run's audit and of its copy of the backtest, 1.5 million
// rows at 300,000 children. From the first line that needs it on,
// encoding/csv reads the rest, as it would have read it all.
type CSVLines struct {
	br     *bufio.Reader
	fields int
	rec    []string
	cr     *csv.Reader // once the rest is csv's
	raw    string
}

// NewCSVLines reads records of fields fields from br, which must be at the
// start of a line (after the header, read by a csv.Reader over br itself:
// it reads a line at a time and leaves br at the next).
func NewCSVLines(br *bufio.Reader, fields int) *CSVLines {
	return &CSVLines{br: br, fields: fields}
}

// Raw is the last record's line as it stands in the file, "" when
// encoding/csv read it.
func (r *CSVLines) Raw() string { return r.raw }

// Read returns the next record, reused by the next call; io.EOF at the end.
func (r *CSVLines) Read() ([]string, error) {
	r.raw = ""
	if r.cr != nil {
		return r.cr.Read()
	}
	for {
		b, err := r.br.ReadSlice('\n')
		switch {
		case err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull):
			return nil, err
		case errors.Is(err, bufio.ErrBufferFull) || bytes.IndexByte(b, '"') >= 0 || bytes.IndexByte(b, '\r') >= 0:
			r.cr = csv.NewReader(io.MultiReader(bytes.NewReader(bytes.Clone(b)), r.br))
			r.cr.ReuseRecord, r.cr.FieldsPerRecord = true, r.fields
			return r.cr.Read()
		case len(b) == 0:
			return nil, io.EOF
		}
		body := bytes.TrimSuffix(b, []byte{'\n'})
		if len(body) == 0 {
			if errors.Is(err, io.EOF) {
				return nil, io.EOF
			}
			continue // csv skips blank lines
		}
		line := string(body)
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
		if len(r.rec) != r.fields {
			return nil, fmt.Errorf("record has %d fields, the header %d: %w", len(r.rec), r.fields, csv.ErrFieldCount)
		}
		r.raw = line
		return r.rec, nil
	}
}
