package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"earlyhelp/connectors"
	"earlyhelp/pipeline/config"
	"earlyhelp/pipeline/transparency"
)

// atrsFields are the ATRS v3.0 template's tier 1 and tier 2 fields.
var atrsFields = []string{
	"1.1 Name", "1.2 Description", "1.3 Website URL", "1.4 Contact email",
	"2.1.1 Organisation or department", "2.1.2 Team", "2.1.3 Senior responsible owner", "2.1.4 External supplier",
	"2.1.5 Supplier Companies House number", "2.1.6 Supplier role", "2.1.7 Procurement procedure type", "2.1.8 Data access terms",
	"2.2.1 Detailed description", "2.2.2 Scope", "2.2.3 Benefit", "2.2.4 Previous process", "2.2.5 Alternatives considered",
	"2.3.1 Process integration", "2.3.2 Provided information", "2.3.3 Frequency and scale of usage",
	"2.3.4 Human decisions and review", "2.3.5 Required training", "2.3.6 Appeals and review",
	"2.4.1 System architecture", "2.4.2 Phase", "2.4.3 Maintenance", "2.4.4 Model name", "2.4.5 Model version",
	"2.4.6 Model task", "2.4.7 Model input", "2.4.8 Model output", "2.4.9 Model architecture", "2.4.10 Model performance",
	"2.4.11 Datasets", "2.4.12 Dataset purposes", "2.4.13 Source data name", "2.4.14 Data modality", "2.4.15 Data description",
	"2.4.16 Data quantities", "2.4.17 Sensitive attributes", "2.4.18 Data completeness and representativeness",
	"2.4.19 Source data URL", "2.4.20 Data collection", "2.4.21 Data cleaning", "2.4.22 Data sharing agreements",
	"2.4.23 Data access and storage", "2.5.1 Impact assessment name", "2.5.2 Impact assessment description",
	"2.5.3 Impact assessment date", "2.5.4 Impact assessment link", "2.5.5 Risks",
}

// TestTransparencyOnASyntheticCouncil is issue 21's acceptance test for
// `earlyhelp transparency`: on the small demo's run, every ATRS tier 1 and
// 2 field is filled from the run or marked TO COMPLETE; the DPIA names
// every configured source and the columns read from it; the equality
// draft has the audit's ethnicity and deprivation tables and the age band,
// sex and SEN status tables, with figures; and without a governance block
// the drafts say no targets were set, while with one they do not.
func TestTransparencyOnASyntheticCouncil(t *testing.T) {
	smallDemo(t)
	run, _ := latestRun(t)
	code, stdout, stderr := runCLI(t, "transparency", "--run", run)
	if code != 0 {
		t.Fatalf("transparency: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "no targets were set") {
		t.Errorf("the summary does not say no targets were set:\n%s", stdout)
	}
	gov := filepath.Join(run, "governance")
	docs := map[string]string{}
	entries, err := os.ReadDir(gov)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(gov, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		docs[e.Name()] = string(b)
	}
	if len(docs) != len(transparency.Files) {
		t.Errorf("governance/ holds %d files; want exactly %v (no temporary files left)", len(docs), transparency.Files)
	}

	var rec struct {
		Fields []transparency.FieldValue `json:"fields"`
	}
	if err := json.Unmarshal([]byte(docs["atrs.json"]), &rec); err != nil {
		t.Fatal(err)
	}
	got := map[string]transparency.FieldValue{}
	for _, f := range rec.Fields {
		got[f.ID+" "+f.Name] = f
	}
	filled := 0
	for _, want := range atrsFields {
		f, ok := got[want]
		switch {
		case !ok:
			t.Errorf("atrs.json lacks %s", want)
		case f.ToComplete && (f.Value != transparency.ToComplete || f.Guide == ""):
			t.Errorf("%s: to complete as %q, guide %q", want, f.Value, f.Guide)
		case !f.ToComplete && (f.Value == "" || strings.Contains(f.Value, transparency.ToComplete) || strings.Contains(f.Value, "no model card")):
			t.Errorf("%s: filled with %q", want, f.Value)
		case !f.ToComplete:
			filled++
		}
	}
	if filled < len(atrsFields)/2 {
		t.Errorf("only %d of %d fields filled from the run", filled, len(atrsFields))
	}
	if v := got["2.4.4 Model name"].Value; !strings.Contains(docs["atrs.md"], v) || v == "" {
		t.Errorf("model name %q not in atrs.md", v)
	}

	cfg, err := config.Load(filepath.Join(demoDir, "earlyhelp.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	specs := connectors.Specs()
	for name := range cfg.Sources {
		row := tableRow(docs["dpia.md"], name)
		if row == "" {
			t.Errorf("dpia.md has no row for the configured source %s", name)
			continue
		}
		for _, c := range specs[name].Columns {
			if !strings.Contains(row, "`"+c.Name+"`") {
				t.Errorf("dpia.md's %s row lacks column %s", name, c.Name)
			}
		}
	}

	e := docs["eqia.md"]
	for _, section := range []string{"## Ethnic group", "## Area deprivation", "## Child's age band", "## Child's sex", "## Special educational needs"} {
		if !strings.Contains(e, section) {
			t.Errorf("eqia.md lacks %q", section)
		}
	}
	for _, group := range []string{"White", "Q1", "0-4", "5-10", "11-15", "F", "M", "none", "sen_support", "ehcp"} {
		row := tableRow(e, group)
		if row == "" || strings.HasPrefix(row, "| "+group+" | 0 |") {
			t.Errorf("eqia.md's row for %s is %q; want children counted", group, row)
		}
	}
	for _, f := range []string{"atrs.md", "dpia.md", "eqia.md"} {
		if !strings.Contains(docs[f], "\n# "+transparency.NoTargets+"\n") {
			t.Errorf("%s does not say in large type that no targets were set", f)
		}
	}

	// The same run, described with a governance block: owner and targets
	// are filled, and no draft says no targets were set.
	raw, err := os.ReadFile(filepath.Join(demoDir, "earlyhelp.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	withGov := filepath.Join(demoDir, "earlyhelp-governance.yaml")
	raw = append(raw, []byte("governance:\n  owner: Director of Children's Services\n  contact: earlyhelp@demo.gov.uk\n  review_date: \"2027-01-31\"\n  targets:\n    precision_at_k_floor: 0.15\n")...)
	if err := os.WriteFile(withGov, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(withGov)
	code, stdout, stderr = runCLI(t, "transparency", "--run", run, "--config", withGov)
	if code != 0 {
		t.Fatalf("transparency --config: exit %d: %s", code, stderr)
	}
	if strings.Contains(stdout, "no targets were set") || !strings.Contains(stderr, "has changed since run") {
		t.Errorf("with a governance block: stdout %q, stderr %q", stdout, stderr)
	}
	b, err := os.ReadFile(filepath.Join(gov, "atrs.md"))
	if err != nil {
		t.Fatal(err)
	}
	if md := string(b); strings.Contains(md, transparency.NoTargets) || !strings.Contains(md, "precision@K at least 0.15") ||
		!strings.Contains(md, "Director of Children's Services") {
		t.Error("atrs.md with a governance block does not give its owner and targets, or still says none were set")
	}
}

// tableRow is the Markdown table row of doc whose first cell is key.
func tableRow(doc, key string) string {
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(line, "| "+key+" |") {
			return line
		}
	}
	return ""
}

// TestTransparencyUsage: a folder that is no run, or a run whose config
// cannot be found, is bad usage with a message saying what to give.
func TestTransparencyUsage(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"transparency"}, "--run is required"},
		{[]string{"transparency", "--run", dir}, "no manifest.json"},
	} {
		if code, _, stderr := runCLI(t, tc.args...); code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, %q; want exit %d mentioning %q", tc.args, code, stderr, exitUsage, tc.want)
		}
	}
	run := filepath.Join(dir, "var", "runs", "20260720T060000Z")
	if err := os.MkdirAll(run, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(run, "manifest.json"), []byte(`{"run_id":"20260720T060000Z"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLI(t, "transparency", "--run", run); code != exitUsage || !strings.Contains(stderr, "--config") {
		t.Errorf("no config: exit %d, %q", code, stderr)
	}
}

// TestTransparencySENStatusIsNotAFeature: SEN status reaches the audit
// rows but never the model. A synthetic council and a copy whose persons
// extract gives every child another SEN status are loaded through the real
// connectors and store, and every feature of every household is
// bit-identical on two dates; no feature is named after it.
func TestTransparencySENStatusIsNotAFeature(t *testing.T) {
	sameFeaturesWhenChanged(t, "13", "with SEN statuses changed", []string{"sen_", "ehcp", "special"},
		[]time.Time{time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 7, 20, 0, 0, 0, 0, time.UTC)}, changeSEN)
}

// changeSEN gives every person of the persons extracts in dir another SEN
// status: none → ehcp, sen_support → none, ehcp → sen_support, and blank
// (not school age) → sen_support.
func changeSEN(t *testing.T, dir string) {
	t.Helper()
	next := map[string]string{"none": "ehcp", "sen_support": "none", "ehcp": "sen_support", "": "sen_support"}
	changed := map[string]int{}
	rewriteColumn(t, dir, "sen_status", func(rows [][]string, col int) {
		for _, r := range rows[1:] {
			changed[r[col]]++
			r[col] = next[r[col]]
		}
	})
	for _, v := range []string{"none", "sen_support", "ehcp"} {
		if changed[v] < 10 {
			t.Fatalf("only %d persons had SEN status %q: the generator does not write it", changed[v], v)
		}
	}
}
