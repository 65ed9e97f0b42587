package synthetic

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"earlyhelp/connectors"
)

// TestDefectsArePresent reads every defect truth/defects.csv lists and finds
// it at the stated file, row and column; and checks that the attendance
// files hold no broken UPN the list does not name.
func TestDefectsArePresent(t *testing.T) {
	dir, _ := generate(t, Config{Children: 2000, Weeks: 60, Seed: 7, Defects: DefectsLight})
	defects := records(t, filepath.Join(dir, defectsFile))
	type file struct {
		raw    []byte
		lines  []string // by row number - 1
		header []string
	}
	files := map[string]*file{}
	open := func(name string) *file {
		if f, ok := files[name]; ok {
			return f
		}
		raw, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			t.Fatalf("defect names %s: %v", name, err)
		}
		lines := strings.Split(strings.TrimSuffix(string(bytes.TrimPrefix(raw, []byte("\ufeff"))), "\n"), "\n")
		f := &file{raw: raw, lines: lines, header: strings.Split(lines[0], ",")}
		files[name] = f
		return f
	}
	dmy := regexp.MustCompile(`^\d{2}/\d{2}/\d{4}$`)
	codeSets := codeCategories()
	change := time.Date(2024, 8, 19, 0, 0, 0, 0, time.UTC)
	counts := map[string]int{}
	listed := map[string]bool{}
	for _, d := range defects {
		f := open(d["file"])
		row, err := strconv.Atoi(d["row_number"])
		if err != nil || row < 0 || row > len(f.lines) {
			t.Fatalf("defect %v: row_number out of range", d)
		}
		col := -1
		for i, h := range f.header {
			if h == d["column"] {
				col = i
			}
		}
		if col < 0 {
			t.Fatalf("defect %v: no column %q in %v", d, d["column"], f.header)
		}
		wantValid := d["defect_type"] == defectBOM || d["defect_type"] == defectDMY
		if d["still_valid"] != strconv.FormatBool(wantValid) {
			t.Errorf("defect %v: still_valid = %s; want %v", d, d["still_valid"], wantValid)
		}
		counts[d["defect_type"]]++
		listed[d["file"]+"#"+d["row_number"]] = true
		var cell string
		if row >= 2 {
			cell = strings.Split(f.lines[row-1], ",")[col]
		}
		switch d["defect_type"] {
		case defectBOM:
			if row != 1 || !bytes.HasPrefix(f.raw, []byte("\ufeff")) {
				t.Errorf("defect %v: no BOM", d)
			}
		case defectDMY:
			for i, line := range f.lines[1:] {
				v := strings.Split(line, ",")[col]
				if v != "" && !dmy.MatchString(v) {
					t.Fatalf("defect %v: row %d has %q", d, i+2, v)
				}
			}
		case defectUPNCheck:
			if err := connectors.CheckUPN(cell); !errors.Is(err, connectors.ErrUPNCheck) {
				t.Errorf("defect %v: upn %q checks as %v", d, cell, err)
			}
		case defectNHSCheck:
			if err := connectors.CheckNHS(cell); !errors.Is(err, connectors.ErrNHSCheck) {
				t.Errorf("defect %v: nhs_number %q checks as %v", d, cell, err)
			}
		case defectCode:
			date := parseDate(t, strings.Split(f.lines[row-1], ",")[2])
			_, known := codeSets[cell]
			if known && !(cell == "H" && !date.Before(change)) {
				t.Errorf("defect %v: code %q is valid on %s", d, cell, date.Format(time.DateOnly))
			}
		case defectDate:
			if _, err := time.Parse(time.DateOnly, cell); err == nil {
				t.Errorf("defect %v: date %q parses", d, cell)
			}
		case defectDuplicate:
			if f.lines[row-1] != f.lines[row-2] {
				t.Errorf("defect %v: row is not a copy of the row before", d)
			}
		case defectMissing:
			if cell != "" {
				t.Errorf("defect %v: %s is %q", d, d["column"], cell)
			}
		default:
			t.Errorf("defect %v: unknown type", d)
		}
	}
	want := map[string][2]int{ // min, max
		defectBOM: {2, 2}, defectDMY: {2, 2}, defectNHSCheck: {3, 3}, defectDuplicate: {2, 2}, defectMissing: {1, 1},
		defectUPNCheck: {50, 1000}, defectCode: {10, 500}, defectDate: {3, 300},
	}
	for k, mm := range want {
		if counts[k] < mm[0] || counts[k] > mm[1] {
			t.Errorf("%d defects of type %s; want %d–%d", counts[k], k, mm[0], mm[1])
		}
	}

	// Recall: every attendance row that fails the UPN check is listed.
	for _, path := range attendanceFiles(t, dir) {
		rel, _ := filepath.Rel(dir, path)
		f := open(filepath.ToSlash(rel))
		for i, line := range f.lines[1:] {
			upn := strings.Split(line, ",")[1]
			if connectors.CheckUPN(upn) != nil && !listed[filepath.ToSlash(rel)+"#"+strconv.Itoa(i+2)] {
				t.Errorf("%s row %d: unlisted bad upn %q", rel, i+2, upn)
			}
		}
	}
}
