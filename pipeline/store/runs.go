package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"earlyhelp/pipeline"
	"earlyhelp/pipeline/rundir"
)

// RunIDFormat is the layout of run ids (CONTRACTS §4), in UTC.
const RunIDFormat = rundir.IDFormat

// NewRun reserves runs/<id> for a run starting at t and returns its id and
// folder. The folder is created empty; it fails if it already exists.
func (s *Store) NewRun(t time.Time) (id, dir string, err error) {
	id = t.UTC().Format(RunIDFormat)
	dir = rundir.ForID(s.dir, id).Dir
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
