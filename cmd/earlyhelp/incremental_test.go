package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime/metrics"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"earlyhelp/connectors/synthetic"
	"earlyhelp/pipeline"
	"earlyhelp/pipeline/config"
	"earlyhelp/pipeline/rundir"
)

// TestWeeklyRunResumesIndex is issue 25's incremental weekly run on a
// whole council: after a cold run, the next week's run resumes the
// attendance index the cold run left in the store's cache, reading only
// the new week's deliveries, and reads the roster from it, and its scores,
// list and family pages are byte for byte those of the same run on a copy
// of the data folder without the cache, which reads the store in full.
func TestWeeklyRunResumesIndex(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a council and runs the pipeline three times")
	}
	dir := lightCouncil(t, "25")
	lastWeek := synthetic.DefaultEnd.AddDate(0, 0, -6)
	held := filepath.Join(dir, "held")
	if _, err := holdBack(dir, held, lastWeek); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(filepath.Join(dir, "earlyhelp.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var coldLogs bytes.Buffer
	if _, err := batch(ctx, cfg, lastWeek, zerolog.New(zerolog.SyncWriter(&coldLogs)), func(s *runSetup) { s.train.Retrain = true }); err != nil {
		t.Fatalf("cold run: %v", err)
	}
	// A run that trains reads the attendance history while its other
	// sources load; one that reuses its model (below) reads only its year.
	const readAhead = "attendance history read ahead for the backtest"
	if n := strings.Count(coldLogs.String(), readAhead); n != 1 {
		t.Fatalf("the cold run logged %q %d times; want once. Logs:\n%s", readAhead, n, coldLogs.String())
	}
	if err := release(held, filepath.Join(dir, "incoming")); err != nil {
		t.Fatal(err)
	}
	// The same data folder twice, one without the cache.
	full := *cfg
	full.DataDir = filepath.Join(t.TempDir(), "var")
	copyTree(t, cfg.DataDir, full.DataDir)
	if err := os.RemoveAll(filepath.Join(full.DataDir, "cache", "store")); err != nil {
		t.Fatal(err)
	}
	weekly := lastWeek.AddDate(0, 0, 7)
	type result struct {
		runDir string
		logs   string
	}
	runWeek := func(c *config.Config) result {
		t.Helper()
		var logs bytes.Buffer
		var runDir string
		if _, err := batch(ctx, c, weekly, zerolog.New(zerolog.SyncWriter(&logs)), func(s *runSetup) { runDir = s.opts.RunDir }); err != nil {
			t.Fatalf("weekly run on %s: %v", c.DataDir, err)
		}
		return result{runDir, logs.String()}
	}
	inc, ref := runWeek(cfg), runWeek(&full)
	if !strings.Contains(inc.logs, "roster read from the store's cache") || strings.Contains(ref.logs, "roster read from the store's cache") {
		t.Fatalf("want the run with the cache to read the roster from it and the one without from the store; logs:\n%s\n---\n%s", inc.logs, ref.logs)
	}
	if !strings.Contains(inc.logs, "attendance index resumed") || strings.Contains(ref.logs, "attendance index resumed") {
		t.Fatalf("want the run with the cache resumed and the one without read in full; logs:\n%d %s\n---\n%d %s", len(inc.logs), inc.logs, len(ref.logs), ref.logs)
	}
	if strings.Contains(inc.logs, readAhead) || strings.Contains(ref.logs, readAhead) {
		t.Fatalf("a weekly run reusing its model read the whole attendance history ahead; logs:\n%s\n---\n%s", inc.logs, ref.logs)
	}
	if strings.Contains(inc.logs, "could not be used") {
		t.Fatalf("cache refused:\n%s", inc.logs)
	}
	compared := 0
	err = filepath.Walk(ref.runDir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(ref.runDir, p)
		if !weeklyOutput(rel) {
			return nil
		}
		want, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		got, err := os.ReadFile(filepath.Join(inc.runDir, rel))
		if err != nil {
			return err
		}
		// The run's own id is the one thing that may differ.
		want = bytes.ReplaceAll(want, []byte(filepath.Base(ref.runDir)), []byte(filepath.Base(inc.runDir)))
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs between the resumed and the full read", rel)
		}
		compared++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if compared < 5 {
		t.Fatalf("compared %d files; want the features, scores, list and family pages", compared)
	}
}

// weeklyOutput is whether a run folder's file is one the byte-for-byte
// comparison covers: features, scores and everything in the list folder
// (the list in each format and the family pages).
func weeklyOutput(rel string) bool {
	return rel == rundir.FeaturesFile || rel == rundir.ScoresFile || strings.HasPrefix(rel, rundir.ListFolder+string(filepath.Separator))
}

// TestScoringGCPercent: a run that reuses its model collects at
// scoreGCPercent from the score stage on, where its peak is, and puts the
// process's setting back when it ends. A run that trains keeps the
// process's setting throughout: its peak is the backtest's, and a tighter
// collector from scoring on only cost it time (1.6-1.9 s of a 300,000-child
// audit).
func TestScoringGCPercent(t *testing.T) {
	if os.Getenv("GOGC") != "" {
		t.Skip("GOGC is set: runs leave the collector alone")
	}
	if testing.Short() {
		t.Skip("generates a council and runs the pipeline twice")
	}
	dir := lightCouncil(t, "26")
	cfg, err := config.Load(filepath.Join(dir, "earlyhelp.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	gogc := func() uint64 {
		s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
		metrics.Read(s)
		return s[0].Value.Uint64()
	}
	before := gogc()
	for _, retrain := range []bool{true, false} {
		seen := map[string]uint64{}
		reused := false
		_, err = batch(context.Background(), cfg, synthetic.DefaultEnd, zerolog.Nop(), func(s *runSetup) {
			s.train.Retrain = retrain
			s.opts.OnStage = func(stage string, done bool, st *pipeline.State) {
				if !done {
					seen[stage] = gogc()
				}
				reused = st.Reused != nil
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		want := before
		if !retrain {
			want = scoreGCPercent
		}
		if reused == retrain {
			t.Fatalf("retrain %t: the run reused its model %t", retrain, reused)
		}
		if seen["backtest"] != before || seen["score"] != want || seen["audit"] != want {
			t.Errorf("retrain %t: GOGC at the stages' starts %v; want %d for the backtest, %d from scoring on", retrain, seen, before, want)
		}
		if after := gogc(); after != before {
			t.Errorf("retrain %t: GOGC %d after the run; want %d back", retrain, after, before)
		}
	}
}
