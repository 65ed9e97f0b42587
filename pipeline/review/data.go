package review

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"earlyhelp/pipeline"
	"earlyhelp/pipeline/contract"
	"earlyhelp/pipeline/rundir"
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

// family is one listed household: its row of the list and its entry of
// families.json.
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

// runs reads data_dir's run folders through rundir, caching the latest list
// by run id so a page view costs one directory listing until a new run
// succeeds.
type runs struct {
	dataDir string

	mu     sync.Mutex
	cached *week
}

// manifests returns every run's manifest, newest first. A run folder
// without a readable manifest is shown as such rather than hidden.
func (r *runs) manifests() ([]pipeline.Manifest, error) {
	all, err := rundir.All(r.dataDir)
	if err != nil {
		return nil, err
	}
	var out []pipeline.Manifest
	for _, run := range all {
		m, err := run.Manifest()
		if err != nil {
			m = &pipeline.Manifest{RunID: run.ID(), Status: "unreadable"}
		}
		if m.RunID == "" {
			m.RunID = run.ID()
		}
		out = append(out, *m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].RunID > out[j].RunID })
	return out, nil
}

// latest returns the newest succeeded run that wrote a list.
func (r *runs) latest() (rundir.Run, error) {
	run, err := rundir.Latest(r.dataDir)
	if errors.Is(err, rundir.ErrNoRun) {
		return rundir.Run{}, errNoList
	}
	return run, err
}

// week returns the latest list.
func (r *runs) week() (*week, error) {
	run, err := r.latest()
	if err != nil {
		return nil, err
	}
	id := run.ID()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cached != nil && r.cached.RunID == id {
		return r.cached, nil
	}
	w, err := readWeek(run)
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", id, err)
	}
	w.RunID = id
	r.cached = w
	return w, nil
}

func readWeek(run rundir.Run) (*week, error) {
	w := &week{byRef: map[string]*family{}}
	m, err := run.Manifest()
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	w.AsOf = m.AsOf
	rows, err := run.List()
	if err != nil {
		return nil, err
	}
	for _, lr := range rows {
		fam := listFamily(lr)
		w.Families = append(w.Families, fam)
		w.byRef[fam.Ref] = fam
	}
	b, err := os.ReadFile(run.FamiliesJSON())
	if err != nil {
		return nil, err
	}
	var extra []pipeline.ListFamily
	if err := json.Unmarshal(b, &extra); err != nil {
		return nil, fmt.Errorf("%s: %w", rundir.FamiliesFile, err)
	}
	listed := map[string]bool{}
	for _, e := range extra {
		if fam := w.byRef[e.Household]; fam != nil {
			fam.merge(e)
			listed[e.Pseudonym] = true
		}
	}
	if w.groups, err = readGroups(run.ScoredChildrenCSV(), w.AsOf, listed); err != nil {
		return nil, fmt.Errorf("scored_children.csv: %w", err)
	}
	return w, nil
}

// listFamily is a list row as the pages show it: the score to three
// decimals and the last decision's date as the CSV gives them.
func listFamily(lr rundir.ListRow) *family {
	f := &family{
		Rank: lr.Rank, Ref: lr.Household, Locality: lr.Locality, Band: lr.Band,
		Score: strconv.FormatFloat(lr.Score, 'f', 3, 64), Status: lr.Status,
		WeeksOnList: strconv.Itoa(lr.WeeksOnList), Children: strconv.Itoa(lr.Children),
		ChildRefs: lr.ChildRefs, Reasons: lr.Reasons, Decision: lr.Decision,
		ContactSafety: lr.ContactSafety, Likelihood: lr.Likelihood, Context: lr.Context,
	}
	if !lr.DecisionAt.IsZero() {
		f.DecisionAt = lr.DecisionAt.Format(time.DateOnly)
	}
	return f
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
