package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"earlyhelp/pipeline"
	"earlyhelp/pipeline/atomicfile"
	"earlyhelp/pipeline/config"
	"earlyhelp/pipeline/review"
	"earlyhelp/pipeline/store"
)

// retentionConfig writes a config for a data folder of its own (no source
// is read by prune, backup or restore) with the given retention: block.
func retentionConfig(t *testing.T, retention string) (*config.Config, string) {
	t.Helper()
	dir := t.TempDir()
	yaml := "council: Retention Test\ndata_dir: ./var\nsources:\n" +
		"  persons: {kind: csvdir, path: ./in/persons}\n" +
		"  csc_referrals: {kind: csvdir, path: ./in/csc}\n" +
		"  early_help_episodes: {kind: csvdir, path: ./in/eh}\n" +
		"  objections: {kind: csvdir, path: ./in/objections}\n" + retention
	path := filepath.Join(dir, "earlyhelp.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, path
}

// The files a seeded run holds, with their sizes, so a test knows exactly
// how many bytes pruning each part frees.
var seededRunFiles = map[string]int{
	"features.parquet":                 1000,
	"list/navigator_list.csv":          200,
	"quarantine/persons.csv":           300,
	"quarantine/persons_cells.csv":     50,
	"evaluation/scored_children.csv":   400,
	"model/model_card.json":            70,
	"list/list_state.json":             30,
	"audit/publishable/group_data.csv": 20,
}

func seededBytes(prefixes ...string) int64 {
	var n int64
	for f, size := range seededRunFiles {
		for _, p := range prefixes {
			if strings.HasPrefix(f, p) {
				n += int64(size)
			}
		}
	}
	return n
}

// seedRun writes a run folder started at t with the given status.
func seedRun(t *testing.T, dataDir string, started time.Time, status string, list bool) string {
	t.Helper()
	id := started.UTC().Format(store.RunIDFormat)
	dir := filepath.Join(dataDir, "runs", id)
	m := pipeline.Manifest{RunID: id, AsOf: started.Format(time.DateOnly), StartedAt: started, Status: status}
	if list {
		m.List = &pipeline.ListManifest{}
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"manifest.json": b}
	for f, size := range seededRunFiles {
		files[f] = []byte(strings.Repeat("x", size))
	}
	for f, data := range files {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	return id
}

// runEntries lists what is left at the top of a run folder.
func runEntries(t *testing.T, dataDir, id string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dataDir, "runs", id))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

var (
	whole        = []string{"audit", "evaluation", "features.parquet", "list", "manifest.json", "model", "quarantine"}
	noQuarantine = []string{"audit", "evaluation", "features.parquet", "list", "manifest.json", "model"}
	noQuarEval   = []string{"audit", "features.parquet", "list", "manifest.json", "model"}
	manifestOnly = []string{"manifest.json"}
	pruneTestNow = time.Date(2026, 12, 7, 5, 0, 0, 0, time.UTC)
	// An hour more, so no run starts exactly on a cut-off.
	weeksAgo      = func(w int) time.Time { return pruneTestNow.Add(-time.Duration(w)*week - time.Hour) }
	pruneDefaults = "" // runs 26 weeks, quarantine and evaluation 13
)

func TestPrune(t *testing.T) {
	type seeded struct {
		weeks  int
		status string
		list   bool
		want   []string // top-level entries left
	}
	tests := []struct {
		name       string
		retention  string
		runs       []seeded
		modelRun   int // index into runs of the current model's run; -1 none
		wantPruned int
		wantBytes  int64 // of the runs reduced to their manifests
	}{
		{"old runs pruned keeping their manifests", pruneDefaults, []seeded{
			{40, "succeeded", true, manifestOnly},
			{30, "failed", false, manifestOnly},
			{1, "succeeded", true, whole},
		}, -1, 2, 2 * seededBytes("")},
		{"last successful kept even if old", pruneDefaults, []seeded{
			{50, "succeeded", true, manifestOnly},
			// The newest success: whole but for its quarantine files;
			// evaluation/ stays, since the site and the audit read it.
			{40, "succeeded", true, noQuarantine},
			{30, "failed", true, manifestOnly},
			{2, "failed", false, whole},
		}, -1, 2, 2 * seededBytes("")},
		{"newest success and newest list kept apart", pruneDefaults, []seeded{
			{40, "succeeded", true, noQuarantine}, // the list a next run reads its state from
			{30, "succeeded", false, noQuarantine},
			{28, "running", false, manifestOnly}, // interrupted long ago
		}, -1, 1, seededBytes("")},
		{"recent kept whole", pruneDefaults, []seeded{
			{12, "succeeded", true, whole},
			{3, "failed", false, whole},
			{0, "succeeded", true, whole},
		}, -1, 0, 0},
		{"quarantine and evaluation past their own weeks", pruneDefaults, []seeded{
			{20, "succeeded", true, noQuarEval},
			{14, "failed", false, noQuarEval},
			{10, "succeeded", true, whole},
		}, -1, 0, 0},
		{"current model's run kept with its backtest rows", pruneDefaults, []seeded{
			{35, "succeeded", true, noQuarantine},
			{27, "succeeded", true, manifestOnly},
			{1, "succeeded", true, whole},
		}, 0, 1, seededBytes("")},
		{"configured weeks", "retention:\n  runs_weeks: 4\n  quarantine_weeks: 1\n  evaluation_weeks: 2\n", []seeded{
			{5, "succeeded", true, manifestOnly},
			{3, "succeeded", true, noQuarEval},
			{1, "succeeded", true, noQuarantine},
			{0, "succeeded", true, whole},
		}, -1, 1, seededBytes("")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, _ := retentionConfig(t, tc.retention)
			ids := make([]string, len(tc.runs))
			for i, r := range tc.runs {
				ids[i] = seedRun(t, cfg.DataDir, weeksAgo(r.weeks), r.status, r.list)
			}
			if tc.modelRun >= 0 {
				if err := atomicfile.WriteFile(newFileModels(cfg.DataDir).path, []byte(`{"run_id":"`+ids[tc.modelRun]+`"}`), 0o640); err != nil {
					t.Fatal(err)
				}
			}
			rep, err := prune(context.Background(), cfg, pruneTestNow, nil)
			if err != nil {
				t.Fatal(err)
			}
			var wantQuar, wantEval int
			var wantQuarBytes, wantEvalBytes int64
			for i, r := range tc.runs {
				got := runEntries(t, cfg.DataDir, ids[i])
				if !reflect.DeepEqual(got, r.want) {
					t.Errorf("run %d weeks old (%s): left %v; want %v", r.weeks, r.status, got, r.want)
				}
				if reflect.DeepEqual(r.want, noQuarantine) || reflect.DeepEqual(r.want, noQuarEval) {
					wantQuar += 2
					wantQuarBytes += seededBytes("quarantine/")
				}
				if reflect.DeepEqual(r.want, noQuarEval) {
					wantEval++
					wantEvalBytes += seededBytes("evaluation/")
				}
			}
			if rep.RunsPruned != tc.wantPruned || rep.RunsBytes != tc.wantBytes {
				t.Errorf("runs pruned %d (%d bytes); want %d (%d bytes)", rep.RunsPruned, rep.RunsBytes, tc.wantPruned, tc.wantBytes)
			}
			if rep.QuarantineFiles != wantQuar || rep.QuarantineBytes != wantQuarBytes {
				t.Errorf("quarantine files %d (%d bytes); want %d (%d bytes)", rep.QuarantineFiles, rep.QuarantineBytes, wantQuar, wantQuarBytes)
			}
			if rep.EvaluationFolders != wantEval || rep.EvaluationBytes != wantEvalBytes {
				t.Errorf("evaluation folders %d (%d bytes); want %d (%d bytes)", rep.EvaluationFolders, rep.EvaluationBytes, wantEval, wantEvalBytes)
			}
			// A second prune finds nothing more to do.
			again, err := prune(context.Background(), cfg, pruneTestNow, nil)
			if err != nil {
				t.Fatal(err)
			}
			if again.RunsPruned+again.QuarantineFiles+again.EvaluationFolders != 0 || again.RunsBytes != 0 {
				t.Errorf("second prune removed more: %+v", again)
			}
		})
	}
}

// TestPruneCommand: the command prints what it removed, trims the access
// log, leaves names outside the run-id layout alone, and refuses while a
// run holds the data folder's lock.
func TestPruneCommand(t *testing.T) {
	cfg, path := retentionConfig(t, "retention:\n  access_log_weeks: 52\n")
	now := time.Now()
	old := seedRun(t, cfg.DataDir, now.Add(-30*week), "succeeded", true)
	seedRun(t, cfg.DataDir, now.Add(-time.Hour), "succeeded", true)
	stray := filepath.Join(cfg.DataDir, "runs", "notes")
	if err := os.MkdirAll(stray, 0o750); err != nil {
		t.Fatal(err)
	}
	logPath := reviewPath(cfg.DataDir, accessLogFile)
	var lines []string
	for _, at := range []time.Time{now.Add(-60 * week), now.Add(-53 * week), now.Add(-51 * week), now.Add(-time.Hour)} {
		b, _ := json.Marshal(review.Access{At: at, User: "nav", Role: "navigator", Page: "/family/x", Why: "viewed family page"})
		lines = append(lines, string(b)+"\n")
	}
	if err := os.MkdirAll(filepath.Dir(logPath), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(logPath, []byte(strings.Join(lines, "")), 0o600); err != nil {
		t.Fatal(err)
	}

	// A run in progress: refused, nothing removed.
	unlock, err := lockData(cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, "prune", "--config", path)
	unlock()
	if code != exitFailed || !strings.Contains(stderr, "another run is in progress") {
		t.Errorf("prune under a run's lock: exit %d, %q; want exit 1 saying a run is in progress", code, stderr)
	}
	if got := runEntries(t, cfg.DataDir, old); len(got) != len(whole) {
		t.Errorf("refused prune removed files: %v left", got)
	}

	// serve running: everything but the access log, which it holds open.
	release, err := holdServing(cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "prune", "--config", path)
	release()
	if code != 0 {
		t.Fatalf("prune: exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"1 reduced to their manifests (" + itoa(seededBytes("")) + " bytes); 1 runs kept whole",
		"access log not trimmed: serve is running",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if got := read(t, logPath); got != strings.Join(lines, "") {
		t.Errorf("access log changed while serve held it")
	}

	code, stdout, stderr = runCLI(t, "prune", "--config", path)
	if code != 0 {
		t.Fatalf("prune: exit %d: %s", code, stderr)
	}
	want := "access log entries before " + now.Add(-52*week).UTC().Format(time.DateOnly) + " (52 weeks): 2 dropped (" + itoa(int64(len(lines[0])+len(lines[1]))) + " bytes), 2 kept"
	if !strings.Contains(stdout, want) || !strings.Contains(stdout, "0 reduced to their manifests") {
		t.Errorf("output lacks %q and nothing more pruned:\n%s", want, stdout)
	}
	if got := read(t, logPath); got != lines[2]+lines[3] {
		t.Errorf("access log after prune:\n%s\nwant the two recent entries", got)
	}
	if _, err := os.Stat(stray); err != nil {
		t.Errorf("a folder not named as a run was touched: %v", err)
	}
	if got := runEntries(t, cfg.DataDir, old); !reflect.DeepEqual(got, manifestOnly) {
		t.Errorf("old run left %v; want its manifest only", got)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestPruneOnSchedule: serve's retention job prunes on retention.schedule,
// trimming the access log through the open site (that the site then logs
// into the trimmed file is review's TestSiteTrimAccessLog), and holds the
// serve lock while it runs; a bad spec is refused naming its key.
func TestPruneOnSchedule(t *testing.T) {
	bad, _ := retentionConfig(t, "retention:\n  schedule: \"every tuesday\"\n")
	if _, err := startRetention(context.Background(), bad, nil, zerolog.Nop()); err == nil || !strings.Contains(err.Error(), "retention.schedule") {
		t.Errorf("bad schedule: got %v; want an error naming retention.schedule", err)
	}

	cfg, _ := retentionConfig(t, "retention:\n  schedule: \"@every 1s\"\n  access_log_weeks: 10\n")
	now := time.Now()
	old := seedRun(t, cfg.DataDir, now.Add(-30*week), "failed", false)
	seedRun(t, cfg.DataDir, now.Add(-time.Hour), "succeeded", true)
	logPath := reviewPath(cfg.DataDir, accessLogFile)
	var lines []string
	for _, at := range []time.Time{now.Add(-20 * week), now.Add(-time.Minute)} {
		b, _ := json.Marshal(review.Access{At: at, User: "nav", Role: "navigator", Page: "/list", Why: "viewed list"})
		lines = append(lines, string(b)+"\n")
	}
	if err := os.MkdirAll(filepath.Dir(logPath), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(logPath, []byte(strings.Join(lines, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	site, closeSite, err := openSite(cfg.DataDir, false, sitePack{}, nil, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer closeSite()
	stop, err := startRetention(context.Background(), cfg, site, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if got := runEntries(t, cfg.DataDir, old); reflect.DeepEqual(got, manifestOnly) && read(t, logPath) == lines[1] {
			break
		}
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("serve's prune did not run within 10s: run left %v, access log %q", runEntries(t, cfg.DataDir, old), read(t, logPath))
		}
	}
	// While serve runs, restore and a command-line prune see it.
	if _, busy, err := takeServing(cfg.DataDir); err != nil || !busy {
		t.Errorf("serve lock while serving: busy %v, %v; want busy", busy, err)
	}
	stop()
	release, busy, err := takeServing(cfg.DataDir)
	if err != nil || busy {
		t.Fatalf("serve lock after serve stopped: busy %v, %v; want free", busy, err)
	}
	release()
}
