package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// storedPersons opens a store in a new folder and commits one delivery of
// persons holding ids; it returns the store and the delivery's file,
// relative to the store folder.
func storedPersons(t *testing.T, mem memory.Allocator, ids ...string) (*Store, string) {
	t.Helper()
	s, err := Open(t.TempDir(), fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	return s, commit(t, s, mem, "persons", "persons.csv", strings.Repeat("d", 16), ids...)
}

// TestChecksumRecorded: a committed delivery records its file's SHA-256 in
// state.json, and a store opened again still has it.
func TestChecksumRecorded(t *testing.T) {
	s, rel := storedPersons(t, memory.NewGoAllocator(), "p1", "p2")
	b, err := os.ReadFile(s.path(stateFile))
	if err != nil {
		t.Fatal(err)
	}
	var st state
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	if got := st.Deliveries[0].FileSHA256; len(got) != 64 {
		t.Fatalf("state.json records file_sha256 %q for %s; want 64 hex digits", got, rel)
	}
	if err := verify(s.path(rel), st.Deliveries[0].FileSHA256); err != nil {
		t.Errorf("the recorded checksum does not match the file written: %v", err)
	}
}

// TestChecksumMismatch: a store file whose bytes changed after it was
// written fails Scan with ErrChecksum, naming the file and none of its rows,
// before any record reaches fn; a file without a recorded checksum (state
// written before checksums were) is read as before.
func TestChecksumMismatch(t *testing.T) {
	tests := []struct {
		name string
		// damage changes the file's bytes (nil: left as written).
		damage func(b []byte) []byte
		// legacy drops the recorded checksum, as older state has none.
		legacy  bool
		wantErr error // nil: the rows are read
	}{
		{"intact", nil, false, nil},
		{"one byte flipped", func(b []byte) []byte { b[len(b)/2] ^= 0x40; return b }, false, ErrChecksum},
		{"truncated", func(b []byte) []byte { return b[:len(b)-1] }, false, ErrChecksum},
		{"a byte appended", func(b []byte) []byte { return append(b, 0) }, false, ErrChecksum},
		{"intact, no checksum recorded", nil, true, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			s, rel := storedPersons(t, mem, "secret-person-1", "secret-person-2")
			if tc.damage != nil {
				b, err := os.ReadFile(s.path(rel))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(s.path(rel), tc.damage(b), 0o640); err != nil {
					t.Fatal(err)
				}
			}
			if tc.legacy {
				s.state.Deliveries[0].FileSHA256 = ""
			}
			var got []string
			err := s.Scan(t.Context(), mem, "persons", func(rec arrow.Record) error {
				got = append(got, personIDs(rec)...)
				return nil
			})
			if tc.wantErr == nil {
				if err != nil || len(got) != 2 {
					t.Fatalf("Scan = %v, %v; want both rows", got, err)
				}
				return
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Scan error = %v; want %v", err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), rel) {
				t.Errorf("Scan error %q does not name the file %s", err, rel)
			}
			if strings.Contains(err.Error(), "secret-person") {
				t.Errorf("Scan error %q holds row content", err)
			}
			if len(got) != 0 {
				t.Errorf("Scan handed fn %d rows of a damaged file; want none", len(got))
			}
		})
	}
}

// personIDs is the first column of a persons record.
func personIDs(rec arrow.Record) []string {
	c := rec.Column(0).(*array.String)
	out := make([]string, c.Len())
	for i := range out {
		out[i] = c.Value(i)
	}
	return out
}

// TestHashingFileGathersWrites: whatever the sizes of the writes (smaller
// than the buffer, filling it, larger than it), the
// file holds every byte in order once flushed, Seek tells where the next
// byte goes, and the sum is the SHA-256 of the file.
func TestHashingFileGathersWrites(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "hashed")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := newHashingFile(f)
	var want []byte
	sizes := []int{8, 1000, writeBuffer - 1008, 3, writeBuffer + 17, 5, 3 * writeBuffer, 0, 1}
	for k, n := range sizes {
		p := make([]byte, n)
		for i := range p {
			p[i] = byte(k*31 + i)
		}
		if _, err := w.Write(p); err != nil {
			t.Fatal(err)
		}
		want = append(want, p...)
		if at, err := w.Seek(0, io.SeekCurrent); err != nil || at != int64(len(want)) {
			t.Fatalf("after write %d: Seek = %d, %v; want %d", k, at, err, len(want))
		}
	}
	if err := w.flush(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("the file holds %d bytes, not the %d written in order", len(got), len(want))
	}
	if sum := sha256.Sum256(want); w.sum() != hex.EncodeToString(sum[:]) {
		t.Error("the sum is not the SHA-256 of the bytes written")
	}
}
