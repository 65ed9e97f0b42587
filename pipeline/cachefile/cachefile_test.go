package cachefile

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// write is a file holding a string, a day, an open end and a count.
func write(t *testing.T, path string) {
	t.Helper()
	err := Write(path, "EHTEST", 3, func(e *Encoder) {
		e.Str("héllo")
		e.Varint(-20000)
		e.Varint(math.MaxInt32)
		e.Uvarint(7)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func read(path string, format uint64) (s string, day, until int32, n uint64, found bool, err error) {
	found, err = Read(path, "EHTEST", format, func(d *Decoder) error {
		s, day, until, n = d.Str(), d.Day(), d.Until(), d.Uvarint()
		return nil
	})
	return
}

func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.bin")
	write(t, path)
	s, day, until, n, found, err := read(path, 3)
	if err != nil || !found || s != "héllo" || day != -20000 || until != math.MaxInt32 || n != 7 {
		t.Fatalf("read back %q %d %d %d found=%v err=%v", s, day, until, n, found, err)
	}
	var head string
	if err := ReadHead(path, "EHTEST", 3, func(d *Decoder) error { head = d.Str(); return nil }); err != nil || head != "héllo" {
		t.Fatalf("head %q, %v", head, err)
	}
}

// TestReadRefuses: whatever is wrong with a file, Read says so and never
// hands back what it read.
func TestReadRefuses(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.bin")
	write(t, good)
	b, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte { c := slices.Clone(b); c[i] ^= 0x04; return c }
	tests := []struct {
		name   string
		file   []byte
		format uint64
		want   string
	}{
		{"damaged body", flip(len(b) / 2), 3, ""},
		{"damaged checksum", flip(len(b) - 1), 3, "checksum"},
		{"another format", b, 4, "format 3, not 4"},
		{"another kind", append([]byte("EHXXXX"), b[6:]...), 3, "not a EHTEST file"},
		{"cut short", b[:len(b)-3], 3, ""},
		{"too short", b[:5], 3, "too short"},
		{"bytes after", append(slices.Clone(b[:len(b)-4]), append([]byte{1}, b[len(b)-4:]...)...), 3, "after the end"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_"))
			if err := os.WriteFile(path, tc.file, 0o600); err != nil {
				t.Fatal(err)
			}
			_, _, _, _, found, err := read(path, tc.format)
			if err == nil || found {
				t.Fatalf("found=%v err=%v, want an error", found, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q, want it to say %q", err, tc.want)
			}
		})
	}
	if found, err := Read(filepath.Join(dir, "missing"), "EHTEST", 3, func(*Decoder) error { return nil }); found || err != nil {
		t.Fatalf("a missing file: found=%v err=%v, want neither", found, err)
	}
}

// TestDecoderBounds: a length or day no file of its size can hold is an
// error, not an allocation or a number that overflows.
func TestDecoderBounds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.bin")
	if err := Write(path, "EHTEST", 1, func(e *Encoder) { e.Uvarint(1 << 40); e.Varint(1 << 30) }); err != nil {
		t.Fatal(err)
	}
	_, err := Read(path, "EHTEST", 1, func(d *Decoder) error {
		if n := d.Length(1); n != 0 {
			t.Errorf("length %d read", n)
		}
		return d.Err()
	})
	if err == nil || !strings.Contains(err.Error(), "more than the file holds") {
		t.Fatalf("length: %v", err)
	}
	_, err = Read(path, "EHTEST", 1, func(d *Decoder) error {
		d.Uvarint()
		d.Day()
		return d.Err()
	})
	if err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Fatalf("day: %v", err)
	}
	_, err = Read(path, "EHTEST", 1, func(d *Decoder) error { return d.Fail(errors.New("wrong")) })
	if err == nil || err.Error() != "wrong" {
		t.Fatalf("fail: %v", err)
	}
}
