package ingest

import (
	"context"
	"earlyhelp/pipeline"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/rs/zerolog"
)

// timedStore is a fakeStore that remembers when each source's newest file
// was loaded, as the real store's record does.
type timedStore struct {
	fakeStore
	last map[string]time.Time
}

func (s *timedStore) LastDelivered(source string) (time.Time, bool) {
	t, ok := s.last[source]
	return t, ok
}

// TestIngestSourceGauges: after an ingest, each source's quarantined and
// nulled rates are those of the rows it read, and the stale-source gauges
// carry the store's newest load time and the configured expectation. A
// source expected but never delivered has the expectation alone (the
// alert's "never delivered" case); one with no expectation has no
// expectation series.
func TestIngestSourceGauges(t *testing.T) {
	loaded := time.Date(2026, 7, 13, 2, 0, 0, 0, time.UTC)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	m, err := pipeline.NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	r := &run{
		opts: Config{
			Sources: []pipeline.SourceSpec{
				{Name: "persons", Columns: []string{"person_id", "ethnicity"}, Source: nullingSource{name: "persons", emit: 20, nulled: 5}, ExpectedEvery: 7 * 24 * time.Hour},
				{Name: "objections", Columns: []string{"person_id", "ethnicity"}, Source: nullingSource{name: "objections", emit: 9, rejected: 1}},
				{Name: "hv_contacts", Columns: []string{"person_id", "ethnicity"}, Source: nullingSource{name: "hv_contacts"}, ExpectedEvery: 24 * time.Hour},
			},
			Store:              &timedStore{last: map[string]time.Time{"persons": loaded, "objections": loaded.Add(time.Hour)}},
			MaxQuarantineRatio: 0.5,
		},

		State: &pipeline.State{Mem: mem, Log: zerolog.Nop(), Dir: t.TempDir(), Man: &pipeline.Manifest{Sources: map[string]*pipeline.SourceManifest{}}, Metrics: m},
	}
	if err := r.ingest(context.Background()); err != nil {
		t.Fatalf("ingest: %v", err)
	}
	tests := []struct {
		name string
		g    *prometheus.GaugeVec
		src  string
		want float64 // -1: no series
	}{
		{"persons quarantined", m.SourceQuarantined, "persons", 0},
		{"persons nulled", m.SourceNulled, "persons", 5.0 / 20},
		{"objections quarantined", m.SourceQuarantined, "objections", 1.0 / 10},
		{"objections nulled", m.SourceNulled, "objections", 0},
		{"hv_contacts read nothing", m.SourceQuarantined, "hv_contacts", -1},
		{"persons last file", m.SourceLastFile, "persons", float64(loaded.Unix())},
		{"objections last file", m.SourceLastFile, "objections", float64(loaded.Add(time.Hour).Unix())},
		{"hv_contacts never delivered", m.SourceLastFile, "hv_contacts", -1},
		{"persons expected", m.SourceExpectedEvery, "persons", 7 * 86400},
		{"hv_contacts expected", m.SourceExpectedEvery, "hv_contacts", 86400},
		{"objections expects nothing", m.SourceExpectedEvery, "objections", -1},
	}
	for _, tc := range tests {
		got, ok := seriesValue(t, tc.g, tc.src)
		if !ok {
			got = -1
		}
		if got != tc.want {
			t.Errorf("%s: %v; want %v (-1: no series)", tc.name, got, tc.want)
		}
	}
}

// seriesValue reads g's series for source without creating it.
func seriesValue(t *testing.T, g *prometheus.GaugeVec, source string) (float64, bool) {
	t.Helper()
	ch := make(chan prometheus.Metric, 64)
	go func() { g.Collect(ch); close(ch) }()
	var v float64
	found := false
	for pm := range ch {
		var d dto.Metric
		if err := pm.Write(&d); err != nil {
			t.Fatal(err)
		}
		for _, l := range d.GetLabel() {
			if l.GetName() == "source" && l.GetValue() == source {
				v, found = d.GetGauge().GetValue(), true
			}
		}
	}
	return v, found
}
