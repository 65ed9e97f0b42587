package assets

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHandler(t *testing.T) {
	tests := []struct {
		path        string
		status      int
		contentType string   // required prefix; "" means not checked
		contains    []string // substrings the body must contain
		excludes    []string // substrings the body must not contain
	}{
		{
			path:        "/assets/app.css",
			status:      http.StatusOK,
			contentType: "text/css",
			contains:    []string{"system-ui", ".eh-timeline", ".eh-band--very-high", ".eh-band--high", ".eh-band--raised", "@media print"},
			excludes:    []string{"GDS Transport", "gds-transport", "@font-face", "/fonts/"},
		},
		{
			path:        "/assets/init.js",
			status:      http.StatusOK,
			contentType: "text/javascript",
			contains:    []string{`import { initAll } from "./govuk-frontend.min.js"`, "govuk-frontend-supported", "initAll()"},
		},
		{
			path:        "/assets/govuk-frontend.min.js",
			status:      http.StatusOK,
			contentType: "text/javascript",
			contains:    []string{"initAll"},
		},
		{
			path:        "/assets/LICENSE-govuk-frontend.txt",
			status:      http.StatusOK,
			contentType: "text/plain",
			contains:    []string{"MIT"},
		},
		{path: "/assets/missing.css", status: http.StatusNotFound},
		{path: "/assets/images/govuk-crest.svg", status: http.StatusNotFound},
		{path: "/assets/fonts/bold-b542beb274-v2.woff2", status: http.StatusNotFound},
	}

	h := Handler()
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tt.path, nil))
			res := rec.Result()
			body, err := io.ReadAll(res.Body)
			if err != nil {
				t.Fatal(err)
			}

			if res.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d", res.StatusCode, tt.status)
			}
			if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
			}
			if tt.status != http.StatusOK {
				return
			}
			if got := res.Header.Get("Cache-Control"); got != "public, max-age=86400" {
				t.Errorf("Cache-Control = %q, want %q", got, "public, max-age=86400")
			}
			if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, tt.contentType) {
				t.Errorf("Content-Type = %q, want prefix %q", ct, tt.contentType)
			}
			for _, s := range tt.contains {
				if !strings.Contains(string(body), s) {
					t.Errorf("body does not contain %q", s)
				}
			}
			for _, s := range tt.excludes {
				if strings.Contains(string(body), s) {
					t.Errorf("body contains %q", s)
				}
			}
		})
	}
}
