package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"earlyhelp/pipeline"
)

// RunIDFormat is the layout of run ids (CONTRACTS §4), in UTC.
const RunIDFormat = "20060102T150405Z"

// NewRun reserves runs/<id> for a run starting at t and returns its id and
// folder. The folder is created empty; it fails if it already exists.
func (s *Store) NewRun(t time.Time) (id, dir string, err error) {
	id = t.UTC().Format(RunIDFormat)
	dir = filepath.Join(s.dir, runsDir, id)
	if err := os.MkdirAll(filepath.Dir(dir), 0o750); err != nil {
		return "", "", err
	}
	if err := os.Mkdir(dir, 0o750); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return "", "", fmt.Errorf("run folder %s exists: %w", id, pipeline.ErrBusy)
		}
		return "", "", err
	}
	return id, dir, nil
}

// Lock takes the data directory's run lock, so runs never overlap. A lock
// left by a process that no longer exists is taken over. The returned
// function releases it.
func (s *Store) Lock() (func(), error) {
	path := filepath.Join(s.dir, lockFile)
	for attempt := 0; attempt < 2; attempt++ {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
		if err == nil {
			fmt.Fprintf(f, "%d\n", os.Getpid())
			f.Close()
			return func() { os.Remove(path) }, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
		b, _ := os.ReadFile(path)
		pid, perr := strconv.Atoi(strings.TrimSpace(string(b)))
		if perr == nil && pid > 0 && syscall.Kill(pid, 0) == nil {
			return nil, fmt.Errorf("data directory %s: pid %d holds %s: %w", s.dir, pid, lockFile, pipeline.ErrBusy)
		}
		os.Remove(path) // stale: its process is gone
	}
	return nil, fmt.Errorf("data directory %s: %w", s.dir, pipeline.ErrBusy)
}
