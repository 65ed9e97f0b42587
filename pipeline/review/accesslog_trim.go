package review

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// TrimResult is what trimming the access log did.
type TrimResult struct {
	Dropped int   // entries older than the cut-off, removed
	Kept    int   // lines kept, including any that could not be dated
	Bytes   int64 // bytes the log shrank by
}

// TrimAccessLog drops the entries of the access log at path that were
// written before keepFrom (retention.access_log_weeks), rewriting the file
// under a temporary name and renaming it over the log, so a reader sees the
// old log or the new, never half of one. A missing log is no error.
//
// No site may have the log open: its appends would go on to the replaced
// file and be lost. A serving process trims through Site.TrimAccessLog.
func TrimAccessLog(path string, keepFrom time.Time) (TrimResult, error) {
	res, f, err := trimAccessLog(path, keepFrom)
	if f != nil {
		f.Close()
	}
	return res, err
}

// TrimAccessLog trims the site's own access log (see the function of that
// name) while the site serves: under the log's lock, so no view is written
// meanwhile, and with the site appending to the new file from then on.
func (s *Site) TrimAccessLog(keepFrom time.Time) (TrimResult, error) {
	a := s.access
	a.mu.Lock()
	defer a.mu.Unlock()
	res, f, err := trimAccessLog(s.cfg.AccessLog, keepFrom)
	if err != nil || f == nil {
		return res, err
	}
	fi, err := f.Stat()
	if err != nil {
		// The new log is in place; appending to the old, unlinked one
		// would lose entries, so appending stops until a restart.
		f.Close()
		a.f.Close()
		a.f = failedLog{err}
		return res, fmt.Errorf("review: access log: reopen after trimming: %w", err)
	}
	old := a.f
	a.f, a.size = f, fi.Size()
	old.Close()
	return res, nil
}

// trimAccessLog rewrites the log at path without the entries before
// keepFrom. When it replaced the log it returns the new log open for
// appending; nil when nothing needed dropping.
//
// A line that cannot be read as an entry is kept: the log is evidence, and
// what cannot be dated is not known to be old. A torn last line (no
// newline) is kept as it is, for the next opening to move aside.
func trimAccessLog(path string, keepFrom time.Time) (TrimResult, *os.File, error) {
	var res TrimResult
	in, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return res, nil, nil
	}
	if err != nil {
		return res, nil, fmt.Errorf("review: access log: %w", err)
	}
	defer in.Close()
	// First pass: only count, so an untouched log is never rewritten.
	err = eachLine(in, func(line []byte, whole bool) error {
		if whole && entryBefore(line, keepFrom) {
			res.Dropped++
			res.Bytes += int64(len(line))
		} else {
			res.Kept++
		}
		return nil
	})
	if err != nil || res.Dropped == 0 {
		if err != nil {
			err = fmt.Errorf("review: access log: %w", err)
		}
		return res, nil, err
	}
	if _, err := in.Seek(0, io.SeekStart); err != nil {
		return res, nil, fmt.Errorf("review: access log: %w", err)
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return res, nil, fmt.Errorf("review: access log: %w", err)
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name()) // a no-op once renamed
	}()
	w := bufio.NewWriterSize(tmp, 1<<16)
	err = eachLine(in, func(line []byte, whole bool) error {
		if whole && entryBefore(line, keepFrom) {
			return nil
		}
		_, err := w.Write(line)
		return err
	})
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = tmp.Chmod(0o600)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if err != nil {
		return res, nil, fmt.Errorf("review: access log: trim: %w", err)
	}
	// Opened for appending before the rename, so the file returned is the
	// one that becomes the log whatever happens after.
	f, err := os.OpenFile(tmp.Name(), os.O_RDWR|os.O_APPEND, 0o600)
	if err != nil {
		return res, nil, fmt.Errorf("review: access log: trim: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		f.Close()
		return res, nil, fmt.Errorf("review: access log: trim: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return res, f, nil
}

// eachLine calls fn with every line of r, its newline included; whole is
// false for a last line without one.
func eachLine(r io.Reader, fn func(line []byte, whole bool) error) error {
	br := bufio.NewReaderSize(r, 1<<16)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			if ferr := fn(line, err == nil); ferr != nil {
				return ferr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// entryBefore reports whether line is an entry written before t.
func entryBefore(line []byte, t time.Time) bool {
	var e struct {
		At time.Time `json:"at"`
	}
	if json.Unmarshal(line, &e) != nil || e.At.IsZero() {
		return false
	}
	return e.At.Before(t)
}

// failedLog refuses every write: the site then refuses to show a family
// rather than show one unlogged.
type failedLog struct{ err error }

func (l failedLog) Write([]byte) (int, error) { return 0, l.err }
func (l failedLog) Sync() error               { return l.err }
func (l failedLog) Truncate(int64) error      { return l.err }
func (l failedLog) Close() error              { return nil }
