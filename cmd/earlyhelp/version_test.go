package main

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

// TestVersionShowsTheRevision builds the command from this git checkout
// with VCS stamping on (the environment may turn it off by default) and
// reads the revision back from `earlyhelp version`.
func TestVersionShowsTheRevision(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed: the build cannot read a revision")
	}
	if err := exec.Command("git", "rev-parse", "--git-dir").Run(); err != nil {
		t.Skip("not a git checkout")
	}
	bin := filepath.Join(t.TempDir(), "earlyhelp")
	if out, err := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("version: %v\n%s", err, out)
	}
	if !regexp.MustCompile(`(?m)^revision [0-9a-f]{40}`).Match(out) {
		t.Errorf("version printed no revision:\n%s", out)
	}
}
