package csvdir

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/connectors"
	"earlyhelp/pipeline"
)

// shapeSink is a fakeSink that also keeps each file's shape.
type shapeSink struct {
	*fakeSink
	shapes map[string]pipeline.FileShape
}

func (s *shapeSink) Shape(f pipeline.FileRef, sh pipeline.FileShape) error {
	s.shapes[f.Name] = sh
	return nil
}

var _ pipeline.Sink = (*shapeSink)(nil)

const (
	shapeHeader = "school_urn,upn,session_date,session,attendance_code,minutes_late,mark_updated_at"
	shapeRow1   = "100001,B801200005001,2023-11-06,AM,/,,2023-11-06T09:01:00Z"
	shapeRow2   = "100001,B801200005001,2023-11-06,PM,\\,,"
	shapeRow3   = "100001,B801200005001,2023-11-07,AM,L,5,"
)

// shapeFile is the three rows under a header, each line ending "\n".
func shapeFile(header string, sep string) string {
	lines := []string{header, shapeRow1, shapeRow2, shapeRow3}
	for i, l := range lines {
		lines[i] = strings.ReplaceAll(l, ",", sep)
	}
	return strings.Join(lines, "\n") + "\n"
}

func utf16Bytes(s string, bigEndian bool) string {
	var b []byte
	if bigEndian {
		b = append(b, 0xFE, 0xFF)
	} else {
		b = append(b, 0xFF, 0xFE)
	}
	for _, u := range utf16.Encode([]rune(s)) {
		if bigEndian {
			b = append(b, byte(u>>8), byte(u))
		} else {
			b = append(b, byte(u), byte(u>>8))
		}
	}
	return string(b)
}

// readShape writes content as one attendance file and reads it.
func readShape(t *testing.T, content string, cfg Config) (*shapeSink, error) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "attendance_x.csv"), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	spec, err := connectors.Lookup(connectors.AttendanceSessions)
	if err != nil {
		t.Fatal(err)
	}
	p, err := connectors.NewPseudonymiser(testKey)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Path = dir
	src, err := New(cfg, spec, p)
	if err != nil {
		t.Fatal(err)
	}
	sink := &shapeSink{fakeSink: newFakeSink(), shapes: map[string]pipeline.FileShape{}}
	return sink, src.Read(context.Background(), mem, sink)
}

// TestFileLevelDefects reads one file per defect of issue 23 and checks
// what was loaded, quarantined and skipped.
func TestFileLevelDefects(t *testing.T) {
	humanHeader := "School URN,UPN,Session Date,Session,Attendance Code,Minutes Late,Mark Updated At"
	tests := []struct {
		name        string
		content     string
		cfg         Config
		loaded      int
		rejects     map[string]int
		rejectRows  []int64 // rows of the rejected rows, in order
		skipped     int64
		mojibake    int64
		firstCodes  string // attendance codes loaded, in order
		wantErrPart string
	}{
		{name: "human headers", content: shapeFile(humanHeader, ","), loaded: 3},
		{name: "camelCase headers", content: shapeFile("SchoolURN,Upn,SessionDate,session,AttendanceCode,minutesLate,MarkUpdatedAt", ","), loaded: 3},
		{name: "column map", content: shapeFile("Sch No,Pupil Ref,Day,Half,Mark Code,Late By,Changed", ","),
			cfg: Config{Columns: map[string]string{
				"school_urn": "Sch No", "upn": "pupil ref", "session_date": "Day", "session": "Half",
				"attendance_code": "Mark Code", "minutes_late": "Late By", "mark_updated_at": "Changed",
			}}, loaded: 3, firstCodes: "/,\\,L"},
		{name: "UTF-16 LE with BOM", content: utf16Bytes(shapeFile(humanHeader, ","), false), loaded: 3, firstCodes: "/,\\,L"},
		{name: "UTF-16 BE with BOM", content: utf16Bytes(shapeFile(shapeHeader, "\t"), true), loaded: 3, firstCodes: "/,\\,L"},
		{name: "UTF-8 BOM", content: "\uFEFF" + shapeFile(shapeHeader, ","), loaded: 3},
		{name: "mojibake reported, not repaired",
			content: shapeHeader + ",notes\n" + shapeRow1 + ",Ã©cole\n" + shapeRow2 + ",itâ€™s\n" + shapeRow3 + ",école\n",
			loaded:  3, mojibake: 2},
		{name: "preamble above the header",
			content: "Attendance by session\nReport run 03/02/2025 by a clerk\n\n" + shapeFile(shapeHeader, ","),
			loaded:  3, skipped: 2},
		{name: "summary lines below the data",
			content: shapeFile(shapeHeader, ",") + "\nTotal rows: 4,211\nEnd of report\n",
			loaded:  3, skipped: 2},
		{name: "summary line without a final newline",
			content: shapeFile(shapeHeader, ",") + "Total rows: 3",
			loaded:  3, skipped: 1},
		{name: "semicolon", content: shapeFile(shapeHeader, ";"), loaded: 3, firstCodes: "/,\\,L"},
		{name: "tab", content: shapeFile(humanHeader, "\t"), loaded: 3},
		{name: "pipe", content: shapeFile(shapeHeader, "|"), loaded: 3},
		{name: "configured delimiter", content: shapeFile(shapeHeader, ";"), cfg: Config{Delimiter: ";"}, loaded: 3},
		{name: "truncated last row",
			content: shapeHeader + "\n" + shapeRow1 + "\n" + shapeRow2 + "\n100001,B8012000050",
			loaded:  2, rejects: map[string]int{ReasonTruncated: 1}, rejectRows: []int64{4}},
		{name: "truncated inside a quoted cell",
			content: shapeHeader + "\n" + shapeRow1 + "\n" + shapeRow2 + "\n100001,B801200005001,2023-11-07,AM,\"L",
			loaded:  2, rejects: map[string]int{ReasonTruncated: 1}, rejectRows: []int64{4}},
		{name: "truncated after a preamble and with footer shape absent",
			content: "Report run 03/02/2025\n" + shapeHeader + "\n" + shapeRow1 + "\n100001",
			loaded:  1, skipped: 1, rejects: map[string]int{ReasonTruncated: 1}, rejectRows: []int64{3}},
		{name: "a full last row without a newline is a row", content: strings.TrimSuffix(shapeFile(shapeHeader, ","), "\n"), loaded: 3},
		{name: "no complete row", content: shapeHeader + "\n100001,B80120", wantErrPart: "file attendance_x.csv: no complete row"},
		{name: "unmatched header lists what it found",
			content:     shapeFile("Sch No,Pupil Ref,Day,Half,Mark Code,Late By,Changed", ","),
			wantErrPart: `missing required column "school_urn"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sink, err := readShape(t, tc.content, tc.cfg)
			if tc.wantErrPart != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErrPart) {
					t.Fatalf("error: got %v; want one containing %q", err, tc.wantErrPart)
				}
				if len(sink.rows) != 0 || len(sink.ended) != 0 {
					t.Errorf("a failed file sent %d rows and %d ends", len(sink.rows), len(sink.ended))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(sink.rows) != tc.loaded {
				t.Errorf("rows loaded: got %d; want %d", len(sink.rows), tc.loaded)
			}
			got := sink.reasons()
			if len(got) != len(tc.rejects) {
				t.Errorf("rejects: got %v; want %v", got, tc.rejects)
			}
			for r, n := range tc.rejects {
				if got[r] != n {
					t.Errorf("rejects %s: got %d; want %d", r, got[r], n)
				}
			}
			for i, row := range tc.rejectRows {
				if i < len(sink.rejects) && sink.rejects[i].Row != row {
					t.Errorf("reject %d: row %d; want %d", i, sink.rejects[i].Row, row)
				}
			}
			if read := sink.ended["attendance_x.csv"]; read != int64(tc.loaded+len(sink.rejects)) {
				t.Errorf("rows read: got %d; want loaded + quarantined = %d", read, tc.loaded+len(sink.rejects))
			}
			sh := sink.shapes["attendance_x.csv"]
			if sh.SkippedLines != tc.skipped || sh.MojibakeRows != tc.mojibake {
				t.Errorf("shape: got %+v; want %d skipped lines, %d mojibake rows", sh, tc.skipped, tc.mojibake)
			}
			if tc.firstCodes != "" {
				var codes []string
				for _, r := range sink.rows {
					codes = append(codes, r["attendance_code"])
				}
				if strings.Join(codes, ",") != tc.firstCodes {
					t.Errorf("codes: got %s; want %s", strings.Join(codes, ","), tc.firstCodes)
				}
			}
		})
	}
}

// A truncated row's identifiers reach the quarantine pseudonymised, like
// any rejected row's, and nothing of it is loaded.
func TestTruncatedRowKeepsNoIdentifier(t *testing.T) {
	content := shapeHeader + "\n" + shapeRow1 + "\n100001,B801200005001,2023-11-0"
	sink, err := readShape(t, content, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if len(sink.rejects) != 1 || sink.rejects[0].Reason != ReasonTruncated {
		t.Fatalf("rejects: got %+v; want one truncated", sink.rejects)
	}
	for _, v := range sink.rejects[0].Values {
		if strings.Contains(v, "B801200005001") {
			t.Errorf("quarantined row holds the raw UPN: %q", v)
		}
	}
	for _, r := range sink.rows {
		if r["session_date"] != "2023-11-06" {
			t.Errorf("a row of the truncated line was loaded: %v", r)
		}
	}
}

// The header error names what it found and the closest header of each
// missing column, and hides a cell that looks like a value.
func TestHeaderErrorSuggests(t *testing.T) {
	_, err := readShape(t, shapeFile("Sch URN,Pupil UPN,Date of Session,AM/PM Session,Mark,Late (mins),Updated", ","), Config{})
	var he *connectors.HeaderError
	if !errors.As(err, &he) {
		t.Fatalf("error: got %v; want a *connectors.HeaderError", err)
	}
	want := map[string]string{"school_urn": "Sch URN", "session_date": "Date of Session", "session": "AM/PM Session"}
	for col, h := range want {
		if he.Suggested[col] != h {
			t.Errorf("suggested for %s: got %q; want %q (all: %v)", col, he.Suggested[col], h, he.Suggested)
		}
	}
	if !strings.Contains(err.Error(), `headers found: "Sch URN", "Pupil UPN"`) {
		t.Errorf("error does not list the headers found: %v", err)
	}
	// A file without a header row: its first row must not be shown.
	_, err = readShape(t, shapeRow1+"\n"+shapeRow2+"\n", Config{})
	if err == nil || strings.Contains(err.Error(), "B801200005001") || !strings.Contains(err.Error(), "(a value, not shown)") {
		t.Errorf("error for a file without header: %v; want the UPN hidden", err)
	}
}

// A file cut off in the row that fills a buffer is still seen to end
// mid-row: the end is looked at where the buffer fills, not only in the
// next, empty one.
func TestTruncatedRowFillsBuffer(t *testing.T) {
	var b strings.Builder
	b.WriteString(shapeHeader + "\n")
	for range connectors.BatchRows - 1 {
		b.WriteString(shapeRow1 + "\n")
	}
	b.WriteString("100001,B8012")
	sink, err := readShape(t, b.String(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	if got := sink.reasons(); len(got) != 1 || got[ReasonTruncated] != 1 {
		t.Errorf("rejects: got %v; want one truncated", got)
	}
	if len(sink.rows) != connectors.BatchRows-1 {
		t.Errorf("rows loaded: got %d; want %d", len(sink.rows), connectors.BatchRows-1)
	}
}
