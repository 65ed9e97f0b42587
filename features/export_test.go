package features

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/pipeline/cachefile"
)

// LoadRawRoster is LoadRosterVintage's roster before it is indexed, with
// the spells and deciles as read, for tests to check the index against.
func LoadRawRoster(ctx context.Context, mem memory.Allocator, t Tables, vintage string) (*Roster, error) {
	return readRoster(ctx, mem, t, vintage)
}

// ScanLink is Link as it was before the roster was indexed: a pass over
// every spell of a raw roster (LoadRawRoster), households gathered in a
// map and sorted.
func ScanLink(r *Roster, asOf time.Time) []Household {
	d := DayOf(asOf)
	byHH := map[string]*Household{}
	adults := map[string][]string{}
	for i := 0; i < len(r.spells); {
		j := i
		var cur *spell
		for ; j < len(r.spells) && r.spells[j].person == r.spells[i].person; j++ {
			s := &r.spells[j]
			if s.from <= d && d <= s.to {
				cur = s
			}
		}
		i = j
		if cur == nil {
			continue
		}
		if cur.role != "child" {
			adults[cur.household] = append(adults[cur.household], r.persons[cur.person].id)
			continue
		}
		p := r.persons[cur.person]
		if p.dob == openEnded || p.dob >= d {
			continue
		}
		h := byHH[cur.household]
		if h == nil {
			h = &Household{ID: cur.household, LSOA: cur.lsoa, Locality: cur.locality}
			byHH[cur.household] = h
		}
		h.Children = append(h.Children, Child{Person: p.id, UPN: p.upn, Age: AgeOn(p.dob, d)})
	}
	out := make([]Household, 0, len(byHH))
	for _, h := range byHH {
		sort.Slice(h.Children, func(a, b int) bool { return h.Children[a].Person < h.Children[b].Person })
		h.Adults = adults[h.ID]
		sort.Strings(h.Adults)
		out = append(out, *h)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].ID < out[b].ID })
	return out
}

// DecileOf is the deprivation decile of an area in a raw roster, 0 if
// unknown.
func (r *Roster) DecileOf(lsoa string) int { return int(r.imd[lsoa]) }

// Dump is everything r holds, printed, for tests to compare rosters read
// different ways (maps print in key order; nil and empty lists alike).
func Dump(r *Roster) string { return fmt.Sprintf("%+v", *r) }

// DecodeRoster is the roster cache's decoder over a file's body after its
// magic and format (the key, then the roster), for fuzzing.
func DecodeRoster(d *cachefile.Decoder) (*Roster, error) {
	d.Strs()
	r := decodeRoster(d)
	return r, d.Err()
}

const RosterMagic, RosterFormat = rosterMagic, rosterFormat
