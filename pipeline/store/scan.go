package store

import (
	"context"
	"fmt"
	"os"
	"sync"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/ipc"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// Scan calls fn for every stored record of source, in load order (so a
// later delivery's rows come after an earlier one's). fn must not keep rec
// past its return without retaining it.
//
// Records are decoded (LZ4) one file ahead of fn on a second goroutine:
// decoding is as costly as what a feature builder does with the rows, and
// the two overlap on a second core.
func (s *Store) Scan(ctx context.Context, mem memory.Allocator, source string, fn func(arrow.Record) error) error {
	return s.scan(ctx, mem, s.files(source, nil), fn)
}

// ScanSince is Scan over the deliveries of source that may hold a row
// whose date column is on or after since (days since 1970-01-01, as Arrow's
// date32): a delivery whose recorded latest value of column is before since
// is left out without its file being opened. It is for readers that ignore
// rows dated before since: a weekly run needs a year of attendance, and
// decoding the year of history before it only to throw it away was about a
// quarter of its score stage's CPU (issue 9, at 60,000 children).
//
// Deliveries are judged by their own dates only: a later delivery that
// amends an old date is read when its own dates reach since, and one
// without a recorded span of column (loaded before spans were recorded, or
// with every value of column null) is always read. Rows are not filtered:
// a delivery that is read hands fn all its rows, older ones too.
func (s *Store) ScanSince(ctx context.Context, mem memory.Allocator, source, column string, since int32, fn func(arrow.Record) error) error {
	return s.ScanSinceAfter(ctx, mem, source, column, since, 0, fn)
}

// scan calls fn for every record of files, in order, decoding on a second
// goroutine.
func (s *Store) scan(ctx context.Context, mem memory.Allocator, files []storedFile, fn func(arrow.Record) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type item struct {
		rel string
		rec arrow.Record
		err error
	}
	ch := make(chan item, 4)
	go func() {
		defer close(ch)
		// The next file's checksum is taken on a goroutine of its own while
		// this one is decoded: hashing was a fifth of the scan's time, and
		// the scan's goroutine is the slower half of a cold attendance
		// load. A file is still decoded only once its bytes have matched.
		verified := s.verifyAhead(files, 0)
		for i, sf := range files {
			rel := sf.rel
			var err error
			select {
			case err = <-verified:
			case <-ctx.Done():
				err = ctx.Err()
			}
			verified = s.verifyAhead(files, i+1)
			if err == nil {
				err = s.decodeFile(ctx, mem, sf, func(rec arrow.Record) error {
					select {
					case ch <- item{rel: rel, rec: rec}:
						return nil
					case <-ctx.Done():
						rec.Release()
						return ctx.Err()
					}
				})
			}
			if err != nil {
				select {
				case ch <- item{rel: rel, err: err}:
				case <-ctx.Done():
				}
				return
			}
		}
	}()
	var firstErr error
	for it := range ch {
		if firstErr != nil {
			if it.rec != nil {
				it.rec.Release()
			}
			continue
		}
		if it.err != nil {
			firstErr = fmt.Errorf("store: %s: %w", it.rel, it.err)
			cancel()
			continue
		}
		err := fn(it.rec)
		it.rec.Release()
		if err != nil {
			firstErr = fmt.Errorf("store: %s: %w", it.rel, err)
			cancel()
		}
	}
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return firstErr
}

// verifyAhead starts checking files[i] against its recorded checksum,
// if there is such a file; the channel gives the answer.
func (s *Store) verifyAhead(files []storedFile, i int) <-chan error {
	if i >= len(files) {
		return nil
	}
	c := make(chan error, 1) // the answer is not waited for after a failure
	go func() { c <- verify(s.path(files[i].rel), files[i].sum) }()
	return c
}

// scanFile calls fn for every record of sf once its bytes have matched
// their recorded checksum.
func (s *Store) scanFile(ctx context.Context, mem memory.Allocator, sf storedFile, fn func(arrow.Record) error) error {
	if err := verify(s.path(sf.rel), sf.sum); err != nil {
		return err
	}
	return s.decodeFile(ctx, mem, sf, fn)
}

// decodeFile calls fn for every record of sf, whose checksum has been
// checked.
func (s *Store) decodeFile(ctx context.Context, mem memory.Allocator, sf storedFile, fn func(arrow.Record) error) error {
	// The file is read twice, once to hash it and once by the IPC reader,
	// which wants random access; the second read comes from the page cache.
	f, err := os.Open(s.path(sf.rel))
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	return decode(ctx, mem, f, fi.Size(), sf.sum == "", fn)
}

// decode calls fn for every record of the Arrow IPC file r of size bytes.
//
// Arrow's IPC reader panics on some damaged input (a zeroed region makes
// its LZ4 decoder fail with "lz4: invalid source", which it panics with), and
// a panic on the scan's goroutine would end the process, so it is recovered
// into an error here. A checksum catches damage first, but files written
// before checksums were recorded have none. What the decoder had allocated
// when it panicked is not released: the Go allocator's collector takes it
// back, and a run that meets this fails anyway.
//
// With check set, each record is validated before fn sees it: for files
// without a checksum, whose damage only the decoder can find.
func decode(ctx context.Context, mem memory.Allocator, r ipc.ReadAtSeeker, size int64, check bool, fn func(arrow.Record) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: the Arrow decoder panicked: %v", ErrUndecodable, p)
		}
	}()
	if err := checkFooter(r, size); err != nil {
		return err
	}
	fr, err := ipc.NewFileReader(r, ipc.WithAllocator(boundedAllocator{mem, maxBuffer(size)}))
	if err != nil {
		return err
	}
	defer fr.Close()
	return decodeAhead(ctx, fr, fr.NumRecords(), check, fn)
}

// decodeWorkers is how many of a file's records are decoded at once.
const decodeWorkers = 2

// decodeAhead decodes the n records of fr on up to decodeWorkers
// goroutines, worker w of k taking records w, w+k, ..., and hands them to
// fn in order. One goroutine decoding a file was slower than the reader of its
// rows: a backtest's first read of two years of attendance at 300,000
// children waited 20 of its 32 seconds for records. Records are
// independent once the footer is read (RecordAt may be called
// concurrently), and fn sees them, and the first error, as a record-by-
// record read gives them.
func decodeAhead(ctx context.Context, fr *ipc.FileReader, n int, check bool, fn func(arrow.Record) error) error {
	ctx, cancel := context.WithCancel(ctx)
	type item struct {
		rec arrow.Record
		err error
	}
	queues := make([]chan item, min(decodeWorkers, n))
	k := len(queues)
	var wg sync.WaitGroup
	for w := range queues {
		q := make(chan item, 1)
		queues[w] = q
		wg.Go(func() {
			defer close(q)
			for i := w; i < n; i += k {
				if ctx.Err() != nil {
					return
				}
				rec, err := recordAt(fr, i, check)
				select {
				case q <- item{rec, err}:
				case <-ctx.Done():
					if rec != nil {
						rec.Release()
					}
					return
				}
				if err != nil {
					return
				}
			}
		})
	}
	defer func() {
		cancel()
		for _, q := range queues {
			for it := range q {
				if it.rec != nil {
					it.rec.Release()
				}
			}
		}
		wg.Wait()
	}()
	for i := range n {
		it, ok := <-queues[i%k]
		if !ok { // only after ctx ended
			return ctx.Err()
		}
		if it.err != nil {
			return it.err
		}
		if err := fn(it.rec); err != nil {
			return err
		}
	}
	return nil
}

// recordAt decodes record i of fr, validated when check is set, with a
// panic of the decoder made an error (see decode). The record is the
// caller's to release.
func recordAt(fr *ipc.FileReader, i int, check bool) (rec arrow.Record, err error) {
	defer func() {
		if p := recover(); p != nil {
			if rec != nil {
				rec.Release()
			}
			rec, err = nil, fmt.Errorf("%w: the Arrow decoder panicked: %v", ErrUndecodable, p)
		}
	}()
	if rec, err = fr.RecordAt(i); err != nil {
		return nil, err
	}
	if check {
		if err := validate(rec); err != nil {
			rec.Release()
			return nil, err
		}
	}
	return rec, nil
}
