package store

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// Damaged is one store file that failed its check.
type Damaged struct {
	Source string // the source it holds rows of
	Name   string // the delivered file the rows came from
	File   string // relative to the store folder
	Err    error  // ErrChecksum, ErrUndecodable or the read error
}

// CheckReport is what Check found.
type CheckReport struct {
	Files int // committed store files
	// Unsummed files had no recorded checksum (written before checksums
	// were) and were checked by decoding them whole instead.
	Unsummed int
	Damaged  []Damaged
}

// Check verifies every committed store file, in load order: against its
// recorded SHA-256, or, for a file written before checksums were
// recorded, by decoding every record as a scan would. It reads the store
// and changes nothing, so it needs no lock. The error is for a check that
// could not finish (ctx ended); damage is in the report.
func (s *Store) Check(ctx context.Context, mem memory.Allocator) (CheckReport, error) {
	var rep CheckReport
	for _, d := range s.deliveries() {
		if d.File == "" {
			continue
		}
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		rep.Files++
		var err error
		if d.FileSHA256 == "" {
			rep.Unsummed++
			err = s.scanFile(ctx, mem, storedFile{rel: d.File}, func(rec arrow.Record) error {
				rec.Release()
				return nil
			})
		} else {
			err = verify(s.path(d.File), d.FileSHA256)
		}
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return rep, err
		}
		if err != nil {
			rep.Damaged = append(rep.Damaged, Damaged{Source: d.Source, Name: d.Name, File: d.File, Err: err})
		}
	}
	return rep, nil
}

// Forgotten is a delivery Forget took out of the store.
type Forgotten struct {
	Source, Name string
	Damaged      bool // false: intact, forgotten to keep the load order
}

// Forget takes the deliveries of the given store files out of the load
// state, with every later delivery of the same source, and deletes their
// files, so that the next ingest loads the delivered files again. It needs
// the run lock.
//
// The later deliveries go too because a source's rows are read in load
// order, a later delivery's after an earlier one's, and a re-read file is
// loaded last: alone, a damaged autumn extract would come back after the
// spring ones and its old rows would read as the newest. Reloaded in name
// order with the files after it, the order is as before, provided every one
// of them is still in the source folder.
func (s *Store) Forget(files []string) ([]Forgotten, error) {
	if !s.locked {
		return nil, errors.New("store: forgetting deliveries needs the run lock")
	}
	keep, gone, out, err := s.forgetting(files)
	if err != nil {
		return nil, err
	}
	was := s.deliveries()
	s.setDeliveries(keep)
	if err := s.saveState(); err != nil {
		s.setDeliveries(was)
		return nil, fmt.Errorf("store: %w", err)
	}
	// Files go once the state no longer names them: a crash in between
	// leaves only unreferenced files, which nothing reads.
	errs := []error{s.clearCache()}
	for _, d := range gone {
		if d.File == "" {
			continue
		}
		if err := os.Remove(s.path(d.File)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("store: %w", err))
		}
	}
	return out, errors.Join(errs...)
}

// WouldForget is what Forget(files) would take out, changing nothing: for
// checking that the delivered files can still be reloaded first.
func (s *Store) WouldForget(files []string) ([]Forgotten, error) {
	_, _, out, err := s.forgetting(files)
	return out, err
}

// forgetting splits the load state into the deliveries Forget(files) keeps
// and those it takes out.
func (s *Store) forgetting(files []string) (keep, gone []delivered, out []Forgotten, err error) {
	damaged := map[string]bool{}
	for _, f := range files {
		damaged[f] = true
	}
	from := map[string]bool{} // sources from whose first damaged delivery on everything goes
	for _, d := range s.deliveries() {
		hit := d.File != "" && damaged[d.File]
		if hit {
			from[d.Source] = true
			delete(damaged, d.File)
		}
		if !from[d.Source] {
			keep = append(keep, d)
			continue
		}
		gone = append(gone, d)
		out = append(out, Forgotten{Source: d.Source, Name: d.Name, Damaged: hit})
	}
	for f := range damaged {
		return nil, nil, nil, fmt.Errorf("store: %s is no delivery's file", f)
	}
	return keep, gone, out, nil
}
