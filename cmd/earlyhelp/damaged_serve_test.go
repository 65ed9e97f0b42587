package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestServeSurvivesADamagedStore: a scheduled weekly run over a store file
// whose bytes were zeroed (256 KiB of a file, or all of a small one) fails
// with a failed manifest and /readyz not ready; the scheduler, and so the
// site beside it, stays up for the next job.
func TestServeSurvivesADamagedStore(t *testing.T) {
	cfg, asOf := tinyCouncil(t, "  weekly_list: \"0 6 * * MON\"\n  retries: 0\n")
	if code, _, stderr := runCLI(t, "ingest", "--config", cfg.File()); code != 0 {
		t.Fatalf("ingest: exit %d: %s", code, stderr)
	}
	var file string
	for _, d := range readStoreState(t, cfg.DataDir).Deliveries {
		if d.Source == "attendance_sessions" && d.File != "" {
			file = d.File
		}
	}
	path := filepath.Join(cfg.DataDir, "store", file)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	from := len(b) / 4
	clear(b[from:min(len(b), from+256<<10)])
	if err := os.WriteFile(path, b, 0o640); err != nil {
		t.Fatal(err)
	}
	nextSecond()
	s, _ := newTestScheduler(t, cfg, asOf)
	var weekly job
	for _, j := range s.jobs {
		if j.name == "weekly_list" {
			weekly = j
		}
	}
	if err := s.runJob(context.Background(), weekly); err == nil {
		t.Fatal("a weekly run over a damaged store file succeeded")
	}
	_, man := newestRun(t, cfg.DataDir)
	if man.Status != "failed" {
		t.Errorf("manifest status %q; want failed", man.Status)
	}
	if err := s.ready(); err == nil {
		t.Error("ready after a failed run")
	}
	// The scheduler still runs jobs: the next one fails the same way, and
	// does not take the process down.
	nextSecond()
	if err := s.runJob(context.Background(), weekly); err == nil {
		t.Error("the second run over the damaged file succeeded")
	}
}
