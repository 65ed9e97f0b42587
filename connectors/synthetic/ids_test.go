package synthetic

import (
	"strconv"
	"strings"
	"testing"

	"earlyhelp/connectors"
)

func TestNHSNumbers(t *testing.T) {
	var a nhsNumbers
	seen := make(map[string]bool)
	for i := range 1_000_000 {
		n := strconv.FormatInt(a.next(), 10)
		if err := connectors.CheckNHS(n); err != nil {
			t.Fatalf("number %d: %q: %v", i, n, err)
		}
		if i < 900_000 && !strings.HasPrefix(n, "999") {
			t.Fatalf("number %d: %q is outside the 999 test range", i, n)
		}
		if seen[n] {
			t.Fatalf("number %d: %q handed out twice", i, n)
		}
		seen[n] = true
	}
}

func TestUPN(t *testing.T) {
	// Vectors from domain-data §1.7.
	tests := []struct {
		name                    string
		la, estab, year, serial int
		want                    string // "" when an error is expected
	}{
		{"B801200005001", 801, 2000, 2005, 1, "B801200005001"},
		{"G938201500123", 938, 2015, 2000, 123, "G938201500123"},
		{"R201200400017", 201, 2004, 2000, 17, "R201200400017"},
		{"serial too large", 873, 2001, 2020, 1000, ""},
		{"establishment too short", 873, 999, 2020, 1, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := upn(tc.la, tc.estab, tc.year, tc.serial)
			if tc.want == "" {
				if err == nil {
					t.Errorf("upn = %q; want an error", got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("upn = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestScramblesAreUnique(t *testing.T) {
	tests := []struct {
		name string
		n    int
		code func(int) string
	}{
		{"lsoa", 35000, lsoaCode},
		{"urn", 50000, func(i int) string { return strconv.Itoa(schoolURN(i)) }},
		{"uprn", 1_000_000, func(i int) string { return strconv.FormatInt(uprn(i), 10) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			seen := make(map[string]bool, tc.n)
			for i := range tc.n {
				c := tc.code(i)
				if seen[c] {
					t.Fatalf("code %d: %q repeats", i, c)
				}
				seen[c] = true
			}
		})
	}
}
