package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/ipc"

	"earlyhelp/pipeline"
)

// writeQueue is how many records a delivery holds for its writer
// goroutine: enough to ride out a slow write, few enough that memory does
// not grow with the file.
const writeQueue = 4

// delivery writes one file's records to an Arrow IPC file under a temporary
// name; Commit renames it and records it in the load state. Records are
// compressed and written on a goroutine of the delivery's own, so the
// source goes on reading meanwhile; Commit and Abort wait for it.
type delivery struct {
	s      *Store
	source string
	ref    pipeline.FileRef
	final  string // relative to store/
	tmp    *os.File
	hashed *hashingFile // tmp, hashed as it is written
	w      *ipc.FileWriter
	done   bool

	queue   chan arrow.Record // to the writer goroutine; nil until the first Write
	written chan struct{}     // closed when the writer goroutine has finished
	discard atomic.Bool       // set by Abort: release what is queued unwritten
	failed  atomic.Pointer[error]
	// dates spans the date columns of the records written; only the writer
	// goroutine touches it until drain has waited for that goroutine.
	dates dateSpans
}

// NewDelivery starts writing the records of one delivered file of source.
func (s *Store) NewDelivery(source string, f pipeline.FileRef) (pipeline.Delivery, error) {
	if !sourceName.MatchString(source) {
		return nil, fmt.Errorf("store: bad source name %q", source)
	}
	if len(f.SHA256) < 12 {
		return nil, fmt.Errorf("store: %s: file %s has no hash", source, f.Name)
	}
	return &delivery{s: s, source: source, ref: f, final: s.newFile(source, f.SHA256[:12])}, nil
}

// newFile names a new store file of source, relative to the store folder:
// numbered by its place in the load order, and never a name in use, which
// the commit's rename would silently replace. Once Forget has taken
// deliveries out of the load order, the next number can be a kept file's.
func (s *Store) newFile(source, hash string) string {
	inUse := map[string]bool{}
	ds := s.deliveries()
	for _, d := range ds {
		inUse[d.File] = true
	}
	for seq := len(ds) + 1; ; seq++ {
		rel := filepath.Join(source, fmt.Sprintf("%06d-%s.arrow", seq, hash))
		if _, err := os.Lstat(s.path(rel)); !inUse[rel] && errors.Is(err, fs.ErrNotExist) {
			return rel
		}
	}
}

// Write queues rec for writing; it retains rec until then. An error the
// writer met with an earlier record is returned here, or else by Commit.
func (d *delivery) Write(rec arrow.Record) error {
	if d.done {
		return fmt.Errorf("store: %s: write after commit", d.ref.Name)
	}
	if err := d.err(); err != nil {
		return err
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
		hashed := newHashingFile(f)
		w, err := ipc.NewFileWriter(hashed, ipc.WithSchema(rec.Schema()), ipc.WithLZ4(), ipc.WithAllocator(d.s.writeMem))
		if err != nil {
			f.Close()
			os.Remove(f.Name())
			return err
		}
		d.tmp, d.hashed, d.w = f, hashed, w
		d.queue, d.written = make(chan arrow.Record, writeQueue), make(chan struct{})
		d.dates = dateSpans{}
		go d.writeQueued()
	}
	rec.Retain()
	d.queue <- rec
	return nil
}

// writeQueued writes the queued records in order until the queue is
// closed, releasing each, and widens the delivery's date spans by each
// record written: here every record passes anyway, off the source's
// goroutine. After an error, or once Abort has been called, it only
// releases them.
func (d *delivery) writeQueued() {
	defer close(d.written)
	for rec := range d.queue {
		if !d.discard.Load() && d.failed.Load() == nil {
			if err := d.w.Write(rec); err != nil {
				err = fmt.Errorf("store: %s: %w", d.ref.Name, err)
				d.failed.Store(&err)
			} else {
				d.dates.add(rec)
			}
		}
		rec.Release()
	}
}

func (d *delivery) err() error {
	if p := d.failed.Load(); p != nil {
		return *p
	}
	return nil
}

// drain closes the queue and waits until the writer has done with it.
func (d *delivery) drain() {
	if d.queue != nil {
		close(d.queue)
		<-d.written
		d.queue = nil
	}
}

// Commit makes the delivery's file the store's and records it in the
// state. The file is complete in the page cache when Commit returns, but
// its sync to disk runs on: at 100,000 children each monthly attendance
// file's fsync held the source for some 45 ms whatever was written back
// before, a second of a 12 s ingest. The state saved here names the
// deliveries before this one (their syncs are waited for first); this
// one's is saved by the next Commit or by Settle, which ingestion calls
// when the source's read ends. So state.json never names a file that is
// not on disk, and a crash before then leaves a file no state names,
// which nothing reads, and a delivery loaded again by the next run.
func (d *delivery) Commit(rowsRead, rowsLoaded int64) error {
	if d.done {
		return fmt.Errorf("store: %s: committed twice", d.ref.Name)
	}
	d.done = true
	d.drain()
	file, sum := "", ""
	var dates map[string]dateSpan
	if d.w != nil {
		err := d.err()
		if err == nil {
			err = d.w.Close()
		} else {
			d.w.Close()
		}
		if err == nil {
			err = d.hashed.flush()
		}
		if err == nil {
			err = os.Rename(d.tmp.Name(), d.s.path(d.final))
		}
		if err != nil {
			d.tmp.Close()
			os.Remove(d.tmp.Name())
			if d.failed.Load() != nil {
				return err // named already
			}
			return fmt.Errorf("store: %s: %w", d.ref.Name, err)
		}
		file, sum, dates = d.final, d.hashed.sum(), d.dates.recorded()
	}
	// The deliveries before this one, once their files are on disk.
	if err := d.s.saveState(); err != nil {
		if d.tmp != nil {
			d.tmp.Close()
			os.Remove(d.s.path(d.final))
		}
		return fmt.Errorf("store: %w", err)
	}
	d.s.setDeliveries(append(d.s.deliveries(), delivered{
		Source: d.source, Name: d.ref.Name, SHA256: d.ref.SHA256, Size: d.ref.Size, ModTime: d.ref.ModTime.UTC(), File: file, FileSHA256: sum,
		RowsRead: rowsRead, RowsLoaded: rowsLoaded, LoadedAt: d.s.now().UTC(), Dates: dates,
	}))
	d.s.unsaved = true
	if d.tmp != nil {
		d.s.syncing = startSync(d.tmp, file, d.ref.Name)
	}
	return nil
}

// Abort discards the delivery: queued records are released unwritten.
func (d *delivery) Abort() {
	if d.done {
		return
	}
	d.done = true
	d.discard.Store(true)
	d.drain()
	if d.w != nil {
		d.w.Close()
		d.tmp.Close()
		os.Remove(d.tmp.Name())
	}
}
