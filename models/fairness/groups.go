package fairness

import (
	"fmt"
	"strconv"

	"earlyhelp/pipeline/contract"
)

// Attribute is a protected characteristic: its groups in canonical order
// (§4.2: ONS order, UNKNOWN last) and how a row maps to one of them.
type Attribute struct {
	Name   string
	Groups []string // canonical order; includes every UNKNOWN group
	Known  []bool   // false for UNKNOWN (and intersection cells touching it)
	of     func(*Row) int
	// parts names the two attributes of an intersection, for the
	// publishable tables whose margins they are.
	parts [2]string
}

// NewAttribute builds a one-way attribute from its known groups in canonical
// order and a key function; a key outside the list (including "") is
// UNKNOWN, which is appended and always reported.
func NewAttribute(name string, known []string, key func(*Row) string) Attribute {
	groups := append(append([]string(nil), known...), Unknown)
	idx := make(map[string]int, len(groups))
	kn := make([]bool, len(groups))
	for i, g := range known {
		idx[g] = i
		kn[i] = true
	}
	unk := len(known)
	return Attribute{Name: name, Groups: groups, Known: kn, of: func(r *Row) int {
		if i, ok := idx[key(r)]; ok {
			return i
		}
		return unk
	}}
}

// ExtraAttribute audits a column the reader kept in Row.Extra.
func ExtraAttribute(column string, known []string) Attribute {
	return NewAttribute(column, known, func(r *Row) string { return r.Extra[column] })
}

// Intersect is the full Cartesian product a×b, UNKNOWN rows and columns
// included, so empty cells appear with n = 0 (§4.2). A cell is known only
// when both parts are.
func Intersect(a, b Attribute) Attribute {
	nb := len(b.Groups)
	in := Attribute{Name: a.Name + "×" + b.Name, parts: [2]string{a.Name, b.Name}}
	for i, ga := range a.Groups {
		for j, gb := range b.Groups {
			in.Groups = append(in.Groups, ga+"×"+gb)
			in.Known = append(in.Known, a.Known[i] && b.Known[j])
		}
	}
	in.of = func(r *Row) int { return a.of(r)*nb + b.of(r) }
	return in
}

// DefaultAttributes is the §4.1 attribute list.
func DefaultAttributes() []Attribute {
	e5 := NewAttribute("ethnicity5", ethnicity5, func(r *Row) string { return r.Ethnicity5 })
	e19 := NewAttribute("ethnicity19", ethnicity19, func(r *Row) string { return r.Ethnicity })
	dec := NewAttribute(contract.ColIMDDecile, deciles, func(r *Row) string {
		if r.IMDDecile == 0 {
			return Unknown
		}
		return strconv.Itoa(r.IMDDecile)
	})
	q := NewAttribute("imd_quintile", quintiles, func(r *Row) string { return Quintile(r.IMDDecile) })
	return []Attribute{e5, e19, dec, q, Intersect(e5, q)}
}

func (a *Attribute) groupIndex(g string) int { return indexOf(a.Groups, g) }

// assign maps every row to its group index for each attribute.
func assign(rows []Row, attrs []Attribute) [][]int32 {
	out := make([][]int32, len(attrs))
	for k := range attrs {
		idx := make([]int32, len(rows))
		for i := range rows {
			idx[i] = int32(attrs[k].of(&rows[i]))
		}
		out[k] = idx
	}
	return out
}

// Coverage is the share of rows with a known group (§4.2), overall and split
// by the audited decision, because differential missingness is a finding.
type Coverage struct {
	Decision    string `json:"decision"`
	Attribute   string `json:"attribute"`
	Known       int64  `json:"n_known"`
	N           int64  `json:"n"`
	KnownSel    int64  `json:"n_known_selected"`
	NSel        int64  `json:"n_selected"`
	KnownNotSel int64  `json:"n_known_not_selected"`
	NNotSel     int64  `json:"n_not_selected"`
}

func coverage(dec *Decision, attr *Attribute, gidx []int32) Coverage {
	c := Coverage{Decision: dec.ID, Attribute: attr.Name}
	for i, g := range gidx {
		known := attr.Known[g]
		c.N++
		if dec.sel[i] {
			c.NSel++
		} else {
			c.NNotSel++
		}
		if !known {
			continue
		}
		c.Known++
		if dec.sel[i] {
			c.KnownSel++
		} else {
			c.KnownNotSel++
		}
	}
	return c
}

func (c Coverage) String() string {
	return fmt.Sprintf("%s %s: %d/%d known", c.Decision, c.Attribute, c.Known, c.N)
}
