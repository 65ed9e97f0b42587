// Package atomicfile writes files so that a reader sees the old file or the
// whole new one, never half: a temporary name in the same folder, then a
// rename. Every layer writes its outputs through it.
package atomicfile

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// File is a file written under a temporary name in its final folder and
// renamed over the final name by Commit, so a reader never sees half of it
// and a crash leaves only a *.tmp file behind.
type File struct {
	*bufio.Writer
	f     *os.File
	final string
	done  bool
}

// Create opens a temporary file beside path with the given permissions.
func Create(path string, perm os.FileMode) (*File, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return &File{Writer: bufio.NewWriterSize(f, 1<<16), f: f, final: path}, nil
}

// Name is the final path.
func (a *File) Name() string { return a.final }

// Commit flushes, syncs and renames the file to its final name.
func (a *File) Commit() error {
	if a.done {
		return fmt.Errorf("%s: already closed", a.final)
	}
	a.done = true
	err := a.Flush()
	if err == nil {
		err = a.f.Sync()
	}
	if cerr := a.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(a.f.Name(), a.final)
	}
	if err != nil {
		os.Remove(a.f.Name())
		return fmt.Errorf("write %s: %w", a.final, err)
	}
	return nil
}

// Abort discards the file. It is safe to call after Commit, so
// `defer f.Abort()` cleans up on every early return.
func (a *File) Abort() {
	if a.done {
		return
	}
	a.done = true
	a.f.Close()
	os.Remove(a.f.Name())
}

// WriteFile writes data to path through an File.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	return Write(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// Write creates path atomically from what fn writes; if fn fails
// nothing is left behind.
func Write(path string, perm os.FileMode, fn func(w io.Writer) error) error {
	f, err := Create(path, perm)
	if err != nil {
		return err
	}
	defer f.Abort()
	if err := fn(f); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Commit()
}

// ReadJSON reads the JSON file at path into v, the counterpart of the
// atomic writes for a run's JSON files; a decoding error names the file.
func ReadJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return nil
}

// WriteCSV writes rows to path atomically.
func WriteCSV(path string, rows [][]string) error {
	return Write(path, 0o640, func(w io.Writer) error {
		cw := csv.NewWriter(w)
		if err := cw.WriteAll(rows); err != nil {
			return err
		}
		return cw.Error()
	})
}
