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
	"earlyhelp/pipeline/rundir"
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
	b, err := os.ReadFile(rundir.Open(dir).FamiliesJSON())
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

// safeList is two families in two localities: one with a safety fact and
// reasons about a child, one without.
func safeList() *pipeline.List {
	asOf := time.Date(2026, 7, 20, 0, 0, 0, 0, time.UTC)
	l := list()
	l.Capacity = 60
	l.Entries[0].Locality = "North"
	l.Entries[0].Why = []pipeline.ListReason{
		{Code: "late_before_close_13w", Person: "c1", Age: 7, Date: asOf.AddDate(0, 0, -1), Text: "6 late arrivals (L) in the 13 weeks to 19 Jul 2026"},
		{Code: "rent_arrears_stage", Date: asOf.AddDate(0, -2, 0), Text: "rent arrears action reached a suspended possession order on 20 May 2026"},
	}
	l.Entries[0].Safety = []pipeline.SafetyFact{{Kind: pipeline.SafetyDomesticAbuse, Date: asOf.AddDate(0, 0, -8)}}
	l.Entries[0].ContactSafety = []string{"Speak to the safeguarding lead before contacting."}
	l.Entries[0].Likelihood, l.Entries[0].Context = "about 1 in 8", []string{"lives in an area in IMD decile 1 (1 = most deprived)"}
	l.Entries[0].Signals = []pipeline.Signal{{Code: "late_before_close_13w", Person: "c1", Date: asOf.AddDate(0, 0, -1), Text: "6 late arrivals (L) in the 13 weeks to 19 Jul 2026"}}
	l.Entries[0].Schools = map[string]string{"c1": "100001"}
	second := l.Entries[0]
	second.Rank, second.Household, second.Locality = 2, "h2", "East"
	second.Children, second.Safety, second.ContactSafety, second.Signals = nil, nil, nil, nil
	second.Why = second.Why[1:]
	l.Entries = append(l.Entries, second)
	return l
}

// TestExportSafetyPack: the reasons name their child and age, the safety
// instruction and likelihood are columns at the end, families.json carries
// the child's school and signals, and the printed pack has the marking, a
// section per locality and the glossary last.
func TestExportSafetyPack(t *testing.T) {
	dir := t.TempDir()
	e, _ := New(lookup{"household_id/h1": "H0001", "household_id/h2": "H0002", "person_id/c1": "P01", "person_id/c2": "P02"})
	e.WithPack("OFFICIAL-SENSITIVE PERSONAL", map[string]string{"100001": "Hill Primary"})
	if _, err := e.Export(context.Background(), dir, safeList()); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(filepath.Join(dir, "list", "navigator_list.csv"))
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for i, h := range rows[0] {
		got[h] = rows[1][i]
	}
	want := map[string]string{
		"reasons":        "P01 (age 7): 6 late arrivals (L) in the 13 weeks to 19 Jul 2026;rent arrears action reached a suspended possession order on 20 May 2026",
		"reason_codes":   "late_before_close_13w;rent_arrears_stage",
		"contact_safety": "Speak to the safeguarding lead before contacting.",
		"likelihood":     "about 1 in 8",
		"context":        "lives in an area in IMD decile 1 (1 = most deprived)",
	}
	for col, w := range want {
		if got[col] != w {
			t.Errorf("%s = %q; want %q", col, got[col], w)
		}
	}
	if n := len(rows[0]); rows[0][n-3] != "contact_safety" || rows[0][n-1] != "context" {
		t.Errorf("the new columns are not at the end: %v", rows[0])
	}
	var fams []Family
	b, _ := os.ReadFile(rundir.Open(dir).FamiliesJSON())
	if err := json.Unmarshal(b, &fams); err != nil {
		t.Fatal(err)
	}
	if fams[0].Locality != "North" || fams[1].Locality != "East" {
		t.Errorf("families.json localities %q, %q; want North, East", fams[0].Locality, fams[1].Locality)
	}
	c := fams[0].Children[0]
	if c.Ref != "P01" || c.School != "100001" || c.SchoolName != "Hill Primary" || len(c.Signals) != 1 {
		t.Errorf("child %+v", c)
	}
	if s := fams[0].ContactSafety; len(s) != 1 || s[0].Kind != pipeline.SafetyDomesticAbuse || s[0].Date != "2026-07-12" {
		t.Errorf("safety %+v", s)
	}
	if r := fams[0].Reasons[0]; r.Child != "P01" || r.Age != 7 || r.Date != "2026-07-19" {
		t.Errorf("reason %+v", r)
	}
	html, _ := os.ReadFile(filepath.Join(dir, "list", "navigator_list.html"))
	page := string(html)
	if n := strings.Count(page, `<section class="locality"`); n != 2 {
		t.Errorf("%d locality sections; want 2", n)
	}
	east, north, gloss := strings.Index(page, `data-locality="East"`), strings.Index(page, `data-locality="North"`), strings.Index(page, `class="glossary"`)
	if east < 0 || north < east || gloss < north {
		t.Errorf("sections out of order: East %d, North %d, glossary %d", east, north, gloss)
	}
	if strings.Count(page, "OFFICIAL-SENSITIVE PERSONAL") < 4 {
		t.Errorf("the marking is not at the top, foot and in each section")
	}
	if !strings.Contains(page, "break-before: page") || !strings.Contains(page, "break-inside: avoid") || !strings.Contains(page, "counter(page)") {
		t.Errorf("the print rules are missing")
	}
}
