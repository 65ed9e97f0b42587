package store

import (
	"bytes"
	"earlyhelp/pipeline/atomicfile"
	"earlyhelp/pipeline/rundir"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Run statuses MarkAbandoned reads and writes (pipeline.Manifest.Status).
const (
	statusRunning   = "running"
	statusAbandoned = "abandoned"
)

// MarkAbandoned rewrites the manifest of every run left "running" to say
// "abandoned", and returns how many it marked. It must be called while
// holding the run lock and before this run writes its own manifest: with
// the lock held no other run is alive, so a manifest still saying running
// was left by a process that died (killed, out of memory, the host
// rebooted) and would otherwise say so for ever, to the review site and to
// anyone reading the run folders.
//
// Only status changes: the manifest is decoded field by field as raw JSON
// and written back atomically, so fields this package does not know survive
// (in sorted key order). A manifest that cannot be read or decoded is left
// as it is and reported in the error after the others have been marked.
func (s *Store) MarkAbandoned() (int, error) {
	if !s.locked {
		return 0, errors.New("store: marking abandoned runs needs the run lock: a running manifest may be a live run's")
	}
	entries, err := os.ReadDir(rundir.RunsDir(s.dir))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: runs: %w", err)
	}
	marked := 0
	var errs []error
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		// The manifest is pipeline.Run's; the store only ever rewrites its
		// status.
		ok, err := markAbandoned(rundir.ForID(s.dir, e.Name()).ManifestPath())
		if err != nil {
			errs = append(errs, fmt.Errorf("store: run %s: %w", e.Name(), err))
		}
		if ok {
			marked++
		}
	}
	return marked, errors.Join(errs...)
}

// markAbandoned marks the manifest at path abandoned if it says running.
// A run folder without a manifest (its run died before writing one) has
// nothing to mark.
func markAbandoned(path string) (bool, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return false, fmt.Errorf("%s: %w", rundir.ManifestFile, err)
	}
	var status string
	if raw, ok := m["status"]; !ok || json.Unmarshal(raw, &status) != nil || status != statusRunning {
		return false, nil
	}
	m["status"] = json.RawMessage(`"` + statusAbandoned + `"`)
	out, err := json.Marshal(m)
	if err != nil {
		return false, fmt.Errorf("%s: %w", rundir.ManifestFile, err)
	}
	// Indented as pipeline.Run writes it, for the operator who opens it.
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, out, "", "  "); err != nil {
		return false, fmt.Errorf("%s: %w", rundir.ManifestFile, err)
	}
	pretty.WriteByte('\n')
	if err := atomicfile.WriteFile(path, pretty.Bytes(), 0o640); err != nil {
		return false, err
	}
	return true, nil
}
