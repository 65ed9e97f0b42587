package pipeline

import (
	"errors"
	"fmt"
)

// ErrTolerance marks input rejected past its tolerance (exit code 3), for
// example a source with more than max_quarantine_ratio of its rows
// quarantined.
var ErrTolerance = errors.New("input rejected past tolerance")

// ErrBusy means another run holds the data directory's lock.
var ErrBusy = errors.New("another run is in progress")

// StageError is a failure of one stage of a run.
type StageError struct {
	Stage string
	Err   error
}

func (e *StageError) Error() string { return fmt.Sprintf("stage %s: %v", e.Stage, e.Err) }
func (e *StageError) Unwrap() error { return e.Err }
