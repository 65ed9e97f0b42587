package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/ipc"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/pipeline"
)

// delivery writes one file's records to an Arrow IPC file under a temporary
// name; Commit renames it and records it in the load state.
type delivery struct {
	s      *Store
	source string
	ref    pipeline.FileRef
	final  string // relative to store/
	tmp    *os.File
	w      *ipc.FileWriter
	done   bool
}

// NewDelivery starts writing the records of one delivered file of source.
func (s *Store) NewDelivery(source string, f pipeline.FileRef) (pipeline.Delivery, error) {
	if !sourceName.MatchString(source) {
		return nil, fmt.Errorf("store: bad source name %q", source)
	}
	if len(f.SHA256) < 12 {
		return nil, fmt.Errorf("store: %s: file %s has no hash", source, f.Name)
	}
	seq := len(s.state.Deliveries) + 1
	name := fmt.Sprintf("%06d-%s.arrow", seq, f.SHA256[:12])
	return &delivery{s: s, source: source, ref: f, final: filepath.Join(source, name)}, nil
}

func (d *delivery) Write(rec arrow.Record) error {
	if d.done {
		return fmt.Errorf("store: %s: write after commit", d.ref.Name)
	}
	if d.w == nil {
		dir := d.s.path(d.source)
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return err
		}
		f, err := os.CreateTemp(dir, ".delivery.*.tmp")
		if err != nil {
			return err
		}
		// LZ4 keeps the store a fraction of the CSV size at little CPU cost.
		w, err := ipc.NewFileWriter(f, ipc.WithSchema(rec.Schema()), ipc.WithLZ4())
		if err != nil {
			f.Close()
			os.Remove(f.Name())
			return err
		}
		d.tmp, d.w = f, w
	}
	if err := d.w.Write(rec); err != nil {
		return fmt.Errorf("store: %s: %w", d.ref.Name, err)
	}
	return nil
}

func (d *delivery) Commit(rowsRead, rowsLoaded int64) error {
	if d.done {
		return fmt.Errorf("store: %s: committed twice", d.ref.Name)
	}
	d.done = true
	file := ""
	if d.w != nil {
		err := d.w.Close()
		if err == nil {
			err = d.tmp.Sync()
		}
		if cerr := d.tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(d.tmp.Name(), d.s.path(d.final))
		}
		if err != nil {
			os.Remove(d.tmp.Name())
			return fmt.Errorf("store: %s: %w", d.ref.Name, err)
		}
		file = d.final
	}
	d.s.state.Deliveries = append(d.s.state.Deliveries, delivered{
		Source: d.source, Name: d.ref.Name, SHA256: d.ref.SHA256, File: file,
		RowsRead: rowsRead, RowsLoaded: rowsLoaded, LoadedAt: d.s.now().UTC(),
	})
	if err := d.s.saveState(); err != nil {
		d.s.state.Deliveries = d.s.state.Deliveries[:len(d.s.state.Deliveries)-1]
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

func (d *delivery) Abort() {
	if d.done {
		return
	}
	d.done = true
	if d.w != nil {
		d.w.Close()
		d.tmp.Close()
		os.Remove(d.tmp.Name())
	}
}

// Scan calls fn for every stored record of source, in load order (so a
// later delivery's rows come after an earlier one's). fn must not keep rec
// past its return without retaining it.
func (s *Store) Scan(ctx context.Context, mem memory.Allocator, source string, fn func(arrow.Record) error) error {
	for _, rel := range s.files(source) {
		if err := s.scanFile(ctx, mem, rel, fn); err != nil {
			return fmt.Errorf("store: %s: %w", rel, err)
		}
	}
	return nil
}

func (s *Store) scanFile(ctx context.Context, mem memory.Allocator, rel string, fn func(arrow.Record) error) error {
	f, err := os.Open(s.path(rel))
	if err != nil {
		return err
	}
	defer f.Close()
	r, err := ipc.NewFileReader(f, ipc.WithAllocator(mem))
	if err != nil {
		return err
	}
	defer r.Close()
	for i := 0; i < r.NumRecords(); i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec, err := r.Record(i)
		if err != nil {
			return err
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	return nil
}
