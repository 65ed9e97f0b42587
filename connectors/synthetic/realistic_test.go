package synthetic

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// TestRealistic generates a 2,000-child council twice with the realistic
// profile (for determinism) and once clean from the same seed, so rendered
// files can be set against the records they render.
func TestRealistic(t *testing.T) {
	if testing.Short() {
		t.Skip("generates three 2,000-child councils")
	}
	var p councilPair
	for i, dir := range []*string{&p.a, &p.b, &p.clean} {
		*dir = t.TempDir()
		// The project vocabulary: these checks know the realistic defects'
		// shapes; the reference's forms are reference_vocab_test.go's.
		cfg := Config{Out: *dir, Children: 2000, Seed: 7, Defects: DefectsRealistic, Vocabulary: VocabularyProject}
		if i == 2 {
			cfg.Defects = DefectsNone
		}
		s, err := Generate(context.Background(), cfg)
		if err != nil {
			t.Fatalf("Generate(%+v): %v", cfg, err)
		}
		if i == 0 {
			p.sumA = s
		}
		if i == 2 {
			p.sumClean = s
		}
	}
	p.defects = readDefects(t, p.a)
	for _, tc := range []struct {
		name string
		test func(*testing.T, *councilPair)
	}{
		{"deterministic", realisticDeterministic},
		{"entries show their defect", realisticEntries},
		{"every kind present", realisticKinds}, // uses the labels of the entries
		{"no row lost", realisticRowCounts},
		{"rent sign flipped", realisticRentSign},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.test(t, &p) })
	}
}

type councilPair struct {
	a, b, clean    string
	sumA, sumClean Summary
	defects        []defectEntry
	labels         map[string]int // defect type and shape -> entries
}

func realisticDeterministic(t *testing.T, p *councilPair) {
	a, b := listFiles(t, p.a), listFiles(t, p.b)
	if strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Fatalf("file lists differ:\n%v\n%v", a, b)
	}
	for _, f := range a {
		x, err1 := os.ReadFile(filepath.Join(p.a, f))
		y, err2 := os.ReadFile(filepath.Join(p.b, f))
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: %v %v", f, err1, err2)
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two runs", f)
		}
	}
}

// defectEntry is one row of truth/defects.csv.
type defectEntry struct {
	file, column, kind string
	row                int64
	valid              bool
}

func readDefects(t *testing.T, dir string) []defectEntry {
	t.Helper()
	_, recs := readCSV(t, filepath.Join(dir, filepath.FromSlash(defectsFile)))
	out := make([]defectEntry, len(recs))
	for i, r := range recs {
		row, err := strconv.ParseInt(r[1], 10, 64)
		valid, err2 := strconv.ParseBool(r[4])
		if len(r) != 5 || err != nil || err2 != nil {
			t.Fatalf("defects.csv row %d: %q", i+2, r)
		}
		out[i] = defectEntry{file: r[0], row: row, column: r[2], kind: r[3], valid: valid}
	}
	return out
}

// receivedFile is a rendered file read the way a tolerant loader would:
// BOM dropped, Windows-1252 decoded, CRLF cut; lines keep their numbers.
type receivedFile struct {
	raw    []byte
	lines  []string // lines[0] is the header, line 1
	header map[string]int
}

func readReceived(t *testing.T, path string) *receivedFile {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b := bytes.TrimPrefix(raw, []byte("\ufeff"))
	if !utf8.Valid(b) {
		if b, err = charmap.Windows1252.NewDecoder().Bytes(b); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	text := strings.ReplaceAll(string(b), "\r\n", "\n")
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	f := &receivedFile{raw: raw, lines: lines, header: map[string]int{}}
	for i, h := range splitLine(t, lines[0]) {
		f.header[h] = i
	}
	return f
}

func splitLine(t *testing.T, line string) []string {
	t.Helper()
	rec, err := csv.NewReader(strings.NewReader(line)).Read()
	if err != nil {
		t.Fatalf("line %q: %v", line, err)
	}
	return rec
}

// cell returns the named column of a 1-based line.
func (f *receivedFile) cell(t *testing.T, row int64, column string) string {
	t.Helper()
	i, ok := f.header[column]
	if !ok || row < 2 || row > int64(len(f.lines)) {
		t.Fatalf("no cell %s at line %d", column, row)
	}
	return splitLine(t, f.lines[row-1])[i]
}

var (
	reUS     = regexp.MustCompile(`^(\d\d)/(\d\d)/\d{4}$`)
	reDMY    = regexp.MustCompile(`^\d\d/\d\d/\d{4}$`)
	reDigits = regexp.MustCompile(`^\d+$`)
)
