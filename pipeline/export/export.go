// Package export writes a run's navigator list (CONTRACTS §6): a CSV for
// spreadsheets and a printable HTML page. It is the one place pseudonyms
// become the council's own ids again, and only for households on the list.
package export

import (
	"context"
	"embed"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"earlyhelp/pipeline"
	"earlyhelp/pipeline/atomicfile"
	"earlyhelp/pipeline/contract"
	"earlyhelp/pipeline/rundir"
)

// Reidentifier returns the council's id behind a pseudonym. The list asks
// only for contract.NSHousehold and contract.NSPerson: UPNs, NHS numbers
// and UPRNs are never re-identified.
type Reidentifier interface {
	Reidentify(namespace, pseudonym string) (string, error)
}

// Exporter writes the run's list: its CSV, Parquet copy, printable HTML
// and families (rundir.ListCSVFile and beside it).
type Exporter struct {
	reid    Reidentifier
	marking string
	schools map[string]string
}

// DefaultMarking is the protective marking of a printed list when the
// council sets none.
const DefaultMarking = "OFFICIAL-SENSITIVE"

// WithPack sets what the printed pack needs beyond the list: the council's
// protective marking (DefaultMarking when empty) and its school names by
// URN (may be nil: the family pages then give URNs alone).
func (e *Exporter) WithPack(marking string, schools map[string]string) *Exporter {
	e.marking, e.schools = marking, schools
	return e
}

var _ pipeline.Exporter = (*Exporter)(nil)

// New returns an exporter that re-identifies through reid.
func New(reid Reidentifier) (*Exporter, error) {
	if reid == nil {
		return nil, fmt.Errorf("export: no re-identification lookup")
	}
	return &Exporter{reid: reid}, nil
}

// Header is the list's CSV header, in CONTRACTS §6 order.
var Header = pipeline.ListColumns()

//go:embed templates/list.html
var templates embed.FS

// row is one re-identified list row: the run folder's typed row (the
// Parquet copy's, unrounded) with the text the CSV and the page show.
type row struct {
	rundir.ListRow
	score      string // to three places
	decisionAt string // yyyy-mm-dd; "" without a decision
	family     Family // the family page's entry
}

// DecisionDate is the page's date of the last decision.
func (r row) DecisionDate() string { return r.decisionAt }

// Export writes both files; either both are complete or the run fails.
func (e *Exporter) Export(ctx context.Context, runDir string, l *pipeline.List) ([]string, error) {
	rows := make([]row, 0, len(l.Entries))
	for _, en := range l.Entries {
		r, err := e.reidentify(en)
		if err != nil {
			return nil, fmt.Errorf("rank %d: %w", en.Rank, err)
		}
		rows = append(rows, r)
	}
	rd := rundir.Open(runDir)
	if err := atomicfile.Write(rd.ListCSV(), 0o640, func(w io.Writer) error {
		return writeCSV(w, rows)
	}); err != nil {
		return nil, err
	}
	typed := make([]rundir.ListRow, len(rows))
	for i, r := range rows {
		typed[i] = r.ListRow
	}
	if err := rd.WriteList(typed); err != nil {
		return nil, err
	}
	if err := atomicfile.Write(rd.ListHTML(), 0o640, func(w io.Writer) error {
		return e.writeHTML(w, l, rows)
	}); err != nil {
		return nil, err
	}
	if err := writeFamilies(rd.FamiliesJSON(), l, rows); err != nil {
		return nil, err
	}
	return []string{rundir.ListCSVFile, rundir.ListParquetFile, rundir.ListHTMLFile, rundir.FamiliesFile}, nil
}

// Family is one entry of list/families.json (pipeline's: the review site
// reads it too).
type Family = pipeline.ListFamily

func writeFamilies(path string, l *pipeline.List, rows []row) error {
	fams := make([]Family, len(rows))
	for i, r := range rows {
		fams[i] = r.family
	}
	b, err := json.Marshal(fams)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, b, 0o640)
}

func (e *Exporter) reidentify(en pipeline.ListEntry) (row, error) {
	hh, err := e.reid.Reidentify(contract.NSHousehold, en.Household)
	if err != nil {
		return row{}, err
	}
	r := row{ListRow: rundir.ListRow{
		Rank: en.Rank, Household: hh, Locality: en.Locality, Band: en.Band,
		Score: en.Score, Status: en.Status, WeeksOnList: en.WeeksOnList, Children: len(en.Children),
		Decision: en.LastDecision, DecisionAt: en.LastDecisionAt,
		ContactSafety: en.ContactSafety, Likelihood: en.Likelihood, Context: en.Context,
	}, score: strconv.FormatFloat(en.Score, 'f', 3, 64)}
	if !en.LastDecisionAt.IsZero() {
		r.decisionAt = en.LastDecisionAt.Format(time.DateOnly)
	}
	// Only the children of listed households are re-identified, once each.
	refs := map[string]string{}
	for _, c := range en.Children {
		id, err := e.reid.Reidentify(contract.NSPerson, c.Person)
		if err != nil {
			return row{}, err
		}
		refs[c.Person] = id
		r.ChildRefs = append(r.ChildRefs, fmt.Sprintf("%s (age %d)", id, c.Age))
	}
	fam := Family{
		Rank: en.Rank, Household: hh, Pseudonym: en.Household, Locality: en.Locality, Score: en.Score, Band: en.Band,
		Likelihood: en.Likelihood, Context: en.Context, ContactSafety: []pipeline.FamilySafety{},
		Reasons: []pipeline.FamilyReason{}, Children: []pipeline.FamilyChild{},
	}
	if en.Why == nil {
		// A feature set that cannot say a family's own facts: the model's
		// reasons in words, as before.
		r.Reasons = en.ReasonTexts
		for _, rs := range en.Reasons {
			r.ReasonCodes = append(r.ReasonCodes, rs.Feature)
		}
	}
	for _, w := range en.Why {
		text := w.Text
		if w.Person != "" {
			if id, ok := refs[w.Person]; ok {
				text = fmt.Sprintf("%s (age %d): %s", id, w.Age, w.Text)
			}
		}
		text = pipeline.CleanText(text)
		r.Reasons = append(r.Reasons, text)
		r.ReasonCodes = append(r.ReasonCodes, w.Code)
		fam.Reasons = append(fam.Reasons, pipeline.FamilyReason{
			Code: w.Code, Child: refs[w.Person], Age: w.Age, Date: w.Date.Format(time.DateOnly), Text: text,
		})
	}
	for k, f := range en.Safety {
		fam.ContactSafety = append(fam.ContactSafety, pipeline.FamilySafety{
			Kind: f.Kind, Date: f.Date.Format(time.DateOnly), Instruction: en.ContactSafety[k],
		})
	}
	for _, c := range en.Children {
		fc := pipeline.FamilyChild{Ref: refs[c.Person], Age: c.Age, School: en.Schools[c.Person], Signals: []pipeline.FamilySignal{}}
		if fc.School != "" {
			fc.SchoolName = e.schools[fc.School]
		}
		for _, s := range en.Signals {
			if s.Person == c.Person {
				fc.Signals = append(fc.Signals, pipeline.FamilySignal{Code: s.Code, Date: s.Date.Format(time.DateOnly), Text: s.Text})
			}
		}
		fam.Children = append(fam.Children, fc)
	}
	if en.Timeline != nil {
		// The timeline names children by pseudonym in the pipeline; the
		// family page by the council's id, as the list does.
		tl := *en.Timeline
		tl.Events = append([]pipeline.TimelineEvent(nil), tl.Events...)
		for k := range tl.Events {
			tl.Events[k].Child = refs[tl.Events[k].Child]
		}
		tl.Children = nil
		for _, cw := range en.Timeline.Children {
			if id, ok := refs[cw.Child]; ok {
				tl.Children = append(tl.Children, pipeline.ChildWeeks{Child: id, Weeks: cw.Weeks})
			}
		}
		fam.Timeline = &tl
	}
	r.family = fam
	return r, nil
}

func writeCSV(w io.Writer, rows []row) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(Header); err != nil {
		return err
	}
	n := pipeline.Neutralise
	for _, r := range rows {
		rec := []string{
			strconv.Itoa(r.Rank), n(r.Household), n(r.Locality), r.Band, r.score, r.Status,
			strconv.Itoa(r.WeeksOnList), strconv.Itoa(r.Children), n(strings.Join(r.ChildRefs, ";")),
			n(strings.Join(r.Reasons, ";")), n(strings.Join(r.ReasonCodes, ";")), n(r.Decision), r.decisionAt,
			n(strings.Join(r.ContactSafety, "; ")), n(r.Likelihood), n(strings.Join(r.Context, "; ")),
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// locality is one locality's rows of the printed list.
type locality struct {
	Name string
	Rows []row
}

// writeHTML writes the printable pack: the council's marking at the top and
// foot of every page, one section per locality each starting on a new page,
// rows that never split across pages, and the glossary last.
func (e *Exporter) writeHTML(w io.Writer, l *pipeline.List, rows []row) error {
	t, err := template.ParseFS(templates, "templates/list.html")
	if err != nil {
		return err
	}
	var locs []locality
	at := map[string]int{}
	for _, r := range rows {
		k, ok := at[r.Locality]
		if !ok {
			k = len(locs)
			at[r.Locality] = k
			locs = append(locs, locality{Name: r.Locality})
		}
		locs[k].Rows = append(locs[k].Rows, r)
	}
	sort.SliceStable(locs, func(i, j int) bool { return locs[i].Name < locs[j].Name })
	marking := e.marking
	if marking == "" {
		marking = DefaultMarking
	}
	return t.Execute(w, map[string]any{
		"Council": l.Council, "AsOf": l.AsOf.Format(time.DateOnly), "RunID": l.RunID,
		"Capacity": l.Capacity, "Listed": len(rows), "Localities": locs, "Marking": marking,
	})
}
