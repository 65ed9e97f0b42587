package main

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/rs/zerolog"

	"earlyhelp/connectors"
	"earlyhelp/connectors/csvdir"
	"earlyhelp/connectors/synthetic"
	"earlyhelp/pipeline"
	"earlyhelp/pipeline/store"
)

// BenchmarkIngestAttendance times the nightly ingest of attendance extracts
// end to end (CSV read, parse, validate, pseudonymise, Arrow IPC write) and
// reports rows/s and the process's peak resident memory while ingesting.
// The second council is twice the first, so its monthly files are twice
// the size: peak_MiB should stay about the same (issue 4: ≥ 2 million
// rows/s, peak memory independent of file size).
func BenchmarkIngestAttendance(b *testing.B) {
	for _, children := range []int{6_000, 12_000} {
		b.Run("children="+strconv.Itoa(children), func(b *testing.B) {
			benchIngest(b, children)
		})
	}
}

func benchIngest(b *testing.B, children int) {
	root := b.TempDir()
	sum, err := synthetic.Generate(context.Background(), synthetic.Config{
		Out: filepath.Join(root, "council"), Children: children, Weeks: 104, Defects: synthetic.DefectsNone,
	})
	if err != nil {
		b.Fatal(err)
	}
	wantRows := sum.Rows[connectors.AttendanceSessions]
	incoming := filepath.Join(root, "council", "incoming", connectors.AttendanceSessions)
	spec, err := connectors.Lookup(connectors.AttendanceSessions)
	if err != nil {
		b.Fatal(err)
	}
	p, err := connectors.NewPseudonymiser([]byte("benchmark-pseudonym-key-32-bytes"))
	if err != nil {
		b.Fatal(err)
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
		dataDir := filepath.Join(root, "data"+strconv.Itoa(iter))
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
			Sources:    []pipeline.SourceSpec{{Name: spec.Name, Columns: spec.ColumnNames(), Source: src}},
			Store:      st,
			Mem:        memory.DefaultAllocator,
			Log:        zerolog.Nop(),
			IngestOnly: true, MaxQuarantineRatio: 0.05,
		})
		if err != nil {
			b.Fatal(err)
		}
		sm := man.Sources[spec.Name]
		if sm.Read != wantRows || sm.Loaded != wantRows {
			b.Fatalf("read %d, loaded %d rows; want %d", sm.Read, sm.Loaded, wantRows)
		}
		rows += sm.Loaded
		b.StopTimer()
		if err := os.RemoveAll(dataDir); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	// CPU per row is the figure to compare when the machine is shared: it
	// moves little with other load, where rows/s does.
	b.ReportMetric(float64((cpuTime(b)-cpu0).Nanoseconds())/float64(rows), "cpu_ns/row")
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(peakRSS(b))/(1<<20), "peak_MiB")
	b.ReportMetric(float64(wantRows), "rows/op")
}

// resetPeakRSS starts VmHWM afresh from the current resident set (Linux
// 4.0 and later); where it cannot, peak_MiB includes what came before.
func resetPeakRSS(b *testing.B) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Logf("peak RSS not reset: %v", err)
	}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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
