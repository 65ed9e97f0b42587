package fairness

import "earlyhelp/pipeline/contract"

// PublishableColumns are the columns of publishable/group_metrics.csv. Only
// counts that cannot be derived from each other are published: no
// not_selected next to n (§4.9.2), and no fp/fn/tn, which with n, selected
// and pos would give tp back.
var PublishableColumns = []string{"n", "selected", "selection_rate", "selection_rate_flag",
	"n_labelled", "pos", "prevalence", "prevalence_flag", "tp", "tpr", "tpr_flag"}

// PublishableRow is one (decision, attribute, group) of the SDC tier; every
// value is already a string (a number, c or z).
type PublishableRow struct {
	Decision  string            `json:"decision_id"`
	Attribute string            `json:"attribute"`
	Group     string            `json:"group"`
	Values    map[string]string `json:"values"`
}

// Publishable is the SDC-applied tier (§4.9).
type Publishable struct {
	Rows []PublishableRow `json:"rows"`
}

var countColumns = []struct {
	name string
	get  func(*Counts) int64
}{
	{"n", func(c *Counts) int64 { return c.N }},
	{"selected", func(c *Counts) int64 { return c.Selected }},
	{"n_labelled", func(c *Counts) int64 { return c.Labelled }},
	{"pos", func(c *Counts) int64 { return c.Pos }},
	{"tp", func(c *Counts) int64 { return c.TP }},
}

// sdcLayout numbers the cells of one decision's tables (0 is the overall
// total) and lists every additive relation between them.
func sdcLayout(attrs []Attribute) (offset []int, lines []sdcLine) {
	offset = make([]int, len(attrs))
	next := 1
	byName := map[string]int{}
	for k, a := range attrs {
		offset[k] = next
		next += len(a.Groups)
		byName[a.Name] = k
	}
	for k, a := range attrs {
		ln := sdcLine{total: 0}
		for g := range a.Groups {
			ln.members = append(ln.members, offset[k]+g)
		}
		lines = append(lines, ln)
		if a.parts[0] != "" {
			lines = append(lines, intersectionLines(attrs, byName, offset, k)...)
		}
	}
	nest := func(child, parent string, parentOf func(string) string) {
		c, okc := byName[child]
		p, okp := byName[parent]
		if !okc || !okp {
			return
		}
		for pg, pname := range attrs[p].Groups {
			ln := sdcLine{total: offset[p] + pg}
			for cg, cname := range attrs[c].Groups {
				if parentOf(cname) == pname {
					ln.members = append(ln.members, offset[c]+cg)
				}
			}
			lines = append(lines, ln)
		}
	}
	nest("ethnicity19", "ethnicity5", func(code string) string { g, _ := GroupOf5(code); return g })
	nest(contract.ColIMDDecile, "imd_quintile", func(d string) string {
		n, _ := atoiOK(d)
		return Quintile(n)
	})
	return offset, lines
}

// intersectionLines relates each row and column of an a×b table to its
// margin, the cell of a or b; without those attributes, to the total.
func intersectionLines(attrs []Attribute, byName map[string]int, offset []int, k int) []sdcLine {
	ka, oka := byName[attrs[k].parts[0]]
	kb, okb := byName[attrs[k].parts[1]]
	if !oka || !okb {
		return nil
	}
	na, nb := len(attrs[ka].Groups), len(attrs[kb].Groups)
	var out []sdcLine
	for i := 0; i < na; i++ {
		ln := sdcLine{total: offset[ka] + i}
		for j := 0; j < nb; j++ {
			ln.members = append(ln.members, offset[k]+i*nb+j)
		}
		out = append(out, ln)
	}
	for j := 0; j < nb; j++ {
		ln := sdcLine{total: offset[kb] + j}
		for i := 0; i < na; i++ {
			ln.members = append(ln.members, offset[k]+i*nb+j)
		}
		out = append(out, ln)
	}
	return out
}

func atoiOK(s string) (int, bool) {
	n := 0
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, false
		}
		n = n*10 + int(r-'0')
	}
	return n, s != ""
}

// publish builds the SDC tier from the restricted counts.
func publish(res *Result, cfg *Config) *Publishable {
	offset, lines := sdcLayout(res.attrs)
	ncell := 1
	for _, a := range res.attrs {
		ncell += len(a.Groups)
	}
	pub := &Publishable{}
	for di, dec := range res.Decisions {
		counts := make([]*Counts, ncell)
		counts[0] = &res.Overall[di].Counts
		for i := range res.Groups {
			g := &res.Groups[i]
			if g.Decision != dec.ID {
				continue
			}
			for k, a := range res.attrs {
				if a.Name == g.Attribute {
					counts[offset[k]+a.groupIndex(g.Group)] = &g.Counts
				}
			}
		}
		cols := map[string][]sdcCell{}
		for _, cc := range countColumns {
			cells := make([]sdcCell, ncell)
			for i, c := range counts {
				cells[i].v = cc.get(c)
			}
			suppress(cells, lines, int64(cfg.SuppressMax), cfg.Secondary)
			cols[cc.name] = cells
		}
		row := func(attr, group string, i int) PublishableRow {
			v := map[string]string{}
			for _, cc := range countColumns {
				v[cc.name] = pubCount(cols[cc.name][i])
			}
			md := int64(cfg.MinDenDisplay)
			v["selection_rate"], v["selection_rate_flag"] = pubRate(cols["selected"][i], cols["n"][i], md)
			v["prevalence"], v["prevalence_flag"] = pubRate(cols["pos"][i], cols["n_labelled"][i], md)
			v["tpr"], v["tpr_flag"] = pubRate(cols["tp"][i], cols["pos"][i], md)
			return PublishableRow{Decision: dec.ID, Attribute: attr, Group: group, Values: v}
		}
		pub.Rows = append(pub.Rows, row("overall", "Total", 0))
		for k, a := range res.attrs {
			for g, name := range a.Groups {
				pub.Rows = append(pub.Rows, row(a.Name, name, offset[k]+g))
			}
		}
	}
	return pub
}
