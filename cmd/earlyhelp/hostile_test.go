package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"earlyhelp/pipeline"
)

// TestHostileCouncilIngests generates a council whose files carry every
// file-level defect of issue 23 and ingests it with the config synth
// writes (which carries the column maps): exit 0, and every data row is
// loaded or quarantined as truth/defects.csv says, file by file; preamble
// and summary lines are skipped and counted, never rows; doubly encoded
// rows are counted as truth planted them.
func TestHostileCouncilIngests(t *testing.T) {
	dir := t.TempDir()
	code, stdout, stderr := runCLI(t, "synth", "--out", dir, "--children", "400", "--weeks", "30", "--seed", "7", "--defects", "hostile")
	if code != 0 {
		t.Fatalf("synth exit %d: %s", code, stderr)
	}
	written := map[string]int64{} // rows synth wrote per source
	for _, m := range regexp.MustCompile(`(?m)^  (\w+) +(\d+) rows$`).FindAllStringSubmatch(stdout, -1) {
		n, _ := strconv.ParseInt(m[2], 10, 64)
		written[m[1]] = n
	}
	cfg := filepath.Join(dir, "earlyhelp.yaml")

	// Without its column maps the council does not load, and validate
	// says which map it needs.
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	bare := filepath.Join(dir, "bare.yaml")
	os.WriteFile(bare, []byte(regexp.MustCompile(`(?m)^    columns:\n(      .*\n)+`).ReplaceAllString(string(b), "")), 0o644)
	code, out, stderr := runCLI(t, "validate", "--config", bare)
	if code == 0 || !strings.Contains(stderr, "missing required column") || !strings.Contains(out, "    columns:\n") {
		t.Errorf("validate without column maps: exit %d, stdout %q, stderr %q; want a failure and a suggested map", code, out, stderr)
	}

	code, _, stderr = runCLI(t, "ingest", "--config", cfg, "--log-level", "warn", "--log-format", "json")
	if code != 0 {
		t.Fatalf("ingest exit %d: %s", code, stderr)
	}
	// Doubly encoded text is warned of in the log too, by file and count.
	if !strings.Contains(stderr, `"level":"warn"`) || !strings.Contains(stderr, "doubly encoded") {
		t.Errorf("ingest log has no warning of doubly encoded rows: %s", stderr)
	}

	// What truth says, by "source/file".
	type fileTruth struct {
		kinds             map[string]bool
		invalid           map[string]string // row → defect
		mojibake, skipped int64
	}
	truth := map[string]*fileTruth{}
	kinds := map[string]bool{}
	for _, r := range readCSV(t, filepath.Join(dir, "truth", "defects.csv")) {
		parts := strings.Split(r["file"], "/")
		key := parts[len(parts)-2] + "/" + parts[len(parts)-1]
		ft := truth[key]
		if ft == nil {
			ft = &fileTruth{kinds: map[string]bool{}, invalid: map[string]string{}}
			truth[key] = ft
		}
		kinds[r["defect_type"]] = true
		switch {
		case r["still_valid"] == "false":
			ft.invalid[r["row_number"]] = r["defect_type"]
		case r["row_number"] == "0":
			ft.kinds[r["defect_type"]] = true
			if r["defect_type"] == "preamble" || r["defect_type"] == "summary_footer" {
				ft.skipped += 2 // two lines each, and a blank one that is not counted
			}
		case r["defect_type"] == "mojibake":
			ft.mojibake++
		}
	}
	for _, k := range []string{"utf16_le", "utf16_be", "preamble", "summary_footer", "delimiter_semicolon",
		"delimiter_tab", "delimiter_pipe", "human_headers", "supplier_headers", "mojibake", "truncated"} {
		if !kinds[k] {
			t.Errorf("truth/defects.csv has no %s file", k)
		}
	}

	runs, _ := filepath.Glob(filepath.Join(dir, "var", "runs", "*", "manifest.json"))
	if len(runs) != 1 {
		t.Fatalf("%d runs; want 1", len(runs))
	}
	mb, err := os.ReadFile(runs[0])
	if err != nil {
		t.Fatal(err)
	}
	var man pipeline.Manifest
	if err := json.Unmarshal(mb, &man); err != nil {
		t.Fatal(err)
	}
	quarantined := map[string]string{} // "source/file:row" → reason
	qs, _ := filepath.Glob(filepath.Join(filepath.Dir(runs[0]), "quarantine", "*.csv"))
	for _, q := range qs {
		if strings.HasSuffix(q, "_cells.csv") {
			continue
		}
		source := strings.TrimSuffix(filepath.Base(q), ".csv")
		for _, r := range readCSV(t, q) {
			quarantined[source+"/"+r["file"]+":"+r["row_number"]] = r["reason"]
		}
	}
	files, wantQuarantined := 0, 0
	for source, sm := range man.Sources {
		if sm.Read != written[source] {
			t.Errorf("%s: %d rows read; synth wrote %d", source, sm.Read, written[source])
		}
		for _, f := range sm.Files {
			files++
			key := source + "/" + f.Name
			ft := truth[key]
			if ft == nil {
				t.Errorf("%s: truth says nothing of the file", key)
				continue
			}
			if int(f.Quarantined) != len(ft.invalid) || f.Loaded != f.Read-f.Quarantined {
				t.Errorf("%s: loaded %d, quarantined %d of %d; truth has %d invalid rows", key, f.Loaded, f.Quarantined, f.Read, len(ft.invalid))
			}
			for row, defect := range ft.invalid {
				wantQuarantined++
				if got := quarantined[key+":"+row]; got != defect {
					t.Errorf("%s row %s: quarantined as %q; truth says %s", key, row, got, defect)
				}
			}
			if f.SkippedLines != ft.skipped {
				t.Errorf("%s: %d lines skipped; truth planted %d", key, f.SkippedLines, ft.skipped)
			}
			if f.MojibakeRows != ft.mojibake {
				t.Errorf("%s: %d rows reported doubly encoded; truth planted %d", key, f.MojibakeRows, ft.mojibake)
			}
		}
	}
	if files != len(truth) {
		t.Errorf("the run read %d files; truth lists %d", files, len(truth))
	}
	if len(quarantined) != wantQuarantined || wantQuarantined == 0 {
		t.Errorf("%d rows quarantined; truth has %d invalid rows (and must have some)", len(quarantined), wantQuarantined)
	}
}

// TestValidateSuggestsColumnMap: validate on a file with human headers
// prints the columns: map; pasted into the config, the file loads.
func TestValidateSuggestsColumnMap(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "incoming", "attendance")
	os.MkdirAll(in, 0o755)
	os.MkdirAll(filepath.Join(dir, "secrets"), 0o700)
	os.WriteFile(filepath.Join(dir, "secrets", "pseudonym.key"), []byte(strings.Repeat("ab", 32)+"\n"), 0o600)
	rows := "100001,B801200005001,2023-11-06,AM,/,,2023-11-06T09:01:00Z\n" +
		"100001,B801200005001,2023-11-06,PM,L,12,\n"
	os.WriteFile(filepath.Join(in, "attendance_2023-11.csv"),
		[]byte("Sch URN,Pupil Number,Date of Session,AM/PM Session,Mark Code,Late (mins),Updated\n"+rows), 0o644)
	head := "council: Test\ndata_dir: ./var\npseudonym_key_file: ./secrets/pseudonym.key\n" +
		"missing_sources_accepted: {objections: a test, early_help_episodes: a test, csc_referrals: a test}\n" +
		"sources:\n  attendance_sessions:\n    kind: csvdir\n    path: ./incoming/attendance\n"
	cfg := filepath.Join(dir, "earlyhelp.yaml")
	os.WriteFile(cfg, []byte(head), 0o644)

	code, out, stderr := runCLI(t, "validate", "--config", cfg)
	if code == 0 || !strings.Contains(stderr, `missing required column "school_urn"`) {
		t.Fatalf("validate: exit %d, stderr %q; want the missing column named", code, stderr)
	}
	i := strings.Index(out, "    columns:\n")
	if i < 0 {
		t.Fatalf("validate printed no columns: map: %q", out)
	}
	suggestion := out[i:]
	for _, want := range []string{`school_urn: "Sch URN"`, `session_date: "Date of Session"`, `session: "AM/PM Session"`,
		`attendance_code: "Mark Code"`, `minutes_late: "Late (mins)"`, `mark_updated_at: "Updated"`, `# upn: "?"`} {
		if !strings.Contains(suggestion, want) {
			t.Errorf("suggestion lacks %s:\n%s", want, suggestion)
		}
	}
	// The council fills in what nothing was close to, as the comment asks.
	suggestion = strings.Replace(suggestion, `# upn: "?"  (no header is close: which of the file's columns is it?)`, `upn: "Pupil Number"`, 1)
	os.WriteFile(cfg, []byte(head+suggestion), 0o644)
	code, out, stderr = runCLI(t, "validate", "--config", cfg)
	if code != 0 || !strings.Contains(out, "rows read 2, would load 2, would quarantine 0") {
		t.Fatalf("validate with the pasted map: exit %d, stdout %q, stderr %q; want both rows loaded", code, out, stderr)
	}
}
