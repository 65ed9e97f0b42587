package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestIngestMarksAbandonedRuns: a run folder whose manifest still says
// "running" can only have been left by a process that died (the next run
// holds the lock), so the next run marks it abandoned.
func TestIngestMarksAbandonedRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a council")
	}
	dir := lightCouncil(t, "23")
	dead := filepath.Join(dir, "var", "runs", "20200101T000000Z")
	if err := os.MkdirAll(dead, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dead, "manifest.json"), []byte(`{"run_id":"20200101T000000Z","status":"running"}`), 0o640); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLI(t, "ingest", "--config", filepath.Join(dir, "earlyhelp.yaml"), "--log-level", "warn"); code != 0 {
		t.Fatalf("ingest: %s", stderr)
	}
	var m struct {
		Status string `json:"status"`
	}
	b, err := os.ReadFile(filepath.Join(dead, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil || m.Status != "abandoned" {
		t.Errorf("status %q (%v); want abandoned", m.Status, err)
	}
}
