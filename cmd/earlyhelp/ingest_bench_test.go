package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/rs/zerolog"

	"earlyhelp/connectors"
	"earlyhelp/connectors/csvdir"
	"earlyhelp/connectors/synthetic"
	"earlyhelp/pipeline"
	"earlyhelp/pipeline/ingest"
	"earlyhelp/pipeline/store"
)

// BenchmarkIngestAttendance times the nightly ingest of attendance extracts
// end to end (CSV read, parse, validate, pseudonymise, Arrow IPC write) and
// reports rows/s, CPU per row and the process's peak resident memory while
// ingesting (issue 4: ≥ 2 million rows/s, peak memory independent of file
// size). The second council is twice the first, so its monthly files are
// twice the size; the third is the second with its two years sent as one
// file of six million rows, 24 times the size: peak_MiB should stay about
// the same as the second's. (What does grow with a council is the memo of
// its pupils' pseudonyms.)
func BenchmarkIngestAttendance(b *testing.B) {
	for _, c := range []struct {
		children int
		oneFile  bool
	}{{6_000, false}, {12_000, false}, {12_000, true}} {
		name := "children=" + strconv.Itoa(c.children)
		if c.oneFile {
			name += "/one_file"
		}
		b.Run(name, func(b *testing.B) {
			benchIngest(b, c.children, c.oneFile)
		})
	}
}

func benchIngest(b *testing.B, children int, oneFile bool) {
	root, incoming, wantRows, p := attendanceCouncil(b, children)
	if oneFile {
		var err error
		if incoming, err = concatCSV(incoming, filepath.Join(root, "one_file")); err != nil {
			b.Fatal(err)
		}
	}
	// The generator's memory is not the ingest's: give it back and start
	// the peak afresh.
	runtime.GC()
	debug.FreeOSMemory()
	resetPeakRSS(b)

	var rows int64
	iter := 0
	cpu0 := cpuTime(b)
	for b.Loop() {
		iter++
		rows += ingestAttendance(b, incoming, filepath.Join(root, "data"+strconv.Itoa(iter)), p, wantRows)
	}
	// CPU per row is the figure to compare when the machine is shared: it
	// moves little with other load, where rows/s does.
	b.ReportMetric(float64((cpuTime(b)-cpu0).Nanoseconds())/float64(rows), "cpu_ns/row")
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(peakRSS(b))/(1<<20), "peak_MiB")
	b.ReportMetric(float64(wantRows), "rows/op")
}

// attendanceCouncil generates a clean council of children in a temporary
// folder root, and returns its attendance extracts' folder, their rows and
// a pseudonymiser.
func attendanceCouncil(b *testing.B, children int) (root, incoming string, rows int64, p *connectors.Pseudonymiser) {
	root = b.TempDir()
	sum, err := synthetic.Generate(context.Background(), synthetic.Config{
		Out: filepath.Join(root, "council"), Children: children, Weeks: 104, Defects: synthetic.DefectsNone,
	})
	if err != nil {
		b.Fatal(err)
	}
	if p, err = connectors.NewPseudonymiser([]byte("benchmark-pseudonym-key-32-bytes")); err != nil {
		b.Fatal(err)
	}
	return root, filepath.Join(root, "council", "incoming", connectors.AttendanceSessions), sum.Rows[connectors.AttendanceSessions], p
}

// ingestAttendance runs the ingest stage over the attendance extracts in
// incoming into a new store in dataDir, checks every row loaded, removes
// the store (untimed) and returns the rows.
func ingestAttendance(b *testing.B, incoming, dataDir string, p *connectors.Pseudonymiser, wantRows int64) int64 {
	spec, err := connectors.Lookup(connectors.AttendanceSessions)
	if err != nil {
		b.Fatal(err)
	}
	src, err := csvdir.New(csvdir.Config{Path: incoming}, spec, p)
	if err != nil {
		b.Fatal(err)
	}
	st, err := store.Open(dataDir, time.Now)
	if err != nil {
		b.Fatal(err)
	}
	id, runDir, err := st.NewRun(time.Now())
	if err != nil {
		b.Fatal(err)
	}
	man, err := pipeline.Run(context.Background(), pipeline.Options{
		RunID: id, RunDir: runDir, AsOf: time.Date(2026, 7, 20, 0, 0, 0, 0, time.UTC),
		Stages: []pipeline.Stage{ingest.New(ingest.Config{
			Sources:            []pipeline.SourceSpec{{Name: spec.Name, Columns: spec.ColumnNames(), Source: src}},
			Store:              st,
			MaxQuarantineRatio: 0.05,
		})},
		Job: "ingest",
		Mem: memory.DefaultAllocator,
		Log: zerolog.Nop(),
	})
	if err != nil {
		b.Fatal(err)
	}
	sm := man.Sources[spec.Name]
	if sm.Read != wantRows || sm.Loaded != wantRows {
		b.Fatalf("read %d, loaded %d rows; want %d", sm.Read, sm.Loaded, wantRows)
	}
	b.StopTimer()
	if err := os.RemoveAll(dataDir); err != nil {
		b.Fatal(err)
	}
	b.StartTimer()
	return sm.Loaded
}

// BenchmarkIngestVsDuckDB times earlyhelp's attendance ingest and DuckDB's
// CSV-to-Parquet on the same extracts, one after the other in each
// iteration (issue 25: ingest ≥ 2.5 × DuckDB). It runs where a DuckDB
// CLI is: EARLYHELP_DUCKDB names it (default: duckdb on the PATH; any
// program taking -c SQL will do, such as testdata/duckdb/duckdb-c.mjs over
// npm's @duckdb/node-api). EARLYHELP_BENCH_CHILDREN sizes the council
// (default 12,000). It reports both times and duckdb_over_earlyhelp, the
// ratio of DuckDB's time to earlyhelp's.
func BenchmarkIngestVsDuckDB(b *testing.B) {
	duck := os.Getenv("EARLYHELP_DUCKDB")
	if duck == "" {
		if path, err := exec.LookPath("duckdb"); err == nil {
			duck = path
		}
	}
	if duck == "" {
		b.Skip("no DuckDB CLI: install duckdb, or set EARLYHELP_DUCKDB to a program taking -c SQL")
	}
	children := 12_000
	if v := os.Getenv("EARLYHELP_BENCH_CHILDREN"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 100 {
			b.Fatalf("EARLYHELP_BENCH_CHILDREN=%q: want a number of children, at least 100", v)
		}
		children = n
	}
	root, incoming, wantRows, p := attendanceCouncil(b, children)
	var ours, theirs time.Duration
	iter := 0
	for b.Loop() {
		iter++
		start := time.Now()
		ingestAttendance(b, incoming, filepath.Join(root, "data"+strconv.Itoa(iter)), p, wantRows)
		ours += time.Since(start)
		out := filepath.Join(root, "duck"+strconv.Itoa(iter)+".parquet")
		sql := fmt.Sprintf("COPY (SELECT * FROM read_csv('%s', header = true)) TO '%s' (FORMAT parquet)",
			filepath.Join(incoming, "*.csv"), out)
		start = time.Now()
		if msg, err := exec.Command(duck, "-c", sql).CombinedOutput(); err != nil {
			b.Fatalf("%s: %v: %s", duck, err, msg)
		}
		theirs += time.Since(start)
		b.StopTimer()
		os.Remove(out)
		b.StartTimer()
	}
	n := float64(iter)
	b.ReportMetric(ours.Seconds()/n, "earlyhelp_s")
	b.ReportMetric(theirs.Seconds()/n, "duckdb_s")
	b.ReportMetric(theirs.Seconds()/ours.Seconds(), "duckdb_over_earlyhelp")
	b.ReportMetric(float64(wantRows), "rows/op")
}

// concatCSV writes the CSV files of dir, in name order, as one file in a
// new folder out, keeping the first file's header only, and returns out.
func concatCSV(dir, out string) (string, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.csv"))
	if err != nil || len(names) == 0 {
		return "", fmt.Errorf("no CSV files in %s: %v", dir, err)
	}
	sort.Strings(names)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", err
	}
	f, err := os.Create(filepath.Join(out, "attendance_all.csv"))
	if err != nil {
		return "", err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for i, name := range names {
		in, err := os.Open(name)
		if err != nil {
			f.Close()
			return "", err
		}
		r := bufio.NewReaderSize(in, 1<<20)
		header, err := r.ReadString('\n')
		if err == nil && i == 0 {
			_, err = w.WriteString(header)
		}
		if err == nil {
			_, err = io.Copy(w, r)
		}
		in.Close()
		if err != nil {
			f.Close()
			return "", err
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return "", err
	}
	return out, f.Close()
}

// resetPeakRSS starts VmHWM afresh from the current resident set (Linux
// 4.0 and later); where it cannot, peak_MiB includes what came before.
func resetPeakRSS(b *testing.B) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Logf("peak RSS not reset: %v", err)
	}
}

// cpuTime is the process's user and system CPU time so far, as bench
// reads it.
func cpuTime(b *testing.B) time.Duration {
	cpu, ok := processCPU()
	if !ok {
		b.Fatal("getrusage: the process's CPU time is not known")
	}
	return cpu
}

// peakRSS reads the process's peak resident set size from /proc.
func peakRSS(b *testing.B) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Skipf("no /proc/self/status: %v", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				b.Fatalf("VmHWM %q: %v", rest, err)
			}
			return kb << 10
		}
	}
	b.Fatal("no VmHWM in /proc/self/status")
	return 0
}
