package csvdir

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"io"
)

// lexer splits CSV text into records exactly as encoding/csv does with its
// defaults (comma separator unless the file is found to use another, no
// comments, strict quotes, fields per record free), but writes the cells straight into a chunk's arena. encoding/csv
// builds a string per record and its reader then had to copy that again
// into the arena: at tens of millions of attendance marks a night, the
// double copy and the per-record allocation were the reader goroutine's
// main cost. Lines without a quote, nearly all of them, take a fast path
// that only looks for commas. FuzzLexer checks it against encoding/csv.
//
// The parsing of quoted fields is adapted from encoding/csv's readRecord
// (Copyright The Go Authors, BSD licence).
type lexer struct {
	r       *bufio.Reader
	raw     []byte // a line longer than r's buffer
	numLine int    // lines read so far
	comma   byte   // the delimiter: ',' unless the file uses ';', tab or '|'
	// unterminated: the last line read ended the input without a newline,
	// which is how an export cut off mid-row ends.
	unterminated bool
}

// lexerBuffer is the read buffer: large enough that a line rarely spans
// two fills.
const lexerBuffer = 256 << 10

func newLexer(r io.Reader) *lexer {
	return &lexer{r: bufio.NewReaderSize(r, lexerBuffer), comma: ','}
}

// readLine is encoding/csv's: the next line with its "\n" (if any), "\r\n"
// normalised to "\n" and a trailing "\r" before the end of input dropped.
// The slice is valid until the next call.
func (x *lexer) readLine() ([]byte, error) {
	line, err := x.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		x.raw = append(x.raw[:0], line...)
		for err == bufio.ErrBufferFull {
			line, err = x.r.ReadSlice('\n')
			x.raw = append(x.raw, line...)
		}
		line = x.raw
	}
	n := len(line)
	if n > 0 && err == io.EOF {
		err = nil
		x.unterminated = true // ReadSlice found no newline before the end
		if line[n-1] == '\r' {
			line = line[:n-1]
			n--
		}
	}
	x.numLine++
	if n >= 2 && line[n-2] == '\r' && line[n-1] == '\n' {
		line[n-2] = '\n'
		line = line[:n-1]
	}
	return line, err
}

func lengthNL(b []byte) int {
	if len(b) > 0 && b[len(b)-1] == '\n' {
		return 1
	}
	return 0
}

// record appends the next record's cells to text, and the end of each cell
// in text to cells, and returns the line the record starts on. Empty lines
// are skipped. At the end of the input it returns io.EOF and appends
// nothing; a malformed record gives a *csv.ParseError (what it appended
// then is to be discarded).
func (x *lexer) record(text []byte, cells []int32) ([]byte, []int32, int, error) {
	var line []byte
	var errRead error
	for errRead == nil {
		line, errRead = x.readLine()
		if errRead == nil && len(line) == lengthNL(line) {
			continue // an empty line
		}
		break
	}
	if errRead == io.EOF {
		return text, cells, 0, errRead
	}
	recLine := x.numLine

	// The fast path: no quote anywhere on the line.
	if t, c, ok := x.plain(text, cells, line); ok {
		return t, c, recLine, errRead
	}

	var err error
	posLine, col := x.numLine, 1
parseField:
	for {
		if len(line) == 0 || line[0] != '"' {
			i := bytes.IndexByte(line, x.comma)
			field := line
			if i >= 0 {
				field = field[:i]
			} else {
				field = field[:len(field)-lengthNL(field)]
			}
			if j := bytes.IndexByte(field, '"'); j >= 0 {
				err = &csv.ParseError{StartLine: recLine, Line: x.numLine, Column: col + j, Err: csv.ErrBareQuote}
				break parseField
			}
			text = append(text, field...)
			cells = append(cells, int32(len(text)))
			if i >= 0 {
				line = line[i+1:]
				col += i + 1
				continue parseField
			}
			break parseField
		}
		// A quoted field.
		line = line[1:]
		col++
		for {
			i := bytes.IndexByte(line, '"')
			switch {
			case i >= 0:
				text = append(text, line[:i]...)
				line = line[i+1:]
				col += i + 1
				switch {
				case len(line) > 0 && line[0] == '"': // "" is a quote
					text = append(text, '"')
					line = line[1:]
					col++
				case len(line) > 0 && line[0] == x.comma: // the end of the field
					line = line[1:]
					col++
					cells = append(cells, int32(len(text)))
					continue parseField
				case lengthNL(line) == len(line): // the end of the line
					cells = append(cells, int32(len(text)))
					break parseField
				default:
					err = &csv.ParseError{StartLine: recLine, Line: x.numLine, Column: col - 1, Err: csv.ErrQuote}
					break parseField
				}
			case len(line) > 0:
				// The field goes on past the end of the line.
				text = append(text, line...)
				if errRead != nil {
					break parseField
				}
				col += len(line)
				line, errRead = x.readLine()
				if len(line) > 0 {
					posLine++
					col = 1
				}
				if errRead == io.EOF {
					errRead = nil
				}
			default:
				// The input ended inside the quotes.
				if errRead == nil {
					err = &csv.ParseError{StartLine: recLine, Line: posLine, Column: col, Err: csv.ErrQuote}
					break parseField
				}
				cells = append(cells, int32(len(text)))
				break parseField
			}
		}
	}
	if err == nil {
		err = errRead
	}
	return text, cells, recLine, err
}

// plain appends the cells of a line without a quote, or reports false
// (having appended nothing) when the line has one. The line is copied into
// the arena whole and its delimiters taken out in one pass over the copy:
// a call to find each delimiter and another to copy each cell cost more
// than the cells, which in an attendance extract are a few bytes long.
func (x *lexer) plain(text []byte, cells []int32, line []byte) ([]byte, []int32, bool) {
	at, n := len(text), len(cells)
	text = append(text, line[:len(line)-lengthNL(line)]...)
	seg := text[at:]
	w := 0
	for _, c := range seg {
		switch c {
		case x.comma:
			cells = append(cells, int32(at+w))
		case '"':
			return text[:at], cells[:n], false
		default:
			seg[w] = c
			w++
		}
	}
	return text[:at+w], append(cells, int32(at+w)), true
}

// header reads the next record as strings of its own.
func (x *lexer) header() ([]string, error) {
	text, cells, _, err := x.record(nil, nil)
	if err != nil {
		return nil, err
	}
	s := string(text)
	out := make([]string, len(cells))
	start := int32(0)
	for i, end := range cells {
		out[i] = s[start:end]
		start = end
	}
	return out, nil
}
