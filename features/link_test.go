package features_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/features"
	ft "earlyhelp/features/featurestest"
)

// TestLinkMatchesSpellScan checks Link, which works from numbers and
// groupings made once per roster, against the spell-by-spell scan it
// replaced, on a random roster full of awkward cases: overlapping and
// redelivered spells, children of one household in different areas, people
// missing from the register or born after the date, adults in households
// with no child, and pseudonyms whose order is not the register's.
func TestLinkMatchesSpellScan(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	tb := randomRoster(mem, rand.New(rand.NewPCG(1, 2)))
	defer tb.Release()
	r, err := features.LoadRoster(context.Background(), mem, tb)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := features.LoadRawRoster(context.Background(), mem, tb, "")
	if err != nil {
		t.Fatal(err)
	}
	for day := time.Date(2014, 6, 1, 0, 0, 0, 0, time.UTC); day.Year() < 2026; day = day.AddDate(0, 0, 53) {
		got, want := r.Link(day), features.ScanLink(raw, day)
		if len(got.Households) != len(want) {
			t.Fatalf("%s: %d households; want %d", day.Format(time.DateOnly), len(got.Households), len(want))
		}
		for i := range want {
			g, w := got.Households[i], want[i]
			if g.ID != w.ID || g.LSOA != w.LSOA || g.Locality != w.Locality ||
				!reflect.DeepEqual(g.Children, w.Children) || !reflect.DeepEqual(g.Adults, w.Adults) {
				t.Fatalf("%s household %d = %+v; want %+v", day.Format(time.DateOnly), i, g, w)
			}
			if d := raw.DecileOf(g.LSOA); got.IMDDecile(&g) != d {
				t.Errorf("%s %s: decile %d; want %d", day.Format(time.DateOnly), g.ID, got.IMDDecile(&g), d)
			}
			for k, m := range g.Members() {
				if p, _ := r.IndexOf(m); g.MemberIndices()[k] != p {
					t.Fatalf("%s %s: member %d is %s, numbered %d; want %d", day.Format(time.DateOnly), g.ID, k, m, g.MemberIndices()[k], p)
				}
			}
			if len(g.MemberIndices()) != len(g.Members()) {
				t.Fatalf("%s %s: %d member numbers for %d members", day.Format(time.DateOnly), g.ID, len(g.MemberIndices()), len(g.Members()))
			}
		}
	}
}

// randomRoster is a few hundred people in a few dozen households, their
// spells delivered in two records so later deliveries replace earlier ones.
func randomRoster(mem memory.Allocator, rng *rand.Rand) ft.Tables {
	date := func(y0, y1 int) string {
		return time.Date(y0+rng.IntN(y1-y0), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
	}
	var persons []ft.Person
	var spells [2][]ft.Spell
	areas := []string{"E01000001", "E01000002", "E01000003", "E01999999"} // the last has no decile
	for i := range 400 {
		// Random pseudonyms, so their order is not the register's.
		id := fmt.Sprintf("p%04x", rng.IntN(1<<16)) + fmt.Sprint(i)
		child := rng.IntN(3) > 0
		dob := date(1970, 1995)
		if child {
			dob = date(2008, 2026)
		}
		if rng.IntN(20) > 0 { // some people are missing from the register
			persons = append(persons, ft.Person{ID: id, UPN: "u" + id, DOB: dob})
		}
		role := "parent"
		if child {
			role = "child"
		}
		for range 1 + rng.IntN(3) {
			from, to := date(2010, 2026), ""
			if rng.IntN(2) == 0 {
				to = date(2010, 2026)
			}
			s := ft.Spell{
				Household: fmt.Sprintf("h%02d", rng.IntN(60)), Person: id, Role: role,
				LSOA: areas[rng.IntN(len(areas))], Locality: fmt.Sprint("L", rng.IntN(3)), From: from, To: to,
			}
			k := rng.IntN(2)
			spells[k] = append(spells[k], s)
			if rng.IntN(8) == 0 { // redelivered with a new end and area
				s.To, s.LSOA = date(2010, 2026), areas[rng.IntN(len(areas))]
				spells[1] = append(spells[1], s)
			}
		}
	}
	return ft.Tables{
		"persons":    {ft.Persons(mem, persons...)},
		"households": {ft.Households(mem, spells[0]...), ft.Households(mem, spells[1]...)},
		"deprivation": {ft.Deprivation(mem,
			ft.Area{LSOA: "E01000001", IMDDecile: 2}, ft.Area{LSOA: "E01000002", IMDDecile: 7}, ft.Area{LSOA: "E01000003", IMDDecile: 10})},
	}
}

// hinted is Tables with a size hint, right or wrong.
type hinted struct {
	ft.Tables
	rows int64
}

func (h hinted) LargestDelivery(string) int64 { return h.rows }

// TestRosterSizeHints: a roster read with its maps sized from a hint, too
// small, about right or far too large, is the roster read without one,
// and it links the same households.
func TestRosterSizeHints(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	tb := randomRoster(mem, rand.New(rand.NewPCG(3, 4)))
	defer tb.Release()
	want, err := features.LoadRoster(context.Background(), mem, tb)
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2020, 3, 2, 0, 0, 0, 0, time.UTC)
	for _, rows := range []int64{-5, 3, int64(tb["persons"][0].NumRows()), 1 << 18} {
		got, err := features.LoadRoster(context.Background(), mem, hinted{tb, rows})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("hint %d: the roster differs from one read without a hint", rows)
		}
		if g, w := got.Link(day), want.Link(day); len(g.Households) == 0 || !reflect.DeepEqual(g.Households, w.Households) {
			t.Errorf("hint %d: %d households linked; want the %d linked without a hint", rows, len(g.Households), len(w.Households))
		}
	}
}
