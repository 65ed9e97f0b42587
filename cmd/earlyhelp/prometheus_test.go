package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TestIntegrationPrometheus runs serve with an ingest every 2 seconds (a
// robfig/cron "@every" descriptor: serve's parser takes five-field specs and
// descriptors, no seconds field) over a tiny synthetic council, scrapes it
// with the real Prometheus server and checks the scraped series through
// Prometheus's HTTP API. Prometheus scrapes with honor_labels as
// deploy/prometheus.yml does, or the metrics' job label (CONTRACTS §7) would
// be renamed exported_job.
func TestIntegrationPrometheus(t *testing.T) {
	bin := os.Getenv("EARLYHELP_PROMETHEUS")
	if bin == "" {
		t.Skip("EARLYHELP_PROMETHEUS is unset: set it to a Prometheus server binary (Debian: apt-get install prometheus; EARLYHELP_PROMETHEUS=/usr/bin/prometheus)")
	}
	cfg, asOf := tinyCouncil(t, "  ingest: \"@every 2s\"\n  retries: 0\n")
	s, _ := newTestScheduler(t, cfg, asOf)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, s, ln, nil) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()

	dir := t.TempDir()
	promCfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: earlyhelp
    honor_labels: true # as deploy/prometheus.yml: keep earlyhelp's own job label
    static_configs:
      - targets: [%q]
`, ln.Addr().String())
	api := runPrometheus(t, bin, dir, promCfg)

	// Two successful scrapes of serve since the first ingest finished.
	waitFor(t, 90*time.Second, func() bool {
		v, ok := promScalar(api, `count_over_time(earlyhelp_last_success_timestamp_seconds{job="ingest"}[5m])`)
		return ok && v >= 2
	})

	_, first := oldestRun(t, cfg.DataDir)
	if first.Status != "succeeded" {
		t.Fatalf("first ingest %s: %s %s", first.RunID, first.Status, first.Error)
	}
	last, ok := promScalar(api, `max(earlyhelp_last_success_timestamp_seconds{job="ingest"})`)
	if !ok || last < float64(started.Add(-time.Minute).Unix()) || last > float64(time.Now().Add(time.Minute).Unix()) {
		t.Errorf("earlyhelp_last_success_timestamp_seconds{job=ingest} = %v (found %v); want a time since the test started (%d)", last, ok, started.Unix())
	}
	for src, sm := range first.Sources {
		// Later ingests find every file already loaded, so the counter
		// stays at what the first ingest loaded.
		got, ok := promScalar(api, fmt.Sprintf(`earlyhelp_rows_loaded_total{source=%q}`, src))
		if !ok || got != float64(sm.Loaded) || sm.Loaded == 0 {
			t.Errorf("earlyhelp_rows_loaded_total{source=%q} = %v (found %v); want %d, the first ingest's count", src, got, ok, sm.Loaded)
		}
	}
}

// freeAddr is a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// promScalar runs an instant query that yields one sample and returns it.
func promScalar(api, query string) (float64, bool) {
	resp, err := http.Get(api + "/api/v1/query?query=" + url.QueryEscape(query))
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	var r struct {
		Status string `json:"status"`
		Data   struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if json.NewDecoder(resp.Body).Decode(&r) != nil || r.Status != "success" || len(r.Data.Result) != 1 {
		return 0, false
	}
	s, _ := r.Data.Result[0].Value[1].(string)
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}

// runPrometheus starts the Prometheus server at bin on a free loopback
// port with promCfg as its configuration, in dir, stops it when the test
// ends (printing its log if the test failed) and returns its API's base
// URL.
func runPrometheus(t *testing.T, bin, dir, promCfg string) string {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(promCfg), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "tsdb"), "--web.listen-address="+addr)
	logFile, err := os.Create(filepath.Join(dir, "prometheus.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		waited := make(chan struct{})
		go func() { cmd.Wait(); close(waited) }()
		select {
		case <-waited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-waited
		}
		if t.Failed() {
			b, _ := os.ReadFile(logFile.Name())
			t.Logf("prometheus log:\n%s", b)
		}
	})
	return "http://" + addr
}
