package synthetic

import (
	"strconv"

	"earlyhelp/connectors"
	"earlyhelp/pipeline/contract"
)

const householdsFile = "incoming/households/households.csv"

// writeHouseholds writes one row per membership spell: a person's time in a
// household at one address. A move ends every member's spell the day before
// and starts a new one at the new address; a child who changes household
// ends one spell and starts another under the new household_id. The light
// profile writes dates as dd/mm/yyyy.
func (g *generator) writeHouseholds() error {
	f, err := g.out.create(householdsFile, 0o644, false, g.columns(connectors.Households)...)
	if err != nil {
		return err
	}
	date := appendISO
	if g.light() {
		date = appendDMY
		g.defects.add(householdsFile, 0, contract.ColFromDate, defectDMY, true)
		g.defects.add(householdsFile, 0, contract.ColToDate, defectDMY, true)
	}
	var b []byte
	for hi := range g.w.households {
		h := &g.w.households[hi]
		for _, m := range h.members {
			role := "parent"
			if g.w.persons[m.person].child >= 0 {
				role = "child"
			}
			for ai, a := range h.addr {
				to := noDay
				if ai+1 < len(h.addr) {
					to = h.addr[ai+1].from - 1
				}
				from, to := max(a.from, m.from), min(to, m.to)
				if from > to {
					continue
				}
				l := g.w.lsoas[a.lsoa]
				b = appendID(b[:0], 'H', hi+1)
				b = append(b, ',')
				b = appendID(b, 'P', m.person+1)
				b = append(b, ',')
				b = append(b, role...)
				b = append(b, ',')
				b = strconv.AppendInt(b, a.uprn, 10)
				b = append(b, ',')
				b = append(b, l.code...)
				b = append(b, ',')
				b = append(b, g.w.localities[l.locality]...)
				b = append(b, ',')
				b = date(b, from)
				b = append(b, ',')
				if to != noDay {
					b = date(b, to)
				}
				f.end(append(b, '\n'))
			}
		}
	}
	g.rows[connectors.Households] = f.rows
	return nil
}
