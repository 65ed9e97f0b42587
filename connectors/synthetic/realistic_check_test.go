package synthetic

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"earlyhelp/connectors"
)

// kindValid is the still_valid each realistic defect type must carry.
var kindValid = map[string]bool{
	defectBOM: true, defectCRLF: true, defectCP1252: true, defectDMY: true, defectBlankLine: true,
	defectSignFlip: true, defectDupMark: true, defectAmendment: true, defectLegacyCode: true,
	defectCaseCode: true, defectUPNCase: true, defectNHSFormat: true, defectUPRNDecimal: true,
	defectMoney: true, defectPadded: true, defectNull: true, defectNonASCII: true,
	defectUPNCheck: false, defectNHSCheck: false, defectCode: false, defectDate: false,
	defectRange: false, defectDuplicate: false,
}

// realisticEntries re-reads every file named in truth/defects.csv and
// checks that each entry's cell shows its defect; it records what shape
// each defect took, for realisticKinds.
func realisticEntries(t *testing.T, p *councilPair) {
	byFile := map[string][]defectEntry{}
	var files []string
	for _, e := range p.defects {
		// A bad cell of an optional column is nulled with the row kept.
		if want, ok := kindValid[e.kind]; !ok || (want || optionalCell(e)) != e.valid {
			t.Errorf("%s:%d %s: unknown type or still_valid=%v", e.file, e.row, e.kind, e.valid)
		}
		if byFile[e.file] == nil {
			files = append(files, e.file)
		}
		byFile[e.file] = append(byFile[e.file], e)
	}
	p.labels = map[string]int{}
	for _, name := range files {
		f := readReceived(t, filepath.Join(p.a, filepath.FromSlash(name)))
		bad := 0
		for _, e := range byFile[name] {
			label, problem := checkEntry(t, f, e)
			p.labels[label]++
			if problem != "" && bad < 5 {
				bad++
				t.Errorf("%s:%d %s %s: %s", name, e.row, e.column, e.kind, problem)
			}
		}
	}
}

// checkEntry returns the entry's kind refined by the shape of its value,
// and what is wrong ("" if the value shows the defect).
func checkEntry(t *testing.T, f *receivedFile, e defectEntry) (label, problem string) {
	label = e.kind
	if e.row == 0 {
		return label, checkFileLevel(f, e)
	}
	if e.row > int64(len(f.lines)) {
		return label, "no such line"
	}
	line := f.lines[e.row-1]
	switch e.kind {
	case defectBlankLine:
		return label, want(line == "", "line is not blank")
	case defectDuplicate, defectDupMark:
		return label, want(e.row > 2 && line == f.lines[e.row-2], "not a copy of the line before")
	case defectAmendment:
		prev := splitLine(t, f.lines[e.row-2])
		cur := splitLine(t, line)
		same := true
		for _, c := range []string{"school_urn", "upn", "session_date", "session"} {
			same = same && prev[f.header[c]] == cur[f.header[c]]
		}
		code, stamp := f.header["attendance_code"], f.header["mark_updated_at"]
		return label, want(same && prev[code] != cur[code] && prev[stamp] < cur[stamp],
			"line before is not an older mark for the same session")
	}
	v := f.cell(t, e.row, e.column)
	switch e.kind {
	case defectUPNCheck:
		if len(v) != 13 {
			label += "/malformed"
		}
		return label, want(connectors.CheckUPN(connectors.NormaliseUPN(v)) != nil, "UPN passes")
	case defectNHSCheck:
		return label, want(connectors.CheckNHS(connectors.NormaliseNHS(v)) != nil, "NHS number passes")
	case defectCode:
		if e.column == "attendance_code" {
			_, _, ok := connectors.AttendanceCategoryDays(v, sessionDays(t, f, e.row))
			return label + "/" + v, want(!ok, "code is valid")
		}
		if strings.Contains(v, "E+") {
			label += "/scientific"
		}
		return label, want(!connectors.CheckUPRN(connectors.NormaliseUPRN(v)), "UPRN passes")
	case defectDate:
		switch m := reUS.FindStringSubmatch(v); {
		case reDigits.MatchString(v):
			label += "/excel_serial"
		case strings.Contains(v, "02-30") || strings.HasPrefix(v, "30/02"):
			label += "/impossible"
		case m != nil && m[2] > "12":
			label += "/us_order"
		}
		_, err := connectors.ParseDays(v)
		return label, want(err != nil, "date parses")
	case defectRange:
		d, err := connectors.ParseDays(v)
		return label, want(err == nil && connectors.Weekday(d) == time.Saturday, "not a Saturday")
	case defectLegacyCode:
		d := sessionDays(t, f, e.row)
		_, _, ok := connectors.AttendanceCategoryDays(v, d)
		return label, want(ok && strings.Contains("HJYF", v) && d < 19954, "not a legacy code in its vintage")
	case defectUPNCase:
		return label, want(v != strings.ToUpper(v) && connectors.CheckUPN(connectors.NormaliseUPN(v)) == nil, "not a valid lower-case UPN")
	case defectNHSFormat:
		return label, want(strings.Contains(v, " ") && connectors.CheckNHS(connectors.NormaliseNHS(v)) == nil, "not a valid spaced NHS number")
	case defectUPRNDecimal:
		return label, want(strings.HasSuffix(v, ".0") && connectors.CheckUPRN(connectors.NormaliseUPRN(v)), "not a valid UPRN ending .0")
	case defectMoney:
		return label, want(strings.HasPrefix(strings.TrimPrefix(v, "-"), "£"), "no £")
	case defectCaseCode:
		return label, want(v != strings.ToUpper(v), "not lower case")
	case defectNull:
		return label, want(v != "" && connectors.IsNull(v), "not a null spelling")
	case defectPadded:
		return label, want(v != "" && v != strings.TrimSpace(v), "not padded")
	case defectNonASCII:
		return label, want(!isASCII(v), "plain ASCII")
	}
	return label, "unexpected row-level type"
}

func checkFileLevel(f *receivedFile, e defectEntry) string {
	switch e.kind {
	case defectBOM:
		return want(bytes.HasPrefix(f.raw, []byte("\ufeff")), "no BOM")
	case defectCRLF:
		return want(bytes.Contains(f.raw, []byte("\r\n")), "no CRLF")
	case defectCP1252:
		return want(!utf8.Valid(f.raw), "valid UTF-8")
	case defectDMY:
		i := f.header[e.column]
		for _, l := range f.lines[1:] {
			if fields := strings.Split(l, ","); len(fields) > i && reDMY.MatchString(fields[i]) {
				return ""
			}
		}
		return "no dd/mm/yyyy date"
	case defectSignFlip:
		return "" // realisticRentSign compares against the clean file
	}
	return "unexpected file-level type"
}

func want(ok bool, problem string) string {
	if ok {
		return ""
	}
	return problem
}

func sessionDays(t *testing.T, f *receivedFile, row int64) int32 {
	d, err := connectors.ParseDays(f.cell(t, row, "session_date"))
	if err != nil {
		t.Fatalf("line %d: session date: %v", row, err)
	}
	return d
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// realisticKinds checks that every kind, in every shape, appears at least
// once. It runs after realisticEntries, which labels the shapes.
func realisticKinds(t *testing.T, p *councilPair) {
	want := []string{
		defectBOM, defectCRLF, defectCP1252, defectDMY, defectBlankLine,
		defectUPNCheck, defectUPNCheck + "/malformed", defectUPNCase, defectNHSCheck, defectNHSFormat,
		defectCode + "/scientific", defectCode + "/?X", defectCode + "/H", defectUPRNDecimal,
		defectDate + "/excel_serial", defectDate + "/us_order", defectDate + "/impossible", defectRange,
		defectDuplicate, defectDupMark, defectAmendment, defectLegacyCode,
		defectCaseCode, defectNull, defectPadded, defectNonASCII,
	}
	if _, err := os.Stat(filepath.Join(p.a, "incoming", connectors.RentAccounts)); err == nil {
		want = append(want, defectMoney, defectSignFlip)
	}
	for _, k := range want {
		if p.labels[k] == 0 {
			t.Errorf("no %s in truth/defects.csv (have %v)", k, p.labels)
		}
	}
}

// realisticRowCounts: every clean row is still there, plus the copies and
// amendments the truth lists, and Summary.Rows says so.
func realisticRowCounts(t *testing.T, p *councilPair) {
	added := map[string]int64{}
	for _, e := range p.defects {
		if e.kind == defectDuplicate || e.kind == defectDupMark || e.kind == defectAmendment {
			added[strings.Split(e.file, "/")[1]]++
		}
	}
	for source, clean := range p.sumClean.Rows {
		files, _ := filepath.Glob(filepath.Join(p.a, "incoming", source, "*.csv"))
		var got int64
		for _, name := range files {
			for _, l := range readReceived(t, name).lines[1:] {
				if l != "" {
					got++
				}
			}
		}
		if want := clean + added[source]; got != want || p.sumA.Rows[source] != want {
			t.Errorf("%s: %d rendered rows, Summary %d; want %d clean + %d added",
				source, got, p.sumA.Rows[source], clean, added[source])
		}
	}
}

// realisticRentSign sets each flipped rent file against its clean twin:
// once blank lines and inserted copies are dropped, every non-zero balance
// has the opposite sign.
func realisticRentSign(t *testing.T, p *councilPair) {
	skip := map[string]map[int64]bool{}
	var flipped []string
	for _, e := range p.defects {
		if skip[e.file] == nil {
			skip[e.file] = map[int64]bool{}
		}
		if e.kind == defectDuplicate || e.kind == defectBlankLine {
			skip[e.file][e.row] = true
		}
		if e.kind == defectSignFlip {
			flipped = append(flipped, e.file)
		}
	}
	if len(flipped) == 0 {
		t.Skip("no rent accounts in this build")
	}
	for _, name := range flipped {
		got := readReceived(t, filepath.Join(p.a, filepath.FromSlash(name)))
		clean := readReceived(t, filepath.Join(p.clean, filepath.FromSlash(name)))
		bi, ci := got.header["balance"], clean.header["balance"]
		j := 1
		for n, l := range got.lines[1:] {
			if skip[name][int64(n+2)] {
				continue
			}
			g, c := money(splitLine(t, l)[bi]), money(splitLine(t, clean.lines[j])[ci])
			if c != 0 && g != -c {
				t.Fatalf("%s line %d: balance %v, clean %v", name, n+2, g, c)
			}
			j++
		}
	}
}

func money(s string) float64 {
	s = strings.TrimSpace(strings.NewReplacer("£", "", ",", "").Replace(s))
	f, _ := strconv.ParseFloat(s, 64)
	return f
}

// optionalCell reports whether e's column is optional in its source, where
// a bad cell is nulled and the row kept (CONTRACTS §2 cell policy).
func optionalCell(e defectEntry) bool {
	parts := strings.Split(e.file, "/") // incoming/<source>/<file>
	if len(parts) < 2 {
		return false
	}
	spec, err := connectors.Lookup(parts[len(parts)-2])
	if err != nil {
		return false
	}
	for _, c := range spec.Columns {
		if c.Name == e.column {
			return !c.Required
		}
	}
	return false
}
