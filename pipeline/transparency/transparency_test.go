package transparency

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"earlyhelp/pipeline"
)

// atrsTier12 lists every tier 1 and tier 2 field of the ATRS v3.0
// template, by number and name, so a field dropped from Fields fails here.
var atrsTier12 = []struct{ id, name string }{
	{"1.1", "Name"}, {"1.2", "Description"}, {"1.3", "Website URL"}, {"1.4", "Contact email"},
	{"2.1.1", "Organisation or department"}, {"2.1.2", "Team"}, {"2.1.3", "Senior responsible owner"},
	{"2.1.4", "External supplier"}, {"2.1.5", "Supplier Companies House number"}, {"2.1.6", "Supplier role"},
	{"2.1.7", "Procurement procedure type"}, {"2.1.8", "Data access terms"},
	{"2.2.1", "Detailed description"}, {"2.2.2", "Scope"}, {"2.2.3", "Benefit"}, {"2.2.4", "Previous process"},
	{"2.2.5", "Alternatives considered"},
	{"2.3.1", "Process integration"}, {"2.3.2", "Provided information"}, {"2.3.3", "Frequency and scale of usage"},
	{"2.3.4", "Human decisions and review"}, {"2.3.5", "Required training"}, {"2.3.6", "Appeals and review"},
	{"2.4.1", "System architecture"}, {"2.4.2", "Phase"}, {"2.4.3", "Maintenance"}, {"2.4.4", "Model name"},
	{"2.4.5", "Model version"}, {"2.4.6", "Model task"}, {"2.4.7", "Model input"}, {"2.4.8", "Model output"},
	{"2.4.9", "Model architecture"}, {"2.4.10", "Model performance"}, {"2.4.11", "Datasets"},
	{"2.4.12", "Dataset purposes"}, {"2.4.13", "Source data name"}, {"2.4.14", "Data modality"},
	{"2.4.15", "Data description"}, {"2.4.16", "Data quantities"}, {"2.4.17", "Sensitive attributes"},
	{"2.4.18", "Data completeness and representativeness"}, {"2.4.19", "Source data URL"},
	{"2.4.20", "Data collection"}, {"2.4.21", "Data cleaning"}, {"2.4.22", "Data sharing agreements"},
	{"2.4.23", "Data access and storage"},
	{"2.5.1", "Impact assessment name"}, {"2.5.2", "Impact assessment description"},
	{"2.5.3", "Impact assessment date"}, {"2.5.4", "Impact assessment link"}, {"2.5.5", "Risks"},
}

// checkRecord fails t unless every tier 1 and 2 field is in the record,
// filled or marked TO COMPLETE with a guide.
func checkRecord(t *testing.T, fields []FieldValue) {
	t.Helper()
	byID := map[string]FieldValue{}
	for _, f := range fields {
		byID[f.ID] = f
	}
	for _, want := range atrsTier12 {
		f, ok := byID[want.id]
		switch {
		case !ok:
			t.Errorf("field %s %s missing", want.id, want.name)
		case f.Name != want.name:
			t.Errorf("field %s is %q; want %q", want.id, f.Name, want.name)
		case f.Value == "":
			t.Errorf("field %s %s is empty", f.ID, f.Name)
		case f.ToComplete && (f.Value != ToComplete || f.Guide == ""):
			t.Errorf("field %s %s is to complete as %q with guide %q", f.ID, f.Name, f.Value, f.Guide)
		case !f.ToComplete && strings.Contains(f.Value, ToComplete):
			t.Errorf("field %s %s is filled with %q", f.ID, f.Name, f.Value)
		case f.Tier != strings.SplitN(f.ID, ".", 2)[0]:
			t.Errorf("field %s is in tier %s", f.ID, f.Tier)
		}
	}
}

// fakeRun writes a run folder with a manifest and a model card.
func fakeRun(t *testing.T, withCard bool) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "runs", "20260720T060000Z")
	man := pipeline.Manifest{RunID: "20260720T060000Z", Council: "Test Borough", AsOf: "2026-07-20", Status: "succeeded",
		CodeVersion: "v-test", Sources: map[string]*pipeline.SourceManifest{
			"persons":    {Read: 110, Loaded: 100, Quarantined: 10, Nulled: 3},
			"objections": {Read: 4, Loaded: 4, Unmatched: []pipeline.UnmatchedRow{{File: "o.csv", Row: 3, Reason: "unknown_person"}}},
		},
		LinkMatch:  map[string]float64{"persons": 0.97},
		Households: &pipeline.HouseholdCounts{Scored: 900, Excluded: map[string]int{"objection": 7, "open_case": 12}},
		List:       &pipeline.ListManifest{Capacity: 60, Households: 58}}
	writeJSON(t, filepath.Join(dir, "manifest.json"), man)
	if withCard {
		card := pipeline.ModelCard{ModelID: "logistic-abc", Kind: "logistic", RunID: man.RunID, Label: "a referral",
			HorizonWeeks: 26, TrainingDates: []string{"2025-09-01"}, TrainingRows: 800, Positives: 40,
			Features: []string{"att_rate_6w", "lates_13w"}, Excluded: []string{"ethnicity"},
			Backtest:     map[string]pipeline.EvalMetrics{"logistic": {K: 60, PrecisionAtK: 0.2, RecallAtK: 0.1, AUC: 0.7}, "random": {K: 60, PrecisionAtK: 0.05}},
			BacktestFrom: "2025-07-01", BacktestTo: "2026-01-01", BacktestFolds: 7, ChoiceRule: "highest precision@K",
			Fairness: "no finding", IntendedUse: "to prompt a conversation", Limits: []string{"a limit"}}
		writeJSON(t, filepath.Join(dir, "model", "model_card.json"), card)
	}
	return dir
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func testSettings() Settings {
	return Settings{Council: "Test Borough", Capacity: 60, CooloffWeeks: 12, HorizonWeeks: 26, ReasonMaxAgeWeeks: 52,
		Retention: Retention{RunsWeeks: 26, QuarantineWeeks: 13, EvaluationWeeks: 9, AccessLogWeeks: 104},
		Sources: []Source{
			{Name: "persons", Kind: "csvdir", Location: "/data/persons", Columns: []Column{
				{Name: "person_id", Required: true, Pseudonymised: true}, {Name: "sen_status"}}},
			{Name: "hv_contacts", Kind: "postgres", Location: "the database named by $PG", Columns: []Column{
				{Name: "nhs_number", Header: "NHS No", Required: true, Pseudonymised: true}, {Name: "da_disclosed"}}},
			{Name: "objections", Kind: "csvdir", Location: "/data/obj", Columns: []Column{{Name: "person_id", Required: true}}},
		}}
}

func write(t *testing.T, in Input) (*Result, map[string]string) {
	t.Helper()
	in.Now = func() time.Time { return time.Date(2026, 7, 21, 9, 0, 0, 0, time.UTC) }
	res, err := Write(in)
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string]string{}
	for _, f := range Files {
		b, err := os.ReadFile(filepath.Join(in.RunDir, "governance", f))
		if err != nil {
			t.Fatal(err)
		}
		docs[f] = string(b)
	}
	return res, docs
}

// TestRecordFieldsFilledOrToComplete: with and without a model card,
// every tier 1 and 2 field is filled from the run or marked TO COMPLETE
// with its guide, in atrs.json and atrs.md alike.
func TestRecordFieldsFilledOrToComplete(t *testing.T) {
	for _, withCard := range []bool{true, false} {
		dir := fakeRun(t, withCard)
		res, docs := write(t, Input{RunDir: dir, Settings: testSettings()})
		var doc struct {
			Standard   string       `json:"standard"`
			ToComplete int          `json:"fields_to_complete"`
			Fields     []FieldValue `json:"fields"`
		}
		if err := json.Unmarshal([]byte(docs["atrs.json"]), &doc); err != nil {
			t.Fatal(err)
		}
		checkRecord(t, doc.Fields)
		if doc.ToComplete != res.ToComplete || doc.ToComplete == 0 || doc.ToComplete == len(doc.Fields) {
			t.Errorf("%d fields to complete (result says %d) of %d", doc.ToComplete, res.ToComplete, len(doc.Fields))
		}
		for _, f := range doc.Fields {
			if !strings.Contains(docs["atrs.md"], "**"+f.ID+" "+f.Name+"**") {
				t.Errorf("atrs.md lacks field %s %s", f.ID, f.Name)
			}
		}
		model := fieldValue(doc.Fields, "2.4.10")
		if withCard && !strings.Contains(model, "precision@K 0.200") {
			t.Errorf("model performance %q; want the card's backtest", model)
		}
		if !withCard && !strings.Contains(model, "no model card") {
			t.Errorf("model performance without a card: %q", model)
		}
	}
}

func fieldValue(fields []FieldValue, id string) string {
	for _, f := range fields {
		if f.ID == id {
			return f.Value
		}
	}
	return ""
}

// TestTargetsAndOwner: without a governance block every draft says in
// large type that no targets were set and the owner and contact are left
// to the council; with one, they are filled and the banner is gone.
func TestTargetsAndOwner(t *testing.T) {
	res, docs := write(t, Input{RunDir: fakeRun(t, true), Settings: testSettings()})
	if !res.NoTargets {
		t.Error("NoTargets false without a governance block")
	}
	for _, f := range []string{"atrs.md", "dpia.md", "eqia.md"} {
		if !strings.Contains(docs[f], "\n# "+NoTargets+"\n") {
			t.Errorf("%s does not say %q as a heading", f, NoTargets)
		}
	}
	if v := fieldValue(res.Fields, "2.1.3"); v != ToComplete {
		t.Errorf("owner without governance: %q", v)
	}
	s := testSettings()
	s.Governance = &Governance{Owner: "Director of Children's Services", Contact: "earlyhelp@test.gov.uk", ReviewDate: "2027-01-31",
		Targets: []string{"precision@K at least 0.3"}, SwitchOff: []string{"the review date passed"}}
	res, docs = write(t, Input{RunDir: fakeRun(t, true), Settings: s})
	if res.NoTargets || strings.Contains(docs["atrs.md"], NoTargets) {
		t.Error("a governance block with targets still says no targets were set")
	}
	for id, want := range map[string]string{"2.1.3": "Director of Children's Services", "1.4": "earlyhelp@test.gov.uk"} {
		if v := fieldValue(res.Fields, id); v != want {
			t.Errorf("field %s = %q; want %q", id, v, want)
		}
	}
	for _, want := range []string{"precision@K at least 0.3", "2027-01-31", "the review date passed"} {
		if !strings.Contains(docs["atrs.md"], want) {
			t.Errorf("atrs.md lacks %q", want)
		}
	}
	if !strings.Contains(docs["privacy_notice.md"], "earlyhelp@test.gov.uk") {
		t.Error("the privacy notice does not give the contact for objections and access")
	}
}

// TestDPIA: the DPIA names every configured source with each column it
// reads (and the council's header where mapped), the lawful bases, the
// objection counts from the manifest and the retention block.
func TestDPIA(t *testing.T) {
	s := testSettings()
	_, docs := write(t, Input{RunDir: fakeRun(t, true), Settings: s})
	d := docs["dpia.md"]
	for _, src := range s.Sources {
		row := ""
		for _, line := range strings.Split(d, "\n") {
			if strings.HasPrefix(line, "| "+src.Name+" |") {
				row = line
			}
		}
		if row == "" {
			t.Errorf("dpia.md has no row for source %s", src.Name)
			continue
		}
		for _, c := range src.Columns {
			if !strings.Contains(row, "`"+c.Name+"`") {
				t.Errorf("dpia.md's %s row lacks column %s", src.Name, c.Name)
			}
		}
	}
	for _, want := range []string{"Art. 6(1)(e)", "Art. 9(2)(g)", "Schedule 1 Part 2 paragraph 18", "Health data in this configuration: hv_contacts",
		`header “NHS No”`, "4 read, 4 loaded, 1 that matched no one", "because of an objection: 7", "| evaluation outputs | 9 weeks |",
		"audit/decisions.csv", "TestObjectionsFailSafe"} {
		if !strings.Contains(d, want) {
			t.Errorf("dpia.md lacks %q", want)
		}
	}
}

// TestEquality: eqia.md has a table per characteristic supplied, and says
// when SEN status was not.
func TestEquality(t *testing.T) {
	row := func(g, n, tpr string) EqualityRow {
		return EqualityRow{Group: g, Values: map[string]string{"n": n, "tpr": tpr}, Findings: map[string]string{"tpr": "within"}}
	}
	tables := []EqualityTable{
		{Attribute: "ethnicity5", Title: "Ethnic group", From: "audit", Rows: []EqualityRow{row("Asian", "120", "12.5")}},
		{Attribute: "age_band", Title: "Child's age band", From: "computed", Rows: []EqualityRow{row("0-4", "300", "c"), row("UNKNOWN", "4", "z")}},
		{Attribute: "sex", Title: "Child's sex", From: "computed", Rows: []EqualityRow{row("F", "410", "9.1")}},
	}
	_, docs := write(t, Input{RunDir: fakeRun(t, true), Settings: testSettings(), Equality: tables})
	e := docs["eqia.md"]
	for _, want := range []string{"## Ethnic group", "## Child's age band", "## Child's sex", "| 0-4 | 300 |", "| not recorded | 4 |",
		"| F | 410 |", "tpr: within", "Not supplied"} {
		if !strings.Contains(e, want) {
			t.Errorf("eqia.md lacks %q", want)
		}
	}
	tables = append(tables, EqualityTable{Attribute: "sen_status", Title: "Special educational needs", Rows: []EqualityRow{row("ehcp", "33", "c")}})
	_, docs = write(t, Input{RunDir: fakeRun(t, true), Settings: testSettings(), Equality: tables})
	if e := docs["eqia.md"]; !strings.Contains(e, "| ehcp | 33 |") || strings.Contains(e, "Not supplied") {
		t.Errorf("eqia.md with SEN supplied:\n%s", e)
	}
}

// TestSwitchOffVerdict: the verdict of model/governance.json is quoted
// when the run has one, and "not computed" said when it has none.
func TestSwitchOffVerdict(t *testing.T) {
	dir := fakeRun(t, true)
	_, docs := write(t, Input{RunDir: dir, Settings: testSettings()})
	if !strings.Contains(docs["atrs.md"], "Should this still run? not computed") {
		t.Error("atrs.md does not say the verdict was not computed")
	}
	writeJSON(t, filepath.Join(dir, "model", "governance.json"), map[string]any{"verdict": "switch off", "criteria": []string{"x"}})
	_, docs = write(t, Input{RunDir: dir, Settings: testSettings()})
	if !strings.Contains(docs["atrs.md"], "Should this still run? switch off") {
		t.Error("atrs.md does not quote governance.json's verdict")
	}
}

// TestBadRunFolder: a folder without a manifest, or with a damaged model
// card, is an error naming the file, and nothing is written.
func TestBadRunFolder(t *testing.T) {
	empty := t.TempDir()
	if _, err := Write(Input{RunDir: empty, Settings: testSettings()}); err == nil || !strings.Contains(err.Error(), "manifest.json") {
		t.Errorf("no manifest: error %v", err)
	}
	dir := fakeRun(t, true)
	if err := os.WriteFile(filepath.Join(dir, "model", "model_card.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(Input{RunDir: dir, Settings: testSettings()}); err == nil || !strings.Contains(err.Error(), "model_card.json") {
		t.Errorf("damaged card: error %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "governance")); err == nil {
		t.Error("governance/ written for a damaged run")
	}
}

// TestRisksNameRealEvidence: every test a risk cites is a test function
// of this module, and every metric one of the pipeline's.
func TestRisksNameRealEvidence(t *testing.T) {
	root := filepath.Join("..", "..")
	tests := map[string]bool{}
	var code strings.Builder
	re := regexp.MustCompile(`(?m)^func (Test\w+)\(t \*testing\.T\)`)
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.HasSuffix(path, "_test.go") {
			for _, m := range re.FindAllStringSubmatch(string(b), -1) {
				tests[m[1]] = true
			}
		} else {
			code.Write(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(tests) < 50 {
		t.Fatalf("found only %d tests under %s", len(tests), root)
	}
	for _, k := range Risks() {
		if len(k.Tests)+len(k.Metrics) == 0 {
			t.Errorf("risk %q names no test or metric", k.Name)
		}
		for _, name := range k.Tests {
			if !tests[name] {
				t.Errorf("risk %q cites %s, which is no test of this module", k.Name, name)
			}
		}
		for _, m := range k.Metrics {
			if !strings.Contains(code.String(), `Name: "`+m+`"`) {
				t.Errorf("risk %q cites metric earlyhelp_%s, which no code declares", k.Name, m)
			}
		}
	}
}
