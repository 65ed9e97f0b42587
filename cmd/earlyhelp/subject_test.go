package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"golang.org/x/crypto/bcrypt"

	"earlyhelp/connectors"
	"earlyhelp/pipeline"
	"earlyhelp/pipeline/atomicfile"
	"earlyhelp/pipeline/review"
	"earlyhelp/pipeline/review/decisions"
	"earlyhelp/pipeline/review/users"
	"earlyhelp/pipeline/rundir"
)

// The subject moved from household H1001 to H2002 on 2025-04-01.
const (
	subjectRaw  = "P7734219"
	subjectKey  = "00112233445566778899aabbccddeeff"
	engineerPw  = "engineer-password-1"
	navigatorPw = "navigator-password"
)

// seedSubjectCouncil writes a council with the subject's move in its
// households extract, ingests it, and returns the config path.
func seedSubjectCouncil(t *testing.T) (cfgPath, dataDir string) {
	t.Helper()
	dir := t.TempDir()
	write := func(rel, body string) {
		t.Helper()
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("secrets/pseudonym.key", subjectKey+"\n")
	write("incoming/persons/persons.csv", `person_id,upn,nhs_number,date_of_birth,sex,ethnicity
`+subjectRaw+`,,,1990-02-03,F,WHITE_BRITISH
P0000001,,,2015-05-06,M,WHITE_BRITISH
P0000002,,,2016-07-08,F,WHITE_BRITISH
P0000003,,,1985-01-01,M,WHITE_BRITISH
`)
	write("incoming/households/households.csv", `household_id,person_id,role,uprn,lsoa_code,locality,from_date,to_date
H1001,`+subjectRaw+`,parent,,E01003573,East,2019-01-01,2025-03-31
H1001,P0000001,child,,E01003573,East,2019-01-01,
H2002,`+subjectRaw+`,parent,,E01003574,West,2025-04-01,
H2002,P0000002,child,,E01003574,West,2020-01-01,
H3003,P0000003,parent,,E01003575,West,2018-01-01,
`)
	write("earlyhelp.yaml", `council: "Test Borough"
data_dir: ./var
pseudonym_key_file: ./secrets/pseudonym.key
sources:
  persons: {kind: csvdir, path: ./incoming/persons}
  households: {kind: csvdir, path: ./incoming/households}
missing_sources_accepted:
  objections: "test council"
  early_help_episodes: "test council"
  csc_referrals: "test council"
`)
	cfgPath = filepath.Join(dir, "earlyhelp.yaml")
	if code, _, stderr := runCLI(t, "ingest", "--config", cfgPath, "--log-level", "warn"); code != 0 {
		t.Fatalf("ingest: exit %d: %s", code, stderr)
	}
	return cfgPath, filepath.Join(dir, "var")
}

func subjectPseudonyms(t *testing.T) func(ns, raw string) string {
	key, err := hex.DecodeString(subjectKey)
	if err != nil {
		t.Fatal(err)
	}
	p, err := connectors.NewPseudonymiser(key)
	if err != nil {
		t.Fatal(err)
	}
	return func(ns, raw string) string { return p.Pseudonym(ns, raw) }
}

// seedSubjectRun writes one run folder as the pipeline leaves it: its manifest,
// scores.parquet, and optionally the list's families.json and the
// lottery's allocation file.
func seedSubjectRun(t *testing.T, dataDir, id, asOf string, scores map[string][2]float64, fams []pipeline.ListFamily, alloc [][]string) {
	t.Helper()
	dir := filepath.Join(dataDir, "runs", id)
	if err := os.MkdirAll(filepath.Join(dir, "list"), 0o750); err != nil {
		t.Fatal(err)
	}
	man, _ := json.Marshal(map[string]any{"run_id": id, "as_of": asOf, "status": "succeeded"})
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), man, 0o640); err != nil {
		t.Fatal(err)
	}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: pipeline.ColHousehold, Type: arrow.BinaryTypes.String},
		{Name: "score", Type: arrow.PrimitiveTypes.Float64},
		{Name: "rank", Type: arrow.PrimitiveTypes.Int32},
		{Name: "reason_codes", Type: arrow.BinaryTypes.String},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	hhs := make([]string, 0, len(scores))
	for h := range scores {
		hhs = append(hhs, h)
	}
	sort.Strings(hhs)
	for _, h := range hhs {
		b.Field(0).(*array.StringBuilder).Append(h)
		b.Field(1).(*array.Float64Builder).Append(scores[h][0])
		b.Field(2).(*array.Int32Builder).Append(int32(scores[h][1]))
		b.Field(3).(*array.StringBuilder).Append("att_absence_rate_13w;hv_missed_12m")
	}
	rec := b.NewRecord()
	defer rec.Release()
	if err := atomicfile.WriteParquet(filepath.Join(dir, "scores.parquet"), rec); err != nil {
		t.Fatal(err)
	}
	if fams != nil {
		fb, _ := json.Marshal(fams)
		if err := os.WriteFile(rundir.Open(dir).FamiliesJSON(), fb, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	if alloc != nil {
		var sb strings.Builder
		sb.WriteString(strings.Join(pipeline.AllocationColumns(), ",") + "\n")
		for _, r := range alloc {
			sb.WriteString(strings.Join(r, ",") + "\n")
		}
		if err := os.WriteFile(rundir.Open(dir).AllocationCSV(), []byte(sb.String()), 0o640); err != nil {
			t.Fatal(err)
		}
	}
}

// filesHolding lists the files under dir whose bytes contain s.
func filesHolding(t *testing.T, dir, s string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(s)) {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	sort.Strings(out)
	return out
}

func TestSubjectAccess(t *testing.T) {
	ctx := context.Background()
	cfg, dataDir := seedSubjectCouncil(t)
	ps := subjectPseudonyms(t)
	person := ps(connectors.NSPerson, subjectRaw)
	h1, h2, h3 := ps(connectors.NSHousehold, "H1001"), ps(connectors.NSHousehold, "H2002"), ps(connectors.NSHousehold, "H3003")

	// Three weekly runs: before the move, after it, and later.
	reason1 := []pipeline.FamilyReason{{Code: "att_absence_rate_13w", Child: "P0000001", Age: 9, Date: "2025-02-28", Text: "P0000001 (age 9): attendance 81% in the 13 weeks to 28 Feb 2025"}}
	safety1 := []pipeline.FamilySafety{{Kind: "domestic_abuse", Date: "2025-01-10", Instruction: "Contact the parent alone."}}
	seedSubjectRun(t, dataDir, "20250303T060000Z", "2025-03-03",
		map[string][2]float64{h1: {0.31, 1}, h2: {0.05, 3}, h3: {0.12, 2}},
		[]pipeline.ListFamily{{Rank: 1, Household: "H1001", Pseudonym: h1, Locality: "East", Score: 0.31, Band: "very high", Likelihood: "about 1 in 4", Reasons: reason1, ContactSafety: safety1, Context: []string{"area in IMD decile 2"}}},
		nil)
	reason2 := []pipeline.FamilyReason{{Code: "hv_missed_12m", Child: "P0000002", Age: 8, Date: "2025-05-20", Text: "P0000002 (age 8): 2 health-visitor contacts missed to 20 May 2025"}}
	seedSubjectRun(t, dataDir, "20250602T060000Z", "2025-06-02",
		map[string][2]float64{h1: {0.08, 3}, h2: {0.22, 1}, h3: {0.19, 2}},
		[]pipeline.ListFamily{
			{Rank: 1, Household: "H2002", Pseudonym: h2, Locality: "West", Score: 0.22, Band: "high", Likelihood: "about 1 in 6", Reasons: reason2, ContactSafety: []pipeline.FamilySafety{}, Context: []string{}},
			{Rank: 2, Household: "H3003", Pseudonym: h3, Locality: "West", Score: 0.19, Band: "high", Likelihood: "about 1 in 6"},
		},
		[][]string{{"20250602T060000Z", "2025-06-02", h2, "1", "offered", "1", "5"}, {"20250602T060000Z", "2025-06-02", h3, "2", "not_offered", "1", "5"}})
	// Run 2's evaluation file: a backtest date with known outcomes (one
	// row per child) and the run's own date, label unknown.
	c1, c2, c3 := ps(connectors.NSPerson, "P0000001"), ps(connectors.NSPerson, "P0000002"), ps(connectors.NSPerson, "P0000003")
	scored := "as_of,model,person_id,household_id,score,selected,label,ethnicity5,ethnicity,imd_decile\n" +
		"2024-12-02,logistic," + c1 + "," + h1 + ",0.27,1,1,White,WHITE_BRITISH,2\n" +
		"2024-12-02,logistic," + person + "," + h1 + ",0.27,1,1,White,WHITE_BRITISH,2\n" +
		"2024-12-02,logistic," + c2 + "," + h2 + ",0.04,0,0,White,WHITE_BRITISH,3\n" +
		"2024-12-02,logistic," + c3 + "," + h3 + ",0.11,0,0,White,WHITE_BRITISH,3\n" +
		"2025-06-02,logistic," + c2 + "," + h2 + ",0.22,1,,White,WHITE_BRITISH,3\n"
	if err := os.MkdirAll(filepath.Join(dataDir, "runs", "20250602T060000Z", "evaluation"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dataDir, "runs", "20250602T060000Z", "evaluation", "scored_children.csv"), []byte(scored), 0o640); err != nil {
		t.Fatal(err)
	}
	seedSubjectRun(t, dataDir, "20250609T060000Z", "2025-06-09",
		map[string][2]float64{h1: {0.07, 3}, h2: {0.2, 1}, h3: {0.18, 2}}, nil, nil)

	if err := os.MkdirAll(filepath.Join(dataDir, "review"), 0o750); err != nil {
		t.Fatal(err)
	}
	ds, err := decisions.Open(reviewPath(dataDir, decisionsFile))
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time { v, _ := time.Parse(time.RFC3339, s); return v }
	for _, d := range []decisions.Decision{
		{Household: h1, Kind: decisions.OfferMade, Note: "rang the school first", Navigator: "nav.one", Locality: "East", At: at("2025-03-05T10:00:00Z")},
		{Household: h2, Kind: decisions.NotAppropriate, ReasonCategory: decisions.FamilyMoved, Navigator: "nav.two", Locality: "West", At: at("2025-06-04T11:30:00Z")},
		{Household: h3, Kind: decisions.OfferAccepted, Navigator: "nav.two", Locality: "West", At: at("2025-06-04T12:00:00Z")},
	} {
		if _, err := ds.Record(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	// The database holds run 2's draw too, and one draw of its own.
	if err := ds.RecordAllocations(ctx, []decisions.Allocation{
		{RunID: "20250602T060000Z", AsOf: "2025-06-02", Household: h2, Rank: 1, Arm: "offered", Margin: 1, Seed: 5},
		{RunID: "20250609T060000Z", AsOf: "2025-06-09", Household: h1, Rank: 3, Arm: "not_offered", Margin: 1, Seed: 5},
	}, at("2025-06-09T06:00:00Z")); err != nil {
		t.Fatal(err)
	}
	ds.Close()

	uf, err := users.Load(reviewPath(dataDir, usersFile))
	if err != nil {
		t.Fatal(err)
	}
	uf.SetCost(bcrypt.MinCost)
	if err := uf.Add("eng.one", users.Engineer, nil, []byte(engineerPw)); err != nil {
		t.Fatal(err)
	}
	if err := uf.Add("nav.one", users.Navigator, []string{"East"}, []byte(navigatorPw)); err != nil {
		t.Fatal(err)
	}

	holding := filesHolding(t, dataDir, subjectRaw)
	t.Logf("before the request the raw id is in %v", holding)

	subject := func(stdin string, args ...string) (error, string) {
		var out, errb bytes.Buffer
		err := subjectAccess(ctx, append([]string{"--config", cfg}, args...), strings.NewReader(stdin+"\n"), &out, &errb, func() time.Time { return at("2026-12-01T09:00:00Z") })
		return err, out.String()
	}
	// Only an engineer, with their password, and nothing is logged or
	// shown otherwise.
	for _, tc := range []struct{ name, user, pw, want string }{
		{"navigator", "nav.one", navigatorPw, "only an engineer"},
		{"wrong password", "eng.one", "not-the-password", "bad user name or password"},
		{"unknown user", "nobody", engineerPw, "bad user name or password"},
		{"no user", "", engineerPw, "--user is required"},
	} {
		args := []string{"--person", subjectRaw}
		if tc.user != "" {
			args = append(args, "--user", tc.user)
		}
		err, out := subject(tc.pw, args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) || out != "" {
			t.Errorf("%s: error %v, output %q; want refused with %q", tc.name, err, out, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), subjectRaw) {
			t.Errorf("%s: error %q names the person", tc.name, err)
		}
	}
	if _, err := os.Stat(reviewPath(dataDir, accessLogFile)); err == nil {
		t.Error("a refused request was logged as an access")
	}

	err, out := subject(engineerPw, "--person", subjectRaw, "--user", "eng.one", "--format", "json")
	if err != nil {
		t.Fatalf("subject: %v", err)
	}
	var got subjectReport
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("json output: %v\n%s", err, out)
	}
	want := subjectReport{
		Person: person,
		Households: []subjectMembership{
			{Household: h1, Ref: "H1001", Role: "parent", From: "2019-01-01", To: "2025-03-31"},
			{Household: h2, Ref: "H2002", Role: "parent", From: "2025-04-01"},
		},
		Scores: []subjectScore{
			{RunID: "20250303T060000Z", AsOf: "2025-03-03", Status: "succeeded", Household: h1, Score: 0.31, Rank: 1, OutOf: 3, ReasonCodes: "att_absence_rate_13w;hv_missed_12m", Member: true},
			{RunID: "20250303T060000Z", AsOf: "2025-03-03", Status: "succeeded", Household: h2, Score: 0.05, Rank: 3, OutOf: 3, ReasonCodes: "att_absence_rate_13w;hv_missed_12m", Member: false},
			{RunID: "20250602T060000Z", AsOf: "2025-06-02", Status: "succeeded", Household: h2, Score: 0.22, Rank: 1, OutOf: 3, ReasonCodes: "att_absence_rate_13w;hv_missed_12m", Member: true},
			{RunID: "20250602T060000Z", AsOf: "2025-06-02", Status: "succeeded", Household: h1, Score: 0.08, Rank: 3, OutOf: 3, ReasonCodes: "att_absence_rate_13w;hv_missed_12m", Member: false},
			{RunID: "20250609T060000Z", AsOf: "2025-06-09", Status: "succeeded", Household: h2, Score: 0.2, Rank: 1, OutOf: 3, ReasonCodes: "att_absence_rate_13w;hv_missed_12m", Member: true},
			{RunID: "20250609T060000Z", AsOf: "2025-06-09", Status: "succeeded", Household: h1, Score: 0.07, Rank: 3, OutOf: 3, ReasonCodes: "att_absence_rate_13w;hv_missed_12m", Member: false},
		},
		Evaluated: []subjectEvaluated{
			{RunID: "20250602T060000Z", AsOf: "2024-12-02", Model: "logistic", Household: h1, Score: 0.27, Selected: true, Label: "1", Member: true},
			{RunID: "20250602T060000Z", AsOf: "2024-12-02", Model: "logistic", Household: h2, Score: 0.04, Selected: false, Label: "0", Member: false},
			{RunID: "20250602T060000Z", AsOf: "2025-06-02", Model: "logistic", Household: h2, Score: 0.22, Selected: true, Label: "", Member: true},
		},
		Listings: []subjectListing{
			{RunID: "20250303T060000Z", AsOf: "2025-03-03", Household: h1, Rank: 1, Band: "very high", Likelihood: "about 1 in 4", Score: 0.31, Reasons: reason1, ContactSafety: safety1, Context: []string{"area in IMD decile 2"}, Member: true},
			{RunID: "20250602T060000Z", AsOf: "2025-06-02", Household: h2, Rank: 1, Band: "high", Likelihood: "about 1 in 6", Score: 0.22, Reasons: reason2, ContactSafety: []pipeline.FamilySafety{}, Context: []string{}, Member: true},
		},
		Allocations: []subjectAllocation{
			{RunID: "20250602T060000Z", AsOf: "2025-06-02", Household: h2, Rank: 1, Arm: "offered"},
			{RunID: "20250609T060000Z", AsOf: "2025-06-09", Household: h1, Rank: 3, Arm: "not_offered"},
		},
		Decisions: []subjectDecision{
			{At: "2025-03-05T10:00:00Z", Household: h1, Kind: "offer_made", Note: "rang the school first", Navigator: "nav.one", Locality: "East"},
			{At: "2025-06-04T11:30:00Z", Household: h2, Kind: "not_appropriate", ReasonCategory: "family_moved", Navigator: "nav.two", Locality: "West"},
		},
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("subject report differs from the seeded history\ngot:\n%s\nwant:\n%s", g, w)
	}

	// The text form carries the same history.
	err, text := subject(engineerPw, "--person", subjectRaw, "--user", "eng.one")
	if err != nil {
		t.Fatalf("subject (text): %v", err)
	}
	for _, line := range []string{
		"Households (2):", "from 2019-01-01 to 2025-03-31", "from 2025-04-01 to now",
		"Scores (6):", "2025-03-03 run 20250303T060000Z (succeeded): household H1001 (" + h1 + ") score 0.310000 rank 1 of 3",
		"H1001 (" + h1 + ") as parent from 2019-01-01 to 2025-03-31", "H2002 (" + h2 + ") as parent from 2025-04-01 to now",
		"[person not a member on that date]",
		"Evaluation and backtest scores (3):", "2024-12-02 (run 20250602T060000Z, model logistic): household H1001 (" + h1 + ") score 0.270000, within the list's capacity; outcome followed",
		"score 0.220000, within the list's capacity; outcome not yet known",
		"Navigator lists (2):", "reason (att_absence_rate_13w, 2025-02-28): " + reason1[0].Text,
		"contact safety (domestic_abuse, 2025-01-10): Contact the parent alone.",
		"Evaluation lottery allocations (2):", "rank 3: not offered",
		"Decisions (2):", "offer_made by nav.one in East; note: rang the school first", "not_appropriate (family_moved) by nav.two",
	} {
		if !strings.Contains(text, line) {
			t.Errorf("text output lacks %q:\n%s", line, text)
		}
	}
	if strings.Contains(text, h3) || strings.Contains(out, h3) {
		t.Error("the output shows a household the person never belonged to")
	}

	// Two requests, two access-log entries, each with the pseudonym and
	// never the council's id.
	b, err := os.ReadFile(reviewPath(dataDir, accessLogFile))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 {
		t.Fatalf("access log has %d entries; want 2:\n%s", len(lines), b)
	}
	for _, l := range lines {
		var e review.Access
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatal(err)
		}
		if e.Why != review.WhySubjectAccess || e.Person != person || e.User != "eng.one" || e.Role != users.Engineer {
			t.Errorf("access log entry %+v", e)
		}
	}
	// The raw id is where ingest put it (the re-identification lookup)
	// and nowhere the command wrote.
	if after := filesHolding(t, dataDir, subjectRaw); !reflect.DeepEqual(after, holding) {
		t.Errorf("files holding the raw person id: before %v, after %v", holding, after)
	}
	for _, f := range holding {
		if !strings.HasPrefix(f, filepath.Join("store", "reid")) {
			t.Errorf("%s holds the raw person id", f)
		}
	}
}

// TestSubjectUnknownPerson: a person in no household gets an empty report,
// still logged.
func TestSubjectUnknownPerson(t *testing.T) {
	cfg, dataDir := seedSubjectCouncil(t)
	if err := os.MkdirAll(filepath.Join(dataDir, "review"), 0o750); err != nil {
		t.Fatal(err)
	}
	uf, _ := users.Load(reviewPath(dataDir, usersFile))
	uf.SetCost(bcrypt.MinCost)
	if err := uf.Add("eng.one", users.Engineer, nil, []byte(engineerPw)); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	err := subjectAccess(context.Background(), []string{"--config", cfg, "--person", "P9999999", "--user", "eng.one"},
		strings.NewReader(engineerPw+"\n"), &out, &errb, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"Households (0):", "Scores (0):", "Decisions (0):"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("output lacks %q:\n%s", s, out.String())
		}
	}
	if b, _ := os.ReadFile(reviewPath(dataDir, accessLogFile)); !bytes.Contains(b, []byte(review.WhySubjectAccess)) || bytes.Contains(b, []byte("P9999999")) {
		t.Errorf("access log %q: want the request logged under a pseudonym", b)
	}
}
