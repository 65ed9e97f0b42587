package pipeline

import (
	"time"

	"github.com/apache/arrow/go/v15/arrow"
)

// Store is what ingestion needs of the local store.
type Store interface {
	// Loaded reports whether this name and hash of source were loaded before.
	Loaded(source string, f FileRef) (bool, error)
	// NewDelivery starts writing the records of one delivered file.
	NewDelivery(source string, f FileRef) (Delivery, error)
	// SaveReid merges pseudonym → council identifier pairs, by namespace,
	// into the re-identification lookup.
	SaveReid(pairs map[string]map[string]string) error
	// ForgetReid lets go of the lookups SaveReid held, once every source
	// has saved its pairs; lookups after it read them from the store.
	ForgetReid()
	// Settle waits until the deliveries committed are on disk and
	// recorded; a Commit may leave its file's sync running.
	Settle() error
	// Known returns the hash of the delivery of source loaded under this
	// name, size and modification time, if there is one, so a connector
	// can skip reading an unchanged file again; "" and false otherwise.
	Known(source, name string, size int64, modTime time.Time) (string, bool)
	// DeliveryTimes feed the stale-source gauges.
	DeliveryTimes
}

// Delivery is one file's records on their way into the store. Nothing of it
// is visible to readers until Commit.
type Delivery interface {
	Write(rec arrow.Record) error
	Commit(rowsRead, rowsLoaded int64) error
	Abort()
}

// NulledCell is an optional cell that could not be read: it was stored as
// null and its row kept (CONTRACTS §2 cell policy). Value is the cell as
// received, an identifier pseudonymised as in the quarantine file.
type NulledCell struct {
	Row    int64 // as Rejected.Row
	Column string
	Reason string // one of the Reason* constants
	Value  string
}

// DefaultMaxNulledRatio is max_nulled_ratio's default: a column with more
// than half its loaded cells unreadable is a broken extract, not noise.
const DefaultMaxNulledRatio = 0.5
