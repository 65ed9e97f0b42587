package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// refKinds are the reference vocabulary's defect types
// (connectors/synthetic/reference_vocab.go): each must be planted.
var refKinds = []string{
	"ref_null_spelling", "ref_sentinel_date", "ref_two_digit_years", "ref_da_enquiry_enum",
	"ref_ethnicity_dfe", "ref_ethnicity_nhs", "ref_asq3_form", "ref_gad2_row", "ref_asqse2_row",
	"ref_father_partner_row", "ref_contact_type_row", "ref_money_credit", "ref_uprn_placeholder",
	"ref_uprn_scientific", "ref_dummy_nhs", "ref_mark_updated_date", "ref_iod2019_row",
}

// TestReferenceRealisticRun: a realistic council, which writes the
// reference vocabulary by default, runs end to end with the configuration
// synth wrote and exit 0. Every source loads all its rows but those truth
// says a correct loader must refuse, every nulled cell is counted in the
// manifest and listed in the cells file, and the run and its audit record
// the IoD vintage the features used: the newest of the two the council
// sends.
func TestReferenceRealisticRun(t *testing.T) {
	dir := t.TempDir()
	code, stdout, stderr := runCLI(t, "synth", "--out", dir, "--children", "1500", "--seed", "7", "--defects", "realistic")
	if code != 0 {
		t.Fatalf("synth exit %d: %s", code, stderr)
	}
	generated := synthRows(t, stdout)
	truth := readCSV(t, filepath.Join(dir, "truth", "defects.csv"))
	kinds := map[string]int{}
	invalid := map[string]map[string]bool{} // source → file:row
	for _, r := range truth {
		kinds[r["defect_type"]]++
		if r["still_valid"] == "false" {
			parts := strings.Split(r["file"], "/")
			src := parts[len(parts)-2]
			if invalid[src] == nil {
				invalid[src] = map[string]bool{}
			}
			invalid[src][r["file"]+":"+r["row_number"]] = true
		}
	}
	for _, k := range refKinds {
		if kinds[k] == 0 {
			t.Errorf("truth/defects.csv has no %s", k)
		}
	}
	if code, _, stderr := runCLI(t, "run", "--config", filepath.Join(dir, "earlyhelp.yaml"), "--as-of", "2026-07-20", "--log-level", "error"); code != 0 {
		t.Fatalf("run exit %d: %s", code, stderr)
	}
	runDir := onlyRun(t, dir)
	var man sourceCounts
	readJSON(t, filepath.Join(runDir, "manifest.json"), &man)
	if man.IoDVintage != "IoD2025" {
		t.Errorf("manifest iod_vintage %q; want IoD2025", man.IoDVintage)
	}
	var audit struct {
		IoDVintage string `json:"iod_vintage"`
	}
	readJSON(t, filepath.Join(runDir, "audit", "audit_manifest.json"), &audit)
	if audit.IoDVintage != "IoD2025" {
		t.Errorf("audit_manifest iod_vintage %q; want IoD2025", audit.IoDVintage)
	}
	for src, n := range generated {
		s, ok := man.Sources[src]
		switch {
		case !ok:
			t.Errorf("%s: not in the manifest", src)
		case s.Read != n:
			t.Errorf("%s: %d rows read; synth wrote %d", src, s.Read, n)
		case s.Quarantined != int64(len(invalid[src])) || s.Loaded != n-int64(len(invalid[src])):
			t.Errorf("%s: %d loaded, %d quarantined; truth has %d rows to refuse of %d", src, s.Loaded, s.Quarantined, len(invalid[src]), n)
		}
		cells := filepath.Join(runDir, "quarantine", src+"_cells.csv")
		listed := 0
		if _, err := os.Stat(cells); err == nil {
			listed = len(readCSV(t, cells))
		}
		if int64(listed) != s.Nulled {
			t.Errorf("%s: manifest counts %d nulled cells, %s lists %d", src, s.Nulled, filepath.Base(cells), listed)
		}
	}
}

// TestReferenceVocabularyAlone: the reference vocabulary without the
// realistic defects is a council nothing of which may be refused: every
// row loads, and the only cells nulled are those truth says lost their
// value (a UPRN Excel wrote as 1.00023E+11).
func TestReferenceVocabularyAlone(t *testing.T) {
	dir := t.TempDir()
	code, stdout, stderr := runCLI(t, "synth", "--out", dir, "--children", "400", "--seed", "3", "--vocabulary", "reference")
	if code != 0 {
		t.Fatalf("synth exit %d: %s", code, stderr)
	}
	generated := synthRows(t, stdout)
	sci := 0
	for _, r := range readCSV(t, filepath.Join(dir, "truth", "defects.csv")) {
		if !strings.HasPrefix(r["defect_type"], "ref_") && r["defect_type"] != "dmy_dates" {
			t.Errorf("defect %s planted without the realistic profile", r["defect_type"])
		}
		if r["still_valid"] != "true" {
			t.Errorf("%s:%s %s: reference forms must all be readable", r["file"], r["row_number"], r["defect_type"])
		}
		if r["defect_type"] == "ref_uprn_scientific" {
			sci++
		}
	}
	if code, _, stderr := runCLI(t, "ingest", "--config", filepath.Join(dir, "earlyhelp.yaml"), "--log-level", "error"); code != 0 {
		t.Fatalf("ingest exit %d: %s", code, stderr)
	}
	runDir := onlyRun(t, dir)
	var man sourceCounts
	readJSON(t, filepath.Join(runDir, "manifest.json"), &man)
	nulled := int64(0)
	for src, n := range generated {
		s := man.Sources[src]
		if s.Read != n || s.Loaded != n || s.Quarantined != 0 {
			t.Errorf("%s: read %d, loaded %d, quarantined %d; synth wrote %d", src, s.Read, s.Loaded, s.Quarantined, n)
		}
		nulled += s.Nulled
	}
	if nulled != int64(sci) || sci == 0 {
		t.Errorf("%d cells nulled; truth has %d UPRNs whose digits were lost", nulled, sci)
	}
}

// sourceCounts is what these tests read of a run's manifest.
type sourceCounts struct {
	IoDVintage string `json:"iod_vintage"`
	Sources    map[string]struct {
		Read        int64 `json:"rows_read"`
		Loaded      int64 `json:"rows_loaded"`
		Quarantined int64 `json:"rows_quarantined"`
		Nulled      int64 `json:"cells_nulled"`
	} `json:"sources"`
}

// synthRows reads the rows per source that synth printed.
func synthRows(t *testing.T, stdout string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, m := range regexp.MustCompile(`(?m)^\s+([a-z_]+)\s+(\d+) rows$`).FindAllStringSubmatch(stdout, -1) {
		n, _ := strconv.ParseInt(m[2], 10, 64)
		out[m[1]] = n
	}
	if len(out) < 10 {
		t.Fatalf("synth printed rows for %d sources:\n%s", len(out), stdout)
	}
	return out
}

func onlyRun(t *testing.T, dir string) string {
	t.Helper()
	runs, _ := filepath.Glob(filepath.Join(dir, "var", "runs", "*"))
	if len(runs) != 1 {
		t.Fatalf("%d run folders; want 1", len(runs))
	}
	return runs[0]
}

// TestVocabularyFlag: an unknown --vocabulary is a usage error naming the
// flag, before anything is written.
func TestVocabularyFlag(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "council")
	code, _, stderr := runCLI(t, "synth", "--out", dir, "--children", "100", "--vocabulary", "dfe")
	if code != exitUsage || !strings.Contains(stderr, "vocabulary") {
		t.Errorf("exit %d, stderr %q; want %d naming vocabulary", code, stderr, exitUsage)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Errorf("%s written despite the usage error", dir)
	}
}
