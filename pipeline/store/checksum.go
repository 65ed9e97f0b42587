package store

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
)

// ErrChecksum means a store file's bytes are not those the store wrote: the
// disk, a copy or a hand went wrong. Its rows cannot be trusted, so a run
// that meets one fails rather than build a list from what is left.
var ErrChecksum = errors.New("store file does not match its recorded sha256")

// hashingFile is the delivery's temporary file as the IPC writer sees it:
// every byte written is hashed on its way, so the checksum costs no second
// read of the file.
//
// It gathers the writes: the IPC writer writes each buffer of a record,
// and its padding, with a call of its own, some fifty system calls a
// record.
type hashingFile struct {
	f   *os.File
	h   hash.Hash
	buf []byte // written, not yet passed to f
	off int64  // bytes passed to f
	err error  // the first error passing bytes to f
}

// writeBuffer is how much a hashingFile gathers before it writes.
const writeBuffer = 1 << 20

func newHashingFile(f *os.File) *hashingFile {
	return &hashingFile{f: f, h: sha256.New(), buf: make([]byte, 0, writeBuffer)}
}

// Write gathers p. An error writing the file is returned by a later Write
// or by flush.
func (w *hashingFile) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if len(w.buf)+len(p) > cap(w.buf) {
		if err := w.flush(); err != nil {
			return 0, err
		}
		if len(p) >= cap(w.buf) {
			if err := w.pass(p); err != nil {
				return 0, err
			}
			return len(p), nil
		}
	}
	w.buf = append(w.buf, p...)
	return len(p), nil
}

// flush passes what is gathered to the file.
func (w *hashingFile) flush() error {
	if w.err != nil {
		return w.err
	}
	err := w.pass(w.buf)
	w.buf = w.buf[:0]
	return err
}

// pass writes p to the file and hashes it.
func (w *hashingFile) pass(p []byte) error {
	n, err := w.f.Write(p)
	w.h.Write(p[:n])
	w.off += int64(n)
	if err != nil {
		w.err = err
	}
	return err
}

// Seek lets the IPC writer ask where it is, which is all it does with it;
// moving would make the hash no longer that of the file, so it is refused.
func (w *hashingFile) Seek(offset int64, whence int) (int64, error) {
	if offset != 0 || whence != io.SeekCurrent {
		return 0, fmt.Errorf("store: seek %d from %d on a hashed file", offset, whence)
	}
	return w.off + int64(len(w.buf)), nil
}

// sum is the hash of the bytes flushed.
func (w *hashingFile) sum() string { return hex.EncodeToString(w.h.Sum(nil)) }

// hashBuffer is how much of a file verify reads at a time: large enough that
// the read calls cost nothing beside the hashing.
const hashBuffer = 1 << 20

// verify checks the file at path against want, a hex SHA-256. An empty want
// (a file written before checksums were recorded) passes unread. It reads
// the whole file before any of it is decoded, so a damaged file hands out no
// row at all.
func verify(path, want string) error {
	if want == "" {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	// A plain reader: *os.File's WriteTo would copy through 32 KiB.
	if _, err := io.CopyBuffer(h, struct{ io.Reader }{f}, make([]byte, hashBuffer)); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("%w: recorded %.12s…, file has %.12s…", ErrChecksum, want, got)
	}
	return nil
}
