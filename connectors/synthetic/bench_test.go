package synthetic

import (
	"context"
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
