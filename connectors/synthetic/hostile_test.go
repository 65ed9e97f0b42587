package synthetic

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding/unicode"
)

// TestHostile generates a small hostile council twice from one seed: the
// files are the same, and each file's bytes show the defects
// truth/defects.csv lists for it, and no others.
func TestHostile(t *testing.T) {
	cfg := Config{Children: 200, Weeks: 20, Seed: 3, Defects: DefectsHostile}
	a, sum := generate(t, cfg)
	b, _ := generate(t, cfg)
	for _, rel := range sum.Files {
		x, _ := os.ReadFile(filepath.Join(a, rel))
		y, _ := os.ReadFile(filepath.Join(b, rel))
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two generations from one seed", rel)
		}
	}
	_, rows := readCSV(t, filepath.Join(a, defectsFile))
	kinds := map[string]map[string]bool{} // file → its whole-file defects
	truncated := map[string]bool{}
	for _, r := range rows {
		file, row, kind := r[0], r[1], r[3]
		if kinds[file] == nil {
			kinds[file] = map[string]bool{}
		}
		if row == "0" {
			kinds[file][kind] = true
		}
		if kind == defectTruncated {
			truncated[file] = true
		}
	}
	seen := map[string]bool{}
	for _, rel := range sum.Files {
		if !strings.HasPrefix(rel, "incoming/") {
			continue
		}
		k := kinds[rel]
		if k == nil {
			t.Errorf("%s: truth lists no defect", rel)
			continue
		}
		for kind := range k {
			seen[kind] = true
		}
		raw, err := os.ReadFile(filepath.Join(a, rel))
		if err != nil {
			t.Fatal(err)
		}
		text := raw
		switch {
		case bytes.HasPrefix(raw, []byte{0xFF, 0xFE}) != k[defectUTF16LE]:
			t.Errorf("%s: little-endian BOM %v; truth says %v", rel, !k[defectUTF16LE], k[defectUTF16LE])
		case bytes.HasPrefix(raw, []byte{0xFE, 0xFF}) != k[defectUTF16BE]:
			t.Errorf("%s: big-endian BOM %v; truth says %v", rel, !k[defectUTF16BE], k[defectUTF16BE])
		}
		if k[defectUTF16LE] || k[defectUTF16BE] {
			if text, err = unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder().Bytes(raw); err != nil {
				t.Fatalf("%s: %v", rel, err)
			}
		}
		s := string(text)
		if got := strings.HasPrefix(s, "Report: "); got != k[defectPreamble] {
			t.Errorf("%s: preamble %v; truth says %v", rel, got, k[defectPreamble])
		}
		if got := strings.HasSuffix(s, "End of report\n"); got != k[defectFooter] {
			t.Errorf("%s: summary footer %v; truth says %v", rel, got, k[defectFooter])
		}
		if got := !strings.HasSuffix(s, "\n"); got != truncated[rel] {
			t.Errorf("%s: ends mid-row %v; truth says %v", rel, got, truncated[rel])
		}
		header := s
		if k[defectPreamble] {
			header = s[strings.Index(s, "\n\n")+2:]
		}
		header = header[:strings.IndexByte(header, '\n')]
		for _, d := range []struct {
			kind string
			sep  string
		}{{defectSemicolon, ";"}, {defectTab, "\t"}, {defectPipe, "|"}} {
			if got := strings.Contains(header, d.sep); got != k[d.kind] {
				t.Errorf("%s: header %q holds %q: %v; truth says %v", rel, header, d.sep, got, k[d.kind])
			}
		}
		if got := strings.Contains(header, "Comments"); got != k[defectMojibake] {
			t.Errorf("%s: a Comments column %v; truth says mojibake %v", rel, got, k[defectMojibake])
		}
		if k[defectHumanHeaders] == k[defectMappedHeader] {
			t.Errorf("%s: human %v and supplier headers %v: want exactly one", rel, k[defectHumanHeaders], k[defectMappedHeader])
		}
	}
	for _, kind := range []string{defectUTF16LE, defectUTF16BE, defectPreamble, defectFooter, defectSemicolon,
		defectTab, defectPipe, defectHumanHeaders, defectMappedHeader, defectMojibake} {
		if !seen[kind] {
			t.Errorf("no file carries %s", kind)
		}
	}
	if len(truncated) == 0 {
		t.Error("no file is cut off")
	}
}
