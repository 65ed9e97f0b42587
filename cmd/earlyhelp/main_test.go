package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/ipc"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/rs/zerolog"

	"earlyhelp/pipeline"
	"earlyhelp/pipeline/config"
)

// demo runs one small demo per test binary and shares it: a synthetic
// council is a few seconds' work.
var demoDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "earlyhelp-demo-test-*")
	if err != nil {
		panic(err)
	}
	demoDir = filepath.Join(dir, "demo")
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

var demoOnce struct {
	done   bool
	code   int
	stdout string
	stderr string
}

// smallDemo runs `earlyhelp demo` on a small council once.
func smallDemo(t *testing.T) string {
	t.Helper()
	if !demoOnce.done {
		demoOnce.done = true
		demoOnce.code, demoOnce.stdout, demoOnce.stderr = runCLI(t, "demo", "--children", "1500", "--dir", demoDir, "--log-format", "json")
	}
	if demoOnce.code != 0 {
		t.Fatalf("demo exit %d\nstdout:\n%s\nstderr:\n%s", demoOnce.code, demoOnce.stdout, demoOnce.stderr)
	}
	return demoOnce.stdout
}

func latestRun(t *testing.T) (string, *pipeline.Manifest) {
	t.Helper()
	runs, _ := filepath.Glob(filepath.Join(demoDir, "var", "runs", "*"))
	if len(runs) != 1 {
		t.Fatalf("found %d runs; want 1", len(runs))
	}
	b, err := os.ReadFile(filepath.Join(runs[0], "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m pipeline.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return runs[0], &m
}

func TestDemoSummaryAndOutputs(t *testing.T) {
	out := smallDemo(t)
	for _, want := range []string{"source", "attendance_sessions", "quarantined", "backtest", "AUC", "list:", "fairness", "manifest", "navigator_list.csv"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	dir, m := latestRun(t)
	if m.Status != "succeeded" {
		t.Fatalf("status %q: %s", m.Status, m.Error)
	}
	for _, rel := range []string{"manifest.json", "metrics.prom", "features.parquet", "scores.parquet", "list/navigator_list.csv", "list/navigator_list.html", "model/model.json", "backtest/backtest.json", "backtest/metrics.csv", "evaluation/scored_children.csv", "model/model_card.json", "model/model_card.md"} {
		if _, err := os.Stat(filepath.Join(dir, rel)); err != nil {
			t.Errorf("missing output %s", rel)
		}
	}
	// The manifest lists each file once, however often a stage rewrote it
	// (the model card is written three times), and only files that exist.
	listed := map[string]bool{}
	for _, rel := range m.Outputs {
		if listed[rel] {
			t.Errorf("manifest lists %s twice", rel)
		}
		listed[rel] = true
		if _, err := os.Stat(filepath.Join(dir, rel)); err != nil {
			t.Errorf("manifest lists %s, which is not there", rel)
		}
	}
	f, err := os.Open(filepath.Join(dir, "list", "navigator_list.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 2 || len(rows)-1 > m.List.Capacity || len(rows)-1 != m.List.Households {
		t.Errorf("list has %d rows; manifest says %d of capacity %d", len(rows)-1, m.List.Households, m.List.Capacity)
	}
	if rows[0][1] != "household_ref" || !strings.HasPrefix(rows[1][1], "H") {
		t.Errorf("list does not carry the council's household ids: %v", rows[1])
	}
	if m.Model == nil || m.Model.ID == "" || len(m.Model.Features) == 0 {
		t.Errorf("manifest model = %+v", m.Model)
	}
	for _, f := range m.Model.Features {
		if strings.Contains(f, "ethnic") {
			t.Errorf("ethnicity is a model input: %s", f)
		}
	}
	card, err := os.ReadFile(filepath.Join(dir, "model", "model_card.json"))
	if err != nil {
		t.Fatal(err)
	}
	var mc pipeline.ModelCard
	if err := json.Unmarshal(card, &mc); err != nil {
		t.Fatalf("model card: %v", err)
	}
	if mc.ModelID != m.Model.ID || len(mc.Features) != len(m.Model.Features) || mc.Backtest[m.Model.Kind].N == 0 {
		t.Errorf("model card does not describe the run's model: %+v", mc)
	}
}

// TestBooksBalance checks rows read = loaded + quarantined for every source,
// in the manifest and in metrics.prom.
func TestBooksBalance(t *testing.T) {
	smallDemo(t)
	dir, m := latestRun(t)
	prom, err := os.ReadFile(filepath.Join(dir, "metrics.prom"))
	if err != nil {
		t.Fatal(err)
	}
	metric := func(name, source string) float64 {
		var sum float64
		re := regexp.MustCompile(`(?m)^` + name + `\{([^}]*)\} (\S+)$`)
		for _, mm := range re.FindAllStringSubmatch(string(prom), -1) {
			if strings.Contains(mm[1], `source="`+source+`"`) {
				var v float64
				json.Unmarshal([]byte(mm[2]), &v)
				sum += v
			}
		}
		return sum
	}
	if want := len(synthSources(demoDir)); len(m.Sources) != want || want < 5 {
		t.Errorf("manifest has %d sources; the council wrote %d", len(m.Sources), want)
	}
	quarantined := int64(0)
	for name, s := range m.Sources {
		if s.Read == 0 || s.Read != s.Loaded+s.Quarantined {
			t.Errorf("%s: read %d, loaded %d, quarantined %d", name, s.Read, s.Loaded, s.Quarantined)
		}
		var byReason int64
		for _, n := range s.ByReason {
			byReason += n
		}
		if byReason != s.Quarantined {
			t.Errorf("%s: reasons add to %d, quarantined %d", name, byReason, s.Quarantined)
		}
		quarantined += s.Quarantined
		for _, c := range []struct {
			metric string
			want   int64
		}{
			{"earlyhelp_rows_read_total", s.Read},
			{"earlyhelp_rows_loaded_total", s.Loaded},
			{"earlyhelp_rows_quarantined_total", s.Quarantined},
		} {
			if got := metric(c.metric, name); got != float64(c.want) {
				t.Errorf("%s{source=%q} = %v; manifest says %d", c.metric, name, got, c.want)
			}
		}
		if s.Quarantined > 0 {
			qf := filepath.Join(dir, "quarantine", name+".csv")
			if n := countLines(t, qf) - 1; int64(n) != s.Quarantined {
				t.Errorf("%s: quarantine file has %d rows; manifest says %d", name, n, s.Quarantined)
			}
		}
	}
	if quarantined == 0 {
		t.Error("the demo's defects quarantined nothing")
	}
}

func countLines(t *testing.T, path string) int {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	n := 0
	for {
		_, err := r.Read()
		if err == io.EOF {
			return n
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
}

var upnPattern = regexp.MustCompile(`\b[A-HJ-NP-RT-Z][0-9]{11}[0-9A-HJ-NP-RT-Z]\b`)

// TestNoRawIdentifiersDownstream collects every UPN and NHS number of the
// input extracts and looks for each in every file of the store and the run
// folders: in the bytes of every file, and in the decoded strings of every
// Arrow IPC file (which are compressed on disk, so a byte scan alone would
// prove nothing).
func TestNoRawIdentifiersDownstream(t *testing.T) {
	smallDemo(t)
	raw := map[string]bool{}
	collect := func(path string, cols ...string) {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		r := csv.NewReader(bufio.NewReader(f))
		r.FieldsPerRecord = -1
		header, err := r.Read()
		if err != nil {
			t.Fatal(err)
		}
		idx := []int{}
		for i, h := range header {
			h = strings.TrimPrefix(strings.TrimSpace(h), "\ufeff")
			for _, c := range cols {
				if h == c {
					idx = append(idx, i)
				}
			}
		}
		for {
			rec, err := r.Read()
			if err == io.EOF {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, i := range idx {
				if i < len(rec) && len(rec[i]) >= 10 {
					raw[rec[i]] = true
				}
			}
		}
	}
	persons, _ := filepath.Glob(filepath.Join(demoDir, "incoming", "persons", "*.csv"))
	att, _ := filepath.Glob(filepath.Join(demoDir, "incoming", "attendance_sessions", "*.csv"))
	for _, p := range persons {
		collect(p, "upn", "nhs_number")
	}
	for _, p := range att {
		collect(p, "upn")
	}
	if len(raw) < 1000 {
		t.Fatalf("collected only %d identifiers from the input", len(raw))
	}
	var files, arrowFiles int
	err := filepath.WalkDir(filepath.Join(demoDir, "var"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range upnPattern.FindAll(b, -1) {
			if raw[string(m)] {
				t.Errorf("%s holds a raw UPN", path)
				break
			}
		}
		for _, m := range regexp.MustCompile(`\b[0-9]{10}\b`).FindAll(b, -1) {
			if raw[string(m)] {
				t.Errorf("%s holds a raw NHS number", path)
				break
			}
		}
		if strings.HasSuffix(path, ".arrow") {
			arrowFiles++
			scanArrow(t, path, raw)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if arrowFiles < 5 {
		t.Errorf("scanned %d Arrow files of %d; want the whole store", arrowFiles, files)
	}
}

func scanArrow(t *testing.T, path string, raw map[string]bool) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	r, err := ipc.NewFileReader(f, ipc.WithAllocator(mem))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer r.Close()
	for i := 0; i < r.NumRecords(); i++ {
		rec, err := r.Record(i)
		if err != nil {
			t.Fatal(err)
		}
		for c := 0; c < int(rec.NumCols()); c++ {
			if rec.Column(c).DataType().ID() != arrow.STRING {
				continue
			}
			col := rec.Column(c).(*array.String)
			for j := 0; j < col.Len(); j++ {
				if raw[col.Value(j)] {
					t.Fatalf("%s column %s holds a raw identifier", path, rec.Schema().Field(c).Name)
				}
			}
		}
	}
}

// TestErrors checks that bad input gives one readable line and the right
// exit code, never a panic.
func TestErrors(t *testing.T) {
	smallDemo(t)
	base, err := os.ReadFile(filepath.Join(demoDir, "earlyhelp.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		config  string                 // replaces the demo's config text
		prepare func(dir string) error // makes the inputs bad
		code    int
		want    string
	}{
		{
			name:   "unknown key",
			config: string(base) + "colour: blue\n",
			code:   exitUsage, want: "earlyhelp.yaml:",
		},
		{
			name:   "missing source folder",
			config: strings.Replace(string(base), "./incoming/persons", "./incoming/nowhere", 1),
			code:   exitFailed, want: "nowhere",
		},
		{
			name: "unreadable file",
			prepare: func(dir string) error {
				return os.WriteFile(filepath.Join(dir, "incoming", "persons", "persons_late.csv.gz"), []byte("not gzip at all"), 0o644)
			},
			code: exitFailed, want: "persons_late.csv.gz",
		},
		{
			name:   "quarantine past tolerance",
			config: strings.Replace(string(base), "max_quarantine_ratio: 0.05", "max_quarantine_ratio: 0.000001", 1),
			code:   exitTolerance, want: "max_quarantine_ratio",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := copyInputs(demoDir, dir); err != nil {
				t.Fatal(err)
			}
			cfg := string(base)
			if tc.config != "" {
				cfg = tc.config
			}
			if err := os.WriteFile(filepath.Join(dir, "earlyhelp.yaml"), []byte(cfg), 0o644); err != nil {
				t.Fatal(err)
			}
			if tc.prepare != nil {
				if err := tc.prepare(dir); err != nil {
					t.Fatal(err)
				}
			}
			for _, cmd := range []string{"run", "validate"} {
				if cmd == "validate" && tc.code == exitTolerance {
					continue // validate reports counts; tolerance is a run's judgement
				}
				args := []string{cmd, "--config", filepath.Join(dir, "earlyhelp.yaml")}
				if cmd == "run" {
					args = append(args, "--as-of", "2026-07-20", "--log-level", "error")
				}
				code, _, stderr := runCLI(t, args...)
				lines := strings.Split(strings.TrimSpace(stderr), "\n")
				last := lines[len(lines)-1]
				if code != tc.code {
					t.Errorf("%s: exit %d; want %d (stderr %q)", cmd, code, tc.code, stderr)
				}
				if !strings.HasPrefix(last, "earlyhelp "+cmd+": ") || !strings.Contains(last, tc.want) {
					t.Errorf("%s: last stderr line %q; want one line naming %q", cmd, last, tc.want)
				}
				if strings.Contains(stderr, "panic") || strings.Contains(stderr, "goroutine") {
					t.Errorf("%s panicked: %s", cmd, stderr)
				}
			}
			// A failed run leaves a failed manifest and no list.
			runs, _ := filepath.Glob(filepath.Join(dir, "var", "runs", "*"))
			for _, r := range runs {
				b, _ := os.ReadFile(filepath.Join(r, "manifest.json"))
				var m pipeline.Manifest
				json.Unmarshal(b, &m)
				if m.Status != "failed" || m.Error == "" {
					t.Errorf("run %s: status %q error %q; want failed with a reason", filepath.Base(r), m.Status, m.Error)
				}
				if _, err := os.Stat(filepath.Join(r, "list", "navigator_list.csv")); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("failed run %s left a list", filepath.Base(r))
				}
			}
		})
	}
}

// copyInputs copies the demo's extracts and key (not its var/) to dst.
func copyInputs(src, dst string) error {
	for _, sub := range []string{"incoming", "secrets"} {
		err := filepath.WalkDir(filepath.Join(src, sub), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(src, path)
			if d.IsDir() {
				return os.MkdirAll(filepath.Join(dst, rel), 0o755)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dst, rel), b, 0o600)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func TestUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"help"}, 0, "demo"},
		{[]string{"frobnicate"}, exitUsage, "unknown command"},
		{[]string{"run"}, exitUsage, "--config is required"},
		{[]string{"run", "--config", "x.yaml", "--as-of", "yesterday"}, exitUsage, "--as-of"},
		{[]string{"synth"}, exitUsage, "--out is required"},
		{[]string{"synth", "--out", "x", "--children", "3"}, exitUsage, "children"},
		{[]string{"validate", "--config", "/nonexistent/earlyhelp.yaml"}, exitUsage, "no such file"},
		{[]string{"serve"}, exitUsage, "--config is required"},
		{[]string{"serve", "--config", "/nonexistent/earlyhelp.yaml"}, exitUsage, "no such file"},
		// Only commands that write a profile take --cpuprofile.
		{[]string{"serve", "--cpuprofile", "cpu.prof"}, exitUsage, "cpuprofile"},
		{[]string{"serve", "--memprofile", "mem.prof"}, exitUsage, "memprofile"},
	}
	for _, tc := range tests {
		code, stdout, stderr := runCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(stdout+stderr, tc.want) {
			t.Errorf("%v: exit %d, output %q; want exit %d mentioning %q", tc.args, code, stdout+stderr, tc.code, tc.want)
		}
	}
	// Help lists exactly what this build can do.
	_, stdout, _ := runCLI(t, "help")
	can := map[string]bool{}
	for _, c := range commands() {
		can[c.name] = true
		if !strings.Contains(stdout, "  "+c.name+" ") {
			t.Errorf("help does not list %q", c.name)
		}
	}
	for _, line := range strings.Split(stdout, "\n") {
		if f := strings.Fields(line); strings.HasPrefix(line, "  ") && len(f) > 0 && !can[f[0]] {
			t.Errorf("help lists %q, which this build cannot do", f[0])
		}
	}
}

// TestCPUProfile: a command that takes --cpuprofile and --memprofile
// writes both profiles (gzipped pprof protobufs). ingest once took the
// flag and wrote nothing.
func TestCPUProfile(t *testing.T) {
	dir := t.TempDir()
	if code, _, stderr := runCLI(t, "synth", "--out", dir, "--children", "200"); code != 0 {
		t.Fatalf("synth: %s", stderr)
	}
	for _, args := range [][]string{
		{"ingest", "--config", filepath.Join(dir, "earlyhelp.yaml")},
	} {
		prof := filepath.Join(t.TempDir(), "cpu.prof")
		mem := filepath.Join(t.TempDir(), "mem.prof")
		args = append(args, "--log-level", "warn", "--cpuprofile", prof, "--memprofile", mem)
		if code, _, stderr := runCLI(t, args...); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		for flag, path := range map[string]string{"--cpuprofile": prof, "--memprofile": mem} {
			b, err := os.ReadFile(path)
			if err != nil || len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
				t.Errorf("%s %s wrote no gzipped profile (%d bytes, %v)", args[0], flag, len(b), err)
			}
		}
	}
}

// TestRunReleasesArrowMemory runs the whole pipeline on a fresh copy of the
// demo's extracts with a checked allocator: every Arrow buffer a stage
// allocates must be released by the end of the run.
func TestRunReleasesArrowMemory(t *testing.T) {
	smallDemo(t)
	dir := t.TempDir()
	if err := copyInputs(demoDir, dir); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(demoDir, "earlyhelp.yaml"))
	cfgPath := filepath.Join(dir, "earlyhelp.yaml")
	os.WriteFile(cfgPath, b, 0o644)
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	setup, err := setupRun(cfg, time.Date(2026, 7, 20, 0, 0, 0, 0, time.UTC), zerolog.Nop(), time.Now, mem)
	if err != nil {
		t.Fatal(err)
	}
	man, err := setup.run(context.Background())
	setup.unlock()
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if man.Status != "succeeded" || man.Sources["attendance_sessions"].Loaded == 0 {
		t.Fatalf("run status %s, attendance loaded %d", man.Status, man.Sources["attendance_sessions"].Loaded)
	}
	mem.AssertSize(t, 0)
}

// TestSecondWeekList runs two weekly lists a week apart: the second knows
// which households continue from the first, and the manifest reports the
// churn.
func TestSecondWeekList(t *testing.T) {
	if testing.Short() {
		t.Skip("two full runs")
	}
	dir := t.TempDir()
	if code, _, stderr := runCLI(t, "synth", "--out", dir, "--children", "1500", "--seed", "5"); code != 0 {
		t.Fatalf("synth: %s", stderr)
	}
	cfg := filepath.Join(dir, "earlyhelp.yaml")
	var mans []pipeline.Manifest
	for _, asOf := range []string{"2026-07-20", "2026-07-27"} {
		code, _, stderr := runCLI(t, "run", "--config", cfg, "--as-of", asOf, "--log-level", "warn")
		if code != 0 {
			t.Fatalf("run as of %s: exit %d: %s", asOf, code, stderr)
		}
		runs, _ := filepath.Glob(filepath.Join(dir, "var", "runs", "*"))
		sort.Strings(runs)
		b, err := os.ReadFile(filepath.Join(runs[len(runs)-1], "manifest.json"))
		if err != nil {
			t.Fatal(err)
		}
		var m pipeline.Manifest
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		mans = append(mans, m)
		// Run ids have one-second resolution.
		time.Sleep(1100 * time.Millisecond)
	}
	first, second := mans[0].List, mans[1].List
	if first.Statuses["new"] != first.Households || first.Churn != 1 {
		t.Errorf("first list: statuses %v, churn %v; want all new", first.Statuses, first.Churn)
	}
	if second.PreviousAsOf != "2026-07-20" || second.Statuses["continuing"] == 0 || second.Churn >= 1 {
		t.Errorf("second list: previous %q, statuses %v, churn %v; want continuing households", second.PreviousAsOf, second.Statuses, second.Churn)
	}
	// The second week scores with the first week's model: training is the
	// monthly job, not the weekly one.
	if mans[0].Model.ReusedFrom != "" || mans[1].Model.ReusedFrom != mans[0].RunID || mans[1].Model.ID != mans[0].Model.ID {
		t.Errorf("model reuse: first %+v, second %+v", mans[0].Model, mans[1].Model)
	}
	for _, st := range mans[1].Stages {
		if st.Stage == "backtest" && st.Seconds > mans[0].Stages[1].Seconds/2 {
			t.Logf("second week's backtest stage took %.1fs against %.1fs", st.Seconds, mans[0].Stages[1].Seconds)
		}
	}
	if mans[1].Backtest == nil || len(mans[1].FeaturePSI) == 0 {
		t.Errorf("second week lacks the reused backtest or feature PSI: %+v %v", mans[1].Backtest, mans[1].FeaturePSI)
	}
	runs, _ := filepath.Glob(filepath.Join(dir, "var", "runs", "*"))
	sort.Strings(runs)
	b, err := os.ReadFile(filepath.Join(runs[len(runs)-1], "evaluation", "scored_children.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), ",2026-01-1") && !strings.Contains(string(b), "\n2026-01-1") {
		t.Error("the second week's scored_children.csv lacks the training run's backtest rows")
	}
	// Asked to, a run retrains.
	if code, _, stderr := runCLI(t, "run", "--config", cfg, "--as-of", "2026-07-27", "--retrain", "--log-level", "warn"); code != 0 {
		t.Fatalf("retrain: %s", stderr)
	}
	runs, _ = filepath.Glob(filepath.Join(dir, "var", "runs", "*"))
	sort.Strings(runs)
	b, _ = os.ReadFile(filepath.Join(runs[len(runs)-1], "manifest.json"))
	var third pipeline.Manifest
	if err := json.Unmarshal(b, &third); err != nil {
		t.Fatal(err)
	}
	if third.Model == nil || third.Model.ReusedFrom != "" {
		t.Errorf("--retrain reused a model: %+v", third.Model)
	}
}

// TestBenchRefusesUsedFolder: a --dir holding an earlier bench's store and
// delivered week would make the cold run warm and read the week twice, so
// the bench refuses it before generating anything.
func TestBenchRefusesUsedFolder(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "held"), 0o750); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, "bench", "--children", "100", "--dir", dir, "--out", filepath.Join(t.TempDir(), "b.json"))
	if code != 2 || !strings.Contains(stderr, "is not empty") {
		t.Errorf("bench on a used folder: exit %d, %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "incoming")); err == nil {
		t.Error("bench generated into a used folder")
	}
}

// TestBenchSmall runs earlyhelp bench at a CI size: every stage of both runs
// is reported with a time, and the incremental run reuses the model and
// ingests only the held-back week.
func TestBenchSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a council and runs the pipeline twice")
	}
	out := filepath.Join(t.TempDir(), "bench.json")
	code, stdout, stderr := runCLI(t, "bench", "--children", "1500", "--out", out, "--log-level", "warn")
	if code != 0 {
		t.Fatalf("bench: exit %d: %s", code, stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep BenchReport
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	stages := func(ss []BenchStage) map[string]BenchStage {
		m := map[string]BenchStage{}
		for _, s := range ss {
			m[s.Stage] = s
		}
		return m
	}
	cold, incr := stages(rep.Cold), stages(rep.Incremental)
	for _, name := range []string{"ingest", "backtest", "train", "score"} {
		if _, ok := cold[name]; !ok {
			t.Errorf("cold run lacks stage %s: %+v", name, rep.Cold)
		}
	}
	if cold["ingest"].Items == 0 || cold["ingest"].PerSecond <= 0 || cold["score"].Items == 0 {
		t.Errorf("cold run throughput missing: %+v", rep.Cold)
	}
	if rep.HoldBack.Items != rep.NewRows || rep.HoldBack.Seconds <= 0 {
		t.Errorf("hold back stage %+v; want its %d rows and a time", rep.HoldBack, rep.NewRows)
	}
	if rep.NewRows == 0 || incr["ingest"].Items != rep.NewRows {
		t.Errorf("incremental run read %d rows; %d were held back", incr["ingest"].Items, rep.NewRows)
	}
	if incr["train"].Items != 0 {
		t.Errorf("incremental run trained on %d rows; it should reuse the model", incr["train"].Items)
	}
	// The week's run resumes the index the cold run kept, reading only
	// the deliveries the week brought.
	if !strings.HasPrefix(rep.IncrIndex, "resumed from the cache with ") || strings.HasPrefix(rep.IncrIndex, "resumed from the cache with 0 ") {
		t.Errorf("incremental run's attendance index: %q; want it resumed with the week's deliveries", rep.IncrIndex)
	}
	if rep.ColdTotal.PeakRSSMiB <= 0 && runtime.GOOS == "linux" {
		t.Error("no peak RSS on Linux")
	}
	// CPU time: each stage's within its run's, and the run's no more than
	// every core for its whole wall time (a stage's own is timed from its
	// start, so its bound is the run's).
	for _, run := range []struct {
		name   string
		stages []BenchStage
		total  BenchStage
	}{{"cold", rep.Cold, rep.ColdTotal}, {"incremental", rep.Incremental, rep.IncrTotal}} {
		if runtime.GOOS == "linux" && run.total.CPUSeconds <= 0 {
			t.Errorf("%s run: no CPU time on Linux", run.name)
		}
		if bound := run.total.Seconds * float64(runtime.NumCPU()) * 1.05; run.total.CPUSeconds > bound {
			t.Errorf("%s run: %.1f CPU-s in %.1f s on %d CPUs", run.name, run.total.CPUSeconds, run.total.Seconds, runtime.NumCPU())
		}
		sum := 0.0
		for _, s := range run.stages {
			if s.CPUSeconds < 0 {
				t.Errorf("%s run, %s: %v CPU-s", run.name, s.Stage, s.CPUSeconds)
			}
			sum += s.CPUSeconds
		}
		if sum > run.total.CPUSeconds {
			t.Errorf("%s run: its stages used %.2f CPU-s, more than the run's %.2f", run.name, sum, run.total.CPUSeconds)
		}
	}
	if runtime.GOOS == "linux" && cold["ingest"].CPUSeconds <= 0 {
		t.Error("cold ingest: no CPU time on Linux")
	}
	if runtime.GOOS == "linux" && !strings.Contains(stdout, "cold run's CPU time") {
		t.Errorf("bench printed no CPU time:\n%s", stdout)
	}
	if !strings.Contains(stdout, "incremental") {
		t.Errorf("bench printed no incremental rows:\n%s", stdout)
	}
}
