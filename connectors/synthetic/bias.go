package synthetic

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Observation-bias kinds of --bias KIND:ATTRIBUTE=VALUE:FACTOR. Bias changes
// what the sources record, never need or outcomes, so audits can test
// whether the pipeline's scores inherit a recording difference.
const (
	// BiasLateness: the group's late marks (L, U) are recorded with
	// probability FACTOR (0 < FACTOR ≤ 1), the rest written as present.
	BiasLateness = "lateness_underrecorded"
	// BiasVisibility: the group's homelessness approaches and targeted
	// health-visitor contacts are recorded FACTOR times as often
	// (0 < FACTOR ≤ 10).
	BiasVisibility = "visibility"
)

// Attributes of a bias group.
const (
	AttrEthnicity5  = "ethnicity5"   // Asian, Black, Mixed, White, Other
	AttrIMDQuintile = "imd_quintile" // Q1 (most deprived) … Q5
)

const maxVisibility = 10

// biasSpec is one parsed --bias value.
type biasSpec struct {
	kind, attr string
	value      int // group index (groupAsian…) or quintile 1–5
	factor     float64
}

// parseBias parses KIND:ATTRIBUTE=VALUE:FACTOR strictly: known kind and
// attribute, a value of that attribute spelt exactly, a finite factor in the
// kind's range.
func parseBias(s string) (biasSpec, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return biasSpec{}, fmt.Errorf("bias %q: want KIND:ATTRIBUTE=VALUE:FACTOR, e.g. %s:%s=Asian:0.5", s, BiasLateness, AttrEthnicity5)
	}
	b := biasSpec{kind: parts[0]}
	if b.kind != BiasLateness && b.kind != BiasVisibility {
		return b, fmt.Errorf("bias %q: unknown kind %q (known: %s, %s)", s, b.kind, BiasLateness, BiasVisibility)
	}
	attr, val, ok := strings.Cut(parts[1], "=")
	if !ok {
		return b, fmt.Errorf("bias %q: %q is not ATTRIBUTE=VALUE", s, parts[1])
	}
	b.attr = attr
	switch attr {
	case AttrEthnicity5:
		b.value = -1
		for i, g := range groupNames {
			if val == g {
				b.value = i
			}
		}
		if b.value < 0 {
			return b, fmt.Errorf("bias %q: %s value %q is not one of %s", s, attr, val, strings.Join(groupNames[:], ", "))
		}
	case AttrIMDQuintile:
		if len(val) != 2 || val[0] != 'Q' || val[1] < '1' || val[1] > '5' {
			return b, fmt.Errorf("bias %q: %s value %q is not one of Q1, Q2, Q3, Q4, Q5", s, attr, val)
		}
		b.value = int(val[1] - '0')
	default:
		return b, fmt.Errorf("bias %q: unknown attribute %q (known: %s, %s)", s, attr, AttrEthnicity5, AttrIMDQuintile)
	}
	f, err := strconv.ParseFloat(parts[2], 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return b, fmt.Errorf("bias %q: factor %q is not a number", s, parts[2])
	}
	hi := 1.0
	if b.kind == BiasVisibility {
		hi = maxVisibility
	}
	if f <= 0 || f > hi {
		return b, fmt.Errorf("bias %q: factor %g is outside (0, %g]", s, f, hi)
	}
	b.factor = f
	return b, nil
}

// biases holds the parsed specs; factors of specs that apply to the same
// person multiply.
type biases struct{ specs []biasSpec }

func parseBiases(ss []string) (*biases, error) {
	b := &biases{}
	for _, s := range ss {
		spec, err := parseBias(s)
		if err != nil {
			return nil, err
		}
		b.specs = append(b.specs, spec)
	}
	return b, nil
}

// factor is the product of the factors of kind that apply to someone of
// ethnicity eth (an index of ethnicities) living in IMD decile dep.
func (b *biases) factor(kind string, eth, dep int) float64 {
	f := 1.0
	for _, s := range b.specs {
		if s.kind != kind {
			continue
		}
		switch {
		case s.attr == AttrEthnicity5 && groupOf(eth) == s.value,
			s.attr == AttrIMDQuintile && (dep+1)/2 == s.value:
			f *= s.factor
		}
	}
	return f
}
