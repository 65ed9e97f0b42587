package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"earlyhelp/connectors/synthetic"
	"earlyhelp/pipeline/config"
)

// alertsChildren is the council TestIntegrationAlerts runs four times at
// once: the demo's generator and pipeline (seed 1, as the demo), at a size
// this machine runs four of in well under two minutes (the demo's 20,000
// take about 110 s each here). Not smallDemo's 1,500: a council that small
// has so few training households that PSI on unauthorised_rate_13w reads
// 0.53 and the drift alert fires on a healthy run; at 3,000 the largest is
// 0.25, no_reason_rate_13w, as the full demo's 0.28.
const alertsChildren = 3000

// TestIntegrationAlerts is issue 20's end-to-end alert test: four copies of
// one synthetic council, each in its own data folder and its own serve (a
// weekly list caught up at start, as on a fresh install), scraped by Debian's
// Prometheus evaluating deploy/prometheus/rules.yml. Each serve is one
// target with its own council label, as a regional Prometheus has them, so
// each alert can be told apart by council. The healthy council fires
// nothing; each planted fault fires exactly its own alert.
//
// The rules are a test-only copy of deploy/prometheus/rules.yml with every
// `for:` set to 0s: a rule that would fire after its wait fires at once, so
// "quiet" is checked against firing and pending alike in seconds rather
// than after ten minutes. Nothing else in the rules is changed.
func TestIntegrationAlerts(t *testing.T) {
	bin := os.Getenv("EARLYHELP_PROMETHEUS")
	if bin == "" {
		t.Skip("EARLYHELP_PROMETHEUS is unset: set it to a Prometheus server binary (Debian: apt-get install prometheus; EARLYHELP_PROMETHEUS=/usr/bin/prometheus)")
	}
	root := t.TempDir()
	council := filepath.Join(root, "council")
	began := time.Now()
	if _, err := synthesise(context.Background(), synthetic.Config{Out: council, Children: alertsChildren, Seed: 1}); err != nil {
		t.Fatalf("synthetic council: %v", err)
	}
	asOf := synthetic.DefaultEnd.AddDate(0, 0, 1) // the Monday after the extracts end, as the demo
	t.Logf("synthetic council of %d children in %s", alertsChildren, time.Since(began).Round(time.Second))

	cases := []struct {
		name string
		// plant makes the fault in the council's copy; config edits its
		// configuration text.
		plant  func(t *testing.T, dir string)
		config func(string) string
		want   []string // alertname, or alertname/source
	}{
		{name: "healthy"},
		{
			name: "stale_source",
			// The extract of temporary accommodation stopped arriving: its
			// folder is there but empty, so the store has never loaded a file
			// of it. The run itself succeeds without it.
			plant: func(t *testing.T, dir string) {
				files, _ := filepath.Glob(filepath.Join(dir, "incoming", "temporary_accommodation", "*"))
				if len(files) == 0 {
					t.Fatal("the council has no temporary_accommodation file to take away")
				}
				for _, f := range files {
					if err := os.Remove(f); err != nil {
						t.Fatal(err)
					}
				}
			},
			want: []string{"EarlyhelpSourceStale/temporary_accommodation"},
		},
		{
			name: "list_short",
			// Navigators' capacity above the families the run can list:
			// most households have no signal of their own to be listed for.
			config: func(c string) string { return strings.Replace(c, "capacity: 60", "capacity: 1400", 1) },
			want:   []string{"EarlyhelpListShort"},
		},
		{
			name:  "unmatched_objection",
			plant: plantUnmatchedObjection,
			want:  []string{"EarlyhelpObjectionsUnmatched"},
		},
	}

	type target struct {
		name string
		s    *scheduler
		addr string
		dir  string
	}
	var targets []target
	for _, tc := range cases {
		dir := filepath.Join(root, tc.name)
		if out, err := exec.Command("cp", "-r", council, dir).CombinedOutput(); err != nil {
			t.Fatalf("copy council: %v: %s", err, out)
		}
		if tc.plant != nil {
			tc.plant(t, dir)
		}
		path := filepath.Join(dir, "earlyhelp.yaml")
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		text := expectEveryWeek(t, string(b))
		if tc.config != nil {
			text = tc.config(text)
		}
		text += "schedule:\n  weekly_list: \"0 6 * * MON\"\n  retries: 0\n"
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, err := config.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		s, _ := newTestScheduler(t, cfg, asOf)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- serve(ctx, s, ln, nil) }()
		t.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("%s: serve: %v", tc.name, err)
			}
		})
		targets = append(targets, target{name: tc.name, s: s, addr: ln.Addr().String(), dir: cfg.DataDir})
	}

	var scrape strings.Builder
	for _, tg := range targets {
		fmt.Fprintf(&scrape, "      - targets: [%q]\n        labels: {council: %s}\n", tg.addr, tg.name)
	}
	api := startPrometheus(t, bin, scrape.String())

	// Every council's catch-up list has run, and Prometheus has scraped
	// its end: the last-success gauge is set as a run finishes.
	started := time.Now()
	for _, tg := range targets {
		// The counter moves as the run ends; its manifest is final a
		// moment later.
		waitFor(t, 150*time.Second, func() bool {
			if testutil.ToFloat64(tg.s.metrics.Runs.WithLabelValues("succeeded"))+
				testutil.ToFloat64(tg.s.metrics.Runs.WithLabelValues("failed")) < 1 {
				return false
			}
			_, man := newestRun(t, tg.dir)
			return man.Status != "running"
		})
		if _, man := newestRun(t, tg.dir); man.Status != "succeeded" {
			t.Fatalf("%s: run %s %s: %s", tg.name, man.RunID, man.Status, man.Error)
		}
	}
	t.Logf("four weekly lists in %s", time.Since(started).Round(time.Second))
	waitFor(t, 30*time.Second, func() bool {
		v, ok := promScalar(api, `count(earlyhelp_last_success_timestamp_seconds{job="run"})`)
		return ok && v == float64(len(targets))
	})

	// Quiet is only worth something if the rules had their inputs: the
	// healthy council exports every series the new rules read.
	for _, q := range []struct {
		query string
		want  float64
	}{
		{`count(earlyhelp_source_last_file_timestamp_seconds{council="healthy"})`, 12},
		{`count(earlyhelp_source_expected_every_seconds{council="healthy"})`, 11}, // deprivation expects none
		{`earlyhelp_list_capacity{council="healthy"}`, 60},
		{`earlyhelp_list_households{council="healthy"}`, 60},
		{`earlyhelp_objections_unmatched{council="healthy"}`, 0},
		{`count(earlyhelp_source_quarantined_ratio{council="healthy"})`, 12},
		{`count(earlyhelp_feature_psi{council="healthy"}) > bool 10`, 1},
	} {
		if got, ok := promScalar(api, q.query); !ok || got != q.want {
			t.Errorf("%s = %v (found %v); want %v", q.query, got, ok, q.want)
		}
	}

	want := map[string][]string{}
	for _, tc := range cases {
		want[tc.name] = tc.want
	}
	// Wait for the faults' alerts, then a few more evaluations (one a
	// second) so an alert that is coming has come.
	deadline := time.Now().Add(30 * time.Second)
	for !alertsInclude(promAlerts(t, api), want) && time.Now().Before(deadline) {
		time.Sleep(500 * time.Millisecond)
	}
	time.Sleep(4 * time.Second)
	got := promAlerts(t, api)
	for _, tc := range cases {
		if g, w := strings.Join(got[tc.name], ", "), strings.Join(tc.want, ", "); g != w {
			t.Errorf("%s: alerts firing [%s]; want exactly [%s]", tc.name, g, w)
		}
	}
}

// expectEveryWeek gives every source of the synthetic config but the
// deprivation indices (published every few years) expected_every: 7d.
func expectEveryWeek(t *testing.T, cfg string) string {
	t.Helper()
	line := regexp.MustCompile(`(?m)^(  ([a-z_]+): \{kind: csvdir, path: [^}]+)\}$`)
	n := 0
	out := line.ReplaceAllStringFunc(cfg, func(l string) string {
		m := line.FindStringSubmatch(l)
		if m[2] == "deprivation" {
			return l
		}
		n++
		return m[1] + ", expected_every: 7d}"
	})
	if n != 11 {
		t.Fatalf("gave expected_every to %d sources of the synthetic config; want 11:\n%s", n, cfg)
	}
	return out
}

// plantUnmatchedObjection delivers a second objections file: thirty
// objections by people of the council, and one whose person_id is blank,
// which no run can tie to anyone. Thirty good rows keep the one bad row
// under max_quarantine_ratio, so the run succeeds and the alert is the
// only sign.
func plantUnmatchedObjection(t *testing.T, dir string) {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "incoming", "households", "households.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) < 2 || rows[0][1] != "person_id" {
		t.Fatalf("households.csv: %v (header %v)", err, rows[:min(1, len(rows))])
	}
	seen := map[string]bool{}
	lines := []string{"person_id,received_date,withdrawn_date"}
	for _, r := range rows[1:] {
		if len(lines) > 30 {
			break
		}
		if !seen[r[1]] {
			seen[r[1]] = true
			lines = append(lines, r[1]+",2026-06-01,")
		}
	}
	lines = append(lines, ",2026-06-01,")
	if err := os.WriteFile(filepath.Join(dir, "incoming", "objections", "objections_2026.csv"), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// startPrometheus runs the Prometheus server at bin on loopback in a temp
// folder, scraping the static_configs given every second and evaluating
// the test copy of the rules every second, and returns its API's base URL.
func startPrometheus(t *testing.T, bin, staticConfigs string) string {
	t.Helper()
	dir := t.TempDir()
	rules, err := os.ReadFile(filepath.Join(deployDir, "prometheus", "rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	forClause := regexp.MustCompile(`(?m)^(\s+)for: \S+$`)
	if !forClause.Match(rules) {
		t.Fatal("rules.yml has no for: clause: the test copy's for: 0s rewrite no longer matches it")
	}
	rules = forClause.ReplaceAll(rules, []byte("${1}for: 0s"))
	if err := os.WriteFile(filepath.Join(dir, "rules.yml"), rules, 0o644); err != nil {
		t.Fatal(err)
	}
	promCfg := `global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [rules.yml]
scrape_configs:
  - job_name: earlyhelp
    honor_labels: true # as deploy/prometheus/prometheus.yml
    static_configs:
` + staticConfigs
	return runPrometheus(t, bin, dir, promCfg)
}

// promAlerts reads Prometheus's alerts, pending or firing, as
// "alertname[/source]" by council label, each council's sorted.
func promAlerts(t *testing.T, api string) map[string][]string {
	t.Helper()
	resp, err := http.Get(api + "/api/v1/alerts")
	if err != nil {
		return nil // not up yet
	}
	defer resp.Body.Close()
	var r struct {
		Status string `json:"status"`
		Data   struct {
			Alerts []struct {
				Labels map[string]string `json:"labels"`
				State  string            `json:"state"`
			} `json:"alerts"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || r.Status != "success" {
		t.Fatalf("/api/v1/alerts: %v (status %q)", err, r.Status)
	}
	out := map[string][]string{}
	for _, a := range r.Data.Alerts {
		name := a.Labels["alertname"]
		if s := a.Labels["source"]; s != "" {
			name += "/" + s
		}
		if a.State != "firing" {
			name += " (" + a.State + ")"
		}
		out[a.Labels["council"]] = append(out[a.Labels["council"]], name)
	}
	for c := range out {
		sort.Strings(out[c])
	}
	return out
}

// alertsInclude reports whether every wanted alert is firing.
func alertsInclude(got, want map[string][]string) bool {
	for council, names := range want {
		for _, n := range names {
			found := false
			for _, g := range got[council] {
				found = found || g == n
			}
			if !found {
				return false
			}
		}
	}
	return true
}
