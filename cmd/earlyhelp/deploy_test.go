package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"gopkg.in/yaml.v3"

	"earlyhelp/pipeline"
	"earlyhelp/pipeline/config"
)

const deployDir = "../../deploy"

// contractMetrics are CONTRACTS §7's metric names, some of which later
// stages (fairness, drift, decisions) register: rules and panels may use
// them before this build exports them.
var contractMetrics = []string{
	"earlyhelp_rows_read_total", "earlyhelp_rows_loaded_total", "earlyhelp_rows_quarantined_total",
	"earlyhelp_link_match_ratio", "earlyhelp_stage_duration_seconds", "earlyhelp_run_total",
	"earlyhelp_last_success_timestamp_seconds", "earlyhelp_list_households", "earlyhelp_model_auc",
	"earlyhelp_fairness_ratio", "earlyhelp_fairness_outside_tolerance", "earlyhelp_feature_psi",
	"earlyhelp_decisions_total",
}

// knownMetrics is every metric name a rule or panel may use: the contract's,
// pipeline.NewMetrics's and serve's own.
func knownMetrics(t *testing.T) map[string]bool {
	t.Helper()
	known := map[string]bool{}
	for _, m := range contractMetrics {
		known[m] = true
	}
	rec := &descRecorder{names: known}
	if _, err := pipeline.NewMetrics(rec); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(filepath.Join(t.TempDir(), "c.yaml"), []byte("council: X\ndata_dir: ./var\n"+
		"sources:\n  persons: {kind: csvdir, path: ./p}\n  csc_referrals: {kind: csvdir, path: ./c}\n  early_help_episodes: {kind: csvdir, path: ./e}\n  objections: {kind: csvdir, path: ./o}\n"+
		"schedule: {ingest: \"@daily\", weekly_list: \"@weekly\", retrain: \"@monthly\"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := newScheduler(cfg, zerolog.New(io.Discard), prometheus.NewRegistry(), schedulerClock{})
	if err != nil {
		t.Fatal(err)
	}
	mfs, err := s.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		known[mf.GetName()] = true
	}
	return known
}

// descRecorder is a Registerer that records the metric names it is given.
type descRecorder struct{ names map[string]bool }

var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

func (r *descRecorder) Register(c prometheus.Collector) error {
	ch := make(chan *prometheus.Desc, 16)
	go func() { c.Describe(ch); close(ch) }()
	for d := range ch {
		if m := fqName.FindStringSubmatch(d.String()); m != nil {
			r.names[m[1]] = true
		}
	}
	return nil
}
func (r *descRecorder) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		r.Register(c)
	}
}
func (r *descRecorder) Unregister(prometheus.Collector) bool { return true }

// deployFiles lists deploy/'s files with one of the extensions.
func deployFiles(t *testing.T, exts ...string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(deployDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		for _, e := range exts {
			if strings.HasSuffix(path, e) {
				out = append(out, path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// yamlDocs decodes every document of a (multi-document) YAML file.
func yamlDocs(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var docs []map[string]any
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if doc != nil {
			docs = append(docs, doc)
		}
	}
	if len(docs) == 0 {
		t.Fatalf("%s: no YAML document", path)
	}
	return docs
}

var metricName = regexp.MustCompile(`\bearlyhelp_[a-z0-9_]+`)

// metricsIn finds the earlyhelp metric names an expression uses; a
// histogram's _bucket, _sum and _count series count as the histogram.
func metricsIn(expr string) []string {
	var out []string
	for _, m := range metricName.FindAllString(expr, -1) {
		for _, suf := range []string{"_bucket", "_sum", "_count"} {
			if strings.HasSuffix(m, "_seconds"+suf) {
				m = strings.TrimSuffix(m, suf)
			}
		}
		out = append(out, m)
	}
	return out
}

// TestDeployFilesParse: every YAML and JSON file in deploy/ parses.
func TestDeployFilesParse(t *testing.T) {
	files := deployFiles(t, ".yaml", ".yml", ".json")
	if len(files) < 8 {
		t.Fatalf("found %d YAML/JSON files in deploy/; want the rules, tests, dashboard, manifests and example config", len(files))
	}
	for _, f := range files {
		if strings.HasSuffix(f, ".json") {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var v any
			if err := json.Unmarshal(b, &v); err != nil {
				t.Errorf("%s: %v", f, err)
			}
			continue
		}
		yamlDocs(t, f)
	}
}

// TestDeployMetricNames: the alert rules, their tests and the dashboard use
// only metrics that exist, so a renamed metric cannot silence an alert.
func TestDeployMetricNames(t *testing.T) {
	known := knownMetrics(t)
	used := map[string][]string{} // metric → files
	note := func(file, expr string) {
		for _, m := range metricsIn(expr) {
			used[m] = append(used[m], filepath.Base(file))
		}
	}
	rules := filepath.Join(deployDir, "prometheus", "rules.yml")
	var rf struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	b, err := os.ReadFile(rules)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &rf); err != nil {
		t.Fatal(err)
	}
	alerts := 0
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			alerts++
			note(rules, r.Expr)
		}
	}
	if alerts < 6 {
		t.Errorf("%s has %d alerts; want the six of issue 8", rules, alerts)
	}
	for _, f := range []string{filepath.Join(deployDir, "prometheus", "rules_test.yml"), filepath.Join(deployDir, "grafana", "earlyhelp.json")} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		note(f, string(b))
	}
	var unknown []string
	for m, files := range used {
		if !known[m] {
			unknown = append(unknown, m+" (in "+strings.Join(files, ", ")+")")
		}
	}
	sort.Strings(unknown)
	if len(unknown) > 0 {
		t.Errorf("deploy/ uses metrics that neither pipeline.NewMetrics, serve nor CONTRACTS §7 define:\n%s", strings.Join(unknown, "\n"))
	}
	for _, m := range []string{"earlyhelp_last_success_timestamp_seconds", "earlyhelp_feature_psi", "earlyhelp_fairness_outside_tolerance", "earlyhelp_link_match_ratio"} {
		if len(used[m]) == 0 {
			t.Errorf("no rule or panel uses %s", m)
		}
	}
}

// TestDeployKubernetes: every pod runs as non-root on a read-only root
// filesystem, and every council's config (the earlyhelp.yaml the kustomize
// base and overlays turn into their ConfigMaps) is one earlyhelp loads.
func TestDeployKubernetes(t *testing.T) {
	kinds := map[string]bool{}
	configs := 0
	var files []string
	for _, f := range deployFiles(t, ".yaml") {
		if strings.HasPrefix(f, filepath.Join(deployDir, "kubernetes")+string(filepath.Separator)) {
			files = append(files, f)
		}
	}
	for _, f := range files {
		if filepath.Base(f) == "earlyhelp.yaml" {
			configs++
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := config.Parse(filepath.Join(t.TempDir(), "earlyhelp.yaml"), b); err != nil {
				t.Errorf("%s: %v", f, err)
			}
			continue
		}
		for _, doc := range yamlDocs(t, f) {
			kind, _ := doc["kind"].(string)
			kinds[kind] = true
			for _, pod := range podSpecs(doc) {
				sc, _ := pod["securityContext"].(map[string]any)
				if sc["runAsNonRoot"] != true {
					t.Errorf("%s %s: pod securityContext.runAsNonRoot is not true", f, kind)
				}
				cs, _ := pod["containers"].([]any)
				for _, c := range cs {
					csc, _ := c.(map[string]any)["securityContext"].(map[string]any)
					if csc["readOnlyRootFilesystem"] != true || csc["allowPrivilegeEscalation"] != false {
						t.Errorf("%s %s: a container lacks readOnlyRootFilesystem: true and allowPrivilegeEscalation: false", f, kind)
					}
				}
			}
		}
	}
	for _, k := range []string{"Deployment", "CronJob", "NetworkPolicy", "PersistentVolumeClaim", "Ingress", "Namespace"} {
		if !kinds[k] {
			t.Errorf("deploy/kubernetes has no %s", k)
		}
	}
	if configs < 4 {
		t.Errorf("deploy/kubernetes has %d earlyhelp.yaml configs; want the base's and one per council overlay", configs)
	}
}

// podSpecs finds the pod specs of a workload: Deployment and Job
// (spec.template.spec), CronJob (spec.jobTemplate.spec.template.spec).
func podSpecs(doc map[string]any) []map[string]any {
	get := func(m map[string]any, path ...string) map[string]any {
		for _, p := range path {
			next, ok := m[p].(map[string]any)
			if !ok {
				return nil
			}
			m = next
		}
		return m
	}
	var out []map[string]any
	for _, path := range [][]string{{"spec", "template", "spec"}, {"spec", "jobTemplate", "spec", "template", "spec"}} {
		if p := get(doc, path...); p != nil {
			out = append(out, p)
		}
	}
	return out
}

// TestDeployExampleValidates runs `earlyhelp validate` on deploy/'s example
// config with its production paths pointed at a synthetic council's
// extracts and key: the example must pass validate, not only load.
func TestDeployExampleValidates(t *testing.T) {
	cfg, _ := tinyCouncil(t, "")
	council := filepath.Dir(cfg.File())
	b, err := os.ReadFile(filepath.Join(deployDir, "earlyhelp.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	example := strings.NewReplacer(
		"/srv/earlyhelp/incoming", filepath.Join(council, "incoming"),
		"/etc/earlyhelp/pseudonym.key", cfg.PseudonymKeyFile,
		"/var/lib/earlyhelp", filepath.Join(council, "var"),
		"/etc/earlyhelp/users.yaml", filepath.Join(council, "users.yaml"),
	).Replace(string(b))
	if strings.Contains(example, "/srv/") || strings.Contains(example, "/etc/earlyhelp") {
		t.Fatalf("example config has a path this test does not redirect:\n%s", example)
	}
	path := filepath.Join(council, "example.yaml")
	if err := os.WriteFile(path, []byte(example), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "validate", "--config", path)
	if code != 0 || !strings.Contains(stdout, "is valid") {
		t.Fatalf("validate exit %d\n%s%s", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(council, "var", "store")); err == nil {
		t.Error("validate wrote a store")
	}
}
