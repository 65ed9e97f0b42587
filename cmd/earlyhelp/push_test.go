package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// TestRunPushgateway runs `earlyhelp run --pushgateway` against a fake
// Pushgateway and checks what arrives: a POST to the council's group of job
// "earlyhelp" carrying the run's metrics, none with a job label of its own.
func TestRunPushgateway(t *testing.T) {
	cfg, asOf := tinyCouncil(t, "")
	var mu sync.Mutex
	var method, path, body string
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		method, path, body = r.Method, r.URL.EscapedPath(), string(b)
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	defer gw.Close()

	code, stdout, stderr := runCLI(t, "run", "--config", cfg.File(), "--as-of", asOf.Format("2006-01-02"), "--pushgateway", gw.URL)
	if code != 0 {
		t.Fatalf("run exit %d\n%s\n%s", code, stdout, stderr)
	}
	mu.Lock()
	defer mu.Unlock()
	// The client escapes the council name its own way; the Pushgateway
	// decodes it.
	wantPath := "/metrics/job/earlyhelp/council/"
	if method != http.MethodPost || !strings.HasPrefix(path, wantPath) {
		t.Errorf("push %s %s; want POST %s", method, path, wantPath)
	}
	// The body is protobuf-delimited; metric and label names appear as
	// plain strings in it.
	for _, want := range []string{"earlyhelp_last_success_timestamp_seconds", "earlyhelp_rows_loaded_total", "earlyhelp_run_total"} {
		if !strings.Contains(body, want) {
			t.Errorf("pushed body lacks %s", want)
		}
	}
	if strings.Contains(body, "\x03job") {
		t.Error("pushed body carries a job label; the Pushgateway rejects those")
	}
}
