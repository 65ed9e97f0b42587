package ingest

import (
	"context"
	"earlyhelp/pipeline"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"
)

// fakeSource offers one file: it emits `emit` rows, rejects `reject` rows
// and claims to have read `read`; fail makes it stop with an error mid-file.
type fakeSource struct {
	emit, reject, read int64
	fail               bool
}

func (f fakeSource) Read(ctx context.Context, mem memory.Allocator, sink pipeline.Sink) error {
	ref := pipeline.FileRef{Name: "persons.csv", SHA256: strings.Repeat("ab", 32), Size: 100}
	ok, err := sink.Begin(ref)
	if err != nil || !ok {
		return err
	}
	if err := emitPeople(sink, mem, f.emit); err != nil {
		return err
	}
	for i := int64(0); i < f.reject; i++ {
		if err := sink.Reject(pipeline.Rejected{Row: i + 2, Reason: pipeline.ReasonBadDate, Column: "date_of_birth", Values: []string{"=pseudo", "x"}}); err != nil {
			return err
		}
	}
	if f.fail {
		return errors.New("persons.csv: line 9: bare quote")
	}
	return sink.End(ref, f.read)
}

// fakeStore records what the ingest stage did with deliveries.
type fakeStore struct {
	written, committed, aborted int
	forgotReid                  int // ForgetReid's calls
}

func (s *fakeStore) Loaded(string, pipeline.FileRef) (bool, error) { return false, nil }
func (s *fakeStore) NewDelivery(string, pipeline.FileRef) (pipeline.Delivery, error) {
	return &fakeDelivery{s: s}, nil
}
func (s *fakeStore) SaveReid(map[string]map[string]string) error { return nil }
func (s *fakeStore) Settle() error                               { return nil }
func (s *fakeStore) ForgetReid()                                 { s.forgotReid++ }

// Known remembers no delivery: every file is read.
func (s *fakeStore) Known(string, string, int64, time.Time) (string, bool) { return "", false }

// LastDelivered has no record.
func (s *fakeStore) LastDelivered(string) (time.Time, bool) { return time.Time{}, false }

type fakeDelivery struct{ s *fakeStore }

func (d *fakeDelivery) Write(rec arrow.Record) error { d.s.written += int(rec.NumRows()); return nil }
func (d *fakeDelivery) Commit(int64, int64) error    { d.s.committed++; return nil }
func (d *fakeDelivery) Abort()                       { d.s.aborted++ }

func TestIngestBooks(t *testing.T) {
	tests := []struct {
		name                string
		src                 fakeSource
		ratio               float64
		wantErr             string
		committed, aborted  int
		quarantineFileLines int
	}{
		{"balanced", fakeSource{emit: 2, reject: 1, read: 3}, 0.5, "", 1, 0, 2},
		{"a row lost", fakeSource{emit: 2, reject: 1, read: 4}, 0.5, "4 rows read but 2 loaded and 1 quarantined", 0, 1, 0},
		{"source fails mid-file", fakeSource{emit: 2, reject: 1, fail: true}, 0.5, "bare quote", 0, 1, 0},
		{"past tolerance", fakeSource{emit: 2, reject: 2, read: 4}, 0.25, "2 of 4 rows quarantined (bad_date 2), above max_quarantine_ratio", 1, 0, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			reg := prometheus.NewRegistry()
			m, err := pipeline.NewMetrics(reg)
			if err != nil {
				t.Fatal(err)
			}
			st := &fakeStore{}
			dir := t.TempDir()
			r := &run{
				opts: Config{
					Sources:            []pipeline.SourceSpec{{Name: "persons", Columns: []string{"person_id", "date_of_birth"}, Source: tc.src}},
					Store:              st,
					MaxQuarantineRatio: tc.ratio,
				},

				State: &pipeline.State{Mem: mem, Log: zerolog.Nop(), Dir: dir, Man: &pipeline.Manifest{Sources: map[string]*pipeline.SourceManifest{}}, Metrics: m},
			}
			err = r.ingest(context.Background())
			if tc.wantErr == "" && err != nil {
				t.Fatalf("ingest: %v", err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("ingest error %v; want one containing %q", err, tc.wantErr)
			}
			if tc.ratio == 0.25 && !errors.Is(err, pipeline.ErrTolerance) {
				t.Errorf("error %v is not ErrTolerance", err)
			}
			// Every source's pairs saved, the store may let go of its
			// lookups; after a source failed, ingest stopped first.
			if wantForgot := map[bool]int{true: 1, false: 0}[err == nil || tc.ratio == 0.25]; st.forgotReid != wantForgot {
				t.Errorf("ForgetReid called %d times; want %d", st.forgotReid, wantForgot)
			}
			if st.committed != tc.committed || st.aborted != tc.aborted {
				t.Errorf("committed %d aborted %d; want %d and %d", st.committed, st.aborted, tc.committed, tc.aborted)
			}
			q := filepath.Join(dir, "quarantine", "persons.csv")
			b, qerr := os.ReadFile(q)
			lines := 0
			if qerr == nil {
				lines = strings.Count(string(b), "\n")
			}
			if lines != tc.quarantineFileLines {
				t.Errorf("quarantine file has %d lines; want %d", lines, tc.quarantineFileLines)
			}
			if qerr == nil && !strings.Contains(string(b), "'=pseudo") {
				t.Errorf("quarantine cell not neutralised for spreadsheets:\n%s", b)
			}
			if tc.wantErr == "" || tc.ratio == 0.25 {
				sm := r.Man.Sources["persons"]
				if sm.Read != sm.Loaded+sm.Quarantined || sm.Read != tc.src.read {
					t.Errorf("manifest read %d loaded %d quarantined %d", sm.Read, sm.Loaded, sm.Quarantined)
				}
				if got := testutil.ToFloat64(m.RowsRead.WithLabelValues("persons")); got != float64(tc.src.read) {
					t.Errorf("rows_read_total = %v; want %d", got, tc.src.read)
				}
				if got := testutil.ToFloat64(m.RowsQuarantined.WithLabelValues("persons", pipeline.ReasonBadDate)); got != float64(tc.src.reject) {
					t.Errorf("rows_quarantined_total = %v; want %d", got, tc.src.reject)
				}
			}
		})
	}
}

// TestIngestOnlyRun is the nightly ingest job: one stage, a manifest, and
// the ingest job's last-success metric.
func TestIngestOnlyRun(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	reg := prometheus.NewRegistry()
	m, _ := pipeline.NewMetrics(reg)
	dir := t.TempDir()
	man, err := pipeline.Run(context.Background(), pipeline.Options{
		RunID: "20260720T020000Z", RunDir: dir, AsOf: time.Date(2026, 7, 20, 0, 0, 0, 0, time.UTC),
		Stages: []pipeline.Stage{New(Config{
			Sources: []pipeline.SourceSpec{{Name: "persons", Columns: []string{"person_id"}, Source: fakeSource{emit: 3, read: 3}}},
			Store:   &fakeStore{}, MaxQuarantineRatio: 0.05,
		})},
		Job: "ingest", Mem: mem, Log: zerolog.Nop(), Metrics: m, Gatherer: reg,
	})
	if err != nil {
		t.Fatalf("ingest run: %v", err)
	}
	if man.Status != "succeeded" || len(man.Stages) != 1 || man.Stages[0].Stage != "ingest" {
		t.Errorf("status %s, stages %+v; want one succeeded ingest stage", man.Status, man.Stages)
	}
	if man.Sources["persons"].Loaded != 3 {
		t.Errorf("loaded %d; want 3", man.Sources["persons"].Loaded)
	}
	if got := testutil.ToFloat64(m.LastSuccess.WithLabelValues("ingest")); got == 0 {
		t.Error("last_success_timestamp_seconds{job=ingest} not set")
	}
	for _, f := range []string{"manifest.json", "metrics.prom"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("missing %s", f)
		}
	}
}

// emitPeople emits a record of n rows of one person_id column to sink.
func emitPeople(sink pipeline.Sink, mem memory.Allocator, n int64) error {
	b := array.NewStringBuilder(mem)
	defer b.Release()
	for i := int64(0); i < n; i++ {
		b.Append("p")
	}
	col := b.NewArray()
	defer col.Release()
	rec := array.NewRecord(arrow.NewSchema([]arrow.Field{{Name: "person_id", Type: arrow.BinaryTypes.String}}, nil), []arrow.Array{col}, n)
	defer rec.Release()
	return sink.Emit(rec)
}

// TestIngestedAfterEachSource: the Ingested hook hears of each source
// once its deliveries are committed and before the next source is read,
// and never of a source whose read failed.
func TestIngestedAfterEachSource(t *testing.T) {
	tests := []struct {
		name    string
		second  fakeSource
		want    []string
		wantErr bool
	}{
		{"both load", fakeSource{emit: 1, read: 1}, []string{"first 1", "second 2"}, false},
		{"second fails", fakeSource{emit: 1, fail: true}, []string{"first 1"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			st := &fakeStore{}
			var heard []string
			cols := []string{"person_id", "date_of_birth"}
			r := &run{
				opts: Config{
					Sources: []pipeline.SourceSpec{
						{Name: "first", Columns: cols, Source: fakeSource{emit: 2, read: 2}},
						{Name: "second", Columns: cols, Source: tc.second},
					},
					Store: st, MaxQuarantineRatio: 1,
					Ingested: func(_ context.Context, _ *pipeline.State, source string) {
						heard = append(heard, fmt.Sprintf("%s %d", source, st.committed))
					},
				},
				State: &pipeline.State{Mem: mem, Log: zerolog.Nop(), Dir: t.TempDir(), Man: &pipeline.Manifest{Sources: map[string]*pipeline.SourceManifest{}}},
			}
			err := r.ingest(context.Background())
			if (err != nil) != tc.wantErr {
				t.Fatalf("ingest: %v; want an error: %t", err, tc.wantErr)
			}
			if !slices.Equal(heard, tc.want) {
				t.Errorf("heard %q (source, deliveries committed by then); want %q", heard, tc.want)
			}
		})
	}
}
