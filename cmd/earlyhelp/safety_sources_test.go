package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"earlyhelp/pipeline"
)

// TestSafetySourcesRequired: a config without the objections source is
// refused with exit 2, naming it; one that accepts going without the
// early-help episodes in writing runs, and its manifest and model card
// carry the reason.
func TestSafetySourcesRequired(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and runs a council")
	}
	dir := lightCouncil(t, "24")
	conf := filepath.Join(dir, "earlyhelp.yaml")
	b, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	without := func(source string) string {
		return regexp.MustCompile(`(?m)^  `+source+`: .*\n`).ReplaceAllString(string(b), "")
	}
	if err := os.WriteFile(conf, []byte(without("objections")), 0o640); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLI(t, "validate", "--config", conf); code != exitUsage || !strings.Contains(stderr, "objections is not configured") {
		t.Errorf("validate without objections: exit %d, %q; want exit %d naming objections", code, stderr, exitUsage)
	}
	const why = "the early-help service keeps no system yet"
	accepted := without("early_help_episodes") + "missing_sources_accepted:\n  early_help_episodes: \"" + why + "\"\n"
	if err := os.WriteFile(conf, []byte(accepted), 0o640); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLI(t, "run", "--config", conf, "--as-of", "2026-07-20", "--log-level", "warn"); code != 0 {
		t.Fatalf("run accepting the missing source: exit %d: %s", code, stderr)
	}
	runs, _ := filepath.Glob(filepath.Join(dir, "var", "runs", "*"))
	var m pipeline.Manifest
	readJSON(t, filepath.Join(runs[len(runs)-1], "manifest.json"), &m)
	if m.MissingSourcesAccepted["early_help_episodes"] != why {
		t.Errorf("manifest missing_sources_accepted = %v", m.MissingSourcesAccepted)
	}
	card, err := os.ReadFile(filepath.Join(runs[len(runs)-1], "model", "model_card.md"))
	if err != nil || !strings.Contains(string(card), why) {
		t.Errorf("the model card does not give the reason (%v)", err)
	}
}
