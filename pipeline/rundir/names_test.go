package rundir

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// runFiles are the file names of a run folder and of an audit folder, taken
// from this package's own names so the scan follows a rename.
var runFiles = func() map[string]bool {
	m := map[string]bool{}
	for _, rel := range []string{
		ManifestFile, MetricsFile, FeaturesFile, ScoresFile,
		ModelFile, ModelCardJSONFile, ModelCardMDFile, GovernanceFile,
		BacktestFile, BacktestMetricsFile, BacktestCalibrationFile,
		ScoredChildrenFile, OracleFile,
		ListCSVFile, ListHTMLFile, ListParquetFile, FamiliesFile, ListStateFile, AllocationFile,
		AuditJSONFile, GroupMetricsFile, IntersectionsFile, DisparitiesFile, SummaryFile, TopKCurveFile,
		CalibrationBinsFile, CalibrationSummaryFile, PublishableFile, ReportFile, FindingsFile,
		AuditManifestFile, DecisionsFile, EvaluationArmsFile,
	} {
		m[path.Base(rel)] = true
	}
	return m
}()

// runFolders are the folders of a run folder (and data_dir's runs/), which
// are run-file names when they are parts of a path.
var runFolders = map[string]bool{
	runsFolder: true, QuarantineFolder: true, ModelFolder: true, BacktestFolder: true, EvaluationFolder: true,
	ListFolder: true, AuditFolder: true, thisWeekFolder: true,
	path.Dir(PublishableFile): true, path.Dir(IntersectionsFile): true, TransparencyFolder: true,
}

// spellsRunFile says whether a string literal's value names a run file:
// equal to one of its names, ending in "/" and one, the quarantine cells'
// suffix, or a path (no spaces) that starts with a run folder. joinPart is
// true when the literal is an argument of filepath.Join or path.Join, where
// a bare folder name counts too.
func spellsRunFile(v string, joinPart bool) bool {
	if runFiles[v] || strings.HasSuffix(v, quarantineCellsSuffix) {
		return true
	}
	if i := strings.LastIndexByte(v, '/'); i >= 0 && runFiles[v[i+1:]] {
		return true
	}
	if dir, _, ok := strings.Cut(v, "/"); ok && runFolders[dir] && !strings.ContainsAny(v, " \t\n") {
		return true
	}
	return joinPart && runFolders[v]
}

func TestSpellsRunFile(t *testing.T) {
	for _, tc := range []struct {
		v        string
		joinPart bool
		want     bool
	}{
		{"manifest.json", false, true},
		{"list/navigator_list.csv", false, true},
		{"navigator_list.parquet", false, true},
		{"/var/runs/x/scores.parquet", false, true},
		{"see " + AuditReportFile, false, true},
		{"persons_cells.csv", false, true},
		{"audit/this_week", false, true},
		{"evaluation", true, true},
		{"runs", true, true},
		{"this_week", true, true},
		{"evaluation", false, false}, // a log field or a stage's name
		{"model", false, false},
		{"manifest.json: %w", false, false},
		{"no evaluation/scored_children.csv (is it a run?)", false, false},
		{"audit: decisions.csv; code", false, false},
		{"users.json", false, false},
		{"store", true, false},
		{"mymanifest.json", false, false},
	} {
		if got := spellsRunFile(tc.v, tc.joinPart); got != tc.want {
			t.Errorf("spellsRunFile(%q, join %v) = %v; want %v", tc.v, tc.joinPart, got, tc.want)
		}
	}
}

// TestRunFileLiterals: the scan flags run-file names and run folders as
// path parts, and passes over struct tags, log keys and folders of other
// parents.
func TestRunFileLiterals(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string
	}{
		{"a file name", `p := filepath.Join(dir, "list", "navigator_list.csv")`, []string{`"list"`, `"navigator_list.csv"`}},
		{"a folder of a run", `p := filepath.Join(runDir, "audit")`, []string{`"audit"`}},
		{"a folder under a run folder", `p := filepath.Join(dir, "audit", "this_week")`, []string{`"audit"`, `"this_week"`}},
		{"the runs folder", `p := path.Join(dataDir, "runs", id)`, []string{`"runs"`}},
		{"a folder of another parent", `p := filepath.Join(dataDir, "cache", "audit")`, nil},
		{"a log key", `log.Str("model", id)`, nil},
		{"a struct tag", "type T struct{ X int `json:\"manifest.json\"` }", nil},
		{"a constant", `const f = "scores.parquet"`, []string{`"scores.parquet"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := "package p\n"
			if strings.HasPrefix(tc.src, "type") || strings.HasPrefix(tc.src, "const") {
				src += tc.src + "\n"
			} else {
				src += "func f() {\n" + tc.src + "\n}\n"
			}
			f, err := parser.ParseFile(token.NewFileSet(), "x.go", src, 0)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, l := range runFileLiterals(f) {
				got = append(got, l.lit)
			}
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("got %v; want %v", got, tc.want)
			}
		})
	}
}

// TestNoRunFileNamesOutside is issue 22's acceptance: no Go file outside
// this package spells a run file's name; each uses Run's methods.
func TestNoRunFileNamesOutside(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	self, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	scanned := 0
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p == self || p != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		scanned++
		for _, pos := range runFileLiterals(f) {
			rel, _ := filepath.Rel(root, fset.Position(pos.pos).Filename)
			t.Errorf("%s:%d: %s spells a run file's name: use pipeline/rundir", rel, fset.Position(pos.pos).Line, pos.lit)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if scanned < 50 {
		t.Fatalf("scanned only %d files under %s: is the module root right?", scanned, root)
	}
}

type literal struct {
	pos token.Pos
	lit string
}

// runFileLiterals are f's string literals that spell a run file, struct
// tags aside.
func runFileLiterals(f *ast.File) []literal {
	joinArgs := map[*ast.BasicLit]bool{}
	tags := map[*ast.BasicLit]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.Field:
			if n.Tag != nil {
				tags[n.Tag] = true
			}
		case *ast.CallExpr:
			if sel, ok := n.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Join" {
				if pkg, ok := sel.X.(*ast.Ident); ok && (pkg.Name == "filepath" || pkg.Name == "path") {
					for i, a := range n.Args {
						bl, ok := a.(*ast.BasicLit)
						if !ok {
							continue
						}
						// A folder named under another literal folder is
						// that folder's (data_dir/cache/audit), not a
						// run's.
						if i > 0 {
							if prev, ok := n.Args[i-1].(*ast.BasicLit); ok {
								if v, err := strconv.Unquote(prev.Value); err == nil && !runFolders[v] {
									continue
								}
							}
						}
						joinArgs[bl] = true
					}
				}
			}
		}
		return true
	})
	var out []literal
	ast.Inspect(f, func(n ast.Node) bool {
		bl, ok := n.(*ast.BasicLit)
		if !ok || bl.Kind != token.STRING || tags[bl] {
			return true
		}
		v, err := strconv.Unquote(bl.Value)
		if err == nil && spellsRunFile(v, joinArgs[bl]) {
			out = append(out, literal{bl.Pos(), bl.Value})
		}
		return true
	})
	return out
}
