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
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"earlyhelp/pipeline"
)

// Namespaces of the re-identification lookup: the council's own household
// and person ids (CONTRACTS §2 column names). UPNs, NHS numbers and UPRNs are
// never re-identified.
const (
	nsHousehold = "household_id"
	nsPerson    = "person_id"
)

// Reidentifier returns the council's id behind a pseudonym.
type Reidentifier interface {
	Reidentify(namespace, pseudonym string) (string, error)
}

// Exporter writes list/navigator_list.csv and list/navigator_list.html.
type Exporter struct {
	reid Reidentifier
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

// row is one re-identified list row, as both files show it.
type row struct {
	Rank        int
	Household   string
	Locality    string
	Band        string
	Score       string
	Status      string
	WeeksOnList int
	Children    int
	ChildRefs   []string
	Reasons     []string
	ReasonCodes []string
	Decision    string
	DecisionAt  string
	score       float64   // unrounded, for the Parquet copy
	decisionAt  time.Time // for the Parquet copy
}

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
	csvPath := filepath.Join("list", "navigator_list.csv")
	if err := pipeline.WriteAtomic(filepath.Join(runDir, csvPath), 0o640, func(w io.Writer) error {
		return writeCSV(w, rows)
	}); err != nil {
		return nil, err
	}
	pqPath := filepath.Join("list", "navigator_list.parquet")
	if err := writeParquet(filepath.Join(runDir, pqPath), rows); err != nil {
		return nil, err
	}
	htmlPath := filepath.Join("list", "navigator_list.html")
	if err := pipeline.WriteAtomic(filepath.Join(runDir, htmlPath), 0o640, func(w io.Writer) error {
		return writeHTML(w, l, rows)
	}); err != nil {
		return nil, err
	}
	famPath := filepath.Join("list", FamiliesFile)
	if err := writeFamilies(filepath.Join(runDir, famPath), l, rows); err != nil {
		return nil, err
	}
	return []string{csvPath, pqPath, htmlPath, famPath}, nil
}

// FamiliesFile and Family are pipeline's (the review site reads them too).
const FamiliesFile = pipeline.FamiliesFile

// Family is one entry of FamiliesFile.
type Family = pipeline.ListFamily

func writeFamilies(path string, l *pipeline.List, rows []row) error {
	fams := make([]Family, len(rows))
	for i, r := range rows {
		en := l.Entries[i]
		fams[i] = Family{Rank: r.Rank, Household: r.Household, Pseudonym: en.Household, Timeline: en.Timeline}
	}
	b, err := json.Marshal(fams)
	if err != nil {
		return err
	}
	return pipeline.WriteFileAtomic(path, b, 0o640)
}

func (e *Exporter) reidentify(en pipeline.ListEntry) (row, error) {
	hh, err := e.reid.Reidentify(nsHousehold, en.Household)
	if err != nil {
		return row{}, err
	}
	r := row{
		Rank: en.Rank, Household: hh, Locality: en.Locality, Band: en.Band,
		Score: strconv.FormatFloat(en.Score, 'f', 3, 64), Status: en.Status,
		WeeksOnList: en.WeeksOnList, Children: len(en.Children), Reasons: en.ReasonTexts,
		Decision: en.LastDecision, score: en.Score, decisionAt: en.LastDecisionAt,
	}
	if !en.LastDecisionAt.IsZero() {
		r.DecisionAt = en.LastDecisionAt.Format(time.DateOnly)
	}
	for _, c := range en.Children {
		id, err := e.reid.Reidentify(nsPerson, c.Person)
		if err != nil {
			return row{}, err
		}
		r.ChildRefs = append(r.ChildRefs, fmt.Sprintf("%s (age %d)", id, c.Age))
	}
	for _, rs := range en.Reasons {
		r.ReasonCodes = append(r.ReasonCodes, rs.Feature)
	}
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
			strconv.Itoa(r.Rank), n(r.Household), n(r.Locality), r.Band, r.Score, r.Status,
			strconv.Itoa(r.WeeksOnList), strconv.Itoa(r.Children), n(strings.Join(r.ChildRefs, ";")),
			n(strings.Join(r.Reasons, ";")), n(strings.Join(r.ReasonCodes, ";")), n(r.Decision), r.DecisionAt,
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func writeHTML(w io.Writer, l *pipeline.List, rows []row) error {
	t, err := template.ParseFS(templates, "templates/list.html")
	if err != nil {
		return err
	}
	return t.Execute(w, map[string]any{
		"Council": l.Council, "AsOf": l.AsOf.Format(time.DateOnly), "RunID": l.RunID,
		"Capacity": l.Capacity, "Rows": rows,
	})
}
