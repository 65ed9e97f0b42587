package rundir

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// ErrNoRun is Latest's and Previous's answer when no run fits.
var ErrNoRun = errors.New("no run fits")

// Succeeded is the status of a run that finished (Manifest.Status).
const Succeeded = "succeeded"

// All returns every run folder under dataDir, oldest first: run ids sort by
// their start time. Folders are returned whether or not they hold a
// manifest; a dataDir with no runs yet gives none.
func All(dataDir string) ([]Run, error) {
	entries, err := os.ReadDir(RunsDir(dataDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("runs folder: %w", err)
	}
	var out []Run
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, ForID(dataDir, e.Name()))
		}
	}
	return out, nil
}

// Latest returns the newest run that succeeded and wrote a list: the one
// navigators see. A run whose manifest cannot be read is passed over.
func Latest(dataDir string) (Run, error) {
	runs, err := All(dataDir)
	if err != nil {
		return Run{}, err
	}
	for i := len(runs) - 1; i >= 0; i-- {
		r := runs[i]
		m, err := r.Manifest()
		if err != nil || m.Status != Succeeded {
			continue
		}
		if _, err := os.Stat(r.ListCSV()); err == nil {
			return r, nil
		}
	}
	return Run{}, ErrNoRun
}

// Previous returns the run whose list came before r's: the newest other run
// in r's runs folder that succeeded with a list, is as of a date before
// asOf and kept its list state. Run ids are walked from the newest, so a
// later run of an earlier date (a re-run) counts. A folder without a
// manifest is passed over (a run that died at once); a manifest that
// cannot be read or decoded is an error, not a silent gap in the statuses.
func Previous(r Run, asOf time.Time) (Run, error) {
	entries, err := os.ReadDir(parentOf(r))
	if err != nil {
		return Run{}, fmt.Errorf("runs folder: %w", err)
	}
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		if !e.IsDir() || e.Name() == r.ID() {
			continue
		}
		p := Open(joinSibling(r, e.Name()))
		var m struct {
			Status string    `json:"status"`
			AsOf   string    `json:"as_of"`
			List   *struct{} `json:"list"`
		}
		b, err := os.ReadFile(p.ManifestPath())
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return Run{}, fmt.Errorf("run %s: %w", p.ID(), err)
		}
		if err := json.Unmarshal(b, &m); err != nil {
			return Run{}, fmt.Errorf("run %s manifest: %w", p.ID(), err)
		}
		d, err := time.Parse(time.DateOnly, m.AsOf)
		if m.Status != Succeeded || m.List == nil || err != nil || !d.Before(asOf) {
			continue
		}
		if _, err := os.Stat(p.ListStateJSON()); errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return Run{}, fmt.Errorf("run %s: %w", p.ID(), err)
		}
		return p, nil
	}
	return Run{}, ErrNoRun
}
