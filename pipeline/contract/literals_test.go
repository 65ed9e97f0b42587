package contract_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"earlyhelp/pipeline/contract"
)

// unrelated lists the few literals that spell a vocabulary word for
// something else, by file and literal; each is a named constant there.
var unrelated = map[[2]string]string{
	{"cmd/earlyhelp/subject.go", "subject"}:         "the subject-access command's name, not hv_assessments.subject",
	{"pipeline/review/users/users.go", "role"}:      "a review-site account's role, not a household member's",
	{"models/fairness/write.go", "households"}:      "the audit CSVs' count of households, not the source",
	{"pipeline/list.go", "households"}:              "the lottery arms' count of households, not the source",
	{"pipeline/train/backtest.go", "households"}:    "the calibration file's count of households, not the source",
	{"pipeline/train/trainingset.go", "households"}: "a log field counting households, not the source",
	{"cmd/earlyhelp/bench.go", "households"}:        "the benchmark's unit (CONTRACTS §8), not the source",
	{"models/forest.go", "outcome"}:                 "golearn's name for the model's class attribute, not csc_referrals.outcome",
}

// vocabulary is every string the contract package owns and no other file
// may spell: source names, column names (which include the namespaces)
// and ethnicity codes, each mapped to what it is, for the message.
func vocabulary() map[string]string {
	v := map[string]string{}
	for _, s := range contract.Sources() {
		v[s] = "source name"
	}
	for _, c := range contract.Columns() {
		v[c] = "column name"
	}
	for _, ns := range contract.Namespaces() {
		v[ns] = "pseudonym namespace"
	}
	for _, e := range append(contract.Ethnicity19(), contract.EthNotStated) {
		v[e] = "ethnicity code"
	}
	return v
}

// finding is one literal that spells the vocabulary.
type finding struct {
	pos  token.Position
	lit  string
	what string
}

func (f finding) String() string {
	return fmt.Sprintf("%s:%d: %q is a %s: use pipeline/contract's constant", f.pos.Filename, f.pos.Line, f.lit, f.what)
}

// scanFile parses one Go file and returns its string literals that spell
// a vocabulary word. Struct tags and import paths are not literals of
// interest: a tag names a JSON or Parquet field by the rules of its
// encoder, and cannot be a constant.
func scanFile(fset *token.FileSet, name string, src []byte, vocab map[string]string) ([]finding, error) {
	f, err := parser.ParseFile(fset, name, src, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	skip := map[*ast.BasicLit]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.Field:
			if n.Tag != nil {
				skip[n.Tag] = true
			}
		case *ast.ImportSpec:
			skip[n.Path] = true
		}
		return true
	})
	var out []finding
	ast.Inspect(f, func(n ast.Node) bool {
		lit, ok := n.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING || skip[lit] {
			return true
		}
		s, err := strconv.Unquote(lit.Value)
		if err != nil {
			return true
		}
		if what, ok := vocab[s]; ok {
			out = append(out, finding{fset.Position(lit.Pos()), s, what})
		}
		return true
	})
	return out, nil
}

// moduleRoot is the folder holding go.mod, two up from this package.
func moduleRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found: %v", err)
	}
	return root
}

// TestNoVocabularyLiterals is issue 22's acceptance: no non-test file
// outside this package defines a source name, column name, ethnicity code
// or namespace string; each is spelt once, here.
func TestNoVocabularyLiterals(t *testing.T) {
	root := moduleRoot(t)
	vocab := vocabulary()
	fset := token.NewFileSet()
	var found []finding
	used := map[[2]string]bool{}
	files := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			base := d.Name()
			if rel != "." && (strings.HasPrefix(base, ".") || strings.HasPrefix(base, "_") || base == "testdata" || base == "vendor") {
				return filepath.SkipDir
			}
			if rel == "pipeline/contract" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		fs, err := scanFile(fset, rel, src, vocab)
		if err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		for _, f := range fs {
			key := [2]string{rel, f.lit}
			if _, ok := unrelated[key]; ok {
				used[key] = true
				continue
			}
			found = append(found, f)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 50 {
		t.Fatalf("scanned only %d files under %s: is the walk wrong?", files, root)
	}
	sort.Slice(found, func(i, j int) bool {
		if found[i].pos.Filename != found[j].pos.Filename {
			return found[i].pos.Filename < found[j].pos.Filename
		}
		return found[i].pos.Line < found[j].pos.Line
	})
	for _, f := range found {
		t.Error(f)
	}
	// An exception that matches nothing is stale: drop it, so the list
	// stays as short as the code allows.
	for key, why := range unrelated {
		if !used[key] {
			t.Errorf("exception %s %q (%s) matches no literal: remove it", key[0], key[1], why)
		}
	}
}

// TestScanFile plants literals in small files and checks the matcher finds
// exactly the vocabulary ones, so TestNoVocabularyLiterals can fail.
func TestScanFile(t *testing.T) {
	vocab := vocabulary()
	tests := []struct {
		name string
		src  string
		want []string // literal@line
	}{
		{"source name in a call", "package p\nfunc f() { scan(\"persons\") }\n", []string{"persons@2"}},
		{"column in a map key", "package p\nvar m = map[string]int{\n\t\"lsoa_code\": 1,\n}\n", []string{"lsoa_code@3"}},
		{"ethnicity code in a switch", "package p\nfunc f(s string) bool {\n\tswitch s {\n\tcase \"WHITE_ROMA\":\n\t\treturn true\n\t}\n\treturn false\n}\n", []string{"WHITE_ROMA@4"}},
		{"not stated counts", "package p\nconst x = \"NOT_STATED\"\n", []string{"NOT_STATED@2"}},
		{"namespace in a raw string", "package p\nconst ns = `tenancy_ref`\n", []string{"tenancy_ref@2"}},
		{"several on one line", "package p\nvar s = []string{\"upn\", \"uprn\", \"other\"}\n", []string{"upn@2", "uprn@2"}},
		{"struct tag skipped", "package p\ntype T struct {\n\tID string `json:\"person_id\"`\n}\n", nil},
		{"tag value alone is skipped", "package p\ntype T struct {\n\tS string \"sex\"\n}\n", nil},
		{"import path skipped", "package p\nimport \"persons\"\nvar _ = persons.X\n", nil},
		{"longer strings pass", "package p\nvar s = \"person_id: %s\" + \"Persons\" + \"person\"\n", nil},
		{"comment passes", "package p\n// \"person_id\" in prose\nvar x = 1\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := scanFile(token.NewFileSet(), "planted.go", []byte(tt.src), vocab)
			if err != nil {
				t.Fatal(err)
			}
			var gotS []string
			for _, f := range got {
				gotS = append(gotS, fmt.Sprintf("%s@%d", f.lit, f.pos.Line))
			}
			if strings.Join(gotS, ",") != strings.Join(tt.want, ",") {
				t.Errorf("found %v, want %v", gotS, tt.want)
			}
		})
	}
}

// TestColumnsListsEveryConstant keeps Columns, which the scan reads, in step
// with the Col constants: a column added without it would escape the scan.
func TestColumnsListsEveryConstant(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "columns.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, c := range contract.Columns() {
		if listed[c] {
			t.Errorf("Columns lists %q twice", c)
		}
		listed[c] = true
	}
	n := 0
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			for i, name := range vs.Names {
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || !strings.HasPrefix(name.Name, "Col") {
					continue
				}
				n++
				v, _ := strconv.Unquote(lit.Value)
				if !listed[v] {
					t.Errorf("%s (%q) is missing from Columns", name.Name, v)
				}
			}
		}
	}
	if n != len(listed) {
		t.Errorf("columns.go declares %d Col constants, Columns lists %d", n, len(listed))
	}
}
