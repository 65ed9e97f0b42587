package store_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/rs/zerolog"

	"earlyhelp/pipeline"
	"earlyhelp/pipeline/ingest"
	"earlyhelp/pipeline/pipelinetest"
	"earlyhelp/pipeline/rank"
	"earlyhelp/pipeline/store"
	"earlyhelp/pipeline/train"
)

// TestIngestCancelledMidFile runs the real pipeline.Run over the real Store
// twice: once cancelled part-way through a delivered file, then again with a
// live context. The cancelled run must fail with a manifest that says so and
// leave the store as if the interrupted file had never been offered: only
// the files committed before it in the load state, no temporary file in any
// store or run folder. The next run must skip the committed files and load
// the rest completely, so every row of every file is in the store once.
func TestIngestCancelledMidFile(t *testing.T) {
	tests := []struct {
		name  string
		files int
		// The source cancels the run's context after emitting this record
		// (1-based) of this file (1-based).
		cancelFile, cancelRecord int
		committed                []string // files in the load state after the cancelled run
	}{
		{"in the last file", 2, 2, 2, []string{"persons_1.csv"}},
		{"with a file still to come", 3, 2, 2, []string{"persons_1.csv"}},
		{"in the first file", 2, 1, 2, nil},
		{"after a file's last record", 3, 1, recordsPerFile, []string{"persons_1.csv"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			dataDir := t.TempDir()
			files := personFiles(tc.files)

			// The cancelled run.
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			src := &personSource{files: files, after: func(file, record int) {
				if file == tc.cancelFile && record == tc.cancelRecord {
					cancel()
				}
			}}
			man, runDir, err := runOnce(ctx, t, dataDir, at(6), mem, src)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("cancelled run: error %v; want context.Canceled", err)
			}
			var se *pipeline.StageError
			if !errors.As(err, &se) || se.Stage != "ingest" {
				t.Errorf("cancelled run: error %v; want a StageError of stage ingest", err)
			}
			onDisk := readManifest(t, runDir)
			for _, m := range []*pipeline.Manifest{man, onDisk} {
				if m.Status != "failed" || m.FailedStage != "ingest" || !strings.Contains(m.Error, context.Canceled.Error()) {
					t.Errorf("cancelled run manifest: status %q, failed stage %q, error %q; want failed in ingest with %q",
						m.Status, m.FailedStage, m.Error, context.Canceled)
				}
			}
			if got := loadedFiles(t, dataDir); !slices.Equal(got, tc.committed) {
				t.Errorf("state.json after the cancelled run lists %v; want %v", got, tc.committed)
			}
			noTempFiles(t, dataDir)
			if _, err := os.Stat(filepath.Join(runDir, "quarantine", "persons.csv")); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("cancelled run published a quarantine file (stat: %v)", err)
			}
			wantRows := map[string]int{}
			for _, f := range files {
				if slices.Contains(tc.committed, f.name) {
					for _, id := range f.loaded() {
						wantRows[id] = 1
					}
				}
			}
			assertStoreRows(t, dataDir, mem, wantRows)

			// The next run, with a live context, as a new process would.
			src = &personSource{files: files}
			man, runDir, err = runOnce(context.Background(), t, dataDir, at(7), mem, src)
			if err != nil {
				t.Fatalf("second run: %v", err)
			}
			if man.Status != "succeeded" {
				t.Errorf("second run status %q; want succeeded", man.Status)
			}
			var wantBegun []string
			for _, f := range files {
				if !slices.Contains(tc.committed, f.name) {
					wantBegun = append(wantBegun, f.name)
				}
			}
			if !slices.Equal(src.begun, wantBegun) {
				t.Errorf("second run loaded %v; want %v (committed files are skipped)", src.begun, wantBegun)
			}
			var wantLoaded int64
			for i, fm := range man.Sources["persons"].Files {
				f := files[i]
				skip := slices.Contains(tc.committed, f.name)
				if fm.Name != f.name || fm.Skipped != skip {
					t.Errorf("second run manifest file %d: %s skipped=%v; want %s skipped=%v", i, fm.Name, fm.Skipped, f.name, skip)
				}
				if !skip {
					wantLoaded += int64(len(f.loaded()))
				}
			}
			if got := man.Sources["persons"].Loaded; got != wantLoaded {
				t.Errorf("second run loaded %d rows; want %d", got, wantLoaded)
			}
			allNames := make([]string, len(files))
			wantRows = map[string]int{}
			for i, f := range files {
				allNames[i] = f.name
				for _, id := range f.loaded() {
					wantRows[id] = 1
				}
			}
			if got := loadedFiles(t, dataDir); !slices.Equal(got, allNames) {
				t.Errorf("state.json after the second run lists %v; want %v", got, allNames)
			}
			noTempFiles(t, dataDir)
			assertStoreRows(t, dataDir, mem, wantRows)
			var reloaded []string
			for _, f := range files {
				if slices.Contains(wantBegun, f.name) {
					reloaded = append(reloaded, f.loaded()...)
				}
			}
			assertReidentifiable(t, dataDir, reloaded)
			if b, err := os.ReadFile(filepath.Join(runDir, "quarantine", "persons.csv")); err != nil ||
				strings.Count(string(b), "\n") != 1+len(wantBegun) {
				t.Errorf("second run quarantine file: %v\n%s; want a header and one row per file loaded", err, b)
			}
		})
	}
}

// TestReidOfFileCommittedBeforeCancel wants the persons of a file that a
// run committed before it was cancelled to stay re-identifiable: the next
// run skips that file, so their pairs are never offered again.
func TestReidOfFileCommittedBeforeCancel(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	dataDir := t.TempDir()
	files := personFiles(2)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src := &personSource{files: files, after: func(file, record int) {
		if file == 2 && record == 2 {
			cancel()
		}
	}}
	if _, _, err := runOnce(ctx, t, dataDir, at(6), mem, src); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled run: error %v; want context.Canceled", err)
	}
	if _, _, err := runOnce(context.Background(), t, dataDir, at(7), mem, &personSource{files: files}); err != nil {
		t.Fatalf("second run: %v", err)
	}
	assertReidentifiable(t, dataDir, append(files[0].loaded(), files[1].loaded()...))
}

// recordsPerFile is how many rows of a personFile are emitted.
const recordsPerFile = 3

// personFile is one delivered file: its second row is rejected, the others
// emitted one record each.
type personFile struct {
	name string
	rows []string
}

func (f personFile) ref() pipeline.FileRef {
	sum := sha256.Sum256([]byte(strings.Join(f.rows, "\n")))
	return pipeline.FileRef{Name: f.name, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(f.rows))}
}

func (f personFile) rejected(i int) bool { return i == 1 }

// loaded lists the ids of the rows the file loads.
func (f personFile) loaded() []string {
	var out []string
	for i, id := range f.rows {
		if !f.rejected(i) {
			out = append(out, id)
		}
	}
	return out
}

func personFiles(n int) []personFile {
	files := make([]personFile, n)
	for i := range files {
		f := personFile{name: fmt.Sprintf("persons_%d.csv", i+1)}
		for r := 0; r < recordsPerFile+1; r++ {
			f.rows = append(f.rows, fmt.Sprintf("f%d-r%d", i+1, r+1))
		}
		files[i] = f
	}
	return files
}

// personSource is a pipeline.Source that checks ctx before every row, as
// a real connector checks it between batches.
type personSource struct {
	files []personFile
	after func(file, record int) // called after each emitted record, 1-based
	begun []string
}

var _ pipeline.Source = (*personSource)(nil)

func (s *personSource) Read(ctx context.Context, mem memory.Allocator, sink pipeline.Sink) error {
	schema := arrow.NewSchema([]arrow.Field{{Name: "person_id", Type: arrow.BinaryTypes.String}}, nil)
	for fi, f := range s.files {
		if err := ctx.Err(); err != nil {
			return err
		}
		ref := f.ref()
		ok, err := sink.Begin(ref)
		if err != nil {
			return fmt.Errorf("file %s: %w", f.name, err)
		}
		if !ok {
			continue
		}
		s.begun = append(s.begun, f.name)
		records := 0
		for i, id := range f.rows {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("file %s: %w", f.name, err)
			}
			if f.rejected(i) {
				err := sink.Reject(pipeline.Rejected{Row: int64(i + 2), Reason: pipeline.ReasonBadDate, Column: "date_of_birth", Values: []string{id}})
				if err != nil {
					return fmt.Errorf("file %s: %w", f.name, err)
				}
				continue
			}
			b := array.NewRecordBuilder(mem, schema)
			b.Field(0).(*array.StringBuilder).Append(id)
			rec := b.NewRecord()
			b.Release()
			err := sink.Emit(rec)
			rec.Release()
			if err == nil {
				err = sink.Reid("person_id", id, "P-"+id)
			}
			if err != nil {
				return fmt.Errorf("file %s: %w", f.name, err)
			}
			records++
			if s.after != nil {
				s.after(fi+1, records)
			}
		}
		if err := sink.End(ref, int64(len(f.rows))); err != nil {
			return fmt.Errorf("file %s: %w", f.name, err)
		}
	}
	return nil
}

func at(hour int) time.Time { return time.Date(2026, 7, 20, hour, 0, 0, 0, time.UTC) }

// runOnce opens the data directory, takes its lock and runs the pipeline
// once at now, as cmd/earlyhelp does.
func runOnce(ctx context.Context, t *testing.T, dataDir string, now time.Time, mem memory.Allocator, src pipeline.Source) (*pipeline.Manifest, string, error) {
	t.Helper()
	st, err := store.Open(dataDir, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := st.Lock()
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	id, runDir, err := st.NewRun(now)
	if err != nil {
		t.Fatal(err)
	}
	trainStages, err := train.New(train.Config{
		Candidates: []pipeline.Candidate{{Name: "flat", Trainer: flatTrainer{}}},
		Snapshots:  2, StepWeeks: 4, Capacity: 5,
		Evaluate: func(scores []float64, _ []bool, k int) pipeline.EvalMetrics {
			return pipeline.EvalMetrics{N: len(scores), K: k}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	score, err := rank.New(rank.Config{Capacity: 5, Exporter: nopExporter{}})
	if err != nil {
		t.Fatal(err)
	}
	man, err := pipeline.Run(ctx, pipeline.Options{
		RunID: id, RunDir: runDir, AsOf: now.Truncate(24 * time.Hour), Council: "test",
		Features: flatFeatures{}, HorizonWeeks: 26,
		Stages: append(append([]pipeline.Stage{ingest.New(ingest.Config{
			Sources:            []pipeline.SourceSpec{{Name: "persons", Columns: []string{"person_id"}, Source: src}},
			Store:              st,
			MaxQuarantineRatio: 0.5,
		})}, trainStages...), score),
		Mem: mem,
		Log: zerolog.Nop(),
		Now: func() time.Time { return now },
	})
	if man == nil {
		t.Fatalf("Run returned no manifest: %v", err)
	}
	return man, runDir, err
}

func readManifest(t *testing.T, runDir string) *pipeline.Manifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(runDir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m pipeline.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	return &m
}

// loadedFiles lists the deliveries of store/state.json by name, in order.
func loadedFiles(t *testing.T, dataDir string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir, "store", "state.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Deliveries []struct {
			Source, Name string
		} `json:"deliveries"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatalf("state.json: %v", err)
	}
	var out []string
	for _, d := range st.Deliveries {
		out = append(out, d.Name)
	}
	return out
}

// noTempFiles fails on any file an atomic write or a delivery left behind.
func noTempFiles(t *testing.T, dataDir string) {
	t.Helper()
	err := filepath.WalkDir(dataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasSuffix(d.Name(), ".tmp") {
			t.Errorf("temporary file left behind: %s", strings.TrimPrefix(path, dataDir))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// assertStoreRows scans the store, as reopened by a new process, and wants
// each id of want exactly want[id] times and nothing else.
func assertStoreRows(t *testing.T, dataDir string, mem memory.Allocator, want map[string]int) {
	t.Helper()
	st, err := store.Open(dataDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	err = st.Scan(context.Background(), mem, "persons", func(rec arrow.Record) error {
		col := rec.Column(0).(*array.String)
		for i := 0; i < col.Len(); i++ {
			got[col.Value(i)]++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	for _, c := range want {
		n += c
	}
	if rows := st.RowsLoaded("persons"); rows != int64(n) {
		t.Errorf("RowsLoaded = %d; want %d", rows, n)
	}
	for id, c := range got {
		if c != want[id] {
			t.Errorf("store holds %s %d times; want %d", id, c, want[id])
		}
	}
	for id := range want {
		if got[id] == 0 {
			t.Errorf("store lacks %s", id)
		}
	}
}

// assertReidentifiable wants the council id behind every pseudonym of ids
// in the re-identification lookup.
func assertReidentifiable(t *testing.T, dataDir string, ids []string) {
	t.Helper()
	st, err := store.Open(dataDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if raw, err := st.Reidentify("person_id", id); err != nil || raw != "P-"+id {
			t.Errorf("Reidentify(%s) = %q, %v; want P-%s", id, raw, err, id)
		}
	}
}

// flatFeatures builds the same small household table whatever the date,
// enough for the stages after ingest to run.
type flatFeatures struct{ pipelinetest.NoExtras }

func (flatFeatures) Build(_ context.Context, mem memory.Allocator, asOf time.Time) (*pipeline.FeatureTable, error) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: pipeline.ColHousehold, Type: arrow.BinaryTypes.String},
		{Name: pipeline.ColLocality, Type: arrow.BinaryTypes.String},
		{Name: "f1", Type: arrow.PrimitiveTypes.Float64},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	for i := 0; i < 20; i++ {
		b.Field(0).(*array.StringBuilder).Append(fmt.Sprintf("h%02d", i))
		b.Field(1).(*array.StringBuilder).Append("north")
		b.Field(2).(*array.Float64Builder).Append(float64(i) / 20)
	}
	return &pipeline.FeatureTable{AsOf: asOf, Record: b.NewRecord(), Excluded: map[string]int{}}, nil
}

func (flatFeatures) Labels(_ context.Context, t *pipeline.FeatureTable, _ int) ([]bool, error) {
	labels := make([]bool, t.Record.NumRows())
	for i := range labels {
		labels[i] = i%3 == 0
	}
	return labels, nil
}

func (flatFeatures) Describe(_ *pipeline.FeatureTable, _ int, r pipeline.Reason) string {
	return r.Feature
}

// flatTrainer's model scores a household by its feature f1.
type flatTrainer struct{}

func (flatTrainer) Fit(context.Context, arrow.Record, []bool) (pipeline.Model, error) {
	return flatModel{}, nil
}

type flatModel struct{ pipelinetest.ModelExtras }

func (flatModel) Score(_ context.Context, feats arrow.Record) ([]float64, error) {
	col := feats.Column(feats.Schema().FieldIndices("f1")[0]).(*array.Float64)
	return slices.Clone(col.Float64Values()), nil
}

func (flatModel) Explain(arrow.Record, int, int) []pipeline.Reason { return nil }

type nopExporter struct{}

func (nopExporter) Export(context.Context, string, *pipeline.List) ([]string, error) { return nil, nil }
