package attendance

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/features"
	ft "earlyhelp/features/featurestest"
)

// TestNumberedSameAsLookedUp: a build that finds children by their
// number in the roster (Builder.pupilNumbers) fills every feature of every
// household as looking up each child's UPN pseudonym does, children
// without a UPN, and with one the attendance never names, included.
func TestNumberedSameAsLookedUp(t *testing.T) {
	mem := memory.NewGoAllocator()
	weeks, delivered := weeklyDeliveries(mem)
	marks := delivered[len(delivered)-1]
	var persons []ft.Person
	var spells []ft.Spell
	for n := range 70 { // u-060 to u-069 have no marks
		p := ft.Person{ID: fmt.Sprintf("p-%03d", n), UPN: fmt.Sprintf("u-%03d", n), DOB: "2014-02-01"}
		if n%9 == 4 {
			p.UPN = ""
		}
		persons = append(persons, p)
		spells = append(spells, ft.Spell{Household: fmt.Sprintf("h-%02d", n/3), Person: p.ID, Role: "child", LSOA: "E01000001", Locality: "North", From: "2014-02-01"})
	}
	tb := ft.Tables{
		"persons":             {ft.Persons(mem, persons...)},
		"households":          {ft.Households(mem, spells...)},
		"attendance_sessions": marks,
	}
	roster, err := features.LoadRoster(context.Background(), mem, tb)
	if err != nil {
		t.Fatal(err)
	}
	b := New(tb, mem)
	for _, asOf := range []time.Time{weeks[40], weeks[len(weeks)-1]} {
		l := roster.Link(asOf)
		if len(l.Households) != 24 {
			t.Fatalf("%d households linked; want 24", len(l.Households))
		}
		for _, h := range l.Households {
			for k, c := range h.Children {
				if got := roster.UPNOf(h.MemberIndices()[k]); got != c.UPN {
					t.Fatalf("UPNOf child %s = %q; want %q", c.Person, got, c.UPN)
				}
			}
		}
		got := newCols(len(l.Households))
		if err := b.Build(context.Background(), l, got); err != nil {
			t.Fatal(err)
		}
		idx, err := b.indexFor(context.Background(), l.Day)
		if err != nil {
			t.Fatal(err)
		}
		if b.numbers.idx != idx || b.numbers.roster != roster {
			t.Fatal("the build did not number the roster's people")
		}
		want := newCols(len(l.Households))
		cutoff := uint32(asOf.Unix() - stampEpoch)
		fill(idx, nil, l, want, cutoff, 0, len(l.Households))
		filled := 0
		for j := range got {
			for i := range got[j] {
				if got[j][i] != want[j][i] && !(math.IsNaN(got[j][i]) && math.IsNaN(want[j][i])) {
					t.Fatalf("%s: column %s household %s: %v numbered, %v looked up", asOf.Format(time.DateOnly), columns[j], l.Households[i].ID, got[j][i], want[j][i])
				}
				if got[j][i] != 0 {
					filled++
				}
			}
		}
		if filled == 0 {
			t.Fatalf("%s: no feature filled", asOf.Format(time.DateOnly))
		}
	}
}

func newCols(n int) [][]float64 {
	cols := make([][]float64, len(columns))
	for j := range cols {
		cols[j] = make([]float64, n)
	}
	return cols
}
