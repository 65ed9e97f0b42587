package store

import (
	"fmt"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// damageRegion is the size of the hole an unlucky disk block or a sparse
// copy leaves: the zeroed region that made the LZ4 decoder panic.
const damageRegion = 256 << 10

// bigPersons stores one delivery large enough to hold a damageRegion
// several times over: ids random enough that LZ4 cannot shrink them away.
func bigPersons(t *testing.T, mem memory.Allocator) (*Store, string) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	ids := make([]string, 120_000)
	for i := range ids {
		ids[i] = fmt.Sprintf("%016x%016x", rng.Uint64(), rng.Uint64())
	}
	s, rel := storedPersons(t, mem, ids...)
	if size := fileSize(t, s.path(rel)); size < 3*damageRegion {
		t.Fatalf("stored file is %d bytes; want at least %d to damage", size, 3*damageRegion)
	}
	return s, rel
}

// TestDamagedFileIsAnError: a stored Arrow file with a zeroed region or
// flipped bytes fails Scan with an error naming the file, never a panic:
// with its checksum recorded (caught before decoding) and without (the
// decoder's panic is recovered, which is what this case tests).
func TestDamagedFileIsAnError(t *testing.T) {
	tests := []struct {
		name   string
		damage func(b []byte)
	}{
		{"zeroed 256 KiB", func(b []byte) { clear(b[len(b)/4 : len(b)/4+damageRegion]) }},
		{"zeroed 256 KiB at the start of the body", func(b []byte) { clear(b[4096 : 4096+damageRegion]) }},
		// Near the start of the record body, where the compressed offsets
		// are: LZ4 tokens rather than literal bytes.
		{"flipped bytes", func(b []byte) {
			for i := 512; i < 8192; i += 97 {
				b[i] ^= 0xff
			}
		}},
	}
	for _, tc := range tests {
		for _, checksum := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s, checksum %v", tc.name, checksum), func(t *testing.T) {
				// Not a checked allocator: a decoder that panics midway
				// cannot release what it had allocated, and the Go
				// allocator's garbage collector takes it back.
				mem := memory.NewGoAllocator()
				s, rel := bigPersons(t, mem)
				b, err := os.ReadFile(s.path(rel))
				if err != nil {
					t.Fatal(err)
				}
				tc.damage(b)
				if err := os.WriteFile(s.path(rel), b, 0o640); err != nil {
					t.Fatal(err)
				}
				if !checksum {
					s.state.Deliveries[0].FileSHA256 = ""
				}
				rows := 0
				err = s.Scan(t.Context(), mem, "persons", func(rec arrow.Record) error {
					// As a feature builder would: every value touched.
					rows += len(personIDs(rec))
					return nil
				})
				if err == nil {
					t.Fatalf("Scan of a damaged file read %d rows and no error", rows)
				}
				if want := "store: " + rel + ": "; len(err.Error()) < len(want) || err.Error()[:len(want)] != want {
					t.Errorf("Scan error %q; want it to start %q", err, want)
				}
				t.Logf("error: %v", err)
			})
		}
	}
}
