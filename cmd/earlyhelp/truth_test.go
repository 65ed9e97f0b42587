package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPipelineNeverReadsTruth: the synthetic truth is a yardstick, not an
// input. No code of the pipeline (connectors other than the generator that
// writes it, features, models, pipeline) names the truth's folder or
// files; in cmd only evaluate and the demo (which calls evaluate after its
// run) and synth (which writes it) do.
func TestPipelineNeverReadsTruth(t *testing.T) {
	allowed := map[string]bool{
		"cmd/earlyhelp/evaluate.go": true, "cmd/earlyhelp/evaluate_rundate.go": true, "cmd/earlyhelp/demo.go": true, "cmd/earlyhelp/synth.go": true,
	}
	root := filepath.Join("..", "..")
	for _, dir := range []string{"cmd", "connectors", "features", "models", "pipeline"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			rel = filepath.ToSlash(rel)
			if d.IsDir() && rel == "connectors/synthetic" {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || allowed[rel] {
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, word := range []string{`"truth`, `truth/`, "household_weeks", "p_referral"} {
				if strings.Contains(string(b), word) {
					t.Errorf("%s names %s: only evaluate may read the synthetic truth", rel, word)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
