package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"earlyhelp/connectors"
	"earlyhelp/models/fairness"
	"earlyhelp/pipeline"
	"earlyhelp/pipeline/atomicfile"
	"earlyhelp/pipeline/config"
	"earlyhelp/pipeline/contract"
	"earlyhelp/pipeline/rundir"
	"earlyhelp/pipeline/transparency"
)

// runTransparency is `earlyhelp transparency --run DIR`: it drafts the
// run's ATRS record, DPIA, equality impact assessment and privacy notice
// into DIR/governance/. The configuration is --config, or else the one
// beside the data folder the run sits in (data_dir/runs/<id>, with
// data_dir's parent holding earlyhelp.yaml, as synth and demo lay out).
func runTransparency(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fset := flag.NewFlagSet("transparency", flag.ContinueOnError)
	dir := fset.String("run", "", "a finished run's folder, data_dir/runs/<run_id> (required)")
	cfgPath := fset.String("config", "", "the configuration the run used (default: earlyhelp.yaml beside the run's data folder)")
	if err := parseFlags(fset, args, stderr); err != nil {
		return err
	}
	if *dir == "" {
		return &usageError{"--run is required"}
	}
	rd := rundir.Open(*dir)
	if _, err := os.Stat(rd.ManifestPath()); errors.Is(err, fs.ErrNotExist) {
		return &usageError{fmt.Sprintf("--run %s: no manifest.json (is it a run's folder?)", *dir)}
	}
	path := *cfgPath
	if path == "" {
		path = filepath.Join(filepath.Dir(rd.DataDir()), "earlyhelp.yaml")
		if _, err := os.Stat(path); err != nil {
			return &usageError{fmt.Sprintf("--run %s: no configuration at %s; give it with --config", *dir, path)}
		}
	}
	cfg, err := config.Load(path)
	if err != nil {
		return err
	}
	var man pipeline.Manifest
	if err := atomicfile.ReadJSON(rd.ManifestPath(), &man); err != nil {
		return fmt.Errorf("transparency: %w", err)
	}
	if man.ConfigSHA256 != "" && man.ConfigSHA256 != cfg.SHA256() {
		fmt.Fprintf(stderr, "warning: %s has changed since run %s: the drafts describe the configuration as it is now\n", path, man.RunID)
	}
	eq, err := equalityTables(*dir, auditConfig(cfg))
	if err != nil {
		return fmt.Errorf("transparency: %w", err)
	}
	res, err := transparency.Write(transparency.Input{RunDir: *dir, Settings: transparencySettings(cfg), Equality: eq})
	if err != nil {
		return err
	}
	if res.NoTargets {
		fmt.Fprintln(stdout, "no targets were set: the configuration has no governance block")
	}
	fmt.Fprintf(stdout, "ATRS record: %d fields, %d for the council to complete\n", len(res.Fields), res.ToComplete)
	for _, f := range transparency.Files {
		fmt.Fprintf(stdout, "written %s\n", filepath.Join(res.Dir, f))
	}
	return nil
}

// transparencySettings maps the configuration onto the drafts' settings.
func transparencySettings(cfg *config.Config) transparency.Settings {
	s := transparency.Settings{
		Council: cfg.Council, ConfigSHA256: cfg.SHA256(), Capacity: cfg.List.Capacity,
		CooloffWeeks: cfg.List.CooloffWeeks, HorizonWeeks: cfg.Model.HorizonWeeks,
		ReasonMaxAgeWeeks: cfg.List.ReasonMaxAgeWeeks, UseDeprivation: cfg.Model.UseDeprivation == nil || *cfg.Model.UseDeprivation,
		RetrainSchedule: cfg.Schedule.Retrain, WeeklySchedule: cfg.Schedule.WeeklyList,
	}
	// The documented defaults of the retention block (pipeline/config).
	rt := cfg.Retention
	s.Retention = transparency.Retention{RunsWeeks: orInt(rt.RunsWeeks, 26), QuarantineWeeks: orInt(rt.QuarantineWeeks, 13),
		EvaluationWeeks: orInt(rt.EvaluationWeeks, 13), AccessLogWeeks: orInt(rt.AccessLogWeeks, 104)}
	specs := connectors.Specs()
	for _, name := range connectors.Names() {
		src, ok := cfg.Sources[name]
		if !ok {
			continue
		}
		ts := transparency.Source{Name: name, Kind: src.Kind, Location: src.Path}
		if src.Kind == "postgres" {
			ts.Location = "the database named by $" + src.DSNEnv
		}
		for _, c := range specs[name].Columns {
			ts.Columns = append(ts.Columns, transparency.Column{Name: c.Name, Header: src.Columns[c.Name],
				Required: c.Required, Pseudonymised: c.Pseudonym != ""})
		}
		s.Sources = append(s.Sources, ts)
	}
	if g := cfg.Governance; g != nil {
		tg := &transparency.Governance{Owner: g.Owner, Contact: g.Contact, ReviewDate: g.ReviewDate}
		t := g.Targets
		if t.PrecisionAtKFloor != nil {
			tg.Targets = append(tg.Targets, fmt.Sprintf("precision@K at least %g", *t.PrecisionAtKFloor))
		}
		if t.RecallAtKFloor != nil {
			tg.Targets = append(tg.Targets, fmt.Sprintf("recall@K at least %g", *t.RecallAtKFloor))
		}
		if t.MaxFairnessFindings != nil {
			tg.Targets = append(tg.Targets, fmt.Sprintf("at most %d fairness findings", *t.MaxFairnessFindings))
		}
		if t.MinOfferAcceptanceRate != nil {
			tg.Targets = append(tg.Targets, fmt.Sprintf("offer acceptance at least %g", *t.MinOfferAcceptanceRate))
		}
		so := g.SwitchOff
		tg.SwitchOff = append(tg.SwitchOff,
			fmt.Sprintf("precision@K below its floor for %d consecutive weeks", orInt(so.PrecisionBelowFloorWeeks, 8)),
			fmt.Sprintf("a fairness finding unresolved for %d weeks", orInt(so.FindingUnresolvedWeeks, 12)))
		if so.ReviewDatePassed == nil || *so.ReviewDatePassed {
			tg.SwitchOff = append(tg.SwitchOff, "the review date passed")
		}
		s.Governance = tg
	}
	return s
}

func orInt(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// equalityTables gives eqia.md its tables: the run's audit figures by
// ethnicity and deprivation, read from audit/, and the same figures by
// the child's age band, sex and (when supplied) SEN status, which the run's
// audit does not break down by, computed here from scored_children.csv
// with the audit's own settings.
func equalityTables(runDir string, ac fairness.Config) ([]transparency.EqualityTable, error) {
	var out []transparency.EqualityTable
	audited, err := readAuditTables(rundir.Open(runDir).Audit(), []attrTitle{
		{"ethnicity5", "Ethnic group (five groups)"}, {"imd_quintile", "Area deprivation (IMD quintile, Q1 most deprived)"}})
	if err != nil {
		return nil, err
	}
	out = append(out, audited...)
	f, err := os.Open(rundir.Open(runDir).ScoredChildrenCSV())
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	rows, err := fairness.ReadCSV(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("scored_children.csv: %w", err)
	}
	labelled := rows[:0]
	sen := false
	for _, r := range rows {
		if r.Label >= 0 {
			labelled = append(labelled, r)
			sen = sen || r.SENStatus != ""
		}
	}
	if len(labelled) == 0 {
		return out, nil
	}
	if m, ok, err := fairness.ReadManifest(runDir); err != nil {
		return nil, err
	} else if ok {
		m.Apply(&ac)
	}
	titles := []attrTitle{{"age_band", "Child's age band"}, {contract.ColSex, "Child's sex"}}
	ac.Attributes = []fairness.Attribute{
		fairness.NewAttribute("age_band", pipeline.ChildAgeBands, func(r *fairness.Row) string { return r.AgeBand }),
		fairness.NewAttribute(contract.ColSex, []string{"F", "M"}, func(r *fairness.Row) string { return r.Sex }),
	}
	if sen {
		titles = append(titles, attrTitle{contract.ColSENStatus, "Special educational needs (disability)"})
		ac.Attributes = append(ac.Attributes, fairness.NewAttribute(contract.ColSENStatus, []string{"none", "sen_support", "ehcp"},
			func(r *fairness.Row) string { return r.SENStatus }))
	}
	// References by these attributes' own largest groups: the audit's
	// configured references name ethnicity and deprivation groups.
	ac.Reference = map[string]string{}
	ac.CacheDir, ac.Decisions = "", nil
	res, err := fairness.Audit(labelled, ac)
	if err != nil {
		return nil, fmt.Errorf("equality tables: %w", err)
	}
	findings := map[[2]string]map[string]string{}
	for _, d := range res.Disparities {
		if d.Decision == "selected" && (d.Metric == "tpr" || d.Metric == "selection_rate") {
			k := [2]string{d.Attribute, d.Group}
			if findings[k] == nil {
				findings[k] = map[string]string{}
			}
			findings[k][d.Metric] = d.Finding
		}
	}
	for _, t := range titles {
		tab := transparency.EqualityTable{Attribute: t.attr, Title: t.title,
			From: "evaluation/scored_children.csv, audited by transparency with the audit's settings"}
		for _, p := range res.Publishable.Rows {
			if p.Decision == "selected" && p.Attribute == t.attr {
				tab.Rows = append(tab.Rows, transparency.EqualityRow{Group: p.Group, Values: p.Values, Findings: findings[[2]string{p.Attribute, p.Group}]})
			}
		}
		out = append(out, tab)
	}
	return out, nil
}

type attrTitle struct{ attr, title string }

// auditTablesFrom says where readAuditTables's figures come from.
const auditTablesFrom = "the run's audit: " + rundir.AuditFolder + "/" + rundir.PublishableFile +
	" and " + rundir.AuditFolder + "/" + rundir.DisparitiesFile

// readAuditTables reads the run's own audit figures for attrs: the
// publishable group table and the findings of disparities.csv, for the
// list's decision ("selected").
func readAuditTables(audit rundir.Audit, attrs []attrTitle) ([]transparency.EqualityTable, error) {
	pub, err := readCSVFile(audit.PublishableCSV())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil // the run was not audited
	}
	if err != nil {
		return nil, err
	}
	disp, err := readCSVFile(audit.DisparitiesCSV())
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	findings := map[[2]string]map[string]string{}
	for _, d := range disp {
		if d["decision_id"] == "selected" && (d["metric"] == "tpr" || d["metric"] == "selection_rate") {
			k := [2]string{d["attribute"], d["group"]}
			if findings[k] == nil {
				findings[k] = map[string]string{}
			}
			findings[k][d["metric"]] = d["finding"]
		}
	}
	var out []transparency.EqualityTable
	for _, a := range attrs {
		t := transparency.EqualityTable{Attribute: a.attr, Title: a.title, From: auditTablesFrom}
		for _, p := range pub {
			if p["decision_id"] == "selected" && p["attribute"] == a.attr {
				t.Rows = append(t.Rows, transparency.EqualityRow{Group: p["group"], Values: p, Findings: findings[[2]string{a.attr, p["group"]}]})
			}
		}
		out = append(out, t)
	}
	return out, nil
}

// readCSVFile reads a small CSV file as maps by header.
func readCSVFile(path string) ([]map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("%s: empty", filepath.Base(path))
	}
	out := make([]map[string]string, 0, len(recs)-1)
	for n, rec := range recs[1:] {
		if len(rec) != len(recs[0]) {
			return nil, fmt.Errorf("%s: row %d: %d cells; want %d", filepath.Base(path), n+2, len(rec), len(recs[0]))
		}
		m := make(map[string]string, len(rec))
		for i, h := range recs[0] {
			m[h] = rec[i]
		}
		out = append(out, m)
	}
	return out, nil
}
