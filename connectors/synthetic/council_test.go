package synthetic

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The acceptance councils (20,000 children, 104 weeks) are generated once
// per test binary and per profile, into folders TestMain removes; every
// statistic is computed from the written CSV files.
var (
	councilMu   sync.Mutex
	councilDirs = map[string]*councilRun{}
	tempRoots   []string
)

type councilRun struct {
	once sync.Once
	dir  string
	sum  Summary
	err  error
}

const acceptanceChildren = 20000

func TestMain(m *testing.M) {
	code := m.Run()
	for _, d := range tempRoots {
		os.RemoveAll(d)
	}
	os.Exit(code)
}

// council returns the folder and summary of the profile's acceptance
// council, generating it on first use.
func council(t testing.TB, profile string) (string, Summary) {
	t.Helper()
	councilMu.Lock()
	run, ok := councilDirs[profile]
	if !ok {
		run = &councilRun{}
		councilDirs[profile] = run
	}
	councilMu.Unlock()
	run.once.Do(func() {
		dir, err := os.MkdirTemp("", "synth-"+profile+"-")
		if err != nil {
			run.err = err
			return
		}
		councilMu.Lock()
		tempRoots = append(tempRoots, dir)
		councilMu.Unlock()
		run.dir = dir
		run.sum, run.err = Generate(context.Background(), Config{
			Out: dir, Children: acceptanceChildren, Weeks: 104, Seed: 1, Profile: profile,
		})
	})
	if run.err != nil {
		t.Fatalf("generate the %s council: %v", profile, run.err)
	}
	return run.dir, run.sum
}

// eachRow calls fn with the fields of every data row of a CSV file the
// generator wrote (no quoting under defects none), skipping the header.
func eachRow(t testing.TB, path string, fn func(f []string)) {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	header := true
	var fields []string
	for sc.Scan() {
		line := sc.Bytes()
		if header {
			header = false
			continue
		}
		fields = fields[:0]
		for {
			i := bytes.IndexByte(line, ',')
			if i < 0 {
				fields = append(fields, string(line))
				break
			}
			fields = append(fields, string(line[:i]))
			line = line[i+1:]
		}
		fn(fields)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// eachRowBytes is eachRow without allocating: the fields are only valid
// during the call.
func eachRowBytes(t testing.TB, path string, fn func(f [][]byte)) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var fields [][]byte
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[i+1:]
	}
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			i = len(b)
		}
		line := b[:i]
		b = b[min(i+1, len(b)):]
		fields = fields[:0]
		for {
			j := bytes.IndexByte(line, ',')
			if j < 0 {
				fields = append(fields, line)
				break
			}
			fields = append(fields, line[:j])
			line = line[j+1:]
		}
		fn(fields)
	}
}

// headerAndRows returns a CSV file's header and its number of data rows.
func headerAndRows(t testing.TB, path string) ([]string, int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		t.Fatalf("%s: no header line", path)
	}
	return strings.Split(string(b[:i]), ","), int64(bytes.Count(b[i+1:], []byte{'\n'}))
}

// sourceFiles lists the files of a source folder matching a glob.
func sourceFiles(t testing.TB, dir, source, glob string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "incoming", source, glob))
	if err != nil || len(files) == 0 {
		t.Fatalf("no %s files in %s (%v)", source, dir, err)
	}
	return files
}

// group5 maps an ONS 2021 code to its five-group name ("" for NOT_STATED).
func group5(code string) string {
	switch {
	case code == "NOT_STATED":
		return ""
	case strings.HasPrefix(code, "ASIAN"):
		return "Asian"
	case strings.HasPrefix(code, "BLACK"):
		return "Black"
	case strings.HasPrefix(code, "MIXED"):
		return "Mixed"
	case strings.HasPrefix(code, "WHITE"):
		return "White"
	}
	return "Other"
}

// people is what the acceptance statistics need to know about persons.
type people struct {
	dob      map[string]time.Time // person_id → date of birth
	eth      map[string]string    // person_id → five-group
	decile   map[string]string    // person_id → IMD decile at End (truth)
	byUPN    map[string]string    // upn → person_id
	byNHS    map[string]string    // nhs_number → person_id
	children map[string]bool      // persons with a child role
	spells   []spell              // households.csv
}

type spell struct {
	household, person, role string
	from, to                time.Time
}

func loadPeople(t testing.TB, dir string) *people {
	t.Helper()
	p := &people{
		dob: map[string]time.Time{}, eth: map[string]string{}, decile: map[string]string{},
		byUPN: map[string]string{}, byNHS: map[string]string{}, children: map[string]bool{},
	}
	eachRow(t, filepath.Join(dir, "incoming/persons/persons.csv"), func(f []string) {
		p.dob[f[0]] = parseDate(t, f[3])
		p.eth[f[0]] = group5(f[5])
		if f[1] != "" {
			p.byUPN[f[1]] = f[0]
		}
		p.byNHS[f[2]] = f[0]
	})
	eachRow(t, filepath.Join(dir, truthPersonsFile), func(f []string) { p.decile[f[0]] = f[3] })
	far := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	eachRow(t, filepath.Join(dir, "incoming/households/households.csv"), func(f []string) {
		s := spell{household: f[0], person: f[1], role: f[2], from: parseDate(t, f[6]), to: far}
		if f[7] != "" {
			s.to = parseDate(t, f[7])
		}
		p.spells = append(p.spells, s)
		if f[2] == "child" {
			p.children[f[1]] = true
		}
	})
	return p
}

// childOn reports whether person id is a child (born, under 18) on d.
func (p *people) childOn(id string, d time.Time) bool {
	dob, ok := p.dob[id]
	return ok && !dob.After(d) && d.Before(dob.AddDate(18, 0, 0))
}

// householdsOn maps each person to their household on d, and each
// household to its children on d.
func (p *people) householdsOn(d time.Time) (map[string]string, map[string]int) {
	hh, kids := map[string]string{}, map[string]int{}
	for _, s := range p.spells {
		if s.from.After(d) || s.to.Before(d) {
			continue
		}
		hh[s.person] = s.household
		if s.role == "child" && p.childOn(s.person, d) {
			kids[s.household]++
		}
	}
	return hh, kids
}

// inRange reports a statistic and fails when it is outside [lo, hi].
func inRange(t *testing.T, name string, got, lo, hi float64) {
	t.Helper()
	t.Logf("%-42s %8.3f  (target %g–%g)", name, got, lo, hi)
	if !(got >= lo && got <= hi) {
		t.Errorf("%s = %.3f; want %g–%g", name, got, lo, hi)
	}
}

func pct(n, d int) float64 {
	if d == 0 {
		return 0
	}
	return 100 * float64(n) / float64(d)
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func fmtDate(d time.Time) string { return fmt.Sprint(d.Format(time.DateOnly)) }
