package ingest

import (
	"context"
	"earlyhelp/pipeline"
	"earlyhelp/pipeline/atomicfile"
	"earlyhelp/pipeline/contract"
	"earlyhelp/pipeline/rundir"
	"encoding/csv"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
)

// ingest runs every source into the store, keeping the books of the manifest
// and the metrics. It fails on the first source that fails.
func (r *run) ingest(ctx context.Context) error {
	for _, spec := range r.opts.Sources {
		sm := &pipeline.SourceManifest{ByReason: map[string]int64{}, NulledByReason: map[string]map[string]int64{}}
		r.Man.Sources[spec.Name] = sm
		s := &sink{run: r, spec: spec, man: sm, reid: map[string]map[string]string{}}
		err := spec.Source.Read(ctx, r.Mem, s)
		if s.del != nil { // a file was open when the source failed
			s.del.Abort()
			s.del = nil
		}
		// Whether or not the read failed, what it committed goes to disk
		// and into the store's state now.
		if serr := r.opts.Store.Settle(); serr != nil && err == nil {
			err = serr
		}
		// The files committed before a failure stay loaded and will be
		// skipped next time, so their people must stay re-identifiable.
		if rerr := r.opts.Store.SaveReid(s.reid); rerr != nil && err == nil {
			err = rerr
		}
		if err != nil {
			s.q.abort()
			s.cells.abort()
			return fmt.Errorf("%s: %w", spec.Name, err)
		}
		if err := s.q.commit(); err != nil {
			s.cells.abort()
			return fmt.Errorf("%s: quarantine: %w", spec.Name, err)
		}
		if err := s.cells.commit(); err != nil {
			return fmt.Errorf("%s: quarantine of cells: %w", spec.Name, err)
		}
		r.countSource(spec.Name, sm)
		r.Log.Info().Str("source", spec.Name).Int64("read", sm.Read).Int64("loaded", sm.Loaded).
			Int64("quarantined", sm.Quarantined).Int64("cells_nulled", sm.Nulled).Int("files", len(sm.Files)).Msg("ingested")
		if r.opts.Ingested != nil {
			r.opts.Ingested(ctx, r.State, spec.Name)
		}
	}
	r.opts.Store.ForgetReid()
	if r.Metrics != nil {
		var unmatched int
		for _, sm := range r.Man.Sources {
			unmatched += len(sm.Unmatched)
		}
		r.Metrics.ObjectionsUnmatched.Set(float64(unmatched))
		// Every source's newest file, whether or not this run found one,
		// so a one-shot run's pushed metrics carry it too.
		expected := make(map[string]time.Duration, len(r.opts.Sources))
		for _, spec := range r.opts.Sources {
			expected[spec.Name] = spec.ExpectedEvery
		}
		r.Metrics.SetSourceFreshness(expected, r.opts.Store)
	}
	for _, spec := range r.opts.Sources {
		sm := r.Man.Sources[spec.Name]
		if sm.Read > 0 && float64(sm.Quarantined) > r.opts.MaxQuarantineRatio*float64(sm.Read) {
			return fmt.Errorf("%s: %d of %d rows quarantined (%s), above max_quarantine_ratio %g: %w",
				spec.Name, sm.Quarantined, sm.Read, topReasons(sm.ByReason, 3), r.opts.MaxQuarantineRatio, pipeline.ErrTolerance)
		}
	}
	maxNulled := r.opts.MaxNulledRatio
	if maxNulled <= 0 {
		maxNulled = pipeline.DefaultMaxNulledRatio
	}
	for _, spec := range r.opts.Sources {
		if err := checkNulled(spec.Name, r.Man.Sources[spec.Name], maxNulled); err != nil {
			return err
		}
	}
	return nil
}

// checkNulled fails a source one of whose columns has more than max of
// its loaded cells unreadable, naming the column.
func checkNulled(source string, sm *pipeline.SourceManifest, max float64) error {
	if sm.Loaded == 0 {
		return nil
	}
	cols := make([]string, 0, len(sm.NulledByReason))
	for c := range sm.NulledByReason {
		cols = append(cols, c)
	}
	sort.Strings(cols)
	for _, c := range cols {
		var n int64
		for _, k := range sm.NulledByReason[c] {
			n += k
		}
		if float64(n) > max*float64(sm.Loaded) {
			return fmt.Errorf("%s: column %s: %d of %d loaded cells unreadable (%s), above max_nulled_ratio %g: %w",
				source, c, n, sm.Loaded, topReasons(sm.NulledByReason[c], 3), max, pipeline.ErrTolerance)
		}
	}
	return nil
}

// topReasons names the n commonest quarantine reasons with their counts,
// so the engineer reading the error knows where to look first.
func topReasons(by map[string]int64, n int) string {
	reasons := make([]string, 0, len(by))
	for k := range by {
		reasons = append(reasons, k)
	}
	sort.Slice(reasons, func(i, j int) bool {
		if by[reasons[i]] != by[reasons[j]] {
			return by[reasons[i]] > by[reasons[j]]
		}
		return reasons[i] < reasons[j]
	})
	parts := make([]string, 0, n)
	for _, k := range reasons[:min(n, len(reasons))] {
		parts = append(parts, fmt.Sprintf("%s %d", k, by[k]))
	}
	return strings.Join(parts, ", ")
}

func (r *run) countSource(name string, sm *pipeline.SourceManifest) {
	if r.Metrics == nil {
		return
	}
	r.Metrics.RowsRead.WithLabelValues(name).Add(float64(sm.Read))
	r.Metrics.RowsLoaded.WithLabelValues(name).Add(float64(sm.Loaded))
	reasons := make([]string, 0, len(sm.ByReason))
	for reason := range sm.ByReason {
		reasons = append(reasons, reason)
	}
	sort.Strings(reasons)
	for _, reason := range reasons {
		r.Metrics.RowsQuarantined.WithLabelValues(name, reason).Add(float64(sm.ByReason[reason]))
	}
	for col, by := range sm.NulledByReason {
		for reason, n := range by {
			r.Metrics.CellsNulled.WithLabelValues(name, col, reason).Add(float64(n))
		}
	}
	// The rates of this delivery; a run that read nothing new of the
	// source leaves the last delivery's in place.
	if sm.Read > 0 {
		r.Metrics.SourceQuarantined.WithLabelValues(name).Set(float64(sm.Quarantined) / float64(sm.Read))
	}
	if sm.Loaded > 0 {
		r.Metrics.SourceNulled.WithLabelValues(name).Set(nulledShare(sm))
	}
}

// nulledShare is the largest share of a column's loaded cells that were
// unreadable and nulled: the figure max_nulled_ratio bounds.
func nulledShare(sm *pipeline.SourceManifest) float64 {
	var most int64
	for _, by := range sm.NulledByReason {
		var n int64
		for _, k := range by {
			n += k
		}
		most = max(most, n)
	}
	return float64(most) / float64(sm.Loaded)
}

// sink is the ingest stage's pipeline.Sink for one source.
type sink struct {
	run   *run
	spec  pipeline.SourceSpec
	man   *pipeline.SourceManifest
	q     quarantine
	cells cellsFile
	reid  map[string]map[string]string // of committed files

	fileReid map[string]map[string]string // of the open file, merged on End
	file     *pipeline.FileManifest
	ref      pipeline.FileRef
	del      pipeline.Delivery
	byReason map[string]int64 // this file's rejects, merged on End
	// this file's nulled cells by column and reason, and its unmatched
	// objection rows, merged on End
	nulled    map[string]map[string]int64
	unmatched []pipeline.UnmatchedRow
}

var (
	_ pipeline.Sink       = (*sink)(nil)
	_ pipeline.KnownFiles = (*sink)(nil)
)

// Shape records the file's skipped lines and doubly encoded rows; the
// latter are warned of, for someone to ask the council's supplier to fix
// the export (they are loaded as they are).
func (s *sink) Shape(f pipeline.FileRef, sh pipeline.FileShape) error {
	if s.file == nil || f.SHA256 != s.ref.SHA256 {
		return fmt.Errorf("shape of %s outside its file", f.Name)
	}
	s.file.SkippedLines, s.file.MojibakeRows = sh.SkippedLines, sh.MojibakeRows
	if sh.MojibakeRows > 0 {
		s.run.Log.Warn().Str("source", s.spec.Name).Str("file", f.Name).Int64("rows", sh.MojibakeRows).
			Msg("text looks doubly encoded (UTF-8 read as Windows-1252 before export); loaded as it is, not repaired")
	}
	return nil
}

// Known answers for the store.
func (s *sink) Known(name string, size int64, modTime time.Time) (string, bool) {
	return s.run.opts.Store.Known(s.spec.Name, name, size, modTime)
}

func (s *sink) Begin(f pipeline.FileRef) (bool, error) {
	if s.file != nil {
		return false, fmt.Errorf("file %s begun before %s ended", f.Name, s.ref.Name)
	}
	seen, err := s.run.opts.Store.Loaded(s.spec.Name, f)
	if err != nil {
		return false, err
	}
	s.man.Files = append(s.man.Files, pipeline.FileManifest{Name: f.Name, SHA256: f.SHA256, Bytes: f.Size, Skipped: seen})
	if seen {
		return false, nil
	}
	del, err := s.run.opts.Store.NewDelivery(s.spec.Name, f)
	if err != nil {
		return false, err
	}
	s.file, s.ref, s.del, s.byReason = &s.man.Files[len(s.man.Files)-1], f, del, map[string]int64{}
	s.nulled, s.unmatched = map[string]map[string]int64{}, nil
	s.fileReid = map[string]map[string]string{}
	return true, nil
}

func (s *sink) Emit(rec arrow.Record) error {
	if s.file == nil {
		return fmt.Errorf("emit outside a file")
	}
	s.file.Loaded += rec.NumRows()
	return s.del.Write(rec)
}

func (s *sink) Reject(rj pipeline.Rejected) error {
	if s.file == nil {
		return fmt.Errorf("reject outside a file")
	}
	s.file.Quarantined++
	s.byReason[rj.Reason]++
	if s.spec.Name == sourceObjections {
		// Only a row whose person cannot be identified is rejected (the
		// connector keeps every other objection): it is an objection that
		// cannot be honoured, and someone must trace it by hand.
		s.unmatched = append(s.unmatched, pipeline.UnmatchedRow{File: s.ref.Name, Row: rj.Row, Reason: rj.Reason})
	}
	return s.q.write(s.run.Dir, s.spec, s.ref.Name, rj)
}

// sourceObjections is the objections source's name (CONTRACTS §2).
const sourceObjections = contract.Objections

func (s *sink) Nulled(c pipeline.NulledCell) error {
	if s.file == nil {
		return fmt.Errorf("nulled cell outside a file")
	}
	by := s.nulled[c.Column]
	if by == nil {
		by = map[string]int64{}
		s.nulled[c.Column] = by
	}
	by[c.Reason]++
	return s.cells.write(s.run.Dir, s.spec.Name, s.ref.Name, c)
}

func (s *sink) Reid(ns, pseudonym, raw string) error {
	if s.file == nil {
		return fmt.Errorf("reid outside a file")
	}
	m := s.fileReid[ns]
	if m == nil {
		m = map[string]string{}
		s.fileReid[ns] = m
	}
	m[pseudonym] = raw
	return nil
}

func (s *sink) End(f pipeline.FileRef, rowsRead int64) error {
	if s.file == nil || f.SHA256 != s.ref.SHA256 {
		return fmt.Errorf("end of %s without its begin", f.Name)
	}
	fm := s.file
	fm.Read = rowsRead
	// The books must balance: nothing read is lost without a trace.
	if fm.Loaded+fm.Quarantined != rowsRead {
		s.del.Abort()
		s.file, s.del = nil, nil
		return fmt.Errorf("file %s: %d rows read but %d loaded and %d quarantined",
			f.Name, rowsRead, fm.Loaded, fm.Quarantined)
	}
	if err := s.del.Commit(rowsRead, fm.Loaded); err != nil {
		s.file, s.del = nil, nil
		return err
	}
	s.man.Read += fm.Read
	s.man.Loaded += fm.Loaded
	s.man.Quarantined += fm.Quarantined
	s.man.SkippedLines += fm.SkippedLines
	s.man.MojibakeRows += fm.MojibakeRows
	for k, v := range s.byReason {
		s.man.ByReason[k] += v
	}
	for col, by := range s.nulled {
		m := s.man.NulledByReason[col]
		if m == nil {
			m = map[string]int64{}
			s.man.NulledByReason[col] = m
		}
		for k, v := range by {
			m[k] += v
			s.man.Nulled += v
		}
	}
	s.man.Unmatched = append(s.man.Unmatched, s.unmatched...)
	for ns, m := range s.fileReid {
		if s.reid[ns] == nil {
			// A source's first file: its pairs are the source's so far.
			// Merging a register's pairs into an empty map grew a second
			// map of the same size pair by pair.
			s.reid[ns] = m
			continue
		}
		for p, raw := range m {
			s.reid[ns][p] = raw
		}
	}
	s.file, s.del, s.fileReid = nil, nil, nil
	return nil
}

// quarantine writes runs/<id>/quarantine/<source>.csv, created on the first
// rejected row.
type quarantine struct{ csvOut }

// csvOut is a CSV file of a run written atomically: created on its first
// line, renamed into place on commit, removed on abort.
type csvOut struct {
	f *atomicfile.File
	w *csv.Writer
}

func (q *csvOut) commit() error {
	if q.f == nil {
		return nil
	}
	q.w.Flush()
	if err := q.w.Error(); err != nil {
		q.f.Abort()
		return err
	}
	return q.f.Commit()
}

func (q *csvOut) abort() {
	if q.f != nil {
		q.f.Abort()
	}
}

func (q *quarantine) write(runDir string, spec pipeline.SourceSpec, file string, rj pipeline.Rejected) error {
	if q.f == nil {
		f, err := atomicfile.Create(rundir.Open(runDir).QuarantineCSV(spec.Name), 0o640)
		if err != nil {
			return err
		}
		q.f, q.w = f, csv.NewWriter(f)
		header := append([]string{"file", "row_number", "reason", "column"}, spec.Columns...)
		if err := q.w.Write(header); err != nil {
			return err
		}
	}
	row := make([]string, 0, 4+len(spec.Columns))
	row = append(row, file, strconv.FormatInt(rj.Row, 10), rj.Reason, rj.Column)
	for i := range spec.Columns {
		v := ""
		if i < len(rj.Values) {
			v = rj.Values[i]
		}
		row = append(row, pipeline.Neutralise(v))
	}
	return q.w.Write(row)
}

// cellsFile writes runs/<id>/quarantine/<source>_cells.csv, created on the
// first nulled cell: one line per optional cell stored as null.
type cellsFile struct{ csvOut }

func (q *cellsFile) write(runDir, source, file string, c pipeline.NulledCell) error {
	if q.f == nil {
		f, err := atomicfile.Create(rundir.Open(runDir).QuarantineCellsCSV(source), 0o640)
		if err != nil {
			return err
		}
		q.f, q.w = f, csv.NewWriter(f)
		if err := q.w.Write([]string{"file", "row_number", "column", "reason", "value"}); err != nil {
			return err
		}
	}
	return q.w.Write([]string{file, strconv.FormatInt(c.Row, 10), c.Column, c.Reason, pipeline.Neutralise(c.Value)})
}
