package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// cacheDir, under the data folder beside the audit's cache, holds what
// readers derive from the deliveries and can derive again (an attendance
// index, say), so a weekly run reads only the week's new deliveries.
// Nothing in it is needed: it can be deleted at any time, and Forget
// empties it. It is not under store/, whose folders are sources.
var cacheDir = filepath.Join("cache", "store")

// Deliveries names, in load order, the committed files of source that
// ScanSince(source, column, since) would read, by the stored file's
// SHA-256: a name stands for the same rows for as long as it is listed, so
// a reader that kept what it made of some deliveries can tell, from a list
// that begins with the same names, that only the rest are new. ok is false
// when a file has no recorded checksum (state written before checksums
// were), and such a list must not be used to skip anything.
func (s *Store) Deliveries(source, column string, since int32) (names []string, ok bool) {
	ok = true
	reaches := reachesSince(column, since)
	for _, d := range s.deliveries() {
		if d.Source != source || d.File == "" || !reaches(d) {
			continue
		}
		if d.FileSHA256 == "" {
			ok = false
		}
		names = append(names, d.FileSHA256)
	}
	return names, ok
}

// reachesSince keeps a delivery whose recorded latest value of column is
// on or after since, or whose span of column is not recorded.
func reachesSince(column string, since int32) func(delivered) bool {
	return func(d delivered) bool {
		span, ok := d.Dates[column]
		return !ok || int32(span.Max) >= since
	}
}

// ScanSinceAfter is ScanSince(source, column, since) without the first
// skip deliveries it would read: those Deliveries named first, which a
// caller has kept what it made of. A store holding fewer than skip is an
// error.
func (s *Store) ScanSinceAfter(ctx context.Context, mem memory.Allocator, source, column string, since int32, skip int, fn func(arrow.Record) error) error {
	files := s.files(source, reachesSince(column, since))
	if skip < 0 || skip > len(files) {
		return fmt.Errorf("store: %s: %d deliveries to skip, %d held", source, skip, len(files))
	}
	return s.scan(ctx, mem, files[skip:], fn)
}

// CacheDir is the folder for what readers derive from the store and can
// derive again; it is created if missing.
func (s *Store) CacheDir() (string, error) {
	dir := filepath.Join(s.dir, cacheDir)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("store: %w", err)
	}
	return dir, nil
}

// clearCache deletes everything derived from deliveries: after Forget, a
// cache naming the forgotten deliveries would no longer match the store
// and be rebuilt anyway, but it would keep their rows on disk until then.
func (s *Store) clearCache() error {
	err := os.RemoveAll(filepath.Join(s.dir, cacheDir))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// Span is the earliest and latest value of column over the deliveries of
// source that hold rows, from the spans recorded as each was loaded; ok
// is false when one has no span recorded, or none holds a row.
func (s *Store) Span(source, column string) (first, last int32, ok bool) {
	seen := false
	for _, d := range s.deliveries() {
		if d.Source != source || d.File == "" {
			continue
		}
		span, recorded := d.Dates[column]
		if !recorded {
			return 0, 0, false
		}
		if !seen {
			first, last, seen = int32(span.Min), int32(span.Max), true
			continue
		}
		first, last = min(first, int32(span.Min)), max(last, int32(span.Max))
	}
	return first, last, seen
}
