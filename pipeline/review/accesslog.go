package review

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// accessLog is the append-only record of who saw which family, when and
// why (CONTRACTS §9). An entry is on disk before the page is served: if it
// cannot be written, the page is not shown.
//
// The file is JSON lines, and every line must stay one parseable entry:
// an entry goes down in one Write of the whole line, a write that fails
// part-way is cut back off, and a torn last line left by a crash is moved
// aside on opening, so no entry is ever fused onto a fragment.
type accessLog struct {
	mu   sync.Mutex
	f    logFile
	size int64 // bytes of complete lines in f
}

// logFile is what the access log needs of its file; *os.File is the one
// used, and tests give one that fails.
type logFile interface {
	io.Writer
	Sync() error
	Truncate(size int64) error
	Close() error
}

// Access is one line of the access log.
type Access struct {
	At        time.Time `json:"at"`
	User      string    `json:"user"`
	Role      string    `json:"role"`
	Household string    `json:"household_ref,omitempty"` // "" for the list, which names several
	Page      string    `json:"page"`
	Why       string    `json:"why"`
	// Person is the pseudonym of the person a subject access request was
	// for (earlyhelp subject); never their council id.
	Person string `json:"person,omitempty"`
}

// WhySubjectAccess is the access log's why of `earlyhelp subject`.
const WhySubjectAccess = "subject_access"

// AppendAccess appends one entry to the access log at path and syncs it,
// for commands that show a family outside the site (earlyhelp subject).
// It mends a torn last line first, as the site does on opening.
func AppendAccess(path string, e Access) error {
	a, err := openAccessLog(path, e.At)
	if err != nil {
		return err
	}
	if err := a.write(e); err != nil {
		a.close()
		return err
	}
	if err := a.close(); err != nil {
		return fmt.Errorf("access log: %w", err)
	}
	return nil
}

// Why of an access that showed nothing: a family the user may not see (of
// another locality, or not listed), and a form the site would not act on.
const (
	whyDenied   = "denied"
	whyRejected = "rejected"
)

// openAccessLog opens the log at path for appending, first moving a torn
// last line to path.torn-<unix time of now>.
func openAccessLog(path string, now time.Time) (*accessLog, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("review: access log: %w", err)
	}
	size, err := mendTornTail(f, path, now)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("review: access log %s: %w", path, err)
	}
	return &accessLog{f: f, size: size}, nil
}

// mendTornTail cuts f back to its last complete line, saving what followed
// it in a side file so nothing is lost, and returns f's size after.
func mendTornTail(f *os.File, path string, now time.Time) (int64, error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	size := fi.Size()
	if size == 0 {
		return 0, nil
	}
	// Read back from the end a block at a time until a newline: a torn
	// line is at most one entry, so this reads little.
	const block = 4096
	var tail []byte
	cut := int64(0)
	for end := size; end > 0; {
		start := max(end-block, 0)
		buf := make([]byte, end-start)
		if _, err := f.ReadAt(buf, start); err != nil {
			return 0, fmt.Errorf("read the last line: %w", err)
		}
		if end == size && buf[len(buf)-1] == '\n' {
			return size, nil // the last line is whole
		}
		if i := bytes.LastIndexByte(buf, '\n'); i >= 0 {
			cut = start + int64(i) + 1
			tail = append(buf[i+1:], tail...)
			break
		}
		tail = append(buf, tail...)
		end = start
	}
	side := fmt.Sprintf("%s.torn-%d", path, now.Unix())
	if err := writeNew(side, tail); err != nil {
		return 0, fmt.Errorf("save the torn last line: %w", err)
	}
	if err := f.Truncate(cut); err != nil {
		return 0, fmt.Errorf("cut the torn last line: %w", err)
	}
	if err := f.Sync(); err != nil {
		return 0, err
	}
	return cut, nil
}

// writeNew writes data to a file that must not exist yet, durably: the
// file and its directory entry are synced before the log is cut.
func writeNew(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	dir, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer dir.Close()
	return dir.Sync()
}

// write appends e as one line and syncs it.
func (a *accessLog) write(e Access) error {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("access log: %w", err)
	}
	b = append(b, '\n')
	a.mu.Lock()
	defer a.mu.Unlock()
	// One Write of the whole line: with O_APPEND it lands in one piece.
	n, err := a.f.Write(b)
	if err != nil {
		if n > 0 {
			// Part of the line is down: cut it off, so the next entry
			// starts on a line of its own. If even that fails the torn
			// line is mended when the log is next opened.
			err = errors.Join(err, a.f.Truncate(a.size))
		}
		return fmt.Errorf("access log: %w", err)
	}
	a.size += int64(n)
	if err := a.f.Sync(); err != nil {
		return fmt.Errorf("access log: %w", err)
	}
	return nil
}

func (a *accessLog) close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.f.Close()
}
