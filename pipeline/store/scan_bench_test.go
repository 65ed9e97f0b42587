package store

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/pipeline"
)

// benchRows is a weekly attendance delivery's order of magnitude per file.
const (
	benchFiles   = 4
	benchRecords = 8
	benchRows    = 32 << 10 // per record
)

// BenchmarkScan reads a store of a few LZ4 deliveries end to end: what a
// feature builder's Scan costs before it looks at a row.
func BenchmarkScan(b *testing.B) {
	mem := memory.NewGoAllocator()
	s, err := Open(b.TempDir(), fixedNow)
	if err != nil {
		b.Fatal(err)
	}
	ids := make([]string, benchRows)
	var size int64
	for f := 0; f < benchFiles; f++ {
		d, err := s.NewDelivery("persons", pipeline.FileRef{Name: fmt.Sprintf("p%d.csv", f), SHA256: fmt.Sprintf("%016d", f)})
		if err != nil {
			b.Fatal(err)
		}
		for r := 0; r < benchRecords; r++ {
			for i := range ids {
				ids[i] = fmt.Sprintf("person-%d-%d-%d", f, r, i*7919%benchRows)
			}
			rec := record(mem, ids...)
			err := d.Write(rec)
			rec.Release()
			if err != nil {
				b.Fatal(err)
			}
		}
		if err := d.Commit(benchRecords*benchRows, benchRecords*benchRows); err != nil {
			b.Fatal(err)
		}
	}
	for _, sf := range s.files("persons", nil) {
		size += fileSize(b, s.path(sf.rel))
	}
	b.SetBytes(size)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var rows int64
		err := s.Scan(context.Background(), mem, "persons", func(rec arrow.Record) error {
			rows += rec.NumRows()
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		if rows != benchFiles*benchRecords*benchRows {
			b.Fatalf("scanned %d rows; want %d", rows, benchFiles*benchRecords*benchRows)
		}
	}
}

func fileSize(tb testing.TB, path string) int64 {
	tb.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		tb.Fatal(err)
	}
	return fi.Size()
}
