package config

import (
	"strings"
	"testing"
)

// TestIodVintage: model.iod_vintage is read as the deprivation source
// spells its vintages, in either form, and a release the source cannot
// hold is refused with the key named.
func TestIodVintage(t *testing.T) {
	const base = "council: X\ndata_dir: ./var\nsources:\n  persons: {kind: csvdir, path: ./p}\n  csc_referrals: {kind: csvdir, path: ./c}\n  early_help_episodes: {kind: csvdir, path: ./e}\n  objections: {kind: csvdir, path: ./o}\nmodel:\n"
	tests := []struct {
		yaml, want, wantErr string
	}{
		{"  horizon_weeks: 26\n", "", ""},
		{"  iod_vintage: \"2019\"\n", "IoD2019", ""},
		{"  iod_vintage: 2025\n", "IoD2025", ""},
		{"  iod_vintage: IoD2019\n", "IoD2019", ""},
		{"  iod_vintage: iod2025\n", "IoD2025", ""},
		{"  iod_vintage: \"2015\"\n", "", "model.iod_vintage"},
		{"  iod_vintage: newest\n", "", "model.iod_vintage"},
	}
	for _, tc := range tests {
		t.Run(strings.TrimSpace(tc.yaml), func(t *testing.T) {
			c, err := Parse("c.yaml", []byte(base+tc.yaml))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got error %v; want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Model.IodVintage != tc.want {
				t.Errorf("iod_vintage %q; want %q", c.Model.IodVintage, tc.want)
			}
		})
	}
}
