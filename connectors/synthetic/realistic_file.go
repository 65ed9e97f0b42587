package synthetic

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// renderFile streams one clean file (name.tmp) into its rendered form
// (name.render.tmp), then renames that over name.tmp for commit to publish.
// Only one row is held at a time. It returns the rows it added (duplicates
// and amendments), which the source's row count must include.
func (g *generator) renderFile(p *filePlan, r *rand.Rand) (added int64, err error) {
	rel, src := p.f.rel, p.f.path+".tmp"
	dst := p.f.path + ".render.tmp"
	in, err := os.Open(src)
	if err != nil {
		return 0, fmt.Errorf("render %s: %w", rel, err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return 0, fmt.Errorf("render %s: %w", rel, err)
	}
	done := false
	defer func() {
		if !done {
			out.Close()
			os.Remove(dst)
		}
	}()
	cr := csv.NewReader(bufio.NewReaderSize(in, 256<<10))
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return 0, fmt.Errorf("render %s: header: %w", rel, err)
	}
	header = append([]string(nil), header...) // ReuseRecord would overwrite it
	header[0] = strings.TrimPrefix(header[0], "\ufeff")
	cr.FieldsPerRecord = len(header)

	w := bufio.NewWriterSize(out, 256<<10)
	rr := newRowRenderer(g, p, r, header, w)
	rr.fileDefects()
	rr.writeRecord(header)
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("render %s: %w", rel, err)
		}
		rr.render(rec)
	}
	rr.blanksBefore(p.f.rows + 1) // trailing blank lines
	// Logged last: a date column that stayed empty shows no format.
	for _, i := range rr.c.dates {
		if rr.dmySeen[i] {
			g.defects.add(rel, 0, header[i], defectDMY, true)
		}
	}
	err = w.Flush()
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	done = true
	if err != nil {
		os.Remove(dst)
		return 0, fmt.Errorf("render %s: %w", rel, err)
	}
	if err := os.Rename(dst, src); err != nil {
		os.Remove(dst)
		return 0, fmt.Errorf("render %s: %w", rel, err)
	}
	return rr.added, nil
}

// fileDefects writes the BOM and records the defects that concern the whole
// file (row_number 0).
func (rr *rowRenderer) fileDefects() {
	p, rel, log := rr.p, rr.p.f.rel, rr.g.defects
	if p.bom {
		rr.w.WriteString("\ufeff")
		log.add(rel, 0, "", defectBOM, true)
	}
	if p.crlf {
		log.add(rel, 0, "", defectCRLF, true)
	}
	if p.cp1252 {
		log.add(rel, 0, "", defectCP1252, true)
	}
	if p.flip && rr.c.balance >= 0 {
		log.add(rel, 0, rr.c.names[rr.c.balance], defectSignFlip, true)
	}
}

// blanksBefore writes the blank lines planned before clean data row n
// (1-based; rows+1 means after the last row).
func (rr *rowRenderer) blanksBefore(n int64) {
	for rr.blank < len(rr.p.blanks) && rr.p.blanks[rr.blank]+1 <= n {
		rr.blank++
		rr.emit(nil)
		rr.g.defects.add(rr.p.f.rel, rr.line, "", defectBlankLine, true)
	}
}

// writeRecord writes one CSV record, quoting as RFC 4180 requires: a
// formatted amount such as £1,234.56 carries a comma.
func (rr *rowRenderer) writeRecord(vals []string) {
	b := rr.buf[:0]
	for i, v := range vals {
		if i > 0 {
			b = append(b, ',')
		}
		if strings.ContainsAny(v, ",\"\r\n") {
			b = append(b, '"')
			b = append(b, strings.ReplaceAll(v, `"`, `""`)...)
			b = append(b, '"')
		} else {
			b = append(b, v...)
		}
	}
	rr.buf = b
	rr.emit(b)
}

// emit writes one line (UTF-8 in b) in the file's encoding and line ending.
func (rr *rowRenderer) emit(b []byte) {
	if rr.p.cp1252 {
		rr.enc = toCP1252(rr.enc[:0], b)
		b = rr.enc
	}
	rr.w.Write(b) // errors are sticky and reported by Flush
	if rr.p.crlf {
		rr.w.WriteString("\r\n")
	} else {
		rr.w.WriteByte('\n')
	}
	rr.line++
}

// toCP1252 re-encodes UTF-8 text as Windows-1252; a character it cannot
// hold becomes '?', as Excel's "CSV" save does.
func toCP1252(dst, src []byte) []byte {
	for len(src) > 0 {
		c := src[0]
		if c < utf8.RuneSelf {
			dst = append(dst, c)
			src = src[1:]
			continue
		}
		r, n := utf8.DecodeRune(src)
		src = src[n:]
		if e, ok := charmap.Windows1252.EncodeRune(r); ok {
			dst = append(dst, e)
		} else {
			dst = append(dst, '?')
		}
	}
	return dst
}
