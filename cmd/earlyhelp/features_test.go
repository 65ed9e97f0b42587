package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/features"
	"earlyhelp/features/attendance"
	"earlyhelp/features/health"
	"earlyhelp/features/housing"
	"earlyhelp/pipeline/config"
	"earlyhelp/pipeline/store"
)

// TestNoFeatureFromEthnicity is issue 5's proof that ethnicity is never a
// model input: a synthetic council and a copy whose persons extract has every
// ethnicity rotated to another group are loaded through the real connectors
// and store, and every feature column of every household, on several dates,
// is bit-identical. No column name mentions ethnicity either.
func TestNoFeatureFromEthnicity(t *testing.T) {
	sameFeaturesWhenChanged(t, "11", "with one set of ethnicities and with another", []string{"ethnic"}, []time.Time{
		time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 7, 20, 0, 0, 0, 0, time.UTC),
	}, rotateEthnicity)
}

// sameFeaturesWhenChanged is the proof that a person attribute is never a
// model input: a synthetic council (seed) and a copy whose persons
// extracts change rewrote are loaded through the real connectors and
// store, and on each date every feature column of every household is
// bit-identical and not all zero; no column's name holds any of names.
func sameFeaturesWhenChanged(t *testing.T, seed, what string, names []string, dates []time.Time, change func(*testing.T, string)) {
	t.Helper()
	if testing.Short() {
		t.Skip("generates and loads two councils")
	}
	base := t.TempDir()
	a, b := filepath.Join(base, "a"), filepath.Join(base, "b")
	if code, _, stderr := runCLI(t, "synth", "--out", a, "--children", "1500", "--seed", seed); code != 0 {
		t.Fatalf("synth: %s", stderr)
	}
	if out, err := exec.Command("cp", "-r", a, b).CombinedOutput(); err != nil {
		t.Fatalf("copy: %v %s", err, out)
	}
	change(t, filepath.Join(b, "incoming", "persons"))
	var cols [2][]map[string][]float64
	for k, dir := range []string{a, b} {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		set := ingestedSet(t, dir, mem)
		for _, d := range dates {
			tbl, err := set.Build(context.Background(), mem, d)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range tbl.Record.Schema().Fields() {
				for _, n := range names {
					if strings.Contains(strings.ToLower(f.Name), n) {
						t.Errorf("feature column %s is named after %s", f.Name, n)
					}
				}
			}
			cols[k] = append(cols[k], tableColumns(tbl.Record))
			tbl.Release()
		}
		mem.AssertSize(t, 0)
	}
	for i, d := range dates {
		sameColumns(t, cols[0][i], cols[1][i], "as generated", what+" ("+d.Format(time.DateOnly)+")")
		nonzero := 0
		for name, v := range cols[0][i] {
			if strings.Contains(name, "/") {
				continue // a household's key, not a feature
			}
			for _, x := range v {
				if x != 0 {
					nonzero++
				}
			}
		}
		if nonzero == 0 {
			t.Fatalf("%s: every feature is zero; the comparison proves nothing", d.Format(time.DateOnly))
		}
	}
}

// rotateEthnicity rewrites the persons extracts in dir with every person's
// ethnicity replaced by the next person's.
func rotateEthnicity(t *testing.T, dir string) {
	t.Helper()
	changed := 0
	rewriteColumn(t, dir, "ethnicity", func(rows [][]string, col int) {
		first := rows[1][col]
		for i := 1; i < len(rows); i++ {
			next := first
			if i+1 < len(rows) {
				next = rows[i+1][col]
			}
			if rows[i][col] != next {
				changed++
			}
			rows[i][col] = next
		}
	})
	if changed < 100 {
		t.Fatalf("only %d ethnicities changed", changed)
	}
}

// rewriteColumn lets rewrite change one column of every CSV extract in
// dir (rows[0] is the header; col the column's index) and writes the
// extracts back.
func rewriteColumn(t *testing.T, dir, column string, rewrite func(rows [][]string, col int)) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.csv"))
	if len(files) == 0 {
		t.Fatalf("no extract in %s", dir)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(raw, []byte("\ufeff")))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		col := slices.Index(rows[0], column)
		if col < 0 {
			t.Fatalf("%s has no %s column", filepath.Base(f), column)
		}
		rewrite(rows, col)
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		w.WriteAll(rows)
		if err := os.WriteFile(f, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// truncation says, per source, which date columns make a row "after" the
// cut (drop) and which are end dates that were not yet known (blank).
var truncation = map[string]struct{ drop, blank []string }{
	"persons":                 {drop: []string{"date_of_birth"}},
	"households":              {drop: []string{"from_date"}, blank: []string{"to_date"}},
	"attendance_sessions":     {drop: []string{"session_date", "mark_updated_at"}},
	"hv_contacts":             {drop: []string{"appointment_date"}},
	"homelessness_cases":      {drop: []string{"approach_date"}, blank: []string{"case_closed_date"}},
	"temporary_accommodation": {drop: []string{"placement_start"}, blank: []string{"placement_end"}},
	"rent_accounts":           {drop: []string{"snapshot_date"}},
	"csc_referrals":           {drop: []string{"referral_date"}, blank: []string{"case_closed_date"}},
	"early_help_episodes":     {drop: []string{"start_date"}, blank: []string{"end_date"}},
	"objections":              {drop: []string{"received_date"}, blank: []string{"withdrawn_date"}},
}

// TestFeaturesIgnoreLaterRows is issue 5's as-of proof on a whole council:
// features as of a date, built from every extract, equal those built from
// the extracts as they stood that morning (every row dated on or after it
// removed, end dates not yet reached blanked, assessments of removed
// contacts removed), for every source at once.
func TestFeaturesIgnoreLaterRows(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and loads two councils")
	}
	base := t.TempDir()
	full, cut := filepath.Join(base, "full"), filepath.Join(base, "cut")
	if code, _, stderr := runCLI(t, "synth", "--out", full, "--children", "1500", "--seed", "12", "--defects", "none"); code != 0 {
		t.Fatalf("synth: %s", stderr)
	}
	if out, err := exec.Command("cp", "-r", full, cut).CombinedOutput(); err != nil {
		t.Fatalf("copy: %v %s", err, out)
	}
	day := time.Date(2026, 2, 2, 0, 0, 0, 0, time.UTC)
	removed := truncate(t, filepath.Join(cut, "incoming"), day.Format(time.DateOnly))
	if removed < 1000 {
		t.Fatalf("only %d rows removed: the test proves little", removed)
	}
	var got []map[string][]float64
	var excluded []map[string]int
	for _, dir := range []string{full, cut} {
		mem := memory.NewGoAllocator()
		set := ingestedSet(t, dir, mem)
		tbl, err := set.Build(context.Background(), mem, day)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, tableColumns(tbl.Record))
		excluded = append(excluded, tbl.Excluded)
		tbl.Release()
	}
	sameColumns(t, got[0], got[1], "from every extract", "from the morning's")
	for k, v := range excluded[0] {
		if excluded[1][k] != v {
			t.Errorf("excluded %s: %d from every extract, %d from the morning's", k, v, excluded[1][k])
		}
	}
}

// truncate rewrites every extract under incoming as it stood on the morning
// of cut (yyyy-mm-dd) and returns the number of rows removed.
func truncate(t *testing.T, incoming, cut string) int {
	t.Helper()
	removed := 0
	droppedContacts := map[string]bool{}
	process := func(source string, keep func(head []string, row []string) bool) {
		files, _ := filepath.Glob(filepath.Join(incoming, source, "*.csv"))
		for _, f := range files {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(raw, []byte("\ufeff")))).ReadAll()
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			out := rows[:1]
			for _, r := range rows[1:] {
				if keep(rows[0], r) {
					out = append(out, r)
				} else {
					removed++
				}
			}
			var buf bytes.Buffer
			w := csv.NewWriter(&buf)
			w.WriteAll(out)
			if err := os.WriteFile(f, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	index := func(head []string, name string) int {
		for i, h := range head {
			if h == name {
				return i
			}
		}
		t.Fatalf("no column %s in %v", name, head)
		return -1
	}
	for source, rule := range truncation {
		process(source, func(head, row []string) bool {
			for _, c := range rule.drop {
				if v := row[index(head, c)]; v != "" && v[:min(10, len(v))] >= cut {
					if source == "hv_contacts" {
						droppedContacts[row[index(head, "contact_id")]] = true
					}
					return false
				}
			}
			for _, c := range rule.blank {
				if i := index(head, c); row[i] != "" && row[i] >= cut {
					row[i] = ""
				}
			}
			return true
		})
	}
	process("hv_assessments", func(head, row []string) bool {
		return !droppedContacts[row[index(head, "contact_id")]]
	})
	return removed
}

// ingestedSet ingests the synthetic council in dir through the CLI and
// returns the feature set over its store, wired as a run wires it.
func ingestedSet(tb testing.TB, dir string, mem memory.Allocator) *features.Set {
	tb.Helper()
	return setOver(ingestedStore(tb, dir), mem)
}

// setOver is the feature set over tables, wired as a run wires it.
func setOver(tables features.Tables, mem memory.Allocator) *features.Set {
	return features.NewSet(tables, features.Options{UseDeprivation: true},
		attendance.New(tables, mem), health.New(tables, mem), housing.New(tables, mem))
}

// lightCouncil writes a 1,500-child synthetic council with the light
// defects (amended marks among them) and returns its folder.
func lightCouncil(t *testing.T, seed string) string {
	t.Helper()
	dir := t.TempDir()
	if code, _, stderr := runCLI(t, "synth", "--out", dir, "--children", "1500", "--seed", seed, "--defects", "light"); code != 0 {
		t.Fatalf("synth: %s", stderr)
	}
	return dir
}

// ingestedStore ingests the synthetic council in dir through the CLI and
// opens its store.
func ingestedStore(tb testing.TB, dir string) *store.Store {
	tb.Helper()
	cfgPath := filepath.Join(dir, "earlyhelp.yaml")
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"ingest", "--config", cfgPath, "--log-level", "warn"}, &out, &errb); code != 0 {
		tb.Fatalf("ingest %s: %s", dir, errb.String())
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		tb.Fatal(err)
	}
	st, err := store.Open(cfg.DataDir, time.Now)
	if err != nil {
		tb.Fatal(err)
	}
	return st
}

// tableColumns copies a feature table's columns for comparing tables: each
// float column by name, and each string value as name/value with its row.
func tableColumns(rec arrow.Record) map[string][]float64 {
	cols := map[string][]float64{}
	for i, f := range rec.Schema().Fields() {
		switch c := rec.Column(i).(type) {
		case *array.Float64:
			cols[f.Name] = append([]float64(nil), c.Float64Values()...)
		case *array.String:
			for j := 0; j < c.Len(); j++ {
				cols[f.Name+"/"+c.Value(j)] = []float64{float64(j)}
			}
		}
	}
	return cols
}

// sameColumns checks that two tables' columns (tableColumns) hold the same
// bits; a and b name where each came from in the messages.
func sameColumns(t *testing.T, ca, cb map[string][]float64, a, b string) {
	t.Helper()
	if len(ca) != len(cb) {
		t.Fatalf("%d columns and household cells %s, %d %s", len(ca), a, len(cb), b)
	}
	for name, va := range ca {
		vb, ok := cb[name]
		if !ok {
			t.Fatalf("%s: only in the table %s", name, a)
		}
		for i := range va {
			if math.Float64bits(va[i]) != math.Float64bits(vb[i]) {
				t.Errorf("%s row %d: %v %s, %v %s", name, i, va[i], a, vb[i], b)
				break
			}
		}
	}
}
