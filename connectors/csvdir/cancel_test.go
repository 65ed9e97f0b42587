package csvdir

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/connectors"
)

// stopSink fails or cancels on the first record emitted.
type stopSink struct {
	*fakeSink
	cancel  context.CancelFunc // when set, cancel instead of failing
	emitted int
}

func (s *stopSink) Emit(rec arrow.Record) error {
	s.emitted++
	if s.cancel != nil {
		s.cancel()
		return nil
	}
	return errors.New("sink full")
}

// TestReadStopsMidFile stops a read part-way through a file several chunks
// long, by a cancelled context, a sink error and a broken line, and checks
// that the reading goroutine is gone and every Arrow buffer released.
func TestReadStopsMidFile(t *testing.T) {
	const rows = 5 * connectors.BatchRows
	var b strings.Builder
	b.WriteString("school_urn,upn,session_date,session,attendance_code\n")
	for i := range rows {
		fmt.Fprintf(&b, "100002,E801200005003,2025-01-%02d,AM,/\n", 13+i%5)
	}
	good := b.String()
	tests := []struct {
		name    string
		content string
		cancel  bool
		wantErr string
		wantIs  error
	}{
		{"cancelled", good, true, "", context.Canceled},
		{"sink error", good, false, "sink full", nil},
		// The break comes after more rows than the row loader buffers
		// ahead of its checkers, so the cancel is seen first.
		{"broken line", good + good + "100002,\"E80120000\"5003,2025-01-13,AM,/\n" + good, true, "", context.Canceled},
		{"broken line before the first batch", good[:len(good)/20] + "1,\"x\"y,2,3,4\n" + good, false,
			fmt.Sprintf(`line %d: extraneous or missing " in quoted-field`, strings.Count(good[:len(good)/20], "\n")+1), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "attendance_x.csv"), []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			before := runtime.NumGoroutine()
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			spec, _ := connectors.Lookup(connectors.AttendanceSessions)
			p, _ := connectors.NewPseudonymiser(testKey)
			src, err := New(Config{Path: dir}, spec, p)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			sink := &stopSink{fakeSink: newFakeSink()}
			if tc.cancel {
				sink.cancel = cancel
			}
			err = src.Read(ctx, mem, sink)
			switch {
			case tc.wantIs != nil && !errors.Is(err, tc.wantIs):
				t.Errorf("error: got %v; want %v", err, tc.wantIs)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("error: got %v; want one containing %q", err, tc.wantErr)
			}
			if len(sink.ended) != 0 {
				t.Error("End called for a stopped file")
			}
			mem.AssertSize(t, 0)
			deadline := time.Now().Add(2 * time.Second)
			for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			if got := runtime.NumGoroutine(); got > before {
				t.Errorf("goroutines: got %d after Read; want %d as before", got, before)
			}
		})
	}
}
