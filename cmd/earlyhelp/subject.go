package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/connectors"
	"earlyhelp/pipeline"
	"earlyhelp/pipeline/config"
	"earlyhelp/pipeline/contract"
	"earlyhelp/pipeline/review"
	"earlyhelp/pipeline/review/decisions"
	"earlyhelp/pipeline/review/users"
	"earlyhelp/pipeline/rundir"
	"earlyhelp/pipeline/store"
)

// subjectReport is everything earlyhelp recorded about the households a
// person belonged to: what a subject access request (UK GDPR Art. 15) is
// answered from. It names households by pseudonym, with the council's own
// reference where the re-identification lookup has it.
type subjectReport struct {
	Person     string              `json:"person"` // pseudonym
	Households []subjectMembership `json:"households"`
	Scores     []subjectScore      `json:"scores"`
	// Evaluated are the scores of the backtest and this week's households
	// (evaluation/scored_children.csv), with the outcome where known.
	Evaluated   []subjectEvaluated  `json:"evaluated"`
	Listings    []subjectListing    `json:"listings"`
	Allocations []subjectAllocation `json:"allocations"`
	Decisions   []subjectDecision   `json:"decisions"`
}

// subjectMembership is one stretch of the person's membership of a
// household, from the households extract.
type subjectMembership struct {
	Household string `json:"household_id"`            // pseudonym
	Ref       string `json:"household_ref,omitempty"` // the council's id, when known
	Role      string `json:"role"`
	From      string `json:"from"`
	To        string `json:"to,omitempty"` // "" while current
}

// subjectScore is a household's score in one run (scores.parquet).
type subjectScore struct {
	RunID       string  `json:"run_id"`
	AsOf        string  `json:"as_of"`
	Status      string  `json:"run_status"`
	Household   string  `json:"household_id"`
	Score       float64 `json:"score"`
	Rank        int     `json:"rank"`
	OutOf       int     `json:"out_of"`
	ReasonCodes string  `json:"reason_codes"`
	// Member says whether the person belonged to the household on the
	// run's date.
	Member bool `json:"member"`
}

// subjectEvaluated is a household's score on one date of a run's
// evaluation file: the backtest's dates, whose outcomes are known, and the
// run's own date.
type subjectEvaluated struct {
	RunID     string  `json:"run_id"`
	AsOf      string  `json:"as_of"`
	Model     string  `json:"model"`
	Household string  `json:"household_id"`
	Score     float64 `json:"score"`
	Selected  bool    `json:"selected"`
	Label     string  `json:"label"` // "1", "0" or "" while unknown
	Member    bool    `json:"member"`
}

// subjectListing is a household on one run's navigator list
// (list/families.json): band, reasons and contact-safety facts as the
// navigators saw them.
type subjectListing struct {
	RunID         string                  `json:"run_id"`
	AsOf          string                  `json:"as_of"`
	Household     string                  `json:"household_id"`
	Rank          int                     `json:"rank"`
	Band          string                  `json:"band"`
	Likelihood    string                  `json:"likelihood"`
	Score         float64                 `json:"score"`
	Reasons       []pipeline.FamilyReason `json:"reasons"`
	ContactSafety []pipeline.FamilySafety `json:"contact_safety"`
	Context       []string                `json:"context"`
	Member        bool                    `json:"member"`
}

// subjectAllocation is a household's draw in a capacity-margin lottery,
// from the run folder and the decisions database (one entry for both).
type subjectAllocation struct {
	RunID     string `json:"run_id"`
	AsOf      string `json:"as_of"`
	Household string `json:"household_id"`
	Rank      int    `json:"rank"`
	Arm       string `json:"arm"`
}

// subjectDecision is a navigator's decision about a household.
type subjectDecision struct {
	At             string `json:"at"`
	Household      string `json:"household_id"`
	Kind           string `json:"decision"`
	ReasonCategory string `json:"reason_category,omitempty"`
	Note           string `json:"note,omitempty"`
	Navigator      string `json:"navigator"`
	Locality       string `json:"locality,omitempty"`
}

const subjectUsage = `usage: earlyhelp subject --config F --person ID --user NAME [--format text|json]

Prints every score, rank, band, reason, lottery allocation and decision
earlyhelp recorded for the households person ID (the council's own
person_id, as in the persons extract) belonged to, with dates. Engineers
only: NAME must be an engineer of the review site, with the password on
standard input. The request is written to the access log under the
person's pseudonym; nothing else is written.
`

// subjectCommand names `earlyhelp subject` (subject access, UK GDPR Art.
// 15) and its access-log page: no relation to hv_assessments.subject.
const subjectCommand = "subject"

// runSubject is `earlyhelp subject`: subject access.
func runSubject(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return subjectAccess(ctx, args, os.Stdin, stdout, stderr, time.Now)
}

func subjectAccess(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, now func() time.Time) error {
	fset := flag.NewFlagSet(subjectCommand, flag.ContinueOnError)
	person := fset.String("person", "", "the council's person_id (required)")
	user := fset.String("user", "", "the engineer making the request; password on standard input (required)")
	format := fset.String("format", "text", "text or json")
	var cf commonFlags
	cf.withConfig(fset)
	cf.register(fset)
	fset.Usage = func() {
		fmt.Fprint(fset.Output(), subjectUsage+"\nflags:\n")
		fset.PrintDefaults()
	}
	if err := parseFlags(fset, args, stderr); err != nil {
		return err
	}
	raw := strings.TrimSpace(*person)
	switch {
	case raw == "":
		return &usageError{"subject: --person is required"}
	case *user == "":
		return &usageError{"subject: --user is required: only an engineer may make a subject access request"}
	case *format != "text" && *format != "json":
		return &usageError{fmt.Sprintf("subject: --format %q: want text or json", *format)}
	}
	cfg, _, err := cf.load(stderr)
	if err != nil {
		return err
	}
	if err := requireEngineer(cfg.DataDir, *user, stdin); err != nil {
		return err
	}
	p, err := pseudonymiser(cfg)
	if err != nil {
		return err
	}
	ps := p.Pseudonym(contract.NSPerson, connectors.NormaliseID(contract.NSPerson, raw))
	// Logged before anything is shown: a request that cannot be logged is
	// not answered.
	err = review.AppendAccess(reviewPath(cfg.DataDir, accessLogFile), review.Access{
		At: now().UTC(), User: *user, Role: users.Engineer, Page: subjectCommand, Why: review.WhySubjectAccess, Person: ps,
	})
	if err != nil {
		return fmt.Errorf("subject: %w", err)
	}
	rep, err := buildSubjectReport(ctx, cfg, ps)
	if err != nil {
		return fmt.Errorf("subject: %w", err)
	}
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	writeSubjectText(stdout, rep)
	return nil
}

// requireEngineer reads the password from stdin and checks name is an
// engineer of the review site. Every failure reads the same, as at the
// site's sign-in.
func requireEngineer(dataDir, name string, stdin io.Reader) error {
	path := reviewPath(dataDir, usersFile)
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("subject: no review-site accounts (%s): add an engineer with 'earlyhelp users add'", usersFile)
	}
	uf, err := users.Load(path)
	if err != nil {
		return err
	}
	pw, err := readPassword(stdin)
	if err != nil {
		return fmt.Errorf("subject: %w", err)
	}
	u, err := uf.Authenticate(name, pw)
	if errors.Is(err, users.ErrBadCredentials) {
		return errors.New("subject: bad user name or password")
	}
	if err != nil {
		return fmt.Errorf("subject: %w", err)
	}
	if u.Role != users.Engineer {
		return fmt.Errorf("subject: user %s is a %s; only an engineer may make a subject access request", u.Name, u.Role)
	}
	return nil
}

// buildSubjectReport gathers the person's households and everything
// recorded about them. It reads only: the store (never created here), the
// run folders and the decisions database.
func buildSubjectReport(ctx context.Context, cfg *config.Config, person string) (*subjectReport, error) {
	rep := &subjectReport{Person: person, Households: []subjectMembership{}, Scores: []subjectScore{}, Evaluated: []subjectEvaluated{},
		Listings: []subjectListing{}, Allocations: []subjectAllocation{}, Decisions: []subjectDecision{}}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "store", "state.json")); err != nil {
		return nil, fmt.Errorf("no store in %s: nothing has been loaded", cfg.DataDir)
	}
	st, err := store.Open(cfg.DataDir, nil)
	if err != nil {
		return nil, err
	}
	if rep.Households, err = memberships(ctx, st, person); err != nil {
		return nil, fmt.Errorf("households: %w", err)
	}
	spans := map[string][]subjectMembership{}
	for _, m := range rep.Households {
		spans[m.Household] = append(spans[m.Household], m)
	}
	member := func(hh, asOf string) bool {
		for _, m := range spans[hh] {
			if m.From <= asOf && (m.To == "" || asOf <= m.To) {
				return true
			}
		}
		return false
	}
	allocs := map[[2]string]subjectAllocation{}
	runs, err := rundir.All(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	for _, run := range runs {
		if !runID.MatchString(run.ID()) || len(spans) == 0 {
			continue
		}
		if err := subjectRun(run, spans, member, rep, allocs); err != nil {
			return nil, fmt.Errorf("run %s: %w", run.ID(), err)
		}
	}
	if path := reviewPath(cfg.DataDir, decisionsFile); fileExists(path) && len(spans) > 0 {
		ds, err := decisions.Open(path)
		if err != nil {
			return nil, err
		}
		defer ds.Close()
		for hh := range spans {
			hist, err := ds.History(ctx, hh)
			if err != nil {
				return nil, err
			}
			for _, d := range hist {
				rep.Decisions = append(rep.Decisions, subjectDecision{At: d.At.UTC().Format(time.RFC3339), Household: hh,
					Kind: d.Kind, ReasonCategory: d.ReasonCategory, Note: d.Note, Navigator: d.Navigator, Locality: d.Locality})
			}
			as, err := ds.Allocations(ctx, hh)
			if err != nil {
				return nil, err
			}
			for _, a := range as {
				allocs[[2]string{a.RunID, hh}] = subjectAllocation{RunID: a.RunID, AsOf: a.AsOf, Household: hh, Rank: a.Rank, Arm: a.Arm}
			}
		}
	}
	// Runs in order, and within a run the ranking's order.
	sort.SliceStable(rep.Scores, func(i, j int) bool {
		a, b := rep.Scores[i], rep.Scores[j]
		if a.RunID != b.RunID {
			return a.RunID < b.RunID
		}
		return a.Rank < b.Rank
	})
	sort.SliceStable(rep.Evaluated, func(i, j int) bool {
		a, b := rep.Evaluated[i], rep.Evaluated[j]
		if a.RunID != b.RunID {
			return a.RunID < b.RunID
		}
		if a.AsOf != b.AsOf {
			return a.AsOf < b.AsOf
		}
		if a.Model != b.Model {
			return a.Model < b.Model
		}
		// Within a date, the ranking's order.
		if a.Score != b.Score {
			return a.Score > b.Score
		}
		return a.Household < b.Household
	})
	for _, a := range allocs {
		rep.Allocations = append(rep.Allocations, a)
	}
	sort.Slice(rep.Allocations, func(i, j int) bool {
		a, b := rep.Allocations[i], rep.Allocations[j]
		if a.RunID != b.RunID {
			return a.RunID < b.RunID
		}
		return a.Household < b.Household
	})
	sort.SliceStable(rep.Decisions, func(i, j int) bool {
		a, b := rep.Decisions[i], rep.Decisions[j]
		if a.At != b.At {
			return a.At < b.At
		}
		return a.Household < b.Household
	})
	return rep, nil
}

var runID = regexp.MustCompile(`^\d{8}T\d{6}Z$`)

// memberships scans the households source for the person's rows.
func memberships(ctx context.Context, st *store.Store, person string) ([]subjectMembership, error) {
	out := []subjectMembership{}
	err := st.Scan(ctx, memory.DefaultAllocator, connectors.Households, func(rec arrow.Record) error {
		col := func(name string) arrow.Array {
			idx := rec.Schema().FieldIndices(name)
			if len(idx) == 0 {
				return nil
			}
			return rec.Column(idx[0])
		}
		pc, _ := col(contract.ColPersonID).(*array.String)
		hc, _ := col(contract.ColHouseholdID).(*array.String)
		rc, _ := col(contract.ColRole).(*array.String)
		from, _ := col(contract.ColFromDate).(*array.Date32)
		to, _ := col(contract.ColToDate).(*array.Date32)
		if pc == nil || hc == nil || from == nil {
			return errors.New("stored households lack person_id, household_id or from_date")
		}
		for i := 0; i < pc.Len(); i++ {
			if pc.Value(i) != person {
				continue
			}
			m := subjectMembership{Household: hc.Value(i), From: from.Value(i).FormattedString()}
			if rc != nil {
				m.Role = rc.Value(i)
			}
			if to != nil && to.IsValid(i) {
				m.To = to.Value(i).FormattedString()
			}
			out = append(out, m)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// A re-delivered extract repeats rows: one entry per stretch.
	seen := map[subjectMembership]bool{}
	uniq := out[:0]
	for _, m := range out {
		if !seen[m] {
			seen[m] = true
			uniq = append(uniq, m)
		}
	}
	for i := range uniq {
		// The lookup holds only households that were listed; others stay
		// by pseudonym.
		uniq[i].Ref, _ = st.Reidentify(contract.NSHousehold, uniq[i].Household)
	}
	sort.Slice(uniq, func(i, j int) bool {
		if uniq[i].From != uniq[j].From {
			return uniq[i].From < uniq[j].From
		}
		return uniq[i].Household < uniq[j].Household
	})
	return uniq, nil
}

// subjectRun adds what one run folder recorded about the households.
func subjectRun(run rundir.Run, spans map[string][]subjectMembership, member func(hh, asOf string) bool, rep *subjectReport, allocs map[[2]string]subjectAllocation) error {
	var man struct {
		AsOf   string `json:"as_of"`
		Status string `json:"status"`
	}
	if ok, err := readOptionalJSON(run.ManifestPath(), &man); !ok {
		return err
	}
	id := run.ID()
	scores, n, err := readScores(run.ScoresParquet(), spans)
	if err != nil {
		return fmt.Errorf("%s: %w", rundir.ScoresFile, err)
	}
	for _, s := range scores {
		s.RunID, s.AsOf, s.Status, s.OutOf, s.Member = id, man.AsOf, man.Status, n, member(s.Household, man.AsOf)
		rep.Scores = append(rep.Scores, s)
	}
	ev, err := readEvaluated(run.ScoredChildrenCSV(), spans)
	if err != nil {
		return fmt.Errorf("%s: %w", rundir.ScoredChildrenFile, err)
	}
	for _, e := range ev {
		e.RunID, e.Member = id, member(e.Household, e.AsOf)
		rep.Evaluated = append(rep.Evaluated, e)
	}
	var fams []pipeline.ListFamily
	if ok, err := readOptionalJSON(run.FamiliesJSON(), &fams); err != nil {
		return err
	} else if ok {
		for _, f := range fams {
			if _, ok := spans[f.Pseudonym]; !ok {
				continue
			}
			rep.Listings = append(rep.Listings, subjectListing{RunID: id, AsOf: man.AsOf, Household: f.Pseudonym,
				Rank: f.Rank, Band: f.Band, Likelihood: f.Likelihood, Score: f.Score, Reasons: f.Reasons,
				ContactSafety: f.ContactSafety, Context: f.Context, Member: member(f.Pseudonym, man.AsOf)})
		}
	}
	return readAllocationFile(run.AllocationCSV(), spans, allocs)
}

// readScores returns the rows of scores.parquet for the households, and
// how many households the run scored.
func readScores(path string, spans map[string][]subjectMembership) ([]subjectScore, int, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, 0, nil
	}
	var out []subjectScore
	rows := 0
	err := eachParquetRecord(context.Background(), path, func(rec arrow.Record) error {
		rows += int(rec.NumRows())
		col := func(name string) arrow.Array {
			idx := rec.Schema().FieldIndices(name)
			if len(idx) == 0 {
				return nil
			}
			return rec.Column(idx[0])
		}
		hh, _ := col(pipeline.ColHousehold).(*array.String)
		sc, _ := col("score").(*array.Float64)
		rk, _ := col("rank").(*array.Int32)
		rc, _ := col("reason_codes").(*array.String)
		if hh == nil || sc == nil || rk == nil || rc == nil {
			return errors.New("want columns household_id, score, rank and reason_codes")
		}
		for i := 0; i < hh.Len(); i++ {
			if _, ok := spans[hh.Value(i)]; ok {
				out = append(out, subjectScore{Household: hh.Value(i), Score: sc.Value(i), Rank: int(rk.Value(i)), ReasonCodes: rc.Value(i)})
			}
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return out, rows, nil
}

// readEvaluated returns the households' rows of a run's
// scored_children.csv, one per household, date and model (the file has
// one per child).
func readEvaluated(path string, spans map[string][]subjectMembership) ([]subjectEvaluated, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.ReuseRecord = true
	col, err := csvHeader(r, "as_of", "model", contract.ColHouseholdID, "score", "selected", "label")
	if err != nil {
		return nil, err
	}
	seen := map[[3]string]bool{}
	var out []subjectEvaluated
	for n := 2; ; n++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		hh := rec[col[contract.ColHouseholdID]]
		if _, ok := spans[hh]; !ok {
			continue
		}
		key := [3]string{rec[col["as_of"]], rec[col["model"]], hh}
		if seen[key] {
			continue
		}
		seen[key] = true
		sc, err := strconv.ParseFloat(rec[col["score"]], 64)
		if err != nil {
			return nil, fmt.Errorf("row %d: score: %w", n, err)
		}
		out = append(out, subjectEvaluated{AsOf: key[0], Model: key[1], Household: hh, Score: sc,
			Selected: rec[col["selected"]] == "1" || rec[col["selected"]] == "true", Label: rec[col["label"]]})
	}
	return out, nil
}

// readAllocationFile adds a run's lottery draws for the households.
func readAllocationFile(path string, spans map[string][]subjectMembership, allocs map[[2]string]subjectAllocation) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return fmt.Errorf("%s: %w", rundir.AllocationFile, err)
	}
	for n, r := range rows {
		if n == 0 {
			continue
		}
		if len(r) < 5 {
			return fmt.Errorf("%s: row %d: want %d columns", rundir.AllocationFile, n+1, len(pipeline.AllocationColumns()))
		}
		if _, ok := spans[r[2]]; !ok {
			continue
		}
		rank, err := strconv.Atoi(r[3])
		if err != nil {
			return fmt.Errorf("%s: row %d: rank: %w", rundir.AllocationFile, n+1, err)
		}
		allocs[[2]string{r[0], r[2]}] = subjectAllocation{RunID: r[0], AsOf: r[1], Household: r[2], Rank: rank, Arm: r[4]}
	}
	return nil
}

// writeSubjectText prints the report for a person to read, oldest first.
func writeSubjectText(w io.Writer, rep *subjectReport) {
	fmt.Fprintf(w, "Subject access: person %s (pseudonym)\n\n", rep.Person)
	name := func(hh string) string {
		for _, m := range rep.Households {
			if m.Household == hh && m.Ref != "" {
				return m.Ref + " (" + hh + ")"
			}
		}
		return hh
	}
	member := func(b bool) string {
		if b {
			return ""
		}
		return " [person not a member on that date]"
	}
	fmt.Fprintf(w, "Households (%d):\n", len(rep.Households))
	for _, m := range rep.Households {
		to := m.To
		if to == "" {
			to = "now"
		}
		fmt.Fprintf(w, "  %s as %s from %s to %s\n", name(m.Household), m.Role, m.From, to)
	}
	fmt.Fprintf(w, "\nScores (%d):\n", len(rep.Scores))
	for _, s := range rep.Scores {
		fmt.Fprintf(w, "  %s run %s (%s): household %s score %.6f rank %d of %d; reason codes %s%s\n",
			s.AsOf, s.RunID, s.Status, name(s.Household), s.Score, s.Rank, s.OutOf, s.ReasonCodes, member(s.Member))
	}
	fmt.Fprintf(w, "\nEvaluation and backtest scores (%d):\n", len(rep.Evaluated))
	for _, e := range rep.Evaluated {
		label := map[string]string{"1": "outcome followed", "0": "no outcome", "": "outcome not yet known"}[e.Label]
		if label == "" {
			label = "outcome " + e.Label
		}
		sel := ""
		if e.Selected {
			sel = ", within the list's capacity"
		}
		fmt.Fprintf(w, "  %s (run %s, model %s): household %s score %.6f%s; %s%s\n",
			e.AsOf, e.RunID, e.Model, name(e.Household), e.Score, sel, label, member(e.Member))
	}
	fmt.Fprintf(w, "\nNavigator lists (%d):\n", len(rep.Listings))
	for _, l := range rep.Listings {
		fmt.Fprintf(w, "  %s run %s: household %s listed at rank %d, band %s (%s), score %.6f%s\n",
			l.AsOf, l.RunID, name(l.Household), l.Rank, l.Band, l.Likelihood, l.Score, member(l.Member))
		for _, s := range l.ContactSafety {
			fmt.Fprintf(w, "    contact safety (%s, %s): %s\n", s.Kind, s.Date, s.Instruction)
		}
		for _, r := range l.Reasons {
			fmt.Fprintf(w, "    reason (%s, %s): %s\n", r.Code, r.Date, r.Text)
		}
		for _, c := range l.Context {
			fmt.Fprintf(w, "    context: %s\n", c)
		}
	}
	fmt.Fprintf(w, "\nEvaluation lottery allocations (%d):\n", len(rep.Allocations))
	for _, a := range rep.Allocations {
		fmt.Fprintf(w, "  %s run %s: household %s at rank %d: %s\n", a.AsOf, a.RunID, name(a.Household), a.Rank, strings.ReplaceAll(a.Arm, "_", " "))
	}
	fmt.Fprintf(w, "\nDecisions (%d):\n", len(rep.Decisions))
	for _, d := range rep.Decisions {
		fmt.Fprintf(w, "  %s household %s: %s", d.At, name(d.Household), d.Kind)
		if d.ReasonCategory != "" {
			fmt.Fprintf(w, " (%s)", d.ReasonCategory)
		}
		fmt.Fprintf(w, " by %s", d.Navigator)
		if d.Locality != "" {
			fmt.Fprintf(w, " in %s", d.Locality)
		}
		if d.Note != "" {
			fmt.Fprintf(w, "; note: %s", d.Note)
		}
		fmt.Fprintln(w)
	}
}
