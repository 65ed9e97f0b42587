package features_test

import (
	"context"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/features"
	ft "earlyhelp/features/featurestest"
)

// TestIoDVintage: a deprivation source with IoD2019 and IoD2025 rows for
// the same LSOA gives the decile of the vintage asked for, and the newest
// when none is, whichever row came last; a vintage the source lacks is an
// error rather than a quiet fall back to another release.
func TestIoDVintage(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	tb := ft.Tables{"deprivation": {
		// The 2025 row first: under "last row wins" the 2019 decile stood.
		ft.Deprivation(mem,
			ft.Area{LSOA: "E01000001", IMDDecile: 8, Vintage: "IoD2025"},
			ft.Area{LSOA: "E01000002", IMDDecile: 5, Vintage: "IoD2025"}),
		ft.Deprivation(mem,
			ft.Area{LSOA: "E01000001", IMDDecile: 3, Vintage: "IoD2019"},
			ft.Area{LSOA: "E01000003", IMDDecile: 1, Vintage: "IoD2019"}),
	}}
	defer tb.Release()
	tests := []struct {
		want             string
		vintage          string
		decile1, decile3 int // of E01000001 and E01000003 (0: unknown)
		err              string
	}{
		{want: "", vintage: "IoD2025", decile1: 8, decile3: 0},
		{want: "IoD2025", vintage: "IoD2025", decile1: 8, decile3: 0},
		{want: "IoD2019", vintage: "IoD2019", decile1: 3, decile3: 1},
		{want: "IoD2015", err: "IoD2015"},
	}
	for _, tc := range tests {
		t.Run("want="+tc.want, func(t *testing.T) {
			r, err := features.LoadRosterVintage(context.Background(), mem, tb, tc.want)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "IoD2019, IoD2025") {
					t.Fatalf("got error %v; want one naming %s and the vintages held", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.IoDVintage() != tc.vintage {
				t.Errorf("vintage %q; want %q", r.IoDVintage(), tc.vintage)
			}
			raw, err := features.LoadRawRoster(context.Background(), mem, tb, tc.want)
			if err != nil {
				t.Fatal(err)
			}
			if d := raw.DecileOf("E01000001"); d != tc.decile1 {
				t.Errorf("E01000001 decile %d; want %d", d, tc.decile1)
			}
			if d := raw.DecileOf("E01000003"); d != tc.decile3 {
				t.Errorf("E01000003 decile %d; want %d", d, tc.decile3)
			}
		})
	}
}
