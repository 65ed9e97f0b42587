package store

import (
	"bytes"
	"earlyhelp/pipeline/atomicfile"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math"
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
		delete(s.reidSorted, ns) // the map is the lookup from here on
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

// ForgetReid lets go of the lookups SaveReid loaded and merged into. An
// ingest merges every source's pairs into them, and once it is done they
// are only read to name a list's few dozen families, which Reidentify does
// from the sorted file. Kept, a 300,000-child council's register was some
// 100 MB of the run's live heap (the maps, the pseudonyms and the ids),
// strings the collector scanned at every cycle of the backtest.
func (s *Store) ForgetReid() {
	clear(s.reid)
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
//
// A lookup not loaded already is searched where it stands: SaveReid
// writes it sorted by pseudonym, a line a pair, so a run that names a
// list's few dozen families reads the file and searches it rather than
// making a map of a council's register (0.48 s of a 300,000-child weekly
// run's export). A file with a quote or a carriage return in it, which
// would not be a pair a line, is loaded into the map as before.
func (s *Store) Reidentify(ns, pseudonym string) (string, error) {
	id, ok, err := s.lookup(ns, pseudonym)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", fmt.Errorf("store: no %s behind a pseudonym on the list", ns)
	}
	return id, nil
}

// lookup finds pseudonym's id in the map loaded, or else the sorted file,
// or else the map it loads.
func (s *Store) lookup(ns, pseudonym string) (string, bool, error) {
	m, loaded := s.reid[ns]
	if !loaded {
		lines, err := s.reidLines(ns)
		if err != nil {
			return "", false, err
		}
		if lines != nil {
			id, ok := lines.find(pseudonym)
			return id, ok, nil
		}
		if m, err = s.loadReid(ns); err != nil {
			return "", false, err
		}
	}
	id, ok := m[pseudonym]
	return id, ok, nil
}

// sortedPairs is a lookup file as it stands: its lines after the header,
// in pseudonym order.
type sortedPairs struct {
	b      []byte
	starts []int32 // each line's first byte in b
}

// reidLines reads the lookup of ns as sorted lines, once; nil (and no
// error) when it must be loaded into a map instead: absent, quoted, not a
// pair a line in order, or too big for the line index.
func (s *Store) reidLines(ns string) (*sortedPairs, error) {
	if sp, ok := s.reidSorted[ns]; ok {
		return sp, nil
	}
	b, err := os.ReadFile(s.reidPath(ns))
	if errors.Is(err, fs.ErrNotExist) || err == nil && (bytes.ContainsAny(b, "\"\r") || len(b) > math.MaxInt32) {
		s.reidSorted[ns] = nil
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: re-identification lookup: %w", err)
	}
	sp := &sortedPairs{b: b}
	_, rest, _ := bytes.Cut(b, []byte{'\n'}) // the header
	at := len(b) - len(rest)
	for l := range bytes.Lines(rest) {
		if l[0] != '\n' { // csv skips blank lines
			sp.starts = append(sp.starts, int32(at))
		}
		at += len(l)
	}
	for i := range sp.starts {
		// Out of order, or a line not a pair (which csv refuses), is not
		// as SaveReid writes it.
		if bytes.Count(sp.line(i), []byte{','}) != 1 || i > 0 && bytes.Compare(sp.key(i-1), sp.key(i)) >= 0 {
			sp = nil
			break
		}
	}
	s.reidSorted[ns] = sp
	return sp, nil
}

// line is line i without its newline.
func (sp *sortedPairs) line(i int) []byte {
	l := sp.b[sp.starts[i]:]
	if end := bytes.IndexByte(l, '\n'); end >= 0 {
		l = l[:end]
	}
	return l
}

// key is line i's pseudonym: up to its first comma.
func (sp *sortedPairs) key(i int) []byte {
	k, _, _ := bytes.Cut(sp.line(i), []byte{','})
	return k
}

// find is the id on pseudonym's line, as csv reads it; false when no line
// has it.
func (sp *sortedPairs) find(pseudonym string) (string, bool) {
	i := sort.Search(len(sp.starts), func(i int) bool { return string(sp.key(i)) >= pseudonym })
	if i == len(sp.starts) || string(sp.key(i)) != pseudonym {
		return "", false
	}
	_, id, _ := bytes.Cut(sp.line(i), []byte{','})
	return string(id), true
}
