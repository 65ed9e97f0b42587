package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/features"
	"earlyhelp/features/attendance"
	"earlyhelp/features/health"
	"earlyhelp/features/housing"
	"earlyhelp/pipeline"
	"earlyhelp/pipeline/config"
	"earlyhelp/pipeline/store"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenDates are built in this order: back and forth, as a backtest and a
// weekly run would, so a cache that leaked one date into another shows.
var goldenDates = []string{
	"2026-07-20", "2025-09-01", "2026-03-02", "2024-11-18", "2026-07-13",
	"2025-01-06", "2026-01-05", "2025-06-30", "2024-08-05",
}

// TestFeatureTablesGolden pins everything a feature set says about a
// synthetic council with light defects on several dates: every
// cell of every table, the exclusions, labels, interventions, the audit's
// children, and the timelines and reasons of a sample of households. The
// digests were written by the straightforward feature code before the build
// was made faster, so any optimisation has to give the same bytes. Run with
// -update only from code whose tables you trust, e.g. after a change to the
// synthetic council itself.
func TestFeatureTablesGolden(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and loads a council")
	}
	dir := t.TempDir()
	if code, _, stderr := runCLI(t, "synth", "--out", dir, "--children", "4000", "--seed", "21", "--defects", "light"); code != 0 {
		t.Fatalf("synth: %s", stderr)
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	set := goldenSet(t, dir, mem)
	var got bytes.Buffer
	for _, d := range goldenDates {
		day, err := time.Parse(time.DateOnly, d)
		if err != nil {
			t.Fatal(err)
		}
		var dump bytes.Buffer
		rows := dumpTable(t, &dump, set, mem, day)
		fmt.Fprintf(&got, "%s rows=%d sha256=%x\n", d, rows, sha256.Sum256(dump.Bytes()))
	}
	path := filepath.Join("testdata", "feature_tables.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("feature tables differ from %s:\ngot:\n%s\nwant:\n%s", path, got.Bytes(), want)
	}
}

// goldenSet wires a set as a run does, with a run date after every table's
// date so objections standing on either count.
func goldenSet(t *testing.T, dir string, mem memory.Allocator) *features.Set {
	t.Helper()
	cfgPath := filepath.Join(dir, "earlyhelp.yaml")
	if code, _, stderr := runCLI(t, "ingest", "--config", cfgPath, "--log-level", "warn"); code != 0 {
		t.Fatalf("ingest: %s", stderr)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(cfg.DataDir, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	return features.NewSet(st, features.Options{UseDeprivation: true, RunDate: time.Date(2026, 7, 20, 0, 0, 0, 0, time.UTC)},
		attendance.New(st, mem), health.New(st, mem), housing.New(st, mem))
}

// dumpTable writes, in a fixed order, what set says as of day, and returns
// the table's rows.
func dumpTable(t *testing.T, w *bytes.Buffer, set *features.Set, mem memory.Allocator, day time.Time) int {
	t.Helper()
	ctx := context.Background()
	tbl, err := set.Build(ctx, mem, day)
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	rec := tbl.Record
	for i, f := range rec.Schema().Fields() {
		fmt.Fprintf(w, "column %s %s:", f.Name, f.Type)
		switch c := rec.Column(i).(type) {
		case *array.String:
			for j := 0; j < c.Len(); j++ {
				fmt.Fprintf(w, " %q", c.Value(j))
			}
		case *array.Float64:
			for _, v := range c.Float64Values() {
				fmt.Fprintf(w, " %x", math.Float64bits(v))
			}
		case *array.Date32:
			for _, v := range c.Date32Values() {
				fmt.Fprintf(w, " %d", v)
			}
		default:
			t.Fatalf("column %s: unexpected type %s", f.Name, f.Type)
		}
		fmt.Fprintln(w)
	}
	keys := make([]string, 0, len(tbl.Excluded))
	for k := range tbl.Excluded {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "excluded %s %d\n", k, tbl.Excluded[k])
	}
	labels, err := set.Labels(ctx, tbl, 26)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(w, "labels %v\n", labels)
	helped, err := set.Intervened(ctx, tbl, 26)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(w, "intervened %v\n", helped)
	kids, err := set.AuditChildren(ctx, tbl, 26)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range kids {
		fmt.Fprintf(w, "audit %+v\n", c)
	}
	// Every seventh household's timeline and every feature's reason.
	fields := rec.Schema().Fields()
	for row := 0; row < int(rec.NumRows()); row += 7 {
		tl := set.Timeline(tbl, row)
		evs := append([]pipeline.TimelineEvent(nil), tl.Events...)
		// Events of one day come in no promised order.
		sort.SliceStable(evs, func(i, j int) bool {
			a, b := evs[i], evs[j]
			return a.Date+a.Kind+a.Text < b.Date+b.Kind+b.Text
		})
		fmt.Fprintf(w, "timeline %d weeks %+v events %+v children %+v\n", row, tl.Weeks, evs, tl.Children)
		fmt.Fprintf(w, "facts %d %+v\n", row, set.Facts(tbl, row))
		for i, f := range fields {
			c, ok := rec.Column(i).(*array.Float64)
			if !ok || strings.HasPrefix(f.Name, "#") {
				continue
			}
			r := pipeline.Reason{Feature: f.Name, Value: c.Value(row)}
			fmt.Fprintf(w, "reason %d %s %q\n", row, f.Name, set.Describe(tbl, row, r))
		}
	}
	return int(rec.NumRows())
}
