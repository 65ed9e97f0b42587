// Package store is earlyhelp's local columnar store: the pseudonymised rows
// of every delivered file as Arrow IPC files, one folder per source, the
// load state that makes a re-delivered file load once, the
// re-identification lookup, the run folders and the run lock.
//
// A Store is used by one run at a time (Lock serialises runs on a data
// directory) and is not safe for concurrent use.
package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/pipeline"
	"earlyhelp/pipeline/atomicfile"
	"earlyhelp/pipeline/recycle"
)

// Layout under the data directory.
const (
	storeDir  = "store"
	stateFile = "state.json"
	reidDir   = "reid"
	lockFile  = "run.lock"
)

// Store is a data directory. One goroutine writes to it (ingestion); others
// may read what it has committed meanwhile: a run reads a source already
// loaded while the next loads (see ingest.Config.Ingested).
type Store struct {
	dir string
	now func() time.Time
	// mu guards state.Deliveries' slice header. The writer only appends
	// to it, or replaces it with a new slice, so a reader holding a
	// header (deliveries) reads a list that is never changed under it.
	mu    sync.RWMutex
	state state
	reid  map[string]map[string]string // loaded lazily by namespace
	// reidSorted is a lookup read as its sorted lines, nil when it must be
	// loaded into reid (see Reidentify).
	reidSorted map[string]*sortedPairs
	// writeMem holds the deliveries' compressed buffers: the IPC writer
	// allocates one per column of every record and frees it once written.
	writeMem *recycle.Recycler
	// locked is set while this store holds the run lock, which
	// MarkAbandoned needs to be sure no run is still writing.
	locked bool
	// syncing is the last committed delivery's file on its way to disk;
	// the state on disk names it only once it is there (see Commit).
	syncing *fileSync
	// unsaved: the state in memory holds deliveries state.json does not.
	unsaved bool
}

// fileSync is a delivery's file being synced to disk on a goroutine.
type fileSync struct {
	file string // relative to the store folder
	name string // the delivered file's, for errors
	done chan struct{}
	err  error
}

// startSync syncs f (the store file rel, of the delivered file name) to
// disk on a goroutine, and closes it.
func startSync(f *os.File, rel, name string) *fileSync {
	sy := &fileSync{file: rel, name: name, done: make(chan struct{})}
	go func() {
		defer close(sy.done)
		sy.err = f.Sync()
		if err := f.Close(); sy.err == nil {
			sy.err = err
		}
	}()
	return sy
}

// synced waits for the last committed delivery's file to reach the disk.
// If it could not, the delivery is taken out of the state (so no state
// saved names a file that may not be whole) and its file removed.
func (s *Store) synced() error {
	sy := s.syncing
	if sy == nil {
		return nil
	}
	s.syncing = nil
	<-sy.done
	if sy.err == nil {
		return nil
	}
	s.setDeliveries(slices.DeleteFunc(slices.Clone(s.deliveries()), func(d delivered) bool { return d.File == sy.file }))
	os.Remove(s.path(sy.file))
	return fmt.Errorf("%s: %w", sy.name, sy.err)
}

// Settle waits until every committed delivery is on disk and recorded in
// state.json. Ingestion calls it when a source's read ends: Commit leaves
// the last file's sync running, so that the source can read its next file
// meanwhile.
func (s *Store) Settle() error {
	if s.syncing == nil && !s.unsaved {
		return nil
	}
	if err := s.saveState(); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// state is store/state.json: every committed delivery, in load order.
type state struct {
	Deliveries []delivered `json:"deliveries"`
}

type delivered struct {
	Source  string    `json:"source"`
	Name    string    `json:"name"`
	SHA256  string    `json:"sha256"`
	Size    int64     `json:"size,omitempty"`
	ModTime time.Time `json:"mod_time,omitzero"` // the delivered file's, when it was one
	File    string    `json:"file,omitempty"`    // relative to store/; empty when no row was loaded
	// FileSHA256 is File's own hash as the store wrote it (SHA256 is the
	// delivered file's), checked before File is read. It is absent in state
	// written before checksums were recorded, and such a file is read
	// unchecked.
	FileSHA256 string    `json:"file_sha256,omitempty"`
	RowsRead   int64     `json:"rows_read"`
	RowsLoaded int64     `json:"rows_loaded"`
	LoadedAt   time.Time `json:"loaded_at"`
	// Dates spans each date32 column of the rows loaded, by column name, so
	// ScanSince can leave the file unread; absent in state written before
	// spans were recorded, and such a delivery is always read.
	Dates map[string]dateSpan `json:"dates,omitempty"`
}

var (
	_ pipeline.Store = (*Store)(nil)
	// sourceName keeps source names usable as folder names.
	sourceName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
)

// writeKeep bounds the compressed buffers a store keeps for reuse: a few
// records' worth.
const writeKeep = 16 << 20

// Open opens (creating if needed) the store under dataDir. now stamps load
// times and is injected for tests.
func Open(dataDir string, now func() time.Time) (*Store, error) {
	if dataDir == "" {
		return nil, errors.New("store: no data directory")
	}
	if now == nil {
		now = time.Now
	}
	s := &Store{dir: dataDir, now: now, reid: map[string]map[string]string{}, reidSorted: map[string]*sortedPairs{},
		writeMem: recycle.New(memory.DefaultAllocator, writeKeep)}
	if err := os.MkdirAll(filepath.Join(dataDir, storeDir), 0o750); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	b, err := os.ReadFile(s.path(stateFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("store: %w", err)
	default:
		if err := json.Unmarshal(b, &s.state); err != nil {
			return nil, fmt.Errorf("store: %s: %w", s.path(stateFile), err)
		}
	}
	return s, nil
}

// Dir is the data directory.
func (s *Store) Dir() string { return s.dir }

func (s *Store) path(rel ...string) string {
	return filepath.Join(append([]string{s.dir, storeDir}, rel...)...)
}

// deliveries is the list of committed deliveries, in load order, as it
// stands; the writer never changes what it returns.
func (s *Store) deliveries() []delivered {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.state.Deliveries
}

// setDeliveries replaces the list; only the writer calls it.
func (s *Store) setDeliveries(ds []delivered) {
	s.mu.Lock()
	s.state.Deliveries = ds
	s.mu.Unlock()
}

// saveState writes the state once the files it names are on disk.
func (s *Store) saveState() error {
	if err := s.synced(); err != nil {
		return err
	}
	b, err := json.MarshalIndent(&state{Deliveries: s.deliveries()}, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(s.path(stateFile), append(b, '\n'), 0o640); err != nil {
		return err
	}
	s.unsaved = false
	return nil
}

// Loaded reports whether this name and hash of source were loaded before.
func (s *Store) Loaded(source string, f pipeline.FileRef) (bool, error) {
	for _, d := range s.deliveries() {
		if d.Source == source && d.Name == f.Name && d.SHA256 == f.SHA256 {
			return true, nil
		}
	}
	return false, nil
}

// Known returns the hash of a loaded delivery of source with this name,
// size and modification time. A file rewritten since has another time, so
// it is hashed and compared as before.
func (s *Store) Known(source, name string, size int64, modTime time.Time) (string, bool) {
	if modTime.IsZero() {
		return "", false
	}
	for _, d := range s.deliveries() {
		if d.Source == source && d.Name == name && d.Size == size && d.ModTime.Equal(modTime) {
			return d.SHA256, true
		}
	}
	return "", false
}

// storedFile is one committed Arrow file: its path relative to the store
// folder and the hex SHA-256 recorded when it was written ("" before
// checksums were recorded).
type storedFile struct {
	rel, sum string
}

// files lists the files committed for source that keep (nil for all)
// accepts, in load order.
func (s *Store) files(source string, keep func(delivered) bool) []storedFile {
	var out []storedFile
	for _, d := range s.deliveries() {
		if d.Source == source && d.File != "" && (keep == nil || keep(d)) {
			out = append(out, storedFile{rel: d.File, sum: d.FileSHA256})
		}
	}
	return out
}

// LastDelivered is when the newest file of source was loaded, from the
// store's record of deliveries (so it outlives the process that loaded it);
// false when none ever was. The load time, not the file's own modification
// time: it is when the file reached earlyhelp, whatever the copy that
// delivered it did to the file's times, and a postgres source has none.
func (s *Store) LastDelivered(source string) (time.Time, bool) {
	var last time.Time
	for _, d := range s.deliveries() {
		if d.Source == source && d.LoadedAt.After(last) {
			last = d.LoadedAt
		}
	}
	return last, !last.IsZero()
}

var _ pipeline.DeliveryTimes = (*Store)(nil)

// LargestDelivery is the most rows one delivery of source loaded: about
// how many distinct records a reader will find when a source comes as
// whole extracts, for sizing what it reads them into.
func (s *Store) LargestDelivery(source string) int64 {
	var n int64
	for _, d := range s.deliveries() {
		if d.Source == source {
			n = max(n, d.RowsLoaded)
		}
	}
	return n
}

// RowsLoaded is the number of rows of source in the store.
func (s *Store) RowsLoaded(source string) int64 {
	var n int64
	for _, d := range s.deliveries() {
		if d.Source == source {
			n += d.RowsLoaded
		}
	}
	return n
}
