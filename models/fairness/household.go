package fairness

// The model scores a household: its score is the chance that any of the
// household's children is referred within the horizon. Calibration, AUC,
// precision, false-omission and false-positive rates therefore compare it
// with the household's outcome, which every child row carries as
// Row.HouseLabel; selection and recall stay with the child's own outcome
// (reference/fairness-audit.md, amended scoring unit).
//
// A back-test pools several dates, so a household and its children recur.
// The bootstrap resamples households with all their child-dates, and every
// group row counts distinct children and households beside child-dates.

// units numbers each row's child and household (across dates), the
// clusters the bootstrap resamples and the distinct counts count.
type units struct {
	child, house   []int32
	nChild, nHouse int
}

// householdUnits sets every row's HouseLabel and numbers its child and
// household. A household's label on a date is 1 if any of its children's
// label is 1, else 0 if any is 0, else unknown. A row without a household
// id is a household of its own (the worked examples' one row per family).
func householdUnits(rows []Row) units {
	type dated struct{ asOf, house string }
	label := make(map[dated]int8, len(rows)/2)
	for i := range rows {
		r := &rows[i]
		if r.HouseholdID == "" {
			continue
		}
		k := dated{r.AsOf, r.HouseholdID}
		v, ok := label[k]
		if !ok {
			v = -1
		}
		label[k] = max(v, r.Label) // -1 < 0 < 1: any referral wins, then any known outcome
	}
	u := units{child: make([]int32, len(rows)), house: make([]int32, len(rows))}
	children := make(map[string]int32, len(rows))
	houses := make(map[string]int32, len(rows)/2)
	number := func(m map[string]int32, key string) int32 {
		v, ok := m[key]
		if !ok {
			v = int32(len(m))
			m[key] = v
		}
		return v
	}
	for i := range rows {
		r := &rows[i]
		u.child[i] = number(children, r.ID)
		if r.HouseholdID == "" {
			r.HouseLabel = r.Label
			// "\x00" keeps a lone child apart from a household of the same name.
			u.house[i] = number(houses, "\x00"+r.ID)
			continue
		}
		r.HouseLabel = label[dated{r.AsOf, r.HouseholdID}]
		u.house[i] = number(houses, r.HouseholdID)
	}
	u.nChild, u.nHouse = len(children), len(houses)
	return u
}

// Bits of a household's membership in a group's denominators, for the
// distinct households behind each rate.
const (
	inAll       = 1 << iota // every row: n, selection_rate
	inLabelled              // child label known: prevalence, accuracy
	inPos                   // child referred: tpr, fnr
	inHouseNeg              // household not referred: fpr, tnr
	inSelLab                // selected, household label known: ppv, fdr
	inNotSelLab             // not selected, household label known: npv, for
	inSelected              // selected: share_of_selected (overall row only)
	nBits       = iota
)

// rateBits names the denominator each rate's distinct households count.
var rateBits = map[string]int{
	"share_population": 0, "selection_rate": 0, "share_of_selected": 6, "prevalence": 1,
	"tpr": 2, "fnr": 2, "fpr": 3, "tnr": 3, "ppv": 4, "fdr": 4, "npv": 5, "for": 5,
	"accuracy": 1, "fn_per_group_size": 1,
}

// rowBits is the membership of one row under a decision.
func rowBits(r *Row, sel bool) uint8 {
	b := uint8(inAll)
	if r.Label >= 0 {
		b |= inLabelled
	}
	if r.Label == 1 {
		b |= inPos
	}
	if r.HouseLabel == 0 {
		b |= inHouseNeg
	}
	if r.HouseLabel >= 0 {
		if sel {
			b |= inSelLab
		} else {
			b |= inNotSelLab
		}
	}
	if sel {
		b |= inSelected
	}
	return b
}

// distinct counts, per group, the distinct children, and the distinct
// households in each denominator.
type distinct struct {
	children int64
	houses   [nBits]int64
}

// countDistinct counts one decision by one attribute. gidx nil means a
// single group (the overall row).
func countDistinct(rows []Row, u *units, sel []bool, gidx []int32, ngroups int) []distinct {
	out := make([]distinct, ngroups)
	seenChild := make([]bool, ngroups*u.nChild)
	mask := make([]uint8, ngroups*u.nHouse)
	for i := range rows {
		g := 0
		if gidx != nil {
			g = int(gidx[i])
		}
		if c := g*u.nChild + int(u.child[i]); !seenChild[c] {
			seenChild[c] = true
			out[g].children++
		}
		h := g*u.nHouse + int(u.house[i])
		b := rowBits(&rows[i], sel[i])
		if nb := b &^ mask[h]; nb != 0 {
			for k := 0; k < nBits; k++ {
				if nb&(1<<k) != 0 {
					out[g].houses[k]++
				}
			}
			mask[h] |= b
		}
	}
	return out
}
