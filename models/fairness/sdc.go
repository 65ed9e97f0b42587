package fairness

import "strconv"

// sdcCell is one count in the publishable tier.
type sdcCell struct {
	v    int64
	supp bool
}

// sdcLine is an additive relation members Σ = total that a reader could use
// to recover one suppressed term: a column against its Total, an
// intersection row or column against its margin, ethnicity19 categories
// against their ethnicity5 group, decile pairs against their quintile.
type sdcLine struct {
	members []int
	total   int
}

// suppress applies §4.9: primary suppression of 1..max, then the secondary
// heuristic until no line has exactly one suppressed term. The candidate is
// the smallest non-zero published member (ties to canonical order, which is
// member order); the total is the last resort, used when every other member
// is zero or already hidden (the spec is silent there, but publishing the
// total would give the hidden cell away).
func suppress(cells []sdcCell, lines []sdcLine, max int64, secondary bool) {
	for i := range cells {
		cells[i].supp = cells[i].v >= 1 && cells[i].v <= max
	}
	if !secondary {
		return
	}
	for changed := true; changed; {
		changed = false
		for _, ln := range lines {
			hidden := 0
			if cells[ln.total].supp {
				hidden++
			}
			for _, m := range ln.members {
				if cells[m].supp {
					hidden++
				}
			}
			if hidden != 1 {
				continue
			}
			pick := -1
			for _, m := range ln.members {
				c := cells[m]
				if !c.supp && c.v > 0 && (pick < 0 || c.v < cells[pick].v) {
					pick = m
				}
			}
			if pick < 0 && !cells[ln.total].supp && cells[ln.total].v > 0 {
				pick = ln.total
			}
			if pick >= 0 {
				cells[pick].supp = true
				changed = true
			}
		}
	}
}

// pubCount renders a count: 0 stays 0, a suppressed count is c.
func pubCount(c sdcCell) string {
	if c.supp {
		return "c"
	}
	return strconv.FormatInt(c.v, 10)
}

// pubRate renders num/den as a percentage to 1 d.p. with its flag (§4.9.3):
// z when the denominator is 0, c when either count is hidden or the
// denominator is below minDen, and flag u for denominators 10–29.
func pubRate(num, den sdcCell, minDen int64) (value, flag string) {
	switch {
	case den.v == 0:
		return "z", ""
	case num.supp || den.supp || den.v < minDen:
		return "c", ""
	}
	if den.v < 30 {
		flag = "u"
	}
	return percent1(num.v, den.v), flag
}

// percent1 rounds 100·num/den half-up to one decimal in integers, so a
// value like 12.25 cannot drift with binary rounding.
func percent1(num, den int64) string {
	tenths := (2000*num + den) / (2 * den)
	return strconv.FormatInt(tenths/10, 10) + "." + strconv.FormatInt(tenths%10, 10)
}
