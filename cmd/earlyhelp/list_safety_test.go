package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"earlyhelp/pipeline"
	"earlyhelp/pipeline/rank"
	"earlyhelp/pipeline/rundir"
)

// contextCodes are the model features that may never be reasons: the
// area's deprivation and the number and ages of the children.
var contextCodes = map[string]bool{
	"children": true, "area_deprivation": true, "youngest_child_age": true, "children_under_5": true,
}

// contextWords are how those features read in words.
var contextWords = regexp.MustCompile(`(?i)IMD|depriv|children in the household|child\(ren\) under|youngest child`)

// TestListIsSafeToHandOver runs the pipeline on a national and an inner
// urban council and reads every row of the list as a navigator would:
// reasons are the family's own (never area or family size), dated within
// the reasons' age limit, at least one and at most three; and every
// household whose records, as the generator wrote them, hold a disclosure
// of domestic abuse, an EPDS at or above 13 or a positive Whooley in the
// year before the list has a contact-safety instruction.
func TestListIsSafeToHandOver(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and runs two councils")
	}
	for _, profile := range []string{"national", "inner_urban"} {
		t.Run(profile, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "demo")
			code, stdout, stderr := runCLI(t, "demo", "--children", "4000", "--profile", profile, "--defects", "none",
				"--dir", dir, "--log-format", "json")
			if code != 0 {
				t.Fatalf("demo exit %d\n%s\n%s", code, stdout, stderr)
			}
			runs, _ := filepath.Glob(filepath.Join(dir, "var", "runs", "*"))
			if len(runs) != 1 {
				t.Fatalf("%d runs", len(runs))
			}
			run := runs[0]
			var m pipeline.Manifest
			readJSON(t, filepath.Join(run, "manifest.json"), &m)
			asOf, err := time.Parse(time.DateOnly, m.AsOf)
			if err != nil {
				t.Fatal(err)
			}
			rows := readCSVRows(t, filepath.Join(run, "list", "navigator_list.csv"))
			if len(rows) == 0 {
				t.Fatal("empty list")
			}
			checkReasons(t, rows)
			var fams []pipeline.ListFamily
			readJSON(t, rundir.Open(run).FamiliesJSON(), &fams)
			checkReasonDates(t, fams, asOf, 52)
			var bt pipeline.Backtest
			readJSON(t, filepath.Join(run, "backtest", "backtest.json"), &bt)
			if bt.TopOfList == nil || len(bt.TopOfList.Bands) == 0 {
				t.Fatal("backtest.json has no top_of_list")
			}
			for _, b := range bt.TopOfList.Bands {
				t.Logf("%s: band %s (holds %v): %d households, corrected mean %.3f, observed %.3f (raw mean %.3f)",
					profile, b.Band, b.Holds, b.Households, b.Corrected, b.ObservedRate, b.MeanScore)
				if !b.Within {
					t.Errorf("band %s: corrected mean %.3f against outcome rate %.3f, more than %.2f apart and not merged", b.Band, b.Corrected, b.ObservedRate, pipeline.TopTolerance)
				}
			}
			flagged := generatorSafety(t, dir, asOf)
			n := 0
			for _, r := range rows {
				if flagged[r["household_ref"]] {
					n++
					if r["contact_safety"] == "" {
						t.Errorf("household %s has a disclosure or mood concern in the generator's records but no contact_safety", r["household_ref"])
					}
				}
			}
			t.Logf("%s: %d listed, %d with domestic abuse or a mood concern in the year before %s", profile, len(rows), n, m.AsOf)
			if n == 0 {
				t.Errorf("no listed household has a safety fact in the generator's records: the check tested nothing")
			}
		})
	}
}

func checkReasons(t *testing.T, rows []map[string]string) {
	t.Helper()
	for _, r := range rows {
		reasons := strings.Split(r["reasons"], ";")
		codes := strings.Split(r["reason_codes"], ";")
		if r["reasons"] == "" || len(reasons) > rank.MaxReasons || len(reasons) != len(codes) {
			t.Errorf("rank %s: %d reasons, %d codes: %q", r["rank"], len(reasons), len(codes), r["reasons"])
		}
		for _, c := range codes {
			if contextCodes[c] {
				t.Errorf("rank %s: reason code %s is context, not a reason", r["rank"], c)
			}
		}
		for _, text := range reasons {
			if contextWords.MatchString(text) {
				t.Errorf("rank %s: reason %q cites area or family size", r["rank"], text)
			}
		}
		if r["likelihood"] == "" || !strings.HasPrefix(r["likelihood"], "about ") {
			t.Errorf("rank %s: likelihood %q", r["rank"], r["likelihood"])
		}
	}
}

func checkReasonDates(t *testing.T, fams []pipeline.ListFamily, asOf time.Time, maxWeeks int) {
	t.Helper()
	oldest := asOf.AddDate(0, 0, -7*maxWeeks)
	for _, f := range fams {
		if len(f.Reasons) == 0 {
			t.Errorf("rank %d has no reason of its own", f.Rank)
		}
		for _, r := range f.Reasons {
			d, err := time.Parse(time.DateOnly, r.Date)
			if err != nil || !d.Before(asOf) || d.Before(oldest) {
				t.Errorf("rank %d: reason %q dated %q, not within %d weeks before %s", f.Rank, r.Text, r.Date, maxWeeks, asOf.Format(time.DateOnly))
			}
		}
	}
}

// generatorSafety reads the council's extracts as the generator wrote them
// and returns the households (council ids) with a member who disclosed
// domestic abuse, scored 13 or more on the EPDS or screened positive on the
// Whooley questions in the 52 weeks before asOf.
func generatorSafety(t *testing.T, dir string, asOf time.Time) map[string]bool {
	t.Helper()
	in := func(parts ...string) string { return filepath.Join(append([]string{dir, "incoming"}, parts...)...) }
	from := asOf.AddDate(0, 0, -7*52)
	within := func(s string) bool {
		d, err := time.Parse(time.DateOnly, s)
		return err == nil && !d.Before(from) && d.Before(asOf)
	}
	nhsOf := map[string]string{} // nhs number → person
	for _, r := range readCSVRows(t, in("persons", "persons.csv")) {
		if r["nhs_number"] != "" {
			nhsOf[r["nhs_number"]] = r["person_id"]
		}
	}
	householdOf := map[string]string{} // person → household on asOf
	for _, r := range readCSVRows(t, in("households", "households.csv")) {
		start, err := time.Parse(time.DateOnly, r["from_date"])
		if err != nil || !start.Before(asOf) {
			continue
		}
		if end, err := time.Parse(time.DateOnly, r["to_date"]); err == nil && !end.After(asOf) {
			continue
		}
		householdOf[r["person_id"]] = r["household_id"]
	}
	flagged := map[string]bool{}
	mark := func(nhs string) {
		if h, ok := householdOf[nhsOf[nhs]]; ok {
			flagged[h] = true
		}
	}
	contactDate := map[string]string{}
	for _, r := range readCSVRows(t, in("hv_contacts", "hv_contacts.csv")) {
		contactDate[r["contact_id"]] = r["appointment_date"]
		if r["da_disclosed"] == "true" && within(r["appointment_date"]) {
			mark(r["nhs_number"])
		}
	}
	for _, r := range readCSVRows(t, in("hv_assessments", "hv_assessments.csv")) {
		score, err := strconv.Atoi(r["score_total"])
		if err != nil || !within(contactDate[r["contact_id"]]) {
			continue
		}
		if (r["instrument"] == "EPDS" && score >= 13) || (r["instrument"] == "WHOOLEY" && score >= 1) {
			mark(r["nhs_number"])
		}
	}
	return flagged
}

func readCSVRows(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []map[string]string
	for _, rec := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[strings.TrimPrefix(h, "\ufeff")] = rec[i]
		}
		out = append(out, m)
	}
	return out
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
