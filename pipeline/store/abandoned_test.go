package store

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"earlyhelp/pipeline/rundir"
)

// TestMarkAbandoned: with the lock held, every run whose manifest says
// running is rewritten to say abandoned with every other field as it was;
// other runs, folders without a manifest and manifests that do not decode
// are left alone, the last reported after the rest are marked.
func TestMarkAbandoned(t *testing.T) {
	// A manifest with a field this package has never heard of, nested.
	const running = `{"run_id": "20260713T060000Z", "status": "running", "stages": [{"stage": "ingest", "seconds": 1.5}],
		"sources": {"persons": {"read": 3}}, "not_yet_invented": {"x": [1, 2]}}`
	runs := []struct {
		id       string
		manifest string // "" for none
		want     string // the status afterwards; "" when the file must be byte for byte unchanged
	}{
		{"20260713T060000Z", running, "abandoned"},
		{"20260714T060000Z", `{"run_id": "20260714T060000Z", "status": "running"}`, "abandoned"},
		{"20260715T060000Z", `{"run_id": "20260715T060000Z", "status": "succeeded"}`, ""},
		{"20260716T060000Z", `{"run_id": "20260716T060000Z", "status": "failed", "error": "x"}`, ""},
		{"20260717T060000Z", `{"status": "running",`, ""}, // does not decode
		{"20260718T060000Z", "", ""},
	}
	dir := t.TempDir()
	for _, r := range runs {
		runDir := rundir.ForID(dir, r.id).Dir
		if err := os.MkdirAll(runDir, 0o750); err != nil {
			t.Fatal(err)
		}
		if r.manifest != "" {
			if err := os.WriteFile(rundir.Open(runDir).ManifestPath(), []byte(r.manifest), 0o640); err != nil {
				t.Fatal(err)
			}
		}
	}
	s, err := Open(dir, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := s.MarkAbandoned(); err == nil || n != 0 {
		t.Fatalf("MarkAbandoned without the lock = %d, %v; want 0 and an error", n, err)
	}
	unlock, err := s.Lock()
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	n, err := s.MarkAbandoned()
	if n != 2 {
		t.Errorf("MarkAbandoned marked %d runs; want 2", n)
	}
	if err == nil || !strings.Contains(err.Error(), "20260717T060000Z") {
		t.Errorf("MarkAbandoned error = %v; want one naming the run whose manifest does not decode", err)
	}
	for _, r := range runs {
		if r.manifest == "" {
			continue
		}
		b, err := os.ReadFile(rundir.ForID(dir, r.id).ManifestPath())
		if err != nil {
			t.Fatal(err)
		}
		if r.want == "" {
			if string(b) != r.manifest {
				t.Errorf("run %s manifest changed to %s; want it untouched", r.id, b)
			}
			continue
		}
		var got, want map[string]any
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("run %s manifest: %v", r.id, err)
		}
		json.Unmarshal([]byte(r.manifest), &want)
		want["status"] = r.want
		if !reflect.DeepEqual(got, want) {
			t.Errorf("run %s manifest = %v; want %v", r.id, got, want)
		}
	}
	if n, err := s.MarkAbandoned(); n != 0 {
		t.Errorf("MarkAbandoned a second time marked %d (%v); want 0", n, err)
	}
}
