package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAuditReproducedFromManifest audits a run with settings other than
// the defaults (seed and resamples), then audits it again with nothing but
// --run: the manifest must carry the settings, and every file of audit/
// must come out byte for byte the same.
func TestAuditReproducedFromManifest(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	b.WriteString("as_of,model,person_id,household_id,score,selected,label,ethnicity5,ethnicity,imd_decile\n")
	eth := []string{"WHITE_BRITISH", "WHITE_BRITISH", "ASIAN_PAKISTANI", "BLACK_AFRICAN", "MIXED_OTHER", "NOT_STATED"}
	for _, date := range []string{"2026-01-05", "2026-02-02", "2026-07-20"} {
		for i := 0; i < 1500; i++ {
			score := rng.Float64()
			lab := ""
			if date != "2026-07-20" {
				lab = "0"
				if rng.Float64() < score*0.3 {
					lab = "1"
				}
			}
			fmt.Fprintf(&b, "%s,logistic-x,p%05d,h%05d,%.4f,%d,%s,,%s,%d\n", date, i, i/2, score,
				map[bool]int{true: 1}[score > 0.9], lab, eth[i%len(eth)], 1+i%10)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "evaluation"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "evaluation", "scored_children.csv"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := runAudit(ctx, []string{"--run", dir, "--seed", "7", "--bootstrap", "40"}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	first := readTree(t, filepath.Join(dir, "audit"))
	var m struct {
		Scored    string    `json:"scored_children_sha256"`
		Models    []string  `json:"model_id"`
		Window    [2]string `json:"label_window"`
		IoD       string    `json:"iod_vintage"`
		Ethnicity string    `json:"ethnicity_classification"`
		Code      string    `json:"code_version"`
		Bootstrap struct {
			B    int    `json:"B"`
			Seed uint64 `json:"seed"`
		} `json:"bootstrap"`
	}
	if err := json.Unmarshal(first["audit_manifest.json"], &m); err != nil {
		t.Fatalf("audit_manifest.json: %v", err)
	}
	if len(m.Scored) != 64 || len(m.Models) != 1 || m.Models[0] != "logistic-x" || m.Window != [2]string{"2026-01-05", "2026-02-02"} ||
		m.IoD != "unknown" || m.Ethnicity == "" || m.Code == "" || m.Bootstrap.B != 40 || m.Bootstrap.Seed != 7 {
		t.Errorf("audit_manifest.json records %+v", m)
	}
	for name := range first {
		if name != "audit_manifest.json" {
			os.Remove(filepath.Join(dir, "audit", name))
		}
	}
	if err := runAudit(ctx, []string{"--run", dir}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	second := readTree(t, filepath.Join(dir, "audit"))
	if len(second) != len(first) {
		t.Errorf("re-run wrote %d files; want %d", len(second), len(first))
	}
	for name, want := range first {
		if got, ok := second[name]; !ok || !bytes.Equal(got, want) {
			t.Errorf("audit/%s differs when the audit is re-run from its manifest", name)
		}
	}
}

func readTree(t *testing.T, root string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(root, p)
		out[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
