package rank

import (
	"earlyhelp/pipeline"
	"earlyhelp/pipeline/rundir"
	"encoding/csv"
	"fmt"
	"os"
	"reflect"
	"slices"
	"testing"
)

func TestDrawMargin(t *testing.T) {
	asOf := day("2026-11-23")
	tests := []struct {
		name             string
		n, k, m          int
		wantAlways       []int
		wantPool         int // len(Offered)+len(NotOffered)
		wantListed       int
		wantOfferedCount int
	}{
		{"full pool", 100, 10, 3, []int{0, 1, 2, 3, 4, 5, 6}, 6, 10, 3},
		{"pool cut by the eligible households", 11, 10, 3, []int{0, 1, 2, 3, 4, 5, 6}, 4, 10, 3},
		{"everyone fits: no lottery", 10, 10, 3, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 0, 10, 0},
		{"fewer than capacity: no lottery", 4, 10, 3, []int{0, 1, 2, 3}, 0, 4, 0},
		{"margin one", 50, 2, 1, []int{0}, 2, 2, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := DrawMargin(tc.n, tc.k, tc.m, 42, asOf)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(d.Always, tc.wantAlways) {
				t.Errorf("always %v; want %v", d.Always, tc.wantAlways)
			}
			if got := len(d.Offered) + len(d.NotOffered); got != tc.wantPool {
				t.Errorf("pool of %d; want %d", got, tc.wantPool)
			}
			if got := len(d.Always) + len(d.Offered); got != tc.wantListed {
				t.Errorf("%d listed; want %d", got, tc.wantListed)
			}
			if len(d.Offered) != tc.wantOfferedCount {
				t.Errorf("%d offered; want %d", len(d.Offered), tc.wantOfferedCount)
			}
			// The pool is exactly the ranks K−m+1 … K+m that exist.
			pool := append(slices.Clone(d.Offered), d.NotOffered...)
			slices.Sort(pool)
			for i, p := range pool {
				if p != tc.k-tc.m+i {
					t.Fatalf("pool %v; want positions from %d", pool, tc.k-tc.m)
				}
			}
			again, _ := DrawMargin(tc.n, tc.k, tc.m, 42, asOf)
			if !reflect.DeepEqual(d, again) {
				t.Errorf("same seed and week drew %v then %v", d, again)
			}
		})
	}
	for _, bad := range [][3]int{{10, 5, 0}, {10, 5, 5}, {10, 0, 0}, {-1, 5, 2}} {
		if _, err := DrawMargin(bad[0], bad[1], bad[2], 1, asOf); err == nil {
			t.Errorf("DrawMargin(%v) gave no error", bad)
		}
	}
}

// TestDrawMarginUniform: over many weeks every household of the pool is
// offered about half the time, and the draws differ from week to week and
// seed to seed.
func TestDrawMarginUniform(t *testing.T) {
	const n, k, m, weeks = 40, 10, 4, 4000
	counts := map[int]int{}
	distinct := map[string]bool{}
	start := day("2020-01-06")
	for w := range weeks {
		d, err := DrawMargin(n, k, m, 7, start.AddDate(0, 0, 7*w))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range d.Offered {
			counts[p]++
		}
		distinct[fmt.Sprint(d.Offered)] = true
	}
	// C(8,4) = 70 subsets; 4000 draws should see them all.
	if len(distinct) != 70 {
		t.Errorf("%d distinct offered sets; want all 70", len(distinct))
	}
	for p := k - m; p < k+m; p++ {
		share := float64(counts[p]) / weeks
		if share < 0.46 || share > 0.54 { // 5 standard errors of 0.0079
			t.Errorf("position %d offered in %.3f of weeks; want about 0.5", p, share)
		}
	}
	a, _ := DrawMargin(n, k, m, 7, start)
	b, _ := DrawMargin(n, k, m, 8, start)
	c, _ := DrawMargin(n, k, m, 8, start)
	if !reflect.DeepEqual(b, c) {
		t.Error("one seed drew two lists")
	}
	same := 0
	for s := int64(0); s < 50; s++ {
		x, _ := DrawMargin(n, k, m, s, start)
		if reflect.DeepEqual(x, a) {
			same++
		}
	}
	if same > 5 {
		t.Errorf("%d of 50 seeds drew seed 7's list", same)
	}
}

// TestDrawListWithRules: the lottery runs over what the list rules would
// list, after cool-off and quotas, lists exactly the capacity, and leaves
// the households above the margin as the rules without a lottery list them.
func TestDrawListWithRules(t *testing.T) {
	asOf := day("2026-11-23")
	var hh, locs []string
	for i := range 30 {
		hh = append(hh, fmt.Sprintf("h%02d", i))
		locs = append(locs, []string{"north", "south"}[i%2])
	}
	// h01 and h04 are cooling off after a decision last week.
	decisions := map[string]pipeline.Decision{"h01": {Decision: "offer_made", At: asOf.AddDate(0, 0, -7)}, "h04": {Decision: "not_appropriate", At: asOf.AddDate(0, 0, -3)}}
	plain := pipeline.ListRules{Capacity: 8, CooloffWeeks: 12, KeepMargin: 1}
	base, _ := selectList(plain, hh, locs, nil, decisions, asOf, nil)
	lr := plain
	lr.Lottery = &pipeline.Lottery{Margin: 3, Seed: 99}
	sel, _ := selectList(lr, hh, locs, nil, decisions, asOf, nil)
	if len(sel) != 11 {
		t.Fatalf("rules chose %d for the draw; want capacity + margin = 11", len(sel))
	}
	out, alloc, err := drawList(lr, sel, hh, asOf)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 8 {
		t.Fatalf("%d listed; want the capacity 8", len(out))
	}
	names := func(ls []listed) []string {
		var s []string
		for _, l := range ls {
			s = append(s, hh[l.pos])
		}
		return s
	}
	always := names(base[:5])
	if got := names(out); !containsAll(got, always) {
		t.Errorf("listed %v; the households above the margin %v must all be", got, always)
	}
	if len(alloc) != 6 {
		t.Fatalf("%d allocated; want 2m = 6", len(alloc))
	}
	arms := map[string]int{}
	for _, a := range alloc {
		arms[a.Arm]++
		if a.Household == "h01" || a.Household == "h04" {
			t.Errorf("cooling-off household %s entered the lottery", a.Household)
		}
		if slices.Contains(always, a.Household) {
			t.Errorf("household %s above the margin entered the lottery", a.Household)
		}
		if hh[a.Rank-1] != a.Household {
			t.Errorf("allocation rank %d is %s, not %s", a.Rank, hh[a.Rank-1], a.Household)
		}
		if a.Arm == pipeline.ArmOffered != slices.Contains(names(out), a.Household) {
			t.Errorf("household %s: arm %s disagrees with the list", a.Household, a.Arm)
		}
	}
	if arms[pipeline.ArmOffered] != 3 || arms[pipeline.ArmNotOffered] != 3 {
		t.Errorf("arms %v; want 3 and 3", arms)
	}
	// Without a lottery drawList changes nothing.
	same, none, err := drawList(plain, base, hh, asOf)
	if err != nil || !reflect.DeepEqual(same, base) || none != nil {
		t.Errorf("drawList without a lottery changed the list: %v %v %v", same, none, err)
	}

	dir := t.TempDir()
	if err := writeAllocation(dir, "20261123T060000Z", asOf, lr.Lottery, alloc); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(rundir.Open(dir).AllocationCSV())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rows[0], pipeline.AllocationColumns()) || len(rows) != 7 {
		t.Fatalf("allocation file: %v", rows)
	}
	if rows[1][2] != alloc[0].Household || rows[1][4] != alloc[0].Arm || rows[1][6] != "99" {
		t.Errorf("first row %v; want %v", rows[1], alloc[0])
	}
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}
