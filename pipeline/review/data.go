package review

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"earlyhelp/pipeline"
	"earlyhelp/pipeline/contract"
)

// errNoList is a data_dir with no succeeded run to show yet.
var errNoList = errors.New("no list yet: no run has succeeded")

// week is one succeeded run's list, as the site shows it.
type week struct {
	RunID    string
	AsOf     string
	Families []*family
	byRef    map[string]*family
	// groups is each listed household's audit group (its first child's
	// ethnicity5), stored with a decision for the auditors' override
	// analysis and never shown to navigators.
	groups map[string]string
}

// family is one listed household: its row of navigator_list.csv and its
// entry of families.json.
type family struct {
	Rank        int
	Ref         string // household_ref, the council's own id
	Pseudonym   string // household_id, the key decisions are stored under
	Locality    string
	Band        string
	Score       string
	Status      string
	WeeksOnList string
	Children    string
	ChildRefs   []string
	Reasons     []string
	Decision    string
	DecisionAt  string
	// The last three columns, empty in runs from before they were added.
	ContactSafety []string
	Likelihood    string
	Context       []string

	// From families.json; a run from before these fields leaves them
	// empty, and the family page falls back to the CSV's.
	Timeline  *pipeline.Timeline
	RawScore  float64
	Safety    []pipeline.FamilySafety
	Why       []pipeline.FamilyReason
	Kids      []pipeline.FamilyChild
	hasDetail bool // families.json had this household's score and band
}

// runs reads data_dir/runs, caching the latest list by run id so a page
// view costs one directory listing until a new run succeeds.
type runs struct {
	dir string // data_dir/runs

	mu     sync.Mutex
	cached *week
}

// manifests returns every run's manifest, newest first. A run folder
// without a readable manifest is shown as such rather than hidden.
func (r *runs) manifests() ([]pipeline.Manifest, error) {
	ents, err := os.ReadDir(r.dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("runs: %w", err)
	}
	var out []pipeline.Manifest
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		var m pipeline.Manifest
		b, err := os.ReadFile(filepath.Join(r.dir, e.Name(), "manifest.json"))
		if err == nil {
			err = json.Unmarshal(b, &m)
		}
		if err != nil {
			m = pipeline.Manifest{RunID: e.Name(), Status: "unreadable"}
		}
		if m.RunID == "" {
			m.RunID = e.Name()
		}
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].RunID > out[j].RunID })
	return out, nil
}

// latest returns the newest succeeded run that wrote a list.
func (r *runs) latest() (string, error) {
	ms, err := r.manifests()
	if err != nil {
		return "", err
	}
	for _, m := range ms {
		if m.Status != "succeeded" {
			continue
		}
		if _, err := os.Stat(filepath.Join(r.dir, m.RunID, "list", "navigator_list.csv")); err == nil {
			return m.RunID, nil
		}
	}
	return "", errNoList
}

// file is a path inside the latest succeeded run.
func (r *runs) file(rel ...string) (string, error) {
	id, err := r.latest()
	if err != nil {
		return "", err
	}
	return filepath.Join(append([]string{r.dir, id}, rel...)...), nil
}

// week returns the latest list.
func (r *runs) week() (*week, error) {
	id, err := r.latest()
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cached != nil && r.cached.RunID == id {
		return r.cached, nil
	}
	w, err := readWeek(filepath.Join(r.dir, id))
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", id, err)
	}
	w.RunID = id
	r.cached = w
	return w, nil
}

func readWeek(runDir string) (*week, error) {
	w := &week{byRef: map[string]*family{}}
	b, err := os.ReadFile(filepath.Join(runDir, "manifest.json"))
	if err != nil {
		return nil, err
	}
	var m pipeline.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	w.AsOf = m.AsOf
	f, err := os.Open(filepath.Join(runDir, "list", "navigator_list.csv"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if w.Families, err = readList(f); err != nil {
		return nil, fmt.Errorf("navigator_list.csv: %w", err)
	}
	for _, fam := range w.Families {
		w.byRef[fam.Ref] = fam
	}
	b, err = os.ReadFile(filepath.Join(runDir, "list", pipeline.FamiliesFile))
	if err != nil {
		return nil, err
	}
	var extra []pipeline.ListFamily
	if err := json.Unmarshal(b, &extra); err != nil {
		return nil, fmt.Errorf("%s: %w", pipeline.FamiliesFile, err)
	}
	listed := map[string]bool{}
	for _, e := range extra {
		if fam := w.byRef[e.Household]; fam != nil {
			fam.merge(e)
			listed[e.Pseudonym] = true
		}
	}
	if w.groups, err = readGroups(filepath.Join(runDir, "evaluation", "scored_children.csv"), w.AsOf, listed); err != nil {
		return nil, fmt.Errorf("scored_children.csv: %w", err)
	}
	return w, nil
}

// merge adds a household's families.json entry to its CSV row. The JSON's
// safety, reasons and context are the family page's; where an older run
// lacks them, the CSV's stay.
func (f *family) merge(e pipeline.ListFamily) {
	f.Pseudonym, f.Timeline = e.Pseudonym, e.Timeline
	f.Safety, f.Why, f.Kids = e.ContactSafety, e.Reasons, e.Children
	f.RawScore, f.hasDetail = e.Score, e.Band != ""
	if e.Likelihood != "" {
		f.Likelihood = e.Likelihood
	}
	if len(e.Context) > 0 {
		f.Context = e.Context
	}
}

// readGroups reads the audit group of each listed household on asOf from
// the run's evaluation/scored_children.csv (CONTRACTS §4). A run without
// the file gives none.
func readGroups(path, asOf string, listed map[string]bool) (map[string]string, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cr := csv.NewReader(f)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return nil, err
	}
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	ia, ih, ie := col["as_of"], col[contract.ColHouseholdID], col["ethnicity5"]
	if _, ok := col["ethnicity5"]; !ok {
		return nil, errors.New("no ethnicity5 column")
	}
	out := map[string]string{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		hh := rec[ih]
		if rec[ia] != asOf || !listed[hh] {
			continue
		}
		if _, seen := out[hh]; !seen {
			out[hh] = strings.Clone(rec[ie])
		}
	}
}

// added reports whether col is one of navigator_list.csv's columns added at
// its end after the first release (CONTRACTS §6): a list from an older run
// lacks them and is still read.
func added(col string) bool {
	switch col {
	case "contact_safety", "likelihood", "context":
		return true
	}
	return false
}

// readList reads navigator_list.csv (CONTRACTS §6), undoing the
// spreadsheet neutralisation of its cells for display.
func readList(r io.Reader) ([]*family, error) {
	cr := csv.NewReader(r)
	header, err := cr.Read()
	if err != nil {
		return nil, err
	}
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	for _, want := range pipeline.ListColumns() {
		if _, ok := col[want]; !ok && !added(want) {
			return nil, fmt.Errorf("no column %q", want)
		}
	}
	var out []*family
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		get := func(name string) string {
			i, ok := col[name]
			if !ok {
				return "" // a column added after this run was written
			}
			return unneutralise(rec[i])
		}
		rank, err := strconv.Atoi(get("rank"))
		if err != nil {
			return nil, fmt.Errorf("row %d: rank: %w", len(out)+2, err)
		}
		out = append(out, &family{
			Rank: rank, Ref: get("household_ref"), Locality: get(contract.ColLocality), Band: get("band"),
			Score: get("score"), Status: get("status"), WeeksOnList: get("weeks_on_list"),
			Children: get("children"), ChildRefs: split(get("child_refs")), Reasons: split(get("reasons")),
			Decision: get("last_decision"), DecisionAt: get("last_decision_date"),
			ContactSafety: split(get("contact_safety")), Likelihood: get("likelihood"), Context: split(get("context")),
		})
	}
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	parts := strings.Split(s, ";")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

// unneutralise drops the quote the export puts before a cell a
// spreadsheet would read as a formula; html/template escapes what is shown.
func unneutralise(s string) string {
	if len(s) > 1 && s[0] == '\'' && strings.ContainsRune("=+-@\t\r", rune(s[1])) {
		return s[1:]
	}
	return s
}
