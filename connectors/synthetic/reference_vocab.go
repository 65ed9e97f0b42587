package synthetic

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"

	"earlyhelp/connectors"
	"earlyhelp/pipeline/contract"
)

// The reference vocabulary (Config.Vocabulary == VocabularyReference)
// writes the received layer in the forms council systems use, as
// domain-data describes them, rather than CONTRACTS §2's own: the
// domestic-abuse enquiry as its enum, ethnicity in DfE and NHS codes, the
// ASQ-3 form's month and the further instruments, subjects and contact
// types, the reference's null spellings and sentinel end dates, two-digit
// years, credit and trailing-minus amounts, UPRN placeholders and
// spreadsheet UPRNs, dummy NHS numbers, mark_updated_at as a UK date
// without a time, and both IoD vintages. Every form is one the loader maps
// to a canonical value (connectors/vocabulary.go), so each is logged in
// truth/defects.csv as still valid; a form that reads as null in an
// optional column (a placeholder UPRN, a dummy NHS number) leaves the row
// valid too, which is the cell policy of CONTRACTS §2.
//
// It runs in the realistic pass, after the invalidating defects and before
// the cosmetic ones, on cells nothing else touched, and draws from a
// stream of its own: the project-vocabulary realistic council of a seed is
// the same file for file but for the cells this writes and what follows
// them in the cosmetic draws.

// Vocabularies of Config.Vocabulary.
const (
	VocabularyProject   = "project"
	VocabularyReference = "reference"
)

// streamReference is far from random.go's iota streams and from
// streamRealistic.
const streamReference uint64 = 0x72656676 // "refv"

// Defect types of the reference vocabulary, each still valid.
const (
	defectRefNull         = "ref_null_spelling"      // -, Unknown, Not Known, ? in an empty cell
	defectRefSentinel     = "ref_sentinel_date"      // 31/12/9999, 01/01/1900 for an open end date
	defectRefTwoDigitYear = "ref_two_digit_years"    // file-level: dd/mm/yy
	defectRefDAEnquiry    = "ref_da_enquiry_enum"    // file-level: asked, declined, ...
	defectRefEthnicityDfE = "ref_ethnicity_dfe"      // WBRI, WENG, REFU, ...
	defectRefEthnicityNHS = "ref_ethnicity_nhs"      // A, H, Z, 99, ...
	defectRefASQForm      = "ref_asq3_form"          // ASQ3_24, ASQ3_27, ASQ3_30
	defectRefGAD2         = "ref_gad2_row"           // an added GAD-2 row for the mother
	defectRefASQSE2       = "ref_asqse2_row"         // an added ASQ:SE-2 row for the child
	defectRefPartner      = "ref_father_partner_row" // an added GAD-2 row for the partner
	defectRefContactType  = "ref_contact_type_row"   // an added THREE_FOUR_MONTH, SIX_MONTH, CLINIC or TELEPHONE contact
	defectRefMoney        = "ref_money_credit"       // £-123.45, 123.45-, 123.45 CR
	defectRefUPRNNull     = "ref_uprn_placeholder"   // 0 or -1: no UPRN
	defectRefUPRNSci      = "ref_uprn_scientific"    // 1.00023E+11: digits lost, nulled
	defectRefDummyNHS     = "ref_dummy_nhs"          // 0000000000, 9999999999: no NHS number
	defectRefStampDate    = "ref_mark_updated_date"  // file-level: dd/mm/yyyy without a time
	defectRefIoD2019      = "ref_iod2019_row"        // an added IoD2019 row beside IoD2025
)

// Rates of the reference's forms (domain-data §8 and §2.3, §4.1).
const (
	refRateNull       = 0.025 // of empty nullable cells: with the realistic profile's 0.5%, §8.2's 3%
	refRateSentinel   = 0.005 // of open end dates (§8.3)
	refRateYY         = 0.005 // of files with dates (§8.3)
	refRateEthnicity  = 0.05  // of ethnicity cells (§8.5)
	refRateGAD2       = 0.5   // of mothers' mood screens
	refRatePartner    = 0.3   // of new-birth Whooley screens of a mother with a partner
	refRateASQSE2     = 0.6   // of ASQ-3 at the 2-2½ year review
	refRateThreeFour  = 0.3   // of attended 6-8 week reviews: a 3-4 month contact follows
	refRateSixMonth   = 0.2   // likewise a 6 month contact
	refRateClinic     = 0.03  // of attended contacts: a clinic visit follows
	refRateTelephone  = 0.02  // likewise a telephone contact
	refRateMoney      = 0.1   // of negative balances
	refRateUPRNNull   = 0.005 // of UPRN cells (§8.4's 3% of UPRN defects, placeholders' share)
	refRateUPRNSci    = 0.005
	refRateDummyNHS   = 0.005 // of persons' NHS numbers (§8.4)
	refRateStampDate  = 0.3   // of attendance files with stamps
	refRateGAD2High   = 0.12  // GAD-2 of 3 or more (§2.3)
	refRateASQSE2High = 0.06  // ASQ:SE-2 above cut-off (§2.3)
)

// endDateColumns are the columns whose empty cell means "still open": a
// system's sentinel stands there.
var endDateColumns = map[string]bool{
	contract.ColToDate: true, contract.ColCaseClosedDate: true, contract.ColPlacementEnd: true, contract.ColEndDate: true, contract.ColWithdrawnDate: true,
}

var (
	refNullSpellings = []string{"-", "Unknown", "Not Known", "?"}
	// daNotAsked are the enum's values for an enquiry not made, with the
	// shares they are drawn at.
	daNotAsked = []struct {
		v string
		p float64
	}{{"not_asked_partner_present", 0.35}, {"not_asked_other", 0.35}, {"declined", 0.2}, {"not_recorded", 0.1}}
	// ethnicityDfE and ethnicityNHS spell an ONS category in the DfE's
	// (main, then extended) and the NHS's codes; a category with no exact
	// code in a classification (WHITE_ROMA in both: DfE's WROM is Gypsy or
	// Roma) is not rendered in it.
	ethnicityDfE = map[string][]string{
		contract.EthAsianBangladeshi: {"ABAN"}, contract.EthAsianChinese: {"CHNE"}, contract.EthAsianIndian: {"AIND"},
		contract.EthAsianPakistani: {"APKN", "AMPK", "AKPA"}, contract.EthAsianOther: {"AOTH"},
		contract.EthBlackAfrican: {"BAFR", "BSOM", "BNGN"}, contract.EthBlackCaribbean: {"BCRB"}, contract.EthBlackOther: {"BOTH"},
		contract.EthMixedWhiteAsian: {"MWAS"}, contract.EthMixedWhiteBlackAfrican: {"MWBA"}, contract.EthMixedWhiteBlackCaribbean: {"MWBC"},
		contract.EthMixedOther: {"MOTH"}, contract.EthWhiteBritish: {"WBRI", "WENG", "WSCO", "WWEL"}, contract.EthWhiteIrish: {"WIRI"},
		contract.EthWhiteGypsyIrishTraveller: {"WIRT"}, contract.EthWhiteOther: {"WOTH"}, contract.EthOtherArab: {"OARA"}, contract.EthOtherAny: {"OOTH"},
		contract.EthNotStated: {"REFU", "NOBT"},
	}
	ethnicityNHS = map[string][]string{
		contract.EthWhiteBritish: {"A"}, contract.EthWhiteIrish: {"B"}, contract.EthWhiteOther: {"C"},
		contract.EthMixedWhiteBlackCaribbean: {"D"}, contract.EthMixedWhiteBlackAfrican: {"E"}, contract.EthMixedWhiteAsian: {"F"}, contract.EthMixedOther: {"G"},
		contract.EthAsianIndian: {"H"}, contract.EthAsianPakistani: {"J"}, contract.EthAsianBangladeshi: {"K"}, contract.EthAsianOther: {"L"},
		contract.EthBlackCaribbean: {"M"}, contract.EthBlackAfrican: {"N"}, contract.EthBlackOther: {"P"}, contract.EthAsianChinese: {"R"}, contract.EthOtherAny: {"S"},
		contract.EthNotStated: {"Z", "99"},
	}
)

// referenceVocab is the council-wide state of the reference vocabulary.
type referenceVocab struct {
	g *generator
	r *rand.Rand
	// files holds the file-level choices, by plan.
	files map[*filePlan]*refFile
	// seen: a row-level form was written at least once. The first cell
	// eligible for a form always gets it, so that even a small council
	// shows every form.
	seen map[string]bool
	// Read when first needed.
	contactTypes map[string]string // contact_id → contact_type, from the clean contacts
	partners     map[string]string // a mother's NHS number → her partner's
}

// refFile is what the reference vocabulary does to one file as a whole.
type refFile struct {
	yy        bool // dates as dd/mm/yy
	stampDate bool // mark_updated_at as dd/mm/yyyy
}

func (c Config) defaultVocabulary() string {
	switch {
	case c.Vocabulary != "":
		return c.Vocabulary
	case c.Defects == DefectsRealistic:
		return VocabularyReference
	}
	return VocabularyProject
}

func (c Config) checkVocabulary() error {
	switch c.Vocabulary {
	case "", VocabularyProject, VocabularyReference:
		return nil
	}
	return fmt.Errorf("vocabulary: unknown %q (known: %s, %s)", c.Vocabulary, VocabularyProject, VocabularyReference)
}

func (g *generator) referenceVocabulary() bool { return g.cfg.Vocabulary == VocabularyReference }

// planReference draws the file-level forms. Without the realistic profile
// it first clears the plans' realistic defects, so that the files differ
// from the clean layer by the reference's forms alone.
func (g *generator) planReference(plans []*filePlan) {
	if !g.referenceVocabulary() {
		return
	}
	v := &referenceVocab{g: g, r: newRand(g.cfg.Seed, streamReference), files: map[*filePlan]*refFile{}, seen: map[string]bool{}}
	var dated, stamped []*filePlan
	for _, p := range plans {
		if !g.realistic() {
			p.bom, p.crlf, p.cp1252, p.dmy, p.flip, p.blanks = false, false, false, false, false, nil
		}
		p.ref = v
		rf := &refFile{}
		v.files[p] = rf
		if p.hasDates && v.r.Float64() < refRateYY {
			rf.yy = true
		}
		if p.spec.Name == connectors.AttendanceSessions && v.r.Float64() < refRateStampDate {
			rf.stampDate = true
		}
		if p.hasDates {
			dated = append(dated, p)
		}
		if p.spec.Name == connectors.AttendanceSessions {
			stamped = append(stamped, p)
		}
	}
	force := func(eligible []*filePlan, set func(*refFile) *bool) {
		for _, p := range eligible {
			if *set(v.files[p]) {
				return
			}
		}
		if len(eligible) > 0 {
			*set(v.files[eligible[v.r.IntN(len(eligible))]]) = true
		}
	}
	force(dated, func(f *refFile) *bool { return &f.yy })
	force(stamped, func(f *refFile) *bool { return &f.stampDate })
	for _, p := range plans {
		rf, rel := v.files[p], p.f.rel
		if rf.yy {
			p.dmy = true // two-digit years are written day first
			g.defects.add(rel, 0, "", defectRefTwoDigitYear, true)
		}
		if rf.stampDate {
			g.defects.add(rel, 0, contract.ColMarkUpdatedAt, defectRefStampDate, true)
		}
		if p.spec.Name == connectors.HVContacts {
			g.defects.add(rel, 0, contract.ColDAEnquiry, defectRefDAEnquiry, true)
		}
	}
}

// due reports whether a row-level form is due: always the first time
// it is eligible, then at rate.
func (v *referenceVocab) due(kind string, rate float64) bool {
	if !v.seen[kind] {
		v.seen[kind] = true
		return true
	}
	return v.r.Float64() < rate
}

// reference renders the current row's cells in the reference's forms.
func (rr *rowRenderer) reference() {
	v := rr.p.ref
	if v == nil {
		return
	}
	c, vals, rf := rr.c, rr.vals, v.files[rr.p]
	free := func(i int) bool { return i >= 0 && !rr.touched[i] }
	if rf.yy {
		for _, i := range c.dates {
			if d := rr.days[i]; free(i) && d != noDay {
				if twoDigitsReadBack(d) {
					vals[i] = dmyy(d)
				}
			}
		}
	}
	for i, name := range c.names {
		if !free(i) {
			continue
		}
		switch name {
		case contract.ColDAEnquiry:
			switch vals[i] {
			case "true":
				vals[i] = "asked"
			case "false":
				u := v.r.Float64()
				for _, o := range daNotAsked {
					if vals[i] = o.v; u < o.p {
						break
					}
					u -= o.p
				}
			}
		case contract.ColEthnicity:
			kind, table := defectRefEthnicityDfE, ethnicityDfE
			if v.r.IntN(2) == 1 {
				kind, table = defectRefEthnicityNHS, ethnicityNHS
			}
			if vals[i] != "" && v.due(kind, refRateEthnicity) {
				if codes := table[vals[i]]; len(codes) > 0 {
					code := codes[v.r.IntN(len(codes))]
					// Only a spelling the loader reads back as the same
					// category is written: truth must stay true.
					if got, ok := connectors.EthnicityCode(code); ok && got == vals[i] {
						vals[i] = code
						rr.mark(i, kind, true)
					}
				}
			}
		case contract.ColInstrument:
			if vals[i] == "ASQ3" && v.contactType(rr.rowValue(contract.ColContactID)) == "TWO_TWO_HALF_YEAR" {
				vals[i] = [...]string{"ASQ3_24", "ASQ3_27", "ASQ3_30"}[v.r.IntN(3)]
				rr.mark(i, defectRefASQForm, true)
			}
		case contract.ColBalance:
			if strings.HasPrefix(vals[i], "-") && v.due(defectRefMoney, refRateMoney) {
				if s, ok := creditForm(vals[i], v.r.IntN(3)); ok {
					vals[i] = s
					rr.mark(i, defectRefMoney, true)
				}
			}
		}
	}
	if i := c.uprn; free(i) && isDigits(vals[i]) {
		switch {
		case v.due(defectRefUPRNNull, refRateUPRNNull):
			vals[i] = [...]string{"0", "-1"}[v.r.IntN(2)]
			rr.mark(i, defectRefUPRNNull, true)
		case v.due(defectRefUPRNSci, refRateUPRNSci):
			vals[i] = sciUPRN(vals[i])
			rr.mark(i, defectRefUPRNSci, true)
		}
	}
	if i := c.nhs; free(i) && rr.p.spec.Name == connectors.Persons && vals[i] != "" && v.due(defectRefDummyNHS, refRateDummyNHS) {
		vals[i] = [...]string{"0000000000", "9999999999", "1111111111"}[v.r.IntN(3)]
		rr.mark(i, defectRefDummyNHS, true)
	}
	if i := c.stamp; rf.stampDate && free(i) {
		if d, ok := parseISODay(prefix(vals[i], 10)); ok {
			vals[i] = string(appendDMY(nil, d))
		}
	}
	for _, i := range c.nullable {
		// An IoD row without its vintage could not be told from the other
		// release's: the loader would leave it out.
		if !free(i) || vals[i] != "" || c.names[i] == contract.ColVintage {
			continue
		}
		switch {
		case endDateColumns[c.names[i]] && v.due(defectRefSentinel, refRateSentinel):
			s := [...]string{"31/12/9999", "01/01/1900"}[v.r.IntN(2)]
			if !rr.p.dmy {
				s = s[6:] + "-" + s[3:5] + "-" + s[:2]
			}
			vals[i] = s
			rr.mark(i, defectRefSentinel, true)
		case v.due(defectRefNull, refRateNull):
			vals[i] = refNullSpellings[v.r.IntN(len(refNullSpellings))]
			rr.mark(i, defectRefNull, true)
		}
	}
}

// referenceRows writes the rows the reference's systems send beside the
// clean row rec (already written): further assessments and contacts, and
// the older IoD vintage.
func (rr *rowRenderer) referenceRows(rec []string) {
	v := rr.p.ref
	if v == nil {
		return
	}
	switch rr.p.spec.Name {
	case connectors.HVAssessments:
		rr.referenceAssessments(v, rec)
	case connectors.HVContacts:
		rr.referenceContacts(v, rec)
	case connectors.Deprivation:
		rr.referenceIoD2019(v, rec)
	}
}

// added writes one added row and logs it.
func (rr *rowRenderer) added1(vals []string, column, kind string) {
	rr.writeRecord(vals)
	rr.added++
	rr.g.defects.add(rr.p.f.rel, rr.line, column, kind, true)
}

// rowCopy is rec as a fresh slice the added row can change.
func rowCopy(rec []string) []string { return append([]string(nil), rec...) }

func (rr *rowRenderer) referenceAssessments(v *referenceVocab, rec []string) {
	col := rr.c.index
	instr, subj, nhs, score, below, out := col(contract.ColInstrument), col(contract.ColSubject), col(contract.ColNHSNumber), col(contract.ColScoreTotal), col(contract.ColASQDomainsBelow), col(contract.ColOutcome)
	if instr < 0 || subj < 0 || nhs < 0 || score < 0 {
		return
	}
	row := func(instrument, subject, nhsNumber string, total int, outcome string) []string {
		out2 := rowCopy(rec)
		out2[instr], out2[subj], out2[nhs], out2[score] = instrument, subject, nhsNumber, strconv.Itoa(total)
		if below >= 0 {
			out2[below] = ""
		}
		if out >= 0 {
			out2[out] = outcome
		}
		return out2
	}
	gad2 := func() (int, string) {
		if v.r.Float64() < refRateGAD2High {
			return 3 + v.r.IntN(4), "review"
		}
		return v.r.IntN(3), ""
	}
	switch {
	case (rec[instr] == "WHOOLEY" || rec[instr] == "EPDS") && rec[subj] == "mother":
		if v.due(defectRefGAD2, refRateGAD2) {
			s, o := gad2()
			rr.added1(row("GAD2", "mother", rec[nhs], s, o), contract.ColInstrument, defectRefGAD2)
		}
		if p := v.partner(rec[nhs]); rec[instr] == "WHOOLEY" && p != "" && v.due(defectRefPartner, refRatePartner) {
			s, o := gad2()
			rr.added1(row("GAD2", "father_partner", p, s, o), contract.ColSubject, defectRefPartner)
		}
	case rec[instr] == "ASQ3" && rec[subj] == "child" && v.contactType(rec[col(contract.ColContactID)]) == "TWO_TWO_HALF_YEAR":
		if v.due(defectRefASQSE2, refRateASQSE2) {
			// Totals in steps of 5; the 24- and 30-month forms' cut-offs
			// are about 50 and 57.
			s, o := 5*v.r.IntN(10), ""
			if v.r.Float64() < refRateASQSE2High {
				s, o = 60+5*v.r.IntN(20), "refer_further"
			}
			rr.added1(row([...]string{"ASQSE2_24", "ASQSE2_30"}[v.r.IntN(2)], "child", rec[nhs], s, o), contract.ColInstrument, defectRefASQSE2)
		}
	}
}

func (rr *rowRenderer) referenceContacts(v *referenceVocab, rec []string) {
	col := rr.c.index
	id, typ, date, status := col(contract.ColContactID), col(contract.ColContactType), col(contract.ColAppointmentDate), col(contract.ColAttendanceStatus)
	if id < 0 || typ < 0 || date < 0 || status < 0 || rec[status] != "5" && rec[status] != "6" {
		return
	}
	d, ok := parseISODay(rec[date])
	if !ok {
		return
	}
	add := func(suffix, contactType, st string, after day) {
		for (d + after).weekday() >= 5 {
			after++ // health visitors book weekdays
		}
		if d+after > rr.g.w.last {
			return // after the extract ends
		}
		// From the clean row, not the rendered one: an invalidating
		// defect of that row must not be copied into a valid one.
		out := rowCopy(rec)
		out[id], out[typ], out[status] = rec[id]+suffix, contactType, st
		out[date] = rr.date(d + after)
		if v.files[rr.p].yy && twoDigitsReadBack(d+after) {
			out[date] = dmyy(d + after)
		}
		for _, c := range []string{contract.ColDAEnquiry, contract.ColDADisclosed} {
			if i := col(c); i >= 0 {
				out[i] = ""
			}
		}
		rr.added1(out, contract.ColContactType, defectRefContactType)
	}
	if rec[typ] == "SIX_EIGHT_WEEK" {
		if v.due(defectRefContactType+"/34", refRateThreeFour) {
			add("A", "THREE_FOUR_MONTH", "5", 42)
		}
		if v.due(defectRefContactType+"/6", refRateSixMonth) {
			add("B", "SIX_MONTH", "5", 126)
		}
	}
	if v.due(defectRefContactType+"/clinic", refRateClinic) {
		add("C", "CLINIC", "5", 14)
	}
	if v.due(defectRefContactType+"/telephone", refRateTelephone) {
		// 0: not applicable, as systems record a call.
		add("D", "TELEPHONE", "0", 7)
	}
}

// referenceIoD2019 adds the area's IoD2019 row: councils keep both
// releases in one lookup (domain-data §0.2). Its deciles are the 2025
// ones moved by at most one, as most areas' were.
func (rr *rowRenderer) referenceIoD2019(v *referenceVocab, rec []string) {
	col := rr.c.index
	imd, idaci, vin := col(contract.ColIMDDecile), col(contract.ColIDACIDecile), col(contract.ColVintage)
	if imd < 0 || vin < 0 || rec[vin] != "IoD2025" {
		return
	}
	out := rowCopy(rec)
	out[vin] = "IoD2019"
	for _, i := range []int{imd, idaci} {
		if i < 0 {
			continue
		}
		if n, err := strconv.Atoi(out[i]); err == nil {
			out[i] = strconv.Itoa(min(10, max(1, n+v.r.IntN(3)-1)))
		}
	}
	rr.added1(out, contract.ColVintage, defectRefIoD2019)
}

// index is the column named name, or -1.
func (c *columns) index(name string) int {
	for i, n := range c.names {
		if n == name {
			return i
		}
	}
	return -1
}

// rowValue is the current row's cell in column name, "" without one.
func (rr *rowRenderer) rowValue(name string) string {
	if i := rr.c.index(name); i >= 0 {
		return rr.vals[i]
	}
	return ""
}

func prefix(s string, n int) string { return s[:min(n, len(s))] }

// twoDigitsReadBack: d's year written with two digits is read back as
// itself (connectors.TwoDigitYearPivot), so truth stays true. Dates of
// birth before 1930 keep four digits, as a clerk's would have to.
func twoDigitsReadBack(d day) bool {
	y, _, _ := d.civil()
	if y%100 <= connectors.TwoDigitYearPivot {
		return y >= 2000 && y < 2100
	}
	return y >= 1900 && y < 2000
}

// dmyy writes dd/mm/yy.
func dmyy(d day) string {
	b := appendDMY(nil, d)
	return string(append(b[:6], b[8:]...))
}

// creditForm writes a negative amount the three ways finance systems show
// a credit: £-123.45, 123.45- and 123.45 CR. Like formatMoney it refuses an
// amount two decimals would round.
func creditForm(s string, form int) (string, bool) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f >= 0 || strings.ContainsAny(s, "eE") {
		return "", false
	}
	t := strconv.FormatFloat(-f, 'f', 2, 64)
	if g, _ := strconv.ParseFloat(t, 64); g != -f {
		return "", false
	}
	switch form {
	case 0:
		return "£-" + t, true
	case 1:
		return t + "-", true
	}
	return t + " CR", true
}

// contactType is a contact's type in the clean contacts extract, read on
// first use (the assessments file is rendered before the contacts one, and
// the ids are the same in both layers).
func (v *referenceVocab) contactType(id string) string {
	if v.contactTypes == nil {
		v.contactTypes = map[string]string{}
		for _, f := range v.g.out.files {
			if strings.HasPrefix(f.rel, "incoming/"+connectors.HVContacts+"/") && strings.HasSuffix(f.rel, ".csv") {
				// On an error the forms that need a contact's type are not
				// written (TestReferenceVocabulary would miss them); the
				// files are the generator's own, just written.
				_ = readContactTypes(f.path+".tmp", v.contactTypes)
			}
		}
	}
	return v.contactTypes[id]
}

func readContactTypes(path string, into map[string]string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	cr := csv.NewReader(bufio.NewReader(f))
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return err
	}
	id, typ := -1, -1
	for i, h := range header {
		switch strings.TrimPrefix(h, "\ufeff") {
		case contract.ColContactID:
			id = i
		case contract.ColContactType:
			typ = i
		}
	}
	if id < 0 || typ < 0 {
		return errors.New("contacts: no contact_id or contact_type column")
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if len(rec) > max(id, typ) {
			into[rec[id]] = rec[typ]
		}
	}
}

// partner is the NHS number of another adult of the mother's first
// household, "" if she has none.
func (v *referenceVocab) partner(motherNHS string) string {
	if v.partners == nil {
		w := v.g.w
		v.partners = map[string]string{}
		for h := range w.households {
			m := w.mother[h]
			if m < 0 {
				continue
			}
			for _, mem := range w.households[h].members {
				if p := mem.person; p != m && w.persons[p].child < 0 {
					v.partners[strconv.FormatInt(w.persons[m].nhs, 10)] = strconv.FormatInt(w.persons[p].nhs, 10)
					break
				}
			}
		}
	}
	return v.partners[motherNHS]
}
