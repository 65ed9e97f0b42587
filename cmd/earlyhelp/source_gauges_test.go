package main

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"earlyhelp/pipeline/store"
)

// TestServeRestoresSourceGauges: an ingest sets each source's newest load
// time and expected_every, and a restarted serve reports them from the
// store's record at start, before any job runs, so a restart neither hides
// a stale source nor, for lack of a load time, makes one look never
// delivered.
func TestServeRestoresSourceGauges(t *testing.T) {
	cfg, asOf := tinyCouncil(t, "  ingest: \"@daily\"\n  retries: 0\n")
	sc := cfg.Sources["persons"]
	sc.ExpectedEvery = "7d"
	cfg.Sources["persons"] = sc

	s, _ := newTestScheduler(t, cfg, asOf)
	var ingest job
	for _, j := range s.jobs {
		if j.name == "ingest" {
			ingest = j
		}
	}
	if err := s.runJob(context.Background(), ingest); err != nil {
		t.Fatalf("ingest: %v", err)
	}
	st, err := store.Open(cfg.DataDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	loaded, ok := st.LastDelivered("persons")
	if !ok || time.Since(loaded) > time.Hour {
		t.Fatalf("store's newest persons load %s, %v; want one just now", loaded, ok)
	}

	restarted, _ := newTestScheduler(t, cfg, asOf)
	if err := restarted.start(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-restarted.stop().Done()
	for _, sch := range []struct {
		name string
		s    *scheduler
	}{{"after the ingest", s}, {"after a restart", restarted}} {
		m := sch.s.metrics
		if got := testutil.ToFloat64(m.SourceLastFile.WithLabelValues("persons")); got != float64(loaded.Unix()) {
			t.Errorf("%s: source_last_file_timestamp_seconds{persons} = %v; want %d", sch.name, got, loaded.Unix())
		}
		if got := testutil.ToFloat64(m.SourceExpectedEvery.WithLabelValues("persons")); got != 7*86400 {
			t.Errorf("%s: source_expected_every_seconds{persons} = %v; want %d", sch.name, got, 7*86400)
		}
		// Only persons expects a file: the others export no expectation.
		if n := testutil.CollectAndCount(m.SourceExpectedEvery); n != 1 {
			t.Errorf("%s: %d source_expected_every_seconds series; want 1", sch.name, n)
		}
		if n, want := testutil.CollectAndCount(m.SourceLastFile), len(cfg.Sources); n != want {
			t.Errorf("%s: %d source_last_file_timestamp_seconds series; want one per source, %d", sch.name, n, want)
		}
	}
}
