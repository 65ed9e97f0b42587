package store

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"earlyhelp/pipeline"
)

// lockAttempts bounds Lock's retries when the lock file it locked was
// removed under it: each retry means another run released the lock or took
// it in between, so a few are plenty.
const lockAttempts = 5

// Lock takes the data directory's run lock, so runs never overlap, or fails
// with ErrBusy while another holds it. The returned function releases it.
//
// The lock is an flock(2) on data_dir/run.lock held for as long as the file
// stays open, so the kernel frees it when its holder exits, however it
// exits. A PID file judged by whether its process is alive could not be:
// in a container every run is pid 1 of its own namespace, so a crashed
// run's PID always looked alive to the next, and a PID from another
// namespace named no process or the wrong one. The file still holds the
// holder's PID, for the operator who finds it; nothing reads it to decide.
// Go opens files close-on-exec, so a child process (a browser the exporter
// starts) never inherits the lock.
func (s *Store) Lock() (func(), error) {
	path := filepath.Join(s.dir, lockFile)
	for attempt := 0; attempt < lockAttempts; attempt++ {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
		if err != nil {
			return nil, fmt.Errorf("data directory %s: run lock: %w", s.dir, err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			holder := readHolder(f)
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, fmt.Errorf("data directory %s: %s held by %s: %w", s.dir, lockFile, holder, pipeline.ErrBusy)
			}
			return nil, fmt.Errorf("data directory %s: lock %s: %w", s.dir, lockFile, err)
		}
		// A holder releasing the lock removes the file first, so the file
		// locked here may no longer be the one at path; the next run
		// would lock a new file and both would run. Locked and named
		// must be the same file.
		if same, err := isFileAt(f, path); err != nil || !same {
			f.Close()
			if err != nil {
				return nil, fmt.Errorf("data directory %s: %s: %w", s.dir, lockFile, err)
			}
			continue
		}
		if err := writeHolder(f); err != nil {
			os.Remove(path)
			f.Close()
			return nil, fmt.Errorf("data directory %s: %s: %w", s.dir, lockFile, err)
		}
		s.locked = true
		var once sync.Once
		return func() {
			once.Do(func() {
				s.locked = false
				// Removed while still locked, then unlocked by closing: see
				// isFileAt for the run that opened it meanwhile.
				os.Remove(path)
				f.Close()
			})
		}, nil
	}
	return nil, fmt.Errorf("data directory %s: %s changed hands %d times: %w", s.dir, lockFile, lockAttempts, pipeline.ErrBusy)
}

// isFileAt reports whether the open file f is the one path names.
func isFileAt(f *os.File, path string) (bool, error) {
	held, err := f.Stat()
	if err != nil {
		return false, err
	}
	named, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return os.SameFile(held, named), nil
}

// writeHolder replaces the lock file's content with this process's PID.
func writeHolder(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return err
}

// readHolder is who the lock file says holds it, for the error message.
func readHolder(f *os.File) string {
	b, _ := io.ReadAll(io.LimitReader(f, 32))
	if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
		return fmt.Sprintf("pid %d (as its PID namespace numbers it)", pid)
	}
	return "another process"
}
