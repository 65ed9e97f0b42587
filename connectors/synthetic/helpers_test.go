package synthetic

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

// generate writes a council into a fresh temporary folder.
func generate(t testing.TB, cfg Config) (string, Summary) {
	t.Helper()
	if cfg.Out == "" {
		cfg.Out = t.TempDir()
	}
	s, err := Generate(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Generate(%+v): %v", cfg, err)
	}
	return cfg.Out, s
}

// readCSV reads a whole CSV file (BOM stripped) as a header and records.
func readCSV(t testing.TB, path string) ([]string, [][]string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.TrimPrefix(b, []byte("\ufeff"))
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1
	var recs [][]string
	header, err := r.Read()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		recs = append(recs, rec)
	}
	return header, recs
}

// records returns the rows of a CSV as maps from column to value.
func records(t testing.TB, path string) []map[string]string {
	t.Helper()
	header, recs := readCSV(t, path)
	out := make([]map[string]string, len(recs))
	for i, rec := range recs {
		m := make(map[string]string, len(header))
		for j, h := range header {
			if j < len(rec) {
				m[h] = rec[j]
			}
		}
		out[i] = m
	}
	return out
}

// attendanceFiles lists the attendance files in order.
func attendanceFiles(t testing.TB, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "incoming", "attendance_sessions", "attendance_*.csv"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no attendance files in %s (%v)", dir, err)
	}
	sort.Strings(files)
	return files
}

// listFiles returns every file under dir, relative and slash-separated.
func listFiles(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func parseDate(t testing.TB, s string) time.Time {
	t.Helper()
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		t.Fatalf("date %q: %v", s, err)
	}
	return d
}
