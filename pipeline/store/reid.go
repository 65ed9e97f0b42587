package store

import (
	"earlyhelp/pipeline/atomicfile"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"sort"
)

// The re-identification lookup maps pseudonyms back to the council's own
// person and household ids, and nothing else: it is what lets the navigator
// list name the families on it. It lives in store/reid/ with owner-only
// permissions, one CSV per namespace.

func (s *Store) reidPath(ns string) string { return s.path(reidDir, ns+".csv") }

// SaveReid merges pseudonym → council id pairs into the lookup.
func (s *Store) SaveReid(pairs map[string]map[string]string) error {
	nss := make([]string, 0, len(pairs))
	for ns := range pairs {
		nss = append(nss, ns)
	}
	sort.Strings(nss)
	for _, ns := range nss {
		if !sourceName.MatchString(ns) {
			return fmt.Errorf("store: bad namespace %q", ns)
		}
		if len(pairs[ns]) == 0 {
			continue
		}
		m, err := s.loadReid(ns)
		if err != nil {
			return err
		}
		changed := false
		if len(m) == 0 {
			// A first load: the new pairs are the whole lookup. Cloning
			// copies the map's table whole, where inserting pair by pair
			// grew it a dozen times over a council's register.
			m, changed = maps.Clone(pairs[ns]), true
			s.reid[ns] = m
		}
		for p, raw := range pairs[ns] {
			if m[p] != raw {
				m[p] = raw
				changed = true
			}
		}
		if !changed {
			continue
		}
		if err := os.MkdirAll(s.path(reidDir), 0o700); err != nil {
			return err
		}
		if err := os.Chmod(s.path(reidDir), 0o700); err != nil {
			return err
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		err = atomicfile.Write(s.reidPath(ns), 0o600, func(w io.Writer) error {
			cw := csv.NewWriter(w)
			cw.Write([]string{"pseudonym", "id"})
			for _, k := range keys {
				cw.Write([]string{k, m[k]})
			}
			cw.Flush()
			return cw.Error()
		})
		if err != nil {
			return fmt.Errorf("store: re-identification lookup: %w", err)
		}
	}
	return nil
}

func (s *Store) loadReid(ns string) (map[string]string, error) {
	if m, ok := s.reid[ns]; ok {
		return m, nil
	}
	m := map[string]string{}
	f, err := os.Open(s.reidPath(ns))
	if errors.Is(err, fs.ErrNotExist) {
		s.reid[ns] = m
		return m, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: re-identification lookup: %w", err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", filepath.Base(f.Name()), err)
	}
	for i, row := range rows {
		if i == 0 || len(row) != 2 {
			continue
		}
		m[row[0]] = row[1]
	}
	s.reid[ns] = m
	return m, nil
}

// Reidentify returns the council's id behind a pseudonym of namespace ns.
func (s *Store) Reidentify(ns, pseudonym string) (string, error) {
	m, err := s.loadReid(ns)
	if err != nil {
		return "", err
	}
	id, ok := m[pseudonym]
	if !ok {
		return "", fmt.Errorf("store: no %s behind a pseudonym on the list", ns)
	}
	return id, nil
}
