package main

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// runSpecific are the run folder's files that carry the run's id or its
// clock (manifest, metrics, the page's footer, the model card and the
// governance check): everything else a demo writes is a function of the
// synthetic council alone.
var runSpecific = map[string]bool{
	"manifest.json": true, "metrics.prom": true, "list/navigator_list.html": true,
	"model/governance.json": true, "model/model_card.json": true, "model/model_card.md": true,
}

// TestRunOutputsGolden pins every byte the small demo's run writes apart
// from the run-specific files: the list, the backtest, the scores, the
// audit and the quarantine. Restructuring the code (issue 22) must leave
// them unchanged; a change that means to alter them rewrites the digests
// with -update and says why in its commit.
func TestRunOutputsGolden(t *testing.T) {
	smallDemo(t)
	dir, _ := latestRun(t)
	var got strings.Builder
	var rels []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		if rel = filepath.ToSlash(rel); !runSpecific[rel] {
			rels = append(rels, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(rels)
	for _, rel := range rels {
		b, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&got, "%s %x\n", rel, sha256.Sum256(b))
	}
	path := filepath.Join("testdata", "run_outputs.golden")
	if *update {
		if err := os.WriteFile(path, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if got.String() != string(want) {
		t.Errorf("the demo's outputs changed:\n%s", lineDiff(string(want), got.String()))
	}
}

// lineDiff lists the lines only in want (-) and only in got (+).
func lineDiff(want, got string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	w, g := in(want), in(got)
	var b strings.Builder
	for _, l := range strings.Split(want, "\n") {
		if !g[l] {
			b.WriteString("- " + l + "\n")
		}
	}
	for _, l := range strings.Split(got, "\n") {
		if !w[l] {
			b.WriteString("+ " + l + "\n")
		}
	}
	return b.String()
}
