package synthetic

import (
	"math/rand/v2"
	"strconv"

	"earlyhelp/connectors"
	"earlyhelp/pipeline/contract"
)

const personsFile = "incoming/persons/persons.csv"

// writePersons writes the council's master person index. The light profile
// breaks the NHS check digit of three adults and repeats two rows exactly.
func (g *generator) writePersons() error {
	f, err := g.out.create(personsFile, 0o644, false, g.columns(connectors.Persons)...)
	if err != nil {
		return err
	}
	badNHS, dup := map[int]bool{}, map[int]bool{}
	if g.light() {
		var adults []int
		for i, p := range g.w.persons {
			if p.child < 0 {
				adults = append(adults, i)
			}
		}
		// At most one planted defect per 200 rows, so a small demo council
		// stays within the default 5% quarantine tolerance.
		for len(badNHS) < min(3, len(adults)/200) {
			badNHS[adults[g.rDef.IntN(len(adults))]] = true
		}
		for len(dup) < min(2, len(g.w.persons)/200) {
			if i := g.rDef.IntN(len(g.w.persons)); !badNHS[i] {
				dup[i] = true
			}
		}
	}
	sen := newRand(g.cfg.Seed, streamSEN)
	var b []byte
	for i, p := range g.w.persons {
		b = appendID(b[:0], 'P', i+1)
		b = append(b, ',')
		b = append(b, p.upn...)
		b = append(b, ',')
		nhs := len(b)
		b = strconv.AppendInt(b, p.nhs, 10)
		if badNHS[i] {
			b[nhs+9] = '0' + (b[nhs+9]-'0'+1+byte(g.rDef.IntN(9)))%10
		}
		b = append(b, ',')
		b = appendISO(b, p.dob)
		b = append(b, ',', p.sex, ',')
		b = append(b, ethnicities[p.eth].code...)
		b = append(b, ',')
		b = append(b, g.senStatus(sen, p)...)
		b = append(b, '\n')
		row := f.end(b)
		if badNHS[i] {
			g.defects.add(personsFile, row, contract.ColNHSNumber, defectNHSCheck, false)
		}
		if dup[i] {
			g.defects.add(personsFile, f.end(b), contract.ColPersonID, defectDuplicate, false)
		}
	}
	g.rows[connectors.Persons] = f.rows
	return nil
}

// senStatus is a child's special educational needs status at the end of
// the extracts, for the equality analysis: school-age children only
// (schools record it), at about the national rates of SEN support (13%)
// and education, health and care plans (4%), twice as often for boys as
// for girls, as in the school census. It is drawn from its own stream and
// touches nothing else the council does.
func (g *generator) senStatus(r *rand.Rand, p person) string {
	if p.child < 0 {
		return ""
	}
	if band := g.w.children[p.child].ageBand(g.w.last); band < 2 || band > 3 {
		return "" // under 5 or 16 and over: not school age
	}
	support, ehcp := 0.088, 0.027
	if p.sex == 'M' {
		support, ehcp = 0.172, 0.053
	}
	switch u := r.Float64(); {
	case u < ehcp:
		return "ehcp"
	case u < ehcp+support:
		return "sen_support"
	}
	return "none"
}
