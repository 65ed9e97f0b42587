package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// maxCapabilityChecks bounds the runtime capability checks of the module
// (issue 22): what every run needs belongs in the interface the consumer
// takes, where the compiler checks it. The few checks left are pure
// speed-ups, each with a test that its fallback gives the same result.
const maxCapabilityChecks = 5

// speedUpNote is the comment a remaining check carries in the three lines
// above it: that it is a speed-up, and the test of its fallback.
var speedUpNote = regexp.MustCompile(`(?i:speed-up)\b.*\b(?i:fallback)\b.*?\b(Test[A-Z0-9_]\w*)`)

// TestCapabilityChecks lists every type assertion in the module's non-test
// Go files to an interface the module defines (x.(T), x.(pkg.T), or a case
// of a type switch), and fails when there are more than
// maxCapabilityChecks or when one lacks its speed-up note or names a
// fallback test that does not exist. Assertions to the standard library's
// or a dependency's interfaces (json.Marshaler, io.ReadSeeker, Arrow's
// arrays) and to interface literals are not the project's capabilities;
// the literals are logged, so a reader sees them.
func TestCapabilityChecks(t *testing.T) {
	root, module := moduleRoot(t)
	m := parseModule(t, root, module)
	checks, literals := m.capabilityChecks()
	for _, c := range literals {
		t.Logf("not counted (interface literal): %s: %s", c.pos, c.typ)
	}
	var undocumented int
	for _, c := range checks {
		switch {
		case c.test == "":
			undocumented++
			t.Errorf("%s: .(%s) has no \"speed-up; fallback tested by TestX\" comment in the 3 lines above it", c.pos, c.typ)
		case !m.tests[c.test]:
			t.Errorf("%s: .(%s) names fallback test %s, which no _test.go file of the module defines", c.pos, c.typ, c.test)
		default:
			t.Logf("%s: .(%s): speed-up, fallback tested by %s", c.pos, c.typ, c.test)
		}
	}
	if len(checks) > maxCapabilityChecks {
		var list strings.Builder
		for _, c := range checks {
			list.WriteString("\n\t" + c.pos + ": .(" + c.typ + ")")
		}
		t.Errorf("%d runtime capability checks (%d without a speed-up note); want at most %d:%s",
			len(checks), undocumented, maxCapabilityChecks, list.String())
	}
	// A walk that missed the module would pass vacuously.
	if !m.interfaces[module+"/pipeline"]["Sink"] || !m.interfaces[module+"/features"]["Builder"] || !m.tests[t.Name()] {
		t.Fatalf("the walk of %s did not find pipeline.Sink, features.Builder and this test", root)
	}
}

// TestCapabilityCheckFinder runs the finder over a small module of its
// own, so its rules (what counts, what does not, what a note must say)
// are pinned apart from the state of the real code.
func TestCapabilityCheckFinder(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"go.mod": "module demo\n\ngo 1.26\n",
		"a/a.go": `package a

type Sink interface{ Emit() }
type Known interface{ Known() bool }
type Alias = Known
type Named Known
type Struct struct{}

func F[T any](x any, s Sink) {
	_, _ = x.(Sink)
	// speed-up; fallback tested by TestKnownFallback
	_, _ = s.(Known)
	_, _ = x.(Struct)
	_, _ = x.(T)
	_, _ = x.(interface{ Emit() })
	_, _ = x.(Alias)
	_ = x.(Named)
	switch x.(type) {
	case Struct, Sink:
	}
}

type T interface{ Tee() }
`,
		"a/a_test.go": `package a

import "testing"

type Hidden interface{ H() }

func TestKnownFallback(t *testing.T) {}
`,
		"b/b.go": `package b

import (
	"encoding/json"
	"io"

	aa "demo/a"
)

func G(x any) {
	_, _ = x.(aa.Sink)
	_, _ = x.(json.Marshaler)
	_, _ = x.(io.Reader)
	// A speed-up; fallback tested by TestMissing (which does not exist).
	_, _ = x.(aa.Known)
}
`,
		"a/testdata/t.go": "package t\n\ntype I interface{}\n\nfunc f(x any) { _ = x.(I) }\n",
	}
	for name, src := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m := parseModule(t, root, "demo")
	checks, literals := m.capabilityChecks()
	var got []string
	for _, c := range checks {
		got = append(got, c.pos+" "+c.typ+" "+c.test)
	}
	want := []string{
		"a/a.go:10 Sink ",
		"a/a.go:12 Known TestKnownFallback",
		"a/a.go:16 Alias ",
		"a/a.go:17 Named ",
		"a/a.go:19 Sink ",
		"b/b.go:11 aa.Sink ",
		"b/b.go:15 aa.Known TestMissing",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("checks found:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(literals) != 1 || literals[0].pos != "a/a.go:15" {
		t.Errorf("interface literals found: %+v; want the one at a/a.go:15", literals)
	}
	if !m.tests["TestKnownFallback"] || m.tests["TestMissing"] {
		t.Errorf("tests found: %v; want TestKnownFallback and not TestMissing", m.tests)
	}
}

// check is one type assertion to a module interface.
type check struct {
	pos  string // file:line, the file relative to the module root
	typ  string // as written: Name or pkg.Name
	test string // the fallback test its note names, or ""
}

// module is what the finder knows of the module's Go files.
type module struct {
	path       string
	fset       *token.FileSet
	files      []parsedFile                  // non-test files
	names      map[string]string             // import path → package name
	interfaces map[string]map[string]bool    // import path → interface type names
	defs       map[string]map[string]typeDef // import path → every type declaration
	tests      map[string]bool               // Test functions of _test.go files
}

// typeDef is a declared type and the file it is declared in.
type typeDef struct {
	typ  ast.Expr
	file *ast.File
}

type parsedFile struct {
	rel  string // slash-separated, relative to the module root
	pkg  string // import path
	file *ast.File
}

// moduleRoot walks up from the test's folder to go.mod.
func moduleRoot(t *testing.T) (root, modulePath string) {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				if f := strings.Fields(line); len(f) == 2 && f[0] == "module" {
					return dir, f[1]
				}
			}
			t.Fatalf("%s/go.mod names no module", dir)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's folder")
		}
		dir = parent
	}
}

// parseModule parses every Go file of the module under root, as the go
// tool sees it: folders named testdata or starting with . or _, and nested
// modules, are not part of it.
func parseModule(t *testing.T, root, modulePath string) *module {
	t.Helper()
	m := &module{path: modulePath, fset: token.NewFileSet(), names: map[string]string{},
		interfaces: map[string]map[string]bool{}, defs: map[string]map[string]typeDef{}, tests: map[string]bool{}}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if p != root && (name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(p, "go.mod")); p != root && err == nil {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		f, err := parser.ParseFile(m.fset, p, nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		if strings.HasSuffix(p, "_test.go") {
			for _, d := range f.Decls {
				if fn, ok := d.(*ast.FuncDecl); ok && fn.Recv == nil && strings.HasPrefix(fn.Name.Name, "Test") {
					m.tests[fn.Name.Name] = true
				}
			}
			return nil
		}
		pkg := modulePath
		if dir := path.Dir(rel); dir != "." {
			pkg += "/" + dir
		}
		m.names[pkg] = f.Name.Name
		m.files = append(m.files, parsedFile{rel: rel, pkg: pkg, file: f})
		ast.Inspect(f, func(n ast.Node) bool {
			if ts, ok := n.(*ast.TypeSpec); ok {
				if m.defs[pkg] == nil {
					m.defs[pkg] = map[string]typeDef{}
				}
				m.defs[pkg][ts.Name.Name] = typeDef{typ: ts.Type, file: f}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatalf("walking %s: %v", root, err)
	}
	m.resolveInterfaces()
	return m
}

// resolveInterfaces marks every declared type whose underlying type is an
// interface: a literal interface type, or a name (or alias) of one.
func (m *module) resolveInterfaces() {
	imports := map[*ast.File]map[string]string{}
	for pkg, defs := range m.defs {
		for name, d := range defs {
			if _, ok := d.typ.(*ast.InterfaceType); ok {
				m.mark(pkg, name)
			}
			if imports[d.file] == nil {
				imports[d.file] = m.importsOf(d.file)
			}
		}
	}
	for changed := true; changed; {
		changed = false
		for pkg, defs := range m.defs {
			for name, d := range defs {
				if m.interfaces[pkg][name] {
					continue
				}
				if target, tname, ok := m.refersTo(pkg, imports[d.file], d.typ); ok && m.interfaces[target][tname] {
					m.mark(pkg, name)
					changed = true
				}
			}
		}
	}
}

func (m *module) mark(pkg, name string) {
	if m.interfaces[pkg] == nil {
		m.interfaces[pkg] = map[string]bool{}
	}
	m.interfaces[pkg][name] = true
}

// refersTo resolves a type expression written in pkg (imports mapping
// the file's local package names to import paths) to the module type it
// names. ok is false for anything else: a literal, a pointer, a type of
// another module or of the standard library.
func (m *module) refersTo(pkg string, imports map[string]string, e ast.Expr) (target, name string, ok bool) {
	switch x := e.(type) {
	case *ast.ParenExpr:
		return m.refersTo(pkg, imports, x.X)
	case *ast.IndexExpr: // an instantiated generic type
		return m.refersTo(pkg, imports, x.X)
	case *ast.IndexListExpr:
		return m.refersTo(pkg, imports, x.X)
	case *ast.Ident:
		return pkg, x.Name, true
	case *ast.SelectorExpr:
		id, isIdent := x.X.(*ast.Ident)
		if !isIdent {
			return "", "", false
		}
		imp, known := imports[id.Name]
		if !known || imp != m.path && !strings.HasPrefix(imp, m.path+"/") {
			return "", "", false
		}
		return imp, x.Sel.Name, true
	}
	return "", "", false
}

// capabilityChecks finds, in file order, the type assertions to module
// interfaces, and apart from them those to interface literals.
func (m *module) capabilityChecks() (checks, literals []check) {
	sort.Slice(m.files, func(i, j int) bool { return m.files[i].rel < m.files[j].rel })
	for _, pf := range m.files {
		imports := m.importsOf(pf.file)
		notes := m.notes(pf.file)
		var scope []map[string]bool // type parameters of the enclosing functions
		consider := func(e ast.Expr) {
			if it, ok := e.(*ast.InterfaceType); ok {
				literals = append(literals, check{pos: m.pos(pf, it.Pos()), typ: types(it)})
				return
			}
			target, name, ok := m.refersTo(pf.pkg, imports, e)
			if !ok || !m.interfaces[target][name] {
				return
			}
			if id, isIdent := e.(*ast.Ident); isIdent {
				for _, tp := range scope {
					if tp[id.Name] {
						return // a type parameter, not the package's type
					}
				}
			}
			line := m.fset.Position(e.Pos()).Line
			c := check{pos: pf.rel + ":" + strconv.Itoa(line), typ: types(e)}
			if sm := speedUpNote.FindStringSubmatch(notes.above(line)); sm != nil {
				c.test = sm[1]
			}
			checks = append(checks, c)
		}
		var visit func(n ast.Node) bool
		visit = func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.FuncDecl:
				tp := typeParams(x)
				scope = append(scope, tp)
				if x.Body != nil {
					ast.Inspect(x.Body, visit)
				}
				scope = scope[:len(scope)-1]
				return false
			case *ast.TypeAssertExpr:
				if x.Type != nil { // x.(type) is a switch's, below
					consider(x.Type)
				}
			case *ast.TypeSwitchStmt:
				for _, s := range x.Body.List {
					for _, e := range s.(*ast.CaseClause).List {
						consider(e)
					}
				}
			}
			return true
		}
		for _, d := range pf.file.Decls {
			ast.Inspect(d, visit)
		}
	}
	return checks, literals
}

// importsOf maps a file's local package names to import paths.
func (m *module) importsOf(f *ast.File) map[string]string {
	out := map[string]string{}
	for _, is := range f.Imports {
		p, err := strconv.Unquote(is.Path.Value)
		if err != nil {
			continue
		}
		name := path.Base(p)
		if n, ok := m.names[p]; ok {
			name = n
		}
		if is.Name != nil {
			name = is.Name.Name
		}
		out[name] = p
	}
	return out
}

// typeParams are the type parameters of a function or of its receiver.
func typeParams(fn *ast.FuncDecl) map[string]bool {
	out := map[string]bool{}
	if fn.Type.TypeParams != nil {
		for _, f := range fn.Type.TypeParams.List {
			for _, n := range f.Names {
				out[n.Name] = true
			}
		}
	}
	if fn.Recv != nil && len(fn.Recv.List) == 1 {
		r := fn.Recv.List[0].Type
		if s, ok := r.(*ast.StarExpr); ok {
			r = s.X
		}
		var idx []ast.Expr
		switch x := r.(type) {
		case *ast.IndexExpr:
			idx = []ast.Expr{x.Index}
		case *ast.IndexListExpr:
			idx = x.Indices
		}
		for _, e := range idx {
			if id, ok := e.(*ast.Ident); ok {
				out[id.Name] = true
			}
		}
	}
	return out
}

// lineNotes are a file's comment text by line.
type lineNotes map[int]string

func (m *module) notes(f *ast.File) lineNotes {
	out := lineNotes{}
	for _, g := range f.Comments {
		for _, c := range g.List {
			line := m.fset.Position(c.Slash).Line
			out[line] += " " + strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(c.Text, "//"), "/*"))
		}
	}
	return out
}

// above is the comment text of the three lines above line, and of line
// itself, in order.
func (n lineNotes) above(line int) string {
	var b strings.Builder
	for l := line - 3; l <= line; l++ {
		b.WriteString(n[l])
	}
	return b.String()
}

func (m *module) pos(pf parsedFile, p token.Pos) string {
	return pf.rel + ":" + strconv.Itoa(m.fset.Position(p).Line)
}

// types writes a type expression as the source has it.
func types(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.Ident:
		return x.Name
	case *ast.SelectorExpr:
		return types(x.X) + "." + x.Sel.Name
	case *ast.IndexExpr:
		return types(x.X) + "[…]"
	case *ast.IndexListExpr:
		return types(x.X) + "[…]"
	case *ast.ParenExpr:
		return types(x.X)
	case *ast.InterfaceType:
		return "interface{…}"
	}
	return "?"
}
