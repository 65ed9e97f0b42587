package synthetic

import (
	"context"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"earlyhelp/connectors"
)

// refShapes is what a cell logged with each row-level reference form must
// look like in the received file.
var refShapes = map[string]*regexp.Regexp{
	defectRefNull:         regexp.MustCompile(`^(-|Unknown|Not Known|\?)$`),
	defectRefSentinel:     regexp.MustCompile(`^(31/12/9999|01/01/1900|9999-12-31|1900-01-01)$`),
	defectRefEthnicityDfE: regexp.MustCompile(`^[A-Z]{4}$`),
	defectRefEthnicityNHS: regexp.MustCompile(`^([A-HJ-NPRSZ]|99)$`),
	defectRefASQForm:      regexp.MustCompile(`^ASQ3_(24|27|30)$`),
	defectRefGAD2:         regexp.MustCompile(`^GAD2$`),
	defectRefASQSE2:       regexp.MustCompile(`^ASQSE2_(24|30)$`),
	defectRefPartner:      regexp.MustCompile(`^father_partner$`),
	defectRefContactType:  regexp.MustCompile(`^(THREE_FOUR_MONTH|SIX_MONTH|CLINIC|TELEPHONE)$`),
	defectRefMoney:        regexp.MustCompile(`^(£-\d+\.\d\d|\d+\.\d\d-|\d+\.\d\d CR)$`),
	defectRefUPRNNull:     regexp.MustCompile(`^(0|-1)$`),
	defectRefUPRNSci:      regexp.MustCompile(`^\d(\.\d+)?E\+\d\d$`),
	defectRefDummyNHS:     regexp.MustCompile(`^(0{10}|1{10}|9{10})$`),
	defectRefIoD2019:      regexp.MustCompile(`^IoD2019$`),
}

// TestReferenceVocabulary generates a council in the reference vocabulary
// alone and the clean council of the same seed: every form is planted and
// logged as valid, each logged cell shows its form, a recoded cell means
// what the clean one did, and the rows added are exactly those logged.
func TestReferenceVocabulary(t *testing.T) {
	ref, clean := t.TempDir(), t.TempDir()
	var sums [2]Summary
	for i, cfg := range []Config{
		{Out: ref, Children: 600, Seed: 11, Vocabulary: VocabularyReference},
		{Out: clean, Children: 600, Seed: 11},
	} {
		s, err := Generate(context.Background(), cfg)
		if err != nil {
			t.Fatalf("Generate(%+v): %v", cfg, err)
		}
		sums[i] = s
	}
	kinds := map[string]int{}
	addedByFile := map[string]int{}
	byFile := map[string][]defectEntry{}
	for _, e := range readDefects(t, ref) {
		kinds[e.kind]++
		if !e.valid {
			t.Errorf("%s:%d %s: logged as invalid", e.file, e.row, e.kind)
		}
		if !strings.HasPrefix(e.kind, "ref_") && e.kind != defectDMY {
			t.Errorf("%s:%d %s: a realistic defect without the realistic profile", e.file, e.row, e.kind)
		}
		if strings.HasSuffix(e.kind, "_row") {
			addedByFile[e.file]++
		}
		byFile[e.file] = append(byFile[e.file], e)
	}
	for _, k := range []string{defectRefNull, defectRefSentinel, defectRefTwoDigitYear, defectRefDAEnquiry,
		defectRefEthnicityDfE, defectRefEthnicityNHS, defectRefASQForm, defectRefGAD2, defectRefASQSE2,
		defectRefPartner, defectRefContactType, defectRefMoney, defectRefUPRNNull, defectRefUPRNSci,
		defectRefDummyNHS, defectRefStampDate, defectRefIoD2019} {
		if kinds[k] == 0 {
			t.Errorf("no %s planted", k)
		}
	}
	for name, entries := range byFile {
		got := readReceived(t, filepath.Join(ref, filepath.FromSlash(name)))
		want := readReceived(t, filepath.Join(clean, filepath.FromSlash(name)))
		if n, m := len(got.lines), len(want.lines)+addedByFile[name]; n != m {
			t.Errorf("%s: %d lines; want %d clean + %d added", name, n, len(want.lines), addedByFile[name])
		}
		bad := 0
		for _, e := range entries {
			if problem := checkRefEntry(t, got, want, e, addedByFile[name] == 0); problem != "" && bad < 5 {
				bad++
				t.Errorf("%s:%d %s %s: %s", name, e.row, e.column, e.kind, problem)
			}
		}
	}
	for src, n := range sums[1].Rows {
		if sums[0].Rows[src] < n {
			t.Errorf("%s: %d rows; the clean council has %d", src, sums[0].Rows[src], n)
		}
	}
}

// checkRefEntry returns what is wrong with one logged form ("" if nothing).
// aligned: no row was added to the file, so line n of both layers is the
// same record and a recoded cell can be read against the clean one.
func checkRefEntry(t *testing.T, got, clean *receivedFile, e defectEntry, aligned bool) string {
	if e.row == 0 {
		col, ok := got.header[e.column]
		if e.column != "" && !ok {
			return "no such column"
		}
		switch e.kind {
		case defectRefTwoDigitYear:
			return want(regexp.MustCompile(`(^|,)\d\d/\d\d/\d\d(,|$)`).MatchString(strings.Join(got.lines[1:], "\n")), "no dd/mm/yy date")
		case defectRefStampDate, defectRefDAEnquiry, defectDMY:
			re := regexp.MustCompile(`^(\d\d/\d\d/\d{4})?$`)
			if e.kind == defectDMY { // of the two-digit-year file
				re = regexp.MustCompile(`^(\d\d/\d\d/\d\d(\d\d)?)?$`)
			}
			if e.kind == defectRefDAEnquiry {
				re = regexp.MustCompile(`^(asked|not_asked_partner_present|not_asked_other|declined|not_recorded|-|Unknown|Not Known|\?)?$`)
			}
			for _, l := range got.lines[1:] {
				if v := splitLine(t, l)[col]; !re.MatchString(v) && !refShapes[defectRefNull].MatchString(v) {
					return "cell " + strconv.Quote(v)
				}
			}
			return ""
		}
		return "unexpected file-level form"
	}
	if e.row > int64(len(got.lines)) {
		return "no such line"
	}
	col, ok := got.header[e.column]
	if !ok {
		return "no such column"
	}
	v := splitLine(t, got.lines[e.row-1])[col]
	shape, ok := refShapes[e.kind]
	if !ok {
		return "unexpected row-level form"
	}
	if !shape.MatchString(v) {
		return "cell " + strconv.Quote(v)
	}
	if !aligned {
		return ""
	}
	was := splitLine(t, clean.lines[e.row-1])[col]
	switch e.kind {
	case defectRefEthnicityDfE, defectRefEthnicityNHS:
		if c, ok := connectors.EthnicityCode(v); !ok || c != was {
			return v + " reads as " + c + "; clean " + was
		}
	case defectRefMoney:
		if f, ok := readCredit(v); !ok || strconv.FormatFloat(f, 'f', 2, 64) != was && strconv.FormatFloat(f, 'f', -1, 64) != was {
			return v + "; clean " + was
		}
	case defectRefNull, defectRefSentinel:
		if was != "" {
			return "clean cell " + strconv.Quote(was) + " was not empty"
		}
	}
	return ""
}

// readCredit reads the three credit forms back as a negative amount.
func readCredit(s string) (float64, bool) {
	s = strings.TrimPrefix(s, "£")
	s = strings.TrimSuffix(strings.TrimSuffix(s, " CR"), "-")
	f, err := strconv.ParseFloat(strings.TrimPrefix(s, "-"), 64)
	return -f, err == nil
}

// TestVocabularyDefault: the realistic profile writes the reference
// vocabulary unless told otherwise; an unknown vocabulary is refused.
func TestVocabularyDefault(t *testing.T) {
	for _, tc := range []struct{ defects, vocab, want string }{
		{DefectsRealistic, "", VocabularyReference},
		{DefectsRealistic, VocabularyProject, VocabularyProject},
		{DefectsNone, "", VocabularyProject},
		{DefectsLight, VocabularyReference, VocabularyReference},
	} {
		c := Config{Out: "x", Defects: tc.defects, Vocabulary: tc.vocab}.withDefaults()
		if c.Vocabulary != tc.want {
			t.Errorf("defects %s, vocabulary %q: got %q; want %q", tc.defects, tc.vocab, c.Vocabulary, tc.want)
		}
	}
	if err := (Config{Out: "x", Vocabulary: "dfe"}).Validate(); err == nil || !strings.Contains(err.Error(), "vocabulary") {
		t.Errorf("unknown vocabulary: got %v; want an error naming vocabulary", err)
	}
}
