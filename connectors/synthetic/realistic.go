package synthetic

import (
	"context"
	"math/rand/v2"
	"path"
	"slices"
	"strings"

	"earlyhelp/connectors"
	"earlyhelp/pipeline/contract"
)

// The realistic profile (Config.Defects == DefectsRealistic) renders the
// received layer of domain-data §0.3 and §8: the clean extracts are written
// first, exactly as under "none", and then each is re-rendered the way a
// council's systems would actually deliver it. Rendering is a separate pass
// over finished files, so the clean simulation draws nothing extra and the
// same Seed gives the same records under every profile.
//
// Only defects a tolerant loader should survive file by file are rendered:
// nothing here makes a whole file unreadable (UTF-16, truncation, preambles,
// other delimiters); those belong to a hostile profile that does not exist
// yet.

// streamRealistic is far from random.go's iota streams so that a stream
// added there never collides with this one.
const streamRealistic uint64 = 0x7265616c // "real"

// Defect types of the realistic profile, in addition to those of defects.go.
// Types of defects that make a row invalid are the quarantine reasons of
// CONTRACTS §2 (bad_date, bad_code, ...), so a recall test can match them
// against what the loader quarantined; the others name the formatting.
const (
	defectCRLF        = "crlf"              // file-level; valid
	defectCP1252      = "windows_1252"      // file-level; valid
	defectBlankLine   = "blank_line"        // a line that is not a row; valid
	defectSignFlip    = "rent_sign_flipped" // file-level: arrears negative; valid
	defectRange       = "out_of_range"      // session on a Saturday
	defectDupMark     = "duplicate_mark"    // re-sent attendance mark; valid
	defectAmendment   = "late_amendment"    // newer mark for a session; valid
	defectLegacyCode  = "legacy_code"       // withdrawn code in its own vintage; valid
	defectCaseCode    = "lower_case_code"   // l, am, m; valid
	defectUPNCase     = "upn_lower_case"    // valid after normalisation
	defectNHSFormat   = "nhs_formatted"     // 943 476 5919; valid
	defectUPRNDecimal = "uprn_decimal"      // 100023336956.0; valid
	defectMoney       = "money_formatted"   // £1,234.56; valid
	defectPadded      = "padded_cell"       // blanks or NBSP around a value; valid
	defectNull        = "null_spelling"     // NULL, N/A in an empty cell; valid
	defectNonASCII    = "non_ascii_text"    // accented free text; valid
)

// File-level rates of §8 (per file).
const (
	rateBOM    = 0.30
	rateCP1252 = 0.20 // of files with a column that can hold non-ASCII text
	rateCRLF   = 0.70
	rateDMY    = 0.60 // of files with date columns
	rateBlanks = 0.10 // files with one to three blank lines
)

// Row- and cell-level rates. §8's rates are per row or per cell; the
// invalid ones are drawn once per row so that a row carries at most one
// reason to be quarantined, which keeps still_valid unambiguous.
const (
	// Invalid (still_valid=false).
	rateUPNCheck  = 0.003  // of UPN cells
	rateUPNShort  = 0.0025 // of UPN cells: 12 characters
	rateNHSCheck  = 0.003  // of NHS number cells
	rateUPRNSci   = 0.01   // of UPRN cells: 1.00023E+11
	rateSerial    = 0.0005 // of rows with a date: Excel serial
	rateUSDate    = 0.0005 // of rows with a date whose day is above 12
	rateBadDay    = 0.0005 // of rows with a date: 30 February
	rateSaturday  = 0.0002 // of attendance rows
	rateCodeWrong = 0.001  // of attendance rows: ?X, or H after August 2024
	rateDuplicate = 0.01   // of rows: an exact copy follows
	// Valid.
	rateDupMark   = 0.005 // of attendance rows: the mark is re-sent
	rateAmendment = 0.005 // of absence marks: first sent as N, amended later
	rateUPNLower  = 0.0025
	rateNHSFormat = 0.01
	rateUPRNDec   = 0.02
	rateMoney     = 0.05
	rateCaseCode  = 0.02  // of code cells
	rateNull      = 0.005 // of empty nullable cells
	ratePadded    = 0.01  // of rows: one cell padded
	rateNonASCII  = 0.005 // of free-text cells
)

// freeTextColumns can hold any text a clerk types, so a non-ASCII value
// there is plausible and makes a Windows-1252 rendering observable.
var freeTextColumns = map[string]bool{contract.ColLocality: true}

// caseColumns hold codes the loader reads case-insensitively.
var caseColumns = map[string]bool{contract.ColAttendanceCode: true, contract.ColSession: true, contract.ColSex: true, contract.ColEthnicity: true}

// filePlan is what the realistic pass does to one clean file as a whole.
type filePlan struct {
	f        *csvFile
	spec     connectors.Spec
	bom      bool
	crlf     bool
	cp1252   bool
	dmy      bool
	flip     bool    // negate balance: the other housing system's convention
	blanks   []int64 // data-row indices a blank line precedes (rows: at the end)
	canText  bool    // has a free-text or money column (cp1252 is observable)
	hasDates bool
	ref      *referenceVocab // the council's reference vocabulary, nil under "project"
}

func (g *generator) realistic() bool { return g.cfg.Defects == DefectsRealistic }

// renderRealistic re-renders every incoming extract. It runs before commit,
// so files still appear under their final names only if everything,
// rendering included, succeeded.
func (g *generator) renderRealistic(ctx context.Context) error {
	r := newRand(g.cfg.Seed, streamRealistic)
	plans, err := g.planRealistic(r)
	if err != nil {
		return err
	}
	g.planReference(plans)
	for _, p := range plans {
		if err := ctx.Err(); err != nil {
			return err
		}
		added, err := g.renderFile(p, r)
		if err != nil {
			return err
		}
		g.rows[p.spec.Name] += added
	}
	return nil
}

// planRealistic draws the file-level defects in sorted file order. A kind
// that no file drew is forced onto one eligible file, so that even a small
// council shows every kind at least once.
func (g *generator) planRealistic(r *rand.Rand) ([]*filePlan, error) {
	var plans []*filePlan
	for _, f := range g.out.files {
		if !strings.HasPrefix(f.rel, "incoming/") || !strings.HasSuffix(f.rel, ".csv") {
			continue
		}
		spec, ok := g.specFor(f.rel)
		if !ok {
			continue // not a source the loader knows: leave it clean
		}
		// Flush it: the pass reads what the writers left in name.tmp.
		if err := f.close(); err != nil {
			return nil, err
		}
		plans = append(plans, &filePlan{f: f, spec: spec})
	}
	slices.SortFunc(plans, func(a, b *filePlan) int { return strings.Compare(a.f.rel, b.f.rel) })
	var rent []*filePlan
	for _, p := range plans {
		cols := newColumns(p.spec, p.spec.ColumnNames())
		p.canText, p.hasDates = cols.canText(), len(cols.dates) > 0
		p.bom = r.Float64() < rateBOM
		p.crlf = r.Float64() < rateCRLF
		p.cp1252 = p.canText && r.Float64() < rateCP1252
		p.dmy = p.hasDates && r.Float64() < rateDMY
		if r.Float64() < rateBlanks {
			p.blanks = drawBlanks(r, p.f.rows)
		}
		if p.spec.Name == connectors.RentAccounts {
			rent = append(rent, p)
		}
	}
	// Two housing systems take turns month by month; the second writes
	// arrears as negative. A lone file comes from the second.
	for i, p := range rent {
		p.flip = i%2 == 1 || len(rent) == 1
	}
	force := func(set func(*filePlan) *bool, eligible func(*filePlan) bool) {
		var el []*filePlan
		for _, p := range plans {
			if *set(p) {
				return
			}
			if eligible(p) {
				el = append(el, p)
			}
		}
		if len(el) > 0 {
			*set(el[r.IntN(len(el))]) = true
		}
	}
	all := func(*filePlan) bool { return true }
	force(func(p *filePlan) *bool { return &p.bom }, all)
	force(func(p *filePlan) *bool { return &p.crlf }, all)
	force(func(p *filePlan) *bool { return &p.cp1252 }, func(p *filePlan) bool { return p.canText })
	force(func(p *filePlan) *bool { return &p.dmy }, func(p *filePlan) bool { return p.hasDates })
	if !slices.ContainsFunc(plans, func(p *filePlan) bool { return len(p.blanks) > 0 }) && len(plans) > 0 {
		p := plans[r.IntN(len(plans))]
		p.blanks = drawBlanks(r, p.f.rows)
	}
	return plans, nil
}

// drawBlanks places one to three blank lines among rows data rows; an index
// equal to rows is a trailing blank line.
func drawBlanks(r *rand.Rand, rows int64) []int64 {
	n := 1 + r.IntN(3)
	out := make([]int64, n)
	for i := range out {
		out[i] = r.Int64N(rows + 1)
	}
	slices.Sort(out)
	return out
}

// specFor finds the source of incoming/<source>/file.csv by its folder,
// or else by the specs' file patterns.
func (g *generator) specFor(rel string) (connectors.Spec, bool) {
	parts := strings.Split(rel, "/")
	if len(parts) >= 3 {
		if s, ok := g.specs[parts[1]]; ok {
			return s, true
		}
	}
	base := path.Base(rel)
	names := make([]string, 0, len(g.specs))
	for n := range g.specs {
		names = append(names, n)
	}
	slices.Sort(names) // map order must not decide a tie
	for _, n := range names {
		if ok, _ := path.Match(g.specs[n].Pattern, base); ok {
			return g.specs[n], true
		}
	}
	return connectors.Spec{}, false
}
