package ingest

import (
	"context"
	"earlyhelp/pipeline"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"
)

// nullingSource offers one file of `emit` rows, `nulled` of which had
// their ethnicity cell nulled, and `reject` rows quarantined.
type nullingSource struct {
	name                   string
	emit, nulled, rejected int64
}

func (f nullingSource) Read(ctx context.Context, mem memory.Allocator, sink pipeline.Sink) error {
	ref := pipeline.FileRef{Name: f.name + ".csv", SHA256: strings.Repeat("cd", 32), Size: 100}
	if ok, err := sink.Begin(ref); err != nil || !ok {
		return err
	}
	if err := emitPeople(sink, mem, f.emit); err != nil {
		return err
	}
	for i := range f.nulled {
		if err := sink.Nulled(pipeline.NulledCell{Row: i + 2, Column: "ethnicity", Reason: pipeline.ReasonBadCode, Value: "=WBRIX"}); err != nil {
			return err
		}
	}
	for i := range f.rejected {
		if err := sink.Reject(pipeline.Rejected{Row: f.emit + i + 2, Reason: pipeline.ReasonMissingRequired, Column: "person_id"}); err != nil {
			return err
		}
	}
	return sink.End(ref, f.emit+f.rejected)
}

// TestIngestCountsNulledCells: every nulled cell is in the manifest, the
// metric and the cells file; a column mostly unreadable fails the source
// with ErrTolerance naming it; objection rows that name no one are listed
// by row and raise the unmatched gauge.
func TestIngestCountsNulledCells(t *testing.T) {
	tests := []struct {
		name    string
		src     nullingSource
		wantErr string
	}{
		{"some nulled", nullingSource{name: "persons", emit: 10, nulled: 3}, ""},
		{"mostly unreadable", nullingSource{name: "persons", emit: 10, nulled: 6}, "persons: column ethnicity: 6 of 10 loaded cells unreadable (bad_code 6), above max_nulled_ratio 0.5"},
		{"objections unmatched", nullingSource{name: "objections", emit: 10, rejected: 2}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			m, err := pipeline.NewMetrics(prometheus.NewRegistry())
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			r := &run{
				opts: Config{
					Sources:            []pipeline.SourceSpec{{Name: tc.src.name, Columns: []string{"person_id", "ethnicity"}, Source: tc.src}},
					Store:              &fakeStore{},
					MaxQuarantineRatio: 0.5,
				},

				State: &pipeline.State{Mem: mem, Log: zerolog.Nop(), Dir: dir, Man: &pipeline.Manifest{Sources: map[string]*pipeline.SourceManifest{}}, Metrics: m},
			}
			err = r.ingest(context.Background())
			if tc.wantErr == "" && err != nil {
				t.Fatalf("ingest: %v", err)
			}
			if tc.wantErr != "" && (!errors.Is(err, pipeline.ErrTolerance) || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("ingest error %v; want ErrTolerance containing %q", err, tc.wantErr)
			}
			sm := r.Man.Sources[tc.src.name]
			if got := sm.NulledByReason["ethnicity"][pipeline.ReasonBadCode]; got != tc.src.nulled || sm.Nulled != tc.src.nulled {
				t.Errorf("manifest nulled_by_reason %v, cells_nulled %d; want %d", sm.NulledByReason, sm.Nulled, tc.src.nulled)
			}
			if sm.Read != sm.Loaded+sm.Quarantined {
				t.Errorf("read %d != loaded %d + quarantined %d", sm.Read, sm.Loaded, sm.Quarantined)
			}
			if got := testutil.ToFloat64(m.CellsNulled.WithLabelValues(tc.src.name, "ethnicity", pipeline.ReasonBadCode)); tc.wantErr == "" && got != float64(tc.src.nulled) {
				t.Errorf("cells_nulled_total = %v; want %d", got, tc.src.nulled)
			}
			b, ferr := os.ReadFile(filepath.Join(dir, "quarantine", tc.src.name+"_cells.csv"))
			switch {
			case tc.src.nulled == 0 && ferr == nil:
				t.Error("a cells file with no nulled cell")
			case tc.src.nulled > 0 && tc.wantErr == "":
				want := "file,row_number,column,reason,value\n" + tc.src.name + ".csv,2,ethnicity,bad_code,'=WBRIX\n"
				if ferr != nil || !strings.HasPrefix(string(b), want) || strings.Count(string(b), "\n") != int(tc.src.nulled)+1 {
					t.Errorf("cells file (%v):\n%s\nwant %d lines starting\n%s", ferr, b, tc.src.nulled+1, want)
				}
			}
			if got := len(sm.Unmatched); got != int(tc.src.rejected) {
				t.Errorf("unmatched rows %v; want %d", sm.Unmatched, tc.src.rejected)
			}
			if tc.src.rejected > 0 {
				if u := sm.Unmatched[0]; u.File != "objections.csv" || u.Row != 12 || u.Reason != pipeline.ReasonMissingRequired {
					t.Errorf("unmatched %+v; want objections.csv row 12 missing_required", u)
				}
				if got := testutil.ToFloat64(m.ObjectionsUnmatched); got != float64(tc.src.rejected) {
					t.Errorf("objections_unmatched = %v; want %d", got, tc.src.rejected)
				}
			}
		})
	}
}
