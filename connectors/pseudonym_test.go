package connectors

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var testKey = []byte("0123456789abcdef")

func TestPseudonym(t *testing.T) {
	p, err := NewPseudonymiser(testKey)
	if err != nil {
		t.Fatal(err)
	}
	// Expected values from Python's hmac module over the same inputs.
	tests := []struct {
		name, ns, value, want string
	}{
		{"upn", NSUPN, "B801200005001", "4ed4cd7d5e68bd20313c"},
		{"person", NSPerson, "P000123", "fe3c409f9054224ddc2f"},
		{"empty stays empty", NSPerson, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for i := 0; i < 2; i++ { // the second call is served from the memo
				if got := p.Pseudonym(tc.ns, tc.value); got != tc.want {
					t.Errorf("call %d: Pseudonym(%q, %q) = %q; want %q", i, tc.ns, tc.value, got, tc.want)
				}
			}
		})
	}
	if a, b := p.Pseudonym(NSUPRN, "100023336956"), p.Pseudonym(NSCaseRef, "100023336956"); a == b {
		t.Errorf("same value in two namespaces gave one pseudonym %q", a)
	}
	if got, want := p.Clone().Pseudonym(NSUPN, "B801200005001"), "4ed4cd7d5e68bd20313c"; got != want {
		t.Errorf("clone: got %q; want %q", got, want)
	}
}

func TestPseudonymMemoBounded(t *testing.T) {
	p, err := NewPseudonymiser(testKey)
	if err != nil {
		t.Fatal(err)
	}
	m := make(map[string]string)
	p.memo[NSPerson] = m
	for i := 0; i < memoLimit; i++ {
		m[strconv.Itoa(i)] = "" // fill to the limit cheaply
	}
	got := p.Pseudonym(NSPerson, "P000123")
	if got != "fe3c409f9054224ddc2f" {
		t.Errorf("past the limit: got %q", got)
	}
	if len(m) != memoLimit {
		t.Errorf("memo grew past its limit: %d entries", len(m))
	}
}

func TestNewPseudonymiserShortKey(t *testing.T) {
	if _, err := NewPseudonymiser([]byte("short")); err == nil {
		t.Error("5-byte key accepted; want an error")
	}
}

func TestLoadKey(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	tests := []struct {
		name    string
		path    string
		want    string // key bytes
		wantErr bool
	}{
		{"hex with newline", write("hex", "30313233343536373839616263646566\n"), "0123456789abcdef", false},
		{"raw", write("raw", "  a raw key of some length \n"), "a raw key of some length", false},
		{"too short", write("short", "deadbeef"), "", true},
		{"empty", write("empty", "\n"), "", true},
		{"missing", filepath.Join(dir, "nope"), "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LoadKey(tc.path)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("LoadKey = %q; want an error", got)
				}
				if !strings.Contains(err.Error(), tc.path) {
					t.Errorf("error %q does not name the path", err)
				}
				if strings.Contains(err.Error(), "deadbeef") {
					t.Errorf("error %q prints the key", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got %q; want %q", got, tc.want)
			}
		})
	}
}

func TestNormaliseID(t *testing.T) {
	tests := []struct {
		ns, raw, want string
	}{
		{NSUPN, " b801-2000 05001 ", "B801200005001"},
		{NSNHS, "943 476 5919", "9434765919"},
		{NSUPRN, "100023336956.0", "100023336956"},
		{NSUPRN, "000100023336", "100023336"},
		{NSUPRN, "1.00023E+11", "1.00023E+11"},
		{NSUPRN, "000", "0"},
		{NSPerson, "  P1 ", "P1"},
	}
	for _, tc := range tests {
		if got := NormaliseID(tc.ns, tc.raw); got != tc.want {
			t.Errorf("NormaliseID(%q, %q) = %q; want %q", tc.ns, tc.raw, got, tc.want)
		}
	}
}

func TestCheckUPRN(t *testing.T) {
	for s, want := range map[string]bool{
		"1": true, "100023336956": true, "0": false, "": false,
		"1234567890123": false, "1.00023E+11": false, "-1": false,
	} {
		if got := CheckUPRN(s); got != want {
			t.Errorf("CheckUPRN(%q) = %v; want %v", s, got, want)
		}
	}
}

func BenchmarkPseudonymMemo(b *testing.B) {
	p, _ := NewPseudonymiser(testKey)
	for i := 0; i < b.N; i++ {
		p.Pseudonym(NSUPN, "B801200005001")
	}
}
