package review

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
)

// countingReader is an endless body that counts what is read of it.
type countingReader struct{ n atomic.Int64 }

func (c *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	c.n.Add(int64(len(p)))
	return len(p), nil
}

// TestBodyLimits: a POST's body is read up to the form limit and no
// further, and only urlencoded forms are read at all.
func TestBodyLimits(t *testing.T) {
	dataDir, uf := fixture(t)
	h := newHarness(t, dataDir, uf)
	const big = 40 << 20
	for _, tc := range []struct {
		name          string
		path          string
		contentType   string
		contentLength int64 // -1: not declared, as with chunked encoding
		want          int
	}{
		{"login, 40 MB undeclared", "/login", "application/x-www-form-urlencoded", -1, http.StatusRequestEntityTooLarge},
		{"login, 40 MB declared", "/login", "application/x-www-form-urlencoded", big, http.StatusRequestEntityTooLarge},
		{"decision, 40 MB undeclared", "/family/HH-1001/decision", "application/x-www-form-urlencoded", -1, http.StatusRequestEntityTooLarge},
		{"login, multipart", "/login", "multipart/form-data; boundary=x", big, http.StatusUnsupportedMediaType},
		{"decision, multipart", "/family/HH-1001/decision", "multipart/form-data; boundary=x", -1, http.StatusUnsupportedMediaType},
		{"logout, JSON", "/logout", "application/json", -1, http.StatusUnsupportedMediaType},
		{"login, no type", "/login", "", -1, http.StatusUnsupportedMediaType},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := &countingReader{}
			req := httptest.NewRequest(http.MethodPost, tc.path, io.LimitReader(body, big))
			req.ContentLength = tc.contentLength
			// With a sign-in form's cookie the handler reaches the form.
			req.AddCookie(&http.Cookie{Name: loginCookie, Value: "token"})
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			rec := httptest.NewRecorder()
			h.site.ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Errorf("got %d; want %d", rec.Code, tc.want)
			}
			if n := body.n.Load(); n > 1<<20 {
				t.Errorf("read %d bytes of the body; want well under 1 MB", n)
			}
		})
	}
	// Over a real connection too: the client is answered, not left
	// sending 40 MB.
	resp, err := http.Post(h.srv.URL+"/login", "application/x-www-form-urlencoded", io.LimitReader(&countingReader{}, big))
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("40 MB POST over HTTP: %d; want 413", resp.StatusCode)
		}
	}
	// A form of ordinary size still works.
	c := client(t)
	_, page, _ := get(t, c, h.srv.URL+"/login")
	form := url.Values{"username": {"nav"}, "password": {password}, "csrf_token": {csrf(t, page)}}
	if code, _, _ := post(t, c, h.srv.URL+"/login", form); code != http.StatusSeeOther {
		t.Errorf("ordinary sign-in: %d", code)
	}
	if strings.Contains(page, `enctype="multipart`) {
		t.Error("the login form is multipart, which the site refuses")
	}
}
