package export

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"earlyhelp/pipeline"
)

type lookup map[string]string

func (l lookup) Reidentify(ns, p string) (string, error) {
	if id, ok := l[ns+"/"+p]; ok {
		return id, nil
	}
	return "", fmt.Errorf("no %s", ns)
}

func list() *pipeline.List {
	return &pipeline.List{
		Council: "Demo Borough", RunID: "20260720T060000Z", AsOf: time.Date(2026, 7, 20, 0, 0, 0, 0, time.UTC), Capacity: 2,
		Entries: []pipeline.ListEntry{{
			Rank: 1, Household: "h1", Locality: "=HYPERLINK(\"x\")", Band: pipeline.BandVeryHigh, Score: 0.41234,
			Status: "new", WeeksOnList: 1, Children: []pipeline.ChildRef{{Person: "c1", Age: 7}, {Person: "c2", Age: 12}},
			Reasons:     []pipeline.Reason{{Feature: "absence_rate_4w", Value: 0.2, Contribution: 1.1}},
			ReasonTexts: []string{"a child missed 20% of school sessions in the last 4 weeks"},
		}},
	}
}

func TestExport(t *testing.T) {
	dir := t.TempDir()
	e, _ := New(lookup{"household_id/h1": "H0001", "person_id/c1": "P01", "person_id/c2": "@P02"})
	paths, err := e.Export(context.Background(), dir, list())
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 4 {
		t.Fatalf("paths = %v", paths)
	}
	// families.json pairs each reference with its pseudonym for the review
	// site's decisions.
	b, err := os.ReadFile(filepath.Join(dir, "list", FamiliesFile))
	if err != nil {
		t.Fatal(err)
	}
	var fams []Family
	if err := json.Unmarshal(b, &fams); err != nil {
		t.Fatal(err)
	}
	if len(fams) != 1 || fams[0].Household != "H0001" || fams[0].Pseudonym != "h1" || fams[0].Rank != 1 {
		t.Errorf("families.json = %+v", fams)
	}
	f, _ := os.Open(filepath.Join(dir, "list", "navigator_list.csv"))
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != strings.Join(Header, ",") {
		t.Errorf("header = %v", rows[0])
	}
	got := map[string]string{}
	for i, h := range rows[0] {
		got[h] = rows[1][i]
	}
	tests := []struct{ col, want string }{
		{"rank", "1"},
		{"household_ref", "H0001"},
		{"locality", `'=HYPERLINK("x")`},
		{"band", "very high"},
		{"score", "0.412"},
		{"children", "2"},
		{"child_refs", "P01 (age 7);@P02 (age 12)"},
		{"reason_codes", "absence_rate_4w"},
		{"reasons", "a child missed 20% of school sessions in the last 4 weeks"},
	}
	for _, tc := range tests {
		if got[tc.col] != tc.want {
			t.Errorf("%s = %q; want %q", tc.col, got[tc.col], tc.want)
		}
	}
	// The Parquet copy has the same rows, typed.
	pf, err := os.Open(filepath.Join(dir, "list", "navigator_list.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	tbl, err := pqarrow.ReadTable(context.Background(), pf, nil, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	if tbl.NumRows() != 1 || tbl.NumCols() != int64(len(Header)) {
		t.Fatalf("parquet list: %d rows, %d columns", tbl.NumRows(), tbl.NumCols())
	}
	for i, h := range Header {
		if tbl.Schema().Field(i).Name != h {
			t.Errorf("parquet column %d = %s; want %s", i, tbl.Schema().Field(i).Name, h)
		}
	}
	if s := tbl.Column(4).Data().Chunk(0).(*array.Float64).Value(0); s != 0.41234 {
		t.Errorf("parquet score = %v; want the unrounded 0.41234", s)
	}
	if h := tbl.Column(1).Data().Chunk(0).(*array.String).Value(0); h != "H0001" {
		t.Errorf("parquet household_ref = %q", h)
	}
	html, _ := os.ReadFile(filepath.Join(dir, "list", "navigator_list.html"))
	if !strings.Contains(string(html), "H0001") || strings.Contains(string(html), "<script") {
		t.Errorf("html list lacks the household or carries markup it should escape")
	}
}

func TestExportFailsWhole(t *testing.T) {
	dir := t.TempDir()
	e, _ := New(lookup{"household_id/h1": "H0001"}) // children unknown to the lookup
	if _, err := e.Export(context.Background(), dir, list()); err == nil {
		t.Fatal("Export succeeded without the children's ids")
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "list")); len(entries) != 0 {
		t.Errorf("a failed export left %d files", len(entries))
	}
}

func TestNeutralise(t *testing.T) {
	tests := []struct{ in, want string }{
		{"=1+2", "'=1+2"}, {"+44", "'+44"}, {"-3", "'-3"}, {"@SUM", "'@SUM"},
		{"\tx", "'\tx"}, {"\rx", "'\rx"}, {"North", "North"}, {"", ""},
	}
	for _, tc := range tests {
		if got := pipeline.Neutralise(tc.in); got != tc.want {
			t.Errorf("Neutralise(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}
