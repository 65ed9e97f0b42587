package synthetic

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	"earlyhelp/connectors"
)

// BenchmarkGenerate times the demo council (20,000 children, 104 weeks) and
// reports attendance rows written per second.
func BenchmarkGenerate(b *testing.B) {
	cfg := Config{Out: b.TempDir()}
	var rows int64
	for b.Loop() {
		s, err := Generate(context.Background(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		rows += s.Rows[connectors.AttendanceSessions]
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "attendance_rows/s")
}

// BenchmarkGenerateLarge generates a 300,000-child council over 104 weeks
// and reports attendance rows written per second and the peak resident
// memory of the process (VmHWM). Targets: ≥ 1.5 million rows/s, ≤ 2 GiB.
func BenchmarkGenerateLarge(b *testing.B) {
	cfg := Config{Out: b.TempDir(), Children: 300_000, Weeks: 104}
	var rows int64
	for b.Loop() {
		s, err := Generate(context.Background(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		rows += s.Rows[connectors.AttendanceSessions]
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(peakRSS(b))/(1<<20), "peak_MiB")
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
