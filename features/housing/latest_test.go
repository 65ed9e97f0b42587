package housing

import (
	"context"
	"testing"

	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/features"
	ft "earlyhelp/features/featurestest"
)

// TestLatestBefore checks the binary search for a lead person's latest rent
// snapshot against the rule a build has always used: the latest dated
// before the day, and of several that day the first read, whatever order
// the extracts delivered them in.
func TestLatestBefore(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	tb := ft.Tables{"persons": {ft.Persons(mem, ft.Person{ID: "mum", DOB: "1990-01-01"}, ft.Person{ID: "other", DOB: "1991-01-01"})}}
	defer tb.Release()
	r, err := features.LoadRoster(context.Background(), mem, tb)
	if err != nil {
		t.Fatal(err)
	}
	mum, _ := r.IndexOf("mum")
	const d = features.Day(20000)
	tests := []struct {
		name string
		days []features.Day // snapshots of mum's in the order read
		want int            // index into days, -1 for none
	}{
		{"no snapshots", nil, -1},
		{"all on or after the day", []features.Day{d, d + 7}, -1},
		{"in date order", []features.Day{d - 14, d - 7, d}, 1},
		{"out of date order", []features.Day{d - 7, d + 7, d - 21, d - 14}, 0},
		{"two of the latest day: the first read", []features.Day{d - 14, d - 3, d - 21, d - 3}, 1},
		{"ties before the latest do not matter", []features.Day{d - 9, d - 9, d - 2, d - 9}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ss []snapshot
			for k, day := range tc.days {
				ss = append(ss, snapshot{day: day, balance: float64(k)})
			}
			b := &Builder{rent: map[string][]snapshot{"mum": ss, "other": {{day: d - 1, balance: -1}}, "ghost": {{day: d - 1}}}}
			got := b.number(r).latestBefore(mum, d)
			switch {
			case tc.want < 0 && got != nil:
				t.Errorf("latest is read %v; want none", got.balance)
			case tc.want >= 0 && got == nil:
				t.Errorf("no latest; want read %d", tc.want)
			case tc.want >= 0 && got.balance != float64(tc.want):
				t.Errorf("latest is read %v; want %d", got.balance, tc.want)
			}
		})
	}
}
