package synthetic

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/text/encoding/unicode"

	"earlyhelp/connectors"
	"earlyhelp/pipeline/contract"
)

// The hostile profile (Config.Defects == DefectsHostile) renders the
// defects that break a whole file, as a council's first week meets them
// (issue 23): human headers, some of which only a column map matches;
// UTF-16 with a byte-order mark; a report's preamble above the header and
// summary lines below the data; semicolon, tab or pipe delimiters; text
// that was doubly encoded upstream; and an attendance file cut off mid-row.
// Like the realistic profile it re-renders the finished clean files, so
// the records are those of "none": every data row loads except each cut
// row, which truth/defects.csv lists as truncated.

// streamHostile is far from random.go's iota streams.
const streamHostile uint64 = 0x686f7374 // "host"

// File-level defect types of the hostile profile (truth/defects.csv, row
// 0: the whole file). All are still valid: the file loads once its
// source's column map is configured.
const (
	defectUTF16LE      = "utf16_le"       // UTF-16 little-endian with a BOM
	defectUTF16BE      = "utf16_be"       // UTF-16 big-endian with a BOM
	defectPreamble     = "preamble"       // report lines above the header
	defectFooter       = "summary_footer" // summary lines below the data
	defectSemicolon    = "delimiter_semicolon"
	defectTab          = "delimiter_tab"
	defectPipe         = "delimiter_pipe"
	defectHumanHeaders = "human_headers"    // Title Case headers; normalisation matches them
	defectMappedHeader = "supplier_headers" // headers only the config's column map matches
	defectMojibake     = "mojibake"         // a row's text doubly encoded; valid, reported
	defectTruncated    = connectors.ReasonTruncated
)

// Rates per file.
const (
	hostileUTF16    = 0.25
	hostilePreamble = 0.35
	hostileFooter   = 0.35
	hostileDelim    = 0.4
	hostileMojibake = 0.15
	hostileTruncate = 0.15 // of attendance files
	mojibakeRate    = 0.01 // of rows of a file with mojibake
)

// hostileColumns are the supplier headers of the sources whose files only
// a column map can read: attendance from a school MIS, health visiting
// from a community health system.
var hostileColumns = map[string]map[string]string{
	connectors.AttendanceSessions: {
		contract.ColSchoolURN: "Sch No", contract.ColUPN: "Pupil Ref", contract.ColSessionDate: "Day", contract.ColSession: "Half",
		contract.ColAttendanceCode: "Mark Code", contract.ColMinutesLate: "Late By", contract.ColMarkUpdatedAt: "Changed",
	},
	connectors.HVContacts: {
		contract.ColContactID: "Encounter", contract.ColAppointmentDate: "Appt", contract.ColAttendanceStatus: "Outcome Code",
	},
}

// HostileColumns returns the column maps a hostile council's config needs
// (sources.<name>.columns), by source: synth writes them into the config
// it emits.
func HostileColumns() map[string]map[string]string {
	out := make(map[string]map[string]string, len(hostileColumns))
	for s, m := range hostileColumns {
		c := make(map[string]string, len(m))
		for k, v := range m {
			c[k] = v
		}
		out[s] = c
	}
	return out
}

// hostilePlan is what the hostile pass does to one clean file.
type hostilePlan struct {
	f        *csvFile
	spec     connectors.Spec
	enc      string // "", defectUTF16LE or defectUTF16BE
	comma    rune
	preamble bool
	footer   bool
	mojibake bool
	truncate bool
}

func (g *generator) hostile() bool { return g.cfg.Defects == DefectsHostile }

// renderHostile re-renders every incoming extract; like renderRealistic it
// runs before commit.
func (g *generator) renderHostile(ctx context.Context) error {
	r := newRand(g.cfg.Seed, streamHostile)
	var plans []*hostilePlan
	for _, f := range g.out.files {
		if !strings.HasPrefix(f.rel, "incoming/") || !strings.HasSuffix(f.rel, ".csv") {
			continue
		}
		spec, ok := g.specFor(f.rel)
		if !ok {
			continue
		}
		if err := f.close(); err != nil {
			return err
		}
		plans = append(plans, &hostilePlan{f: f, spec: spec, comma: ','})
	}
	slices.SortFunc(plans, func(a, b *hostilePlan) int { return strings.Compare(a.f.rel, b.f.rel) })
	for _, p := range plans {
		if r.Float64() < hostileUTF16 {
			p.enc = []string{defectUTF16LE, defectUTF16BE}[r.IntN(2)]
		}
		if r.Float64() < hostileDelim {
			p.comma = []rune{';', '\t', '|'}[r.IntN(3)]
		}
		p.preamble = r.Float64() < hostilePreamble
		p.mojibake = r.Float64() < hostileMojibake
		// Only attendance is cut: a lost mark is the one row it costs,
		// where a lost person or objection would change other sources.
		p.truncate = p.spec.Name == connectors.AttendanceSessions && p.f.rows >= 2 && r.Float64() < hostileTruncate
		p.footer = !p.truncate && r.Float64() < hostileFooter
	}
	// Every kind on at least one file, so a small council shows them all.
	force := func(has func(*hostilePlan) bool, set func(*hostilePlan), eligible func(*hostilePlan) bool) {
		var el []*hostilePlan
		for _, p := range plans {
			if has(p) {
				return
			}
			if eligible(p) {
				el = append(el, p)
			}
		}
		if len(el) > 0 {
			set(el[r.IntN(len(el))])
		}
	}
	all := func(*hostilePlan) bool { return true }
	for _, enc := range []string{defectUTF16LE, defectUTF16BE} {
		force(func(p *hostilePlan) bool { return p.enc == enc }, func(p *hostilePlan) { p.enc = enc }, func(p *hostilePlan) bool { return p.enc == "" })
	}
	for _, c := range []rune{';', '\t', '|'} {
		force(func(p *hostilePlan) bool { return p.comma == c }, func(p *hostilePlan) { p.comma = c }, func(p *hostilePlan) bool { return p.comma == ',' })
	}
	force(func(p *hostilePlan) bool { return p.preamble }, func(p *hostilePlan) { p.preamble = true }, all)
	force(func(p *hostilePlan) bool { return p.mojibake }, func(p *hostilePlan) { p.mojibake = true }, all)
	force(func(p *hostilePlan) bool { return p.truncate }, func(p *hostilePlan) { p.truncate, p.footer = true, false },
		func(p *hostilePlan) bool { return p.spec.Name == connectors.AttendanceSessions && p.f.rows >= 2 })
	force(func(p *hostilePlan) bool { return p.footer }, func(p *hostilePlan) { p.footer = true }, func(p *hostilePlan) bool { return !p.truncate })
	for _, p := range plans {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := g.renderHostileFile(p, r); err != nil {
			return err
		}
	}
	return nil
}

// humanHeader is a contract column as a report tool titles it:
// session_date is "Session Date".
func humanHeader(col string) string {
	words := strings.Split(col, "_")
	for i, w := range words {
		switch w {
		case "id", contract.ColUPN, "urn", "nhs", "lsoa", "imd", contract.ColUPRN, "ta", "asq", "da":
			words[i] = strings.ToUpper(w)
		default:
			words[i] = strings.ToUpper(w[:1]) + w[1:]
		}
	}
	return strings.Join(words, " ")
}

// renderHostileFile rewrites one clean file as its plan says and logs its
// defects.
func (g *generator) renderHostileFile(p *hostilePlan, r *rand.Rand) error {
	rel, src := p.f.rel, p.f.path+".tmp"
	dst := p.f.path + ".hostile.tmp"
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("hostile %s: %w", rel, err)
	}
	defer in.Close()
	cr := csv.NewReader(bufio.NewReaderSize(in, 256<<10))
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return fmt.Errorf("hostile %s: header: %w", rel, err)
	}
	cols := slices.Clone(header)
	mapped := hostileColumns[p.spec.Name]
	for i, c := range cols {
		c = strings.TrimPrefix(c, "\ufeff")
		if h, ok := mapped[c]; ok {
			cols[i] = h
		} else {
			cols[i] = humanHeader(c)
		}
	}
	if p.mojibake {
		cols = append(cols, "Comments")
	}

	// The text is built in UTF-8 in memory, then encoded as the plan says:
	// the profile is for tests and trials, where a month of attendance is
	// tens of megabytes at most.
	var text bytes.Buffer
	w := csv.NewWriter(&text)
	w.Comma = p.comma
	if p.preamble {
		text.WriteString("Report: " + humanHeader(p.spec.Name) + "\n")
		text.WriteString("Run 03/02/2025 08:14 by the scheduled export\n\n")
	}
	w.Write(cols)
	var rows int64
	var lastStart int
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("hostile %s: %w", rel, err)
		}
		rows++
		if p.mojibake {
			note := ""
			if r.Float64() < mojibakeRate {
				note = "Ã©cole dâ€™Ã©tÃ©" // école d’été, doubly encoded
				g.defects.add(rel, rows+1, "Comments", defectMojibake, true)
			}
			rec = append(rec, note)
		}
		w.Flush()
		lastStart = text.Len()
		w.Write(rec)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return fmt.Errorf("hostile %s: %w", rel, err)
	}
	b := text.Bytes()
	if p.truncate && rows >= 2 {
		// Cut the last row before its last delimiter: the export stopped
		// mid-row, with no newline after it.
		last := b[lastStart:]
		cut := bytes.LastIndexByte(last[:len(last)-1], byte(p.comma))
		b = b[:lastStart+max(1, cut/2)]
		g.defects.add(rel, rows+1, "", defectTruncated, false)
	}
	if p.footer {
		b = append(b, "\nTotal rows: "...)
		b = append(b, thousands(rows)...)
		b = append(b, "\nEnd of report\n"...)
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("hostile %s: %w", rel, err)
	}
	switch p.enc {
	case defectUTF16LE:
		b, err = unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes(b)
	case defectUTF16BE:
		b, err = unicode.UTF16(unicode.BigEndian, unicode.UseBOM).NewEncoder().Bytes(b)
	}
	if err == nil {
		_, err = out.Write(b)
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(dst, src)
	}
	if err != nil {
		os.Remove(dst)
		return fmt.Errorf("hostile %s: %w", rel, err)
	}
	g.logHostile(p)
	return nil
}

// logHostile writes the file's whole-file defects to truth/defects.csv.
func (g *generator) logHostile(p *hostilePlan) {
	rel, log := p.f.rel, g.defects
	if p.enc != "" {
		log.add(rel, 0, "", p.enc, true)
	}
	switch p.comma {
	case ';':
		log.add(rel, 0, "", defectSemicolon, true)
	case '\t':
		log.add(rel, 0, "", defectTab, true)
	case '|':
		log.add(rel, 0, "", defectPipe, true)
	}
	if p.preamble {
		log.add(rel, 0, "", defectPreamble, true)
	}
	if p.footer {
		log.add(rel, 0, "", defectFooter, true)
	}
	if _, ok := hostileColumns[p.spec.Name]; ok {
		log.add(rel, 0, "", defectMappedHeader, true)
	} else {
		log.add(rel, 0, "", defectHumanHeaders, true)
	}
	if p.mojibake {
		log.add(rel, 0, "Comments", defectMojibake, true)
	}
}

// thousands formats n as a report does: 4,211.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
