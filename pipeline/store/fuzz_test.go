package store

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// FuzzScanFile feeds scanFile mutated Arrow IPC files without a recorded
// checksum, as a store written before checksums holds: whatever the bytes,
// it returns an error or sound records, and never panics, here or in a
// reader that touches every value of what it hands over.
//
//	go test -run XXX -fuzz FuzzScanFile -fuzztime 1m ./pipeline/store/
func FuzzScanFile(f *testing.F) {
	// The seeds are real store files: two deliveries of dated rows with
	// nulls, one written as one record and one as two.
	s, err := Open(f.TempDir(), fixedNow)
	if err != nil {
		f.Fatal(err)
	}
	mem := memory.NewGoAllocator()
	seeds := []string{
		deliver(f, s, mem, "a_autumn.csv", []string{"a1=2024-09-02", "a2=2024-12-20", "a3="}),
		deliver(f, s, mem, "b_spring.csv", []string{"s1=2025-01-06", "s2="}, []string{"s3=2025-04-04"}),
	}
	for _, rel := range seeds {
		b, err := os.ReadFile(s.path(rel))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
		zeroed := append([]byte(nil), b...)
		clear(zeroed[len(zeroed)/3 : len(zeroed)/2])
		f.Add(zeroed)
	}
	const rel = "fuzzed/000001-fuzzfuzzfuzz.arrow"
	if err := os.MkdirAll(filepath.Dir(s.path(rel)), 0o750); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := os.WriteFile(s.path(rel), b, 0o640); err != nil {
			t.Fatal(err)
		}
		err := s.scanFile(context.Background(), mem, storedFile{rel: rel}, func(rec arrow.Record) error {
			defer rec.Release()
			for _, col := range rec.Columns() {
				for i := 0; i < col.Len(); i++ {
					_ = col.ValueStr(i)
				}
			}
			return nil
		})
		_ = err // an error is the right answer to most inputs
	})
}
