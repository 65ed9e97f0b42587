package csvdir

import (
	"bytes"
	"encoding/csv"
	"io"
	"strings"

	"earlyhelp/connectors"
)

// This file reads a delivered file's shape as report tools export it: a
// preamble above the header ("Report run 03/02/2025 by ..."), the
// delimiter, summary lines below the data ("Total rows: 4,211"), a last
// row cut short, and text that was doubly encoded upstream. Everything
// here runs once per file, or once per buffer at its end, never per row:
// the row loop's speed is the nightly ingest's.

// Delimiters a file may use; DelimiterAuto finds which from the header.
const (
	DelimiterAuto = "auto"
)

// delimiters are the candidates auto detection tries, in the order a tie
// is broken.
var delimiters = []byte{',', ';', '\t', '|'}

// maxPreamble is how many lines above the header a report may write.
const maxPreamble = 20

// ReasonTruncated quarantines the last row of a file that ends mid-row.
const ReasonTruncated = connectors.ReasonTruncated

// findHeader looks at the first lines of the file for the header row: the
// line, split by a candidate delimiter, that matches most of the source's
// columns. It sets the lexer's delimiter, discards the lines above the
// header and returns how many of them were not blank. When no line
// matches any column the first line is taken as the header, split by the
// delimiter it holds most of, so that the header error lists what it
// found. Rows are numbered from the header as 1 (pipeline.Rejected.Row),
// whatever lines stand above it.
func (s *Source) findHeader(x *lexer) (int64, error) {
	// A short file gives io.EOF; any other error (a gzip cut short) fails
	// the file here, as it would at the row it reached.
	peek, err := x.r.Peek(lexerBuffer)
	if err != nil && err != io.EOF {
		return 0, err
	}
	cands := delimiters
	if d := s.cfg.Delimiter; d != "" && d != DelimiterAuto {
		cands = []byte{d[0]}
	}
	type pick struct {
		at, line int // byte offset and index of the line
		comma    byte
		score    int
	}
	best := pick{at: -1}
	first := pick{at: -1}
	at := 0
	for line := 0; line <= maxPreamble && at < len(peek); line++ {
		end := bytes.IndexByte(peek[at:], '\n')
		if end < 0 {
			end = len(peek) - at
		}
		text := bytes.TrimRight(peek[at:at+end], "\r")
		if !blank(text) {
			if first.at < 0 {
				first = pick{at: at, line: line, comma: mostOf(text, cands)}
			}
			for _, d := range cands {
				if sc := s.rules.HeaderScore(splitLine(text, d)); sc > best.score {
					best = pick{at: at, line: line, comma: d, score: sc}
				}
			}
		}
		at += end + 1
	}
	if best.at < 0 {
		best = first
	}
	if best.at < 0 {
		return 0, nil // no text: header() says so
	}
	var skipped int64
	at = 0
	for line := 0; line < best.line; line++ {
		end := bytes.IndexByte(peek[at:], '\n')
		if !blank(bytes.TrimRight(peek[at:at+end], "\r")) {
			skipped++
		}
		at += end + 1
	}
	x.comma = best.comma
	if _, err := x.r.Discard(best.at); err != nil {
		return 0, err
	}
	return skipped, nil
}

// splitLine splits one line by d as CSV, leniently: it is only scored.
func splitLine(line []byte, d byte) []string {
	r := csv.NewReader(bytes.NewReader(line))
	r.Comma = rune(d)
	r.LazyQuotes = true
	r.FieldsPerRecord = -1
	rec, err := r.Read()
	if err != nil {
		return strings.Split(string(line), string(d))
	}
	return rec
}

// mostOf returns the candidate the line holds most of, ',' on a tie.
func mostOf(line []byte, cands []byte) byte {
	best, n := cands[0], -1
	for _, d := range cands {
		if c := bytes.Count(line, []byte{d}); c > n {
			best, n = d, c
		}
	}
	return best
}

// trailer looks at the rows at the end of the file's last buffer: a last
// row the export cut off (the file ends without a newline and the row is
// short) is marked truncated; summary lines after the last data row are
// removed from the buffer. It returns the summary lines removed and
// whether the last row was truncated.
func trailer(b *connectors.RawRows, width int, unterminated bool) (footer int64, truncated bool) {
	n := b.Len()
	if n == 0 {
		return 0, false
	}
	if b.Lines[n-1] < 0 {
		return 0, true // cut inside a quoted cell (readRecords)
	}
	var cells []string
	cells = b.Row(n-1, cells)
	if unterminated && len(cells) < width && !summaryLine(cells, width) {
		b.Lines[n-1] = -b.Lines[n-1]
		return 0, true
	}
	for n > 0 {
		cells = b.Row(n-1, cells)
		if !summaryLine(cells, width) {
			break
		}
		pop(b)
		footer++
		n--
	}
	return footer, false
}

// summaryWords start the summary lines report tools write below the data.
var summaryWords = []string{
	"total", "grand total", "count", "rows", "records", "end of", "report", "generated",
	"extracted", "number of", "page ", "produced", "run on", "run by",
}

// summaryLine recognises a summary line by its shape: a different width
// from the header's, and a first cell that reads as a sentence about the
// report ("Total rows: 4,211", "End of report"). A short data row (an
// objection with its trailing empty cells dropped) names a person, not a
// total, and is kept.
func summaryLine(cells []string, width int) bool {
	if len(cells) == width || len(cells) == 0 {
		return false
	}
	first := strings.ToLower(strings.TrimSpace(cells[0]))
	for _, w := range summaryWords {
		if strings.HasPrefix(first, w) {
			return true
		}
	}
	return false
}

// pop removes the last row of b.
func pop(b *connectors.RawRows) {
	n := b.Len()
	firstCell := int32(0)
	if n > 1 {
		firstCell = b.Ends[n-2]
	}
	textEnd := int32(0)
	if firstCell > 0 {
		textEnd = b.Cells[firstCell-1]
	}
	b.Text, b.Cells = b.Text[:textEnd], b.Cells[:firstCell]
	b.Ends, b.Lines = b.Ends[:n-1], b.Lines[:n-1]
}

// mojibake counts the lines of decoded text that carry the marks of UTF-8
// read as Windows-1252 before the file was exported: "Ã©" for é, "â€™" for
// ’, "Â£" for £. Such text is reported (manifest, log), never repaired: a
// guess could turn a real "Ã" into something else. The scan looks for the
// byte 0xC3 with bytes.IndexByte, which English text almost never holds,
// so it costs the reader little.
type mojibake struct {
	r    io.Reader
	rows int64
	hit  bool // a mark was seen since the last newline
}

func (m *mojibake) Read(p []byte) (int, error) {
	n, err := m.r.Read(p)
	m.scan(p[:n])
	return n, err
}

func (m *mojibake) scan(p []byte) {
	rest := p
	for {
		i := bytes.IndexByte(rest, 0xC3)
		if i < 0 {
			if m.hit && bytes.IndexByte(rest, '\n') >= 0 {
				m.hit = false
			}
			return
		}
		if m.hit && bytes.IndexByte(rest[:i], '\n') >= 0 {
			m.hit = false
		}
		if !m.hit && isMojibake(rest[i:]) {
			m.hit = true
			m.rows++
		}
		rest = rest[i+1:]
	}
}

// isMojibake reports whether b (starting at 0xC3) begins "Ã" or "Â"
// followed by a second character of a doubly encoded pair, or "â€".
func isMojibake(b []byte) bool {
	if len(b) < 3 {
		return false
	}
	switch b[1] {
	case 0x83, 0x82: // Ã, Â
		switch b[2] {
		case 0xC2, 0xC5, 0xC6, 0xCB, 0xE2: // U+0080–U+00BF, Œ Š Ž ƒ ˆ, € ’ “ ”
			return true
		}
	case 0xA2: // â
		return len(b) >= 5 && b[2] == 0xE2 && b[3] == 0x82 && b[4] == 0xAC // â€
	}
	return false
}
