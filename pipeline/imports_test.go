package pipeline_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportDirection enforces DESIGN.md's rule that imports point inward:
// the leaves (the vocabulary, the run folder, atomic files, cache files,
// the recycler)
// import no other part of earlyhelp but each other and every layer may use
// them; pipeline imports no other part of earlyhelp but the leaves; connectors, features and
// models never import each other; a plug-in imports its own family's base
// package and pipeline only; golearn stays in models, cron in cmd, pgx in
// connectors/postgres. Only cmd sees every concrete type.
func TestImportDirection(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "earlyhelp/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) < 8 {
		t.Fatalf("go list found only %d packages", len(lines))
	}
	for _, line := range lines {
		fields := strings.Fields(line)
		pkg, imports := fields[0], fields[1:]
		for _, imp := range imports {
			if why := forbidden(pkg, imp); why != "" {
				t.Errorf("%s imports %s: %s", pkg, imp, why)
			}
		}
	}
}

// family is the top-level folder of an earlyhelp package.
func family(pkg string) string {
	rest := strings.TrimPrefix(pkg, "earlyhelp/")
	f, _, _ := strings.Cut(rest, "/")
	return f
}

// stage is the folder under pipeline/ a package is in ("review" for
// pipeline/review/users), or "".
func stage(pkg string) string {
	rest, ok := strings.CutPrefix(pkg, "earlyhelp/pipeline/")
	if !ok {
		return ""
	}
	st, _, _ := strings.Cut(rest, "/")
	return st
}

// leaves are the small packages every layer shares: they hold names and
// mechanisms, never a stage's logic, so importing one couples nothing.
var leaves = map[string]bool{
	"earlyhelp/pipeline/contract":   true,
	"earlyhelp/pipeline/rundir":     true,
	"earlyhelp/pipeline/atomicfile": true,
	"earlyhelp/pipeline/recycle":    true,
	"earlyhelp/pipeline/cachefile":  true,
}

func forbidden(pkg, imp string) string {
	switch {
	case strings.HasPrefix(imp, "github.com/sjwhitworth/golearn") && family(pkg) != "models":
		return "golearn is wrapped once, in models"
	case strings.HasPrefix(imp, "github.com/robfig/cron") && family(pkg) != "cmd":
		return "schedules belong to cmd"
	case strings.HasPrefix(imp, "github.com/jackc/pgx") && !strings.HasPrefix(pkg, "earlyhelp/connectors/postgres"):
		return "pgx belongs to connectors/postgres"
	case !strings.HasPrefix(imp, "earlyhelp/"):
		return ""
	}
	from, to := family(pkg), family(imp)
	switch {
	case leaves[pkg] && !leaves[imp]:
		return "a leaf package imports only other leaves"
	case leaves[imp]:
		return ""
	case from == "cmd":
		return ""
	case to == "cmd":
		return "nothing imports cmd"
	case from == "pipeline":
		// pipeline's sub-packages (store, export, config) may use pipeline.
		if imp == "earlyhelp/pipeline" && pkg != "earlyhelp/pipeline" {
			return ""
		}
		// A stage split into packages under its own folder (review and
		// review/users) may use them; one stage still never uses another.
		if st := stage(pkg); st != "" && st == stage(imp) && strings.HasPrefix(imp, "earlyhelp/pipeline/"+st+"/") {
			return ""
		}
		return "pipeline imports no other earlyhelp package"
	case to == "pipeline":
		if imp == "earlyhelp/pipeline" {
			return ""
		}
		return "plug-ins use the pipeline contracts, not its implementations"
	case from != to:
		return "connectors, features and models never import each other"
	case imp != "earlyhelp/"+from:
		return "a plug-in imports its family's base package only, not a sibling"
	}
	return ""
}

func TestForbidden(t *testing.T) {
	tests := []struct {
		pkg, imp string
		bad      bool
	}{
		{"earlyhelp/pipeline", "earlyhelp/pipeline/store", true},
		{"earlyhelp/pipeline/store", "earlyhelp/pipeline", false},
		{"earlyhelp/features/attendance", "earlyhelp/features", false},
		{"earlyhelp/features/attendance", "earlyhelp/connectors", true},
		{"earlyhelp/connectors/csvdir", "earlyhelp/connectors/synthetic", true},
		{"earlyhelp/connectors/csvdir", "earlyhelp/pipeline/store", true},
		{"earlyhelp/models/evaluate", "earlyhelp/models", false},
		{"earlyhelp/features", "github.com/sjwhitworth/golearn/base", true},
		{"earlyhelp/models", "github.com/sjwhitworth/golearn/base", false},
		{"earlyhelp/cmd/earlyhelp", "earlyhelp/pipeline/store", false},
		{"earlyhelp/pipeline/review", "earlyhelp/pipeline/review/users", false},
		{"earlyhelp/pipeline/review/users", "earlyhelp/pipeline/review", true},
		{"earlyhelp/pipeline/review", "earlyhelp/pipeline/export", true},
		{"earlyhelp/pipeline/review", "earlyhelp/pipeline/store", true},
		// The governance check reads the run's contracts only; cmd hands it
		// the audit's findings and the decisions.
		{"earlyhelp/pipeline/governance", "earlyhelp/pipeline", false},
		{"earlyhelp/pipeline/governance", "earlyhelp/pipeline/config", true},
		{"earlyhelp/pipeline/governance", "earlyhelp/pipeline/review/decisions", true},
		{"earlyhelp/pipeline/governance", "earlyhelp/models/fairness", true},
		{"earlyhelp/pipeline", "earlyhelp/pipeline/governance", true},
		// The governance drafts are given the config and the audit's
		// tables by cmd: they read run files, never YAML or the audit code.
		{"earlyhelp/pipeline/transparency", "earlyhelp/pipeline", false},
		{"earlyhelp/pipeline/transparency", "earlyhelp/pipeline/config", true},
		{"earlyhelp/pipeline/transparency", "earlyhelp/models/fairness", true},
		// The leaves are shared by every layer and depend on none.
		{"earlyhelp/features/attendance", "earlyhelp/pipeline/contract", false},
		{"earlyhelp/pipeline", "earlyhelp/pipeline/atomicfile", false},
		{"earlyhelp/models/fairness", "earlyhelp/pipeline/rundir", false},
		{"earlyhelp/pipeline/rundir", "earlyhelp/pipeline/atomicfile", false},
		{"earlyhelp/pipeline/rundir", "earlyhelp/pipeline", true},
		{"earlyhelp/pipeline/contract", "earlyhelp/connectors", true},
		// Stages are packages the run loop is handed; they use its
		// contracts and never each other.
		{"earlyhelp/pipeline/train", "earlyhelp/pipeline", false},
		{"earlyhelp/pipeline/rank", "earlyhelp/pipeline/train", true},
		{"earlyhelp/pipeline", "earlyhelp/pipeline/rank", true},
	}
	for _, tc := range tests {
		if got := forbidden(tc.pkg, tc.imp) != ""; got != tc.bad {
			t.Errorf("forbidden(%s, %s) = %v; want %v", tc.pkg, tc.imp, got, tc.bad)
		}
	}
}
