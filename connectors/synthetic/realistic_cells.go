package synthetic

import (
	"strconv"
	"strings"

	"earlyhelp/connectors"
)

// invalid draws at most one defect that a correct loader must quarantine
// the row for. One uniform draw walks the applicable kinds' rates, so a row
// never carries two reasons.
func (rr *rowRenderer) invalid() {
	c, v, r := rr.c, rr.vals, rr.r
	u := r.Float64()
	hit := func(ok bool, rate float64) bool {
		if !ok {
			return false
		}
		if u < rate {
			return true
		}
		u -= rate
		return false
	}
	upnOK := c.upn >= 0 && len(v[c.upn]) == 13 && connectors.CheckUPN(v[c.upn]) == nil
	switch {
	case hit(upnOK, rateUPNCheck):
		b := []byte(v[c.upn])
		b[0] = wrongCheckLetter(b[0], r)
		v[c.upn] = string(b)
		rr.mark(c.upn, defectUPNCheck, false)
	case hit(upnOK, rateUPNShort): // a character lost in retyping
		v[c.upn] = v[c.upn][:12]
		rr.mark(c.upn, defectUPNCheck, false)
	case hit(c.nhs >= 0 && len(v[c.nhs]) == 10, rateNHSCheck):
		b := []byte(v[c.nhs])
		b[9] = '0' + (b[9]-'0'+1+byte(r.IntN(9)))%10 // any other digit fails mod 11
		v[c.nhs] = string(b)
		rr.mark(c.nhs, defectNHSCheck, false)
	case hit(c.uprn >= 0 && isDigits(v[c.uprn]), rateUPRNSci):
		v[c.uprn] = sciUPRN(v[c.uprn])
		// uprn is optional: the loader nulls the cell (its digits are
		// lost) and keeps the row (CONTRACTS §2 cell policy).
		rr.mark(c.uprn, defectCode, true)
	case hit(rr.dateCol(false) >= 0, rateSerial):
		i := rr.dateCol(false)
		v[i] = strconv.Itoa(int(rr.days[i] - dayOf(1899, 12, 30)))
		rr.mark(i, defectDate, false)
	case hit(rr.dateCol(true) >= 0, rateUSDate): // detectable only when day > 12
		i := rr.dateCol(true)
		y, m, d := rr.days[i].civil()
		b := append2(nil, m)
		b = append(append2(append(b, '/'), d), '/')
		v[i] = string(append4(b, y))
		rr.mark(i, defectDate, false)
	case hit(rr.dateCol(false) >= 0, rateBadDay):
		i := rr.dateCol(false)
		y, _, _ := rr.days[i].civil()
		if rr.p.dmy {
			v[i] = "30/02/" + strconv.Itoa(y)
		} else {
			v[i] = strconv.Itoa(y) + "-02-30"
		}
		rr.mark(i, defectDate, false)
	case hit(c.sessionDate >= 0 && c.code >= 0 && rr.days[c.sessionDate] != noDay, rateSaturday):
		d := rr.days[c.sessionDate]
		v[c.sessionDate] = rr.date(d + day(5-d.weekday()))
		rr.mark(c.sessionDate, defectRange, false)
	case hit(c.code >= 0 && c.sessionDate >= 0, rateCodeWrong):
		v[c.code] = "?X" // no code in any set
		if rr.days[c.sessionDate] >= codeSetChange && r.IntN(2) == 0 {
			v[c.code] = "H" // withdrawn with the 2024 code set
		}
		rr.mark(c.code, defectCode, false)
	}
}

// dateCol returns the first date column holding a date (whose day is above
// 12 when usOnly), or -1. Taking the first keeps the choice free of draws.
func (rr *rowRenderer) dateCol(usOnly bool) int {
	for _, i := range rr.c.dates {
		if d := rr.days[i]; d != noDay && !rr.touched[i] {
			if _, _, dd := d.civil(); !usOnly || dd > 12 {
				return i
			}
		}
	}
	return -1
}

func (rr *rowRenderer) date(d day) string {
	if rr.p.dmy {
		return string(appendDMY(nil, d))
	}
	return isoString(d)
}

// cosmetic applies the formatting defects a correct loader reads through,
// each on a cell no other defect touched.
func (rr *rowRenderer) cosmetic() {
	c, v, r := rr.c, rr.vals, rr.r
	free := func(i int) bool { return i >= 0 && !rr.touched[i] && v[i] != "" }
	if free(c.upn) && r.Float64() < rateUPNLower {
		if low := strings.ToLower(v[c.upn]); low != v[c.upn] {
			v[c.upn] = low
			rr.mark(c.upn, defectUPNCase, true)
		}
	}
	if free(c.nhs) && len(v[c.nhs]) == 10 && r.Float64() < rateNHSFormat {
		s := v[c.nhs]
		v[c.nhs] = s[:3] + " " + s[3:6] + " " + s[6:]
		rr.mark(c.nhs, defectNHSFormat, true)
	}
	if free(c.uprn) && isDigits(v[c.uprn]) && r.Float64() < rateUPRNDec {
		v[c.uprn] += ".0"
		rr.mark(c.uprn, defectUPRNDecimal, true)
	}
	for _, i := range c.money {
		if free(i) && (rr.forceText || r.Float64() < rateMoney) {
			if s, ok := formatMoney(v[i]); ok {
				v[i], rr.forceText = s, false
				rr.mark(i, defectMoney, true)
			}
		}
	}
	for _, i := range c.text {
		if free(i) && (rr.forceText || r.Float64() < rateNonASCII) {
			v[i] += " – " + nonASCIIPlaces[r.IntN(len(nonASCIIPlaces))]
			rr.forceText = false
			rr.mark(i, defectNonASCII, true)
		}
	}
	for _, i := range c.cased {
		// "a" alone is the LA substitute for Y2, not a lower-case A.
		if free(i) && r.Float64() < rateCaseCode {
			if low := strings.ToLower(v[i]); low != v[i] && low != "a" {
				v[i] = low
				rr.mark(i, defectCaseCode, true)
			}
		}
	}
	for _, i := range c.nullable {
		if !rr.touched[i] && v[i] == "" && r.Float64() < rateNull {
			v[i] = nullSpellings[r.IntN(len(nullSpellings))]
			rr.mark(i, defectNull, true)
		}
	}
	if r.Float64() < ratePadded {
		i := r.IntN(len(v))
		if free(i) {
			v[i] = pads[r.IntN(len(pads))](v[i])
			rr.mark(i, defectPadded, true)
		}
	}
}

var (
	// nonASCIIPlaces are sub-area names as clerks type them; every
	// character is in Windows-1252, as in a real Excel save.
	nonASCIIPlaces = []string{"Crèche Lane", "St Mary’s", "Hôpital", "Zoë Court", "Siobhán Place", "Saint-Étienne Road"}
	nullSpellings  = []string{"NULL", "N/A", "null", "n/a", "#N/A"}
	pads           = []func(string) string{
		func(s string) string { return " " + s },
		func(s string) string { return s + " " },
		func(s string) string { return s + "\u00a0" },
	}
)

// parseISODay reads the clean layer's yyyy-mm-dd.
func parseISODay(s string) (day, bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return noDay, false
	}
	y, e1 := strconv.Atoi(s[:4])
	m, e2 := strconv.Atoi(s[5:7])
	d, e3 := strconv.Atoi(s[8:])
	if e1 != nil || e2 != nil || e3 != nil {
		return noDay, false
	}
	return dayOf(y, m, d), true
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// sciUPRN is what Excel shows for a 12-digit number: six significant
// digits, the rest lost for good.
func sciUPRN(s string) string {
	f, _ := strconv.ParseFloat(s, 64)
	m, exp, _ := strings.Cut(strconv.FormatFloat(f, 'E', 5, 64), "E")
	m = strings.TrimRight(strings.TrimRight(m, "0"), ".")
	return m + "E" + exp
}

// negate flips the sign of a decimal as written, leaving zero and blanks.
func negate(s string) string {
	if f, err := strconv.ParseFloat(s, 64); err != nil || f == 0 {
		return s
	}
	if rest, ok := strings.CutPrefix(s, "-"); ok {
		return rest
	}
	return "-" + s
}

// formatMoney writes an amount as finance systems print it, £1,234.56. It
// refuses a value that two decimals would round, so the amount is kept.
func formatMoney(s string) (string, bool) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || strings.ContainsAny(s, "eE") {
		return "", false
	}
	t := strconv.FormatFloat(f, 'f', 2, 64)
	if g, _ := strconv.ParseFloat(t, 64); g != f {
		return "", false
	}
	neg := strings.HasPrefix(t, "-")
	t = strings.TrimPrefix(t, "-")
	whole, cents, _ := strings.Cut(t, ".")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	b.WriteString("£")
	for i := range len(whole) {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteByte(whole[i])
	}
	b.WriteByte('.')
	b.WriteString(cents)
	return b.String(), true
}
