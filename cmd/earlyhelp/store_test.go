package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// storeState is the part of data_dir/store/state.json this test reads.
type storeState struct {
	Deliveries []struct {
		Source string `json:"source"`
		Name   string `json:"name"`
		File   string `json:"file"`
	} `json:"deliveries"`
}

func readStoreState(t *testing.T, dataDir string) storeState {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir, "store", "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	var st storeState
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestStoreCheckAndRepair: after an ingest, 'store check' passes; a damaged
// store file fails it (exit 1, naming the file) and fails a run; 'store
// repair' refuses while a delivered file to reload is gone, then takes the
// damaged delivery out, and the next ingest loads it again.
func TestStoreCheckAndRepair(t *testing.T) {
	cfg, asOf := tinyCouncil(t, "  ingest: \"0 2 * * *\"\n")
	conf := cfg.File()
	if code, _, stderr := runCLI(t, "ingest", "--config", conf); code != 0 {
		t.Fatalf("ingest: exit %d: %s", code, stderr)
	}
	step := func(name string, wantCode int, wantOut string, args ...string) string {
		t.Helper()
		if args[0] == "run" || args[0] == "ingest" {
			nextSecond() // a run folder is named by the second it starts in
		}
		code, stdout, stderr := runCLI(t, args...)
		if code != wantCode || !strings.Contains(stdout+stderr, wantOut) {
			t.Fatalf("%s: %v: exit %d, output %q; want exit %d mentioning %q", name, args, code, stdout+stderr, wantCode, wantOut)
		}
		return stdout + stderr
	}
	step("check of a sound store", 0, " 0 damaged", "store", "check", "--config", conf)
	before := readStoreState(t, cfg.DataDir)

	// The newest attendance delivery, which a weekly run reads.
	var file, name string
	for _, d := range before.Deliveries {
		if d.Source == "attendance_sessions" && d.File != "" {
			file, name = d.File, d.Name
		}
	}
	if file == "" {
		t.Fatal("no attendance_sessions store file")
	}
	path := filepath.Join(cfg.DataDir, "store", file)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x20
	if err := os.WriteFile(path, b, 0o640); err != nil {
		t.Fatal(err)
	}

	out := step("check of a damaged file", exitFailed, "damaged "+file, "store", "check", "--config", conf)
	if !strings.Contains(out, "1 damaged") {
		t.Errorf("check output %q; want a summary of 1 damaged", out)
	}
	step("run over a damaged file", exitFailed, file+": store file does not match its recorded sha256",
		"run", "--config", conf, "--as-of", asOf.Format("2006-01-02"))

	// The delivered file is gone from the source folder: repair refuses,
	// changing nothing.
	src := filepath.Join(cfg.Sources["attendance_sessions"].Path, name)
	if err := os.Rename(src, src+".away"); err != nil {
		t.Fatal(err)
	}
	step("repair with the source file gone", exitFailed, "attendance_sessions/"+name, "store", "repair", "--config", conf)
	step("check after a refused repair", exitFailed, "damaged "+file, "store", "check", "--config", conf)
	if err := os.Rename(src+".away", src); err != nil {
		t.Fatal(err)
	}

	step("repair", 0, "removed attendance_sessions/"+name+" (damaged)", "store", "repair", "--config", conf)
	step("check after repair", 0, " 0 damaged", "store", "check", "--config", conf)
	step("repair of a sound store", 0, "nothing to do", "store", "repair", "--config", conf)
	step("ingest after repair", 0, "ingest", "ingest", "--config", conf)
	after := readStoreState(t, cfg.DataDir)
	if len(after.Deliveries) != len(before.Deliveries) {
		t.Errorf("%d deliveries after repair and ingest; want %d as before", len(after.Deliveries), len(before.Deliveries))
	}
	step("check after reloading", 0, " 0 damaged", "store", "check", "--config", conf)
	step("run after reloading", 0, "succeeded", "run", "--config", conf, "--as-of", asOf.Format("2006-01-02"))
}

// TestStoreUsage: the store command's bad usage exits 2 and its help shows
// how to repair.
func TestStoreUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"store"}, exitUsage, "want check or repair"},
		{[]string{"store", "fix"}, exitUsage, "unknown \"fix\""},
		{[]string{"store", "check"}, exitUsage, "--config is required"},
		{[]string{"store", "-h"}, exitOK, "state.json"},
		{[]string{"store", "check", "-h"}, exitOK, "--force"},
	}
	for _, tc := range tests {
		code, stdout, stderr := runCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(stdout+stderr, tc.want) {
			t.Errorf("%v: exit %d, output %q; want exit %d mentioning %q", tc.args, code, stdout+stderr, tc.code, tc.want)
		}
	}
}

// nextSecond waits for the wall clock's next second.
func nextSecond() {
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
}
