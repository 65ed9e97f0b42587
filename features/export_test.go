package features

import (
	"sort"
	"time"
)

// ScanLink is Link as it was before the roster was indexed: a pass over
// every spell, households gathered in a map and sorted.
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

// DecileOf is the deprivation decile of an area, 0 if unknown.
func (r *Roster) DecileOf(lsoa string) int { return int(r.imd[lsoa]) }
