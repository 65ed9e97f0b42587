package pipeline

import (
	"context"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// A Source streams one source's rows, file by file, into a Sink: valid rows
// as Arrow records in the source's canonical schema (identifiers already
// pseudonymised), rejected rows as quarantine entries.
//
// Read returns when every file has been offered to the sink or when ctx is
// done. A file that cannot be parsed at all (wrong encoding, a missing
// required column, a truncated quoted field) makes Read return an error that
// names the file; the sink then discards everything it received for that
// file. Read is called from one goroutine at a time.
type Source interface {
	Read(ctx context.Context, mem memory.Allocator, sink Sink) error
}

// FileRef identifies one delivered file of a source.
type FileRef struct {
	Name   string // base name within the source's folder or a label for a query
	SHA256 string // hex digest of the file's bytes as delivered
	Size   int64  // bytes
	// ModTime is the file's modification time, when it is a file.
	ModTime time.Time
}

// A KnownFiles sink can say, from a file's name, size and modification
// time alone, that it is a delivery loaded before, and give its hash: a
// folder source then skips it without reading it. Hashing every file of a
// two-year drop folder each week cost a large council's weekly run more
// than reading the week's new files. It is a speed-up only, so it stays
// optional: a sink without it is offered the file by its hash, refuses it
// in Begin, and ends with the same rows and books.
type KnownFiles interface {
	Known(name string, size int64, modTime time.Time) (sha256 string, ok bool)
}

// Rejected is one quarantined row. Values holds the row's cells in the order
// of the source's canonical columns (SourceSpec.Columns), with every
// identifier column already pseudonymised; a cell the file did not have is "".
type Rejected struct {
	Row    int64  // 1-based line of the data row in the file (the header is row 1)
	Reason string // one of the Reason* constants or another short snake_case code
	Column string // the column that failed, when there is one
	Values []string
}

// Quarantine reasons of CONTRACTS §2.
const (
	ReasonMissingRequired = "missing_required"
	ReasonBadDate         = "bad_date"
	ReasonBadCode         = "bad_code"
	ReasonBadUPNCheck     = "bad_upn_check"
	ReasonBadNHSCheck     = "bad_nhs_check"
	ReasonDuplicate       = "duplicate"
	ReasonUnknownPerson   = "unknown_person"
	ReasonOutOfRange      = "out_of_range"
	ReasonBadNumber       = "bad_number"
	ReasonMalformedRow    = "malformed_row"
)

// A Sink receives what a Source reads. The pipeline's ingest stage owns it:
// it writes emitted records to the store, rejected rows to the run's
// quarantine file, and counts both.
//
// For each file the source calls Begin, then any number of Emit and Reject,
// then End. Records passed to Emit are owned by the caller, which releases
// them after Emit returns; the sink retains what it keeps.
type Sink interface {
	// Begin announces a file. It reports false when this name and hash were
	// loaded before: the source then skips the file without reading it.
	Begin(f FileRef) (bool, error)
	// Emit loads a record. Its buffers are reused once it is released, so
	// a sink keeps a value past Emit only as a copy, or retains rec.
	Emit(rec arrow.Record) error
	Reject(r Rejected) error
	// Nulled counts an optional cell that could not be read: the source
	// stored it as null and kept its row (CONTRACTS §2 cell policy). It
	// comes after Begin and before End, in row order with the file's Emit
	// and Reject calls. Every sink takes it, so a source never stores an
	// unreadable cell that the manifest's books do not show.
	Nulled(c NulledCell) error
	// Shape tells a file's shape (lines skipped, rows with mojibake) after
	// its rows and before End, when the source can tell and there is
	// something to tell: the manifest keeps it beside the file.
	Shape(f FileRef, s FileShape) error
	// Reid records the council's own identifier behind a pseudonym, for the
	// namespaces that the navigator list re-identifies (person_id,
	// household_id). The store keeps them with owner-only permissions.
	Reid(namespace, pseudonym, raw string) error
	// End closes the file. rowsRead counts the data rows the source read
	// from it (blank lines excluded); the sink checks that it equals the rows
	// emitted plus the rows rejected.
	End(f FileRef, rowsRead int64) error
}

// SourceSpec names a configured source for the run loop.
type SourceSpec struct {
	Name    string   // a source name of CONTRACTS §2, e.g. "attendance_sessions"
	Columns []string // canonical columns, the layout of quarantine rows
	Source  Source
	// ExpectedEvery is how often a new file is expected (0: no
	// expectation); the run exports it beside the newest file's time.
	ExpectedEvery time.Duration
}
