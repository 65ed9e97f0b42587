package synthetic

import (
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"earlyhelp/connectors"
)

// The acceptance window: 104 weeks to DefaultEnd, so 2024/25 is the last
// full academic year, and 31 March 2026 the census date for stocks.
var (
	windowFirst = time.Date(2024, 7, 29, 0, 0, 0, 0, time.UTC)
	censusDate  = time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)
)

const fullYear = 2024

func TestAcceptanceAttendance(t *testing.T) {
	dir, _ := council(t, ProfileNational)
	p := loadPeople(t, dir)
	category := codeCategories()
	type acc struct{ possible, absent int }
	pupils := map[string]*acc{}
	for _, f := range sourceFiles(t, dir, "attendance_sessions", "attendance_*.csv") {
		month := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "attendance_"), ".csv")
		if month < "2024-09" || month > "2025-08" {
			continue
		}
		eachRowBytes(t, f, func(r [][]byte) {
			// An amended mark (updated after the session day) replaces an
			// N that was already counted as absent, and is absent too.
			if len(r[6]) != 0 && string(r[6][:10]) != string(r[2]) {
				return
			}
			cat := category[string(r[4])]
			if cat == "nc" {
				return
			}
			a := pupils[string(r[1])]
			if a == nil {
				// Compulsory school age: years 1 to 11.
				dob := p.dob[p.byUPN[string(r[1])]]
				cohort := dob.Year()
				if dob.Month() < time.September {
					cohort--
				}
				if nc := fullYear - (cohort + 5); nc < 1 || nc > 11 {
					a = &acc{possible: -1}
				} else {
					a = &acc{}
				}
				pupils[string(r[1])] = a
			}
			if a.possible < 0 {
				return
			}
			a.possible++
			if cat == "auth" || cat == "unauth" {
				a.absent++
			}
		})
	}
	var pos, abs, n, pa, sa int
	var dep, aff [2]int
	for upn, a := range pupils {
		if a.possible <= 0 {
			continue
		}
		pos += a.possible
		abs += a.absent
		n++
		if 10*a.absent >= a.possible {
			pa++
		}
		if 2*a.absent >= a.possible {
			sa++
		}
		switch p.decile[p.byUPN[upn]] {
		case "1", "2":
			dep[0] += a.absent
			dep[1] += a.possible
		case "9", "10":
			aff[0] += a.absent
			aff[1] += a.possible
		}
	}
	inRange(t, "overall absence % (2024/25, years 1-11)", pct(abs, pos), 6, 8.5)
	inRange(t, "persistent absence %", pct(pa, n), 16, 24)
	inRange(t, "severe absence %", pct(sa, n), 1.5, 3.5)
	inRange(t, "absence ratio IMD 1-2 / 9-10", ratio(pct(dep[0], dep[1]), pct(aff[0], aff[1])), 1.6, 10)
}

// referralStats computes the children's social care statistics.
type referralStats struct {
	per10k, cinPct, decileRatio, severeShare float64
	byGroup                                  map[string]float64 // referrals per 10k a year
}

func computeReferralStats(t *testing.T, dir string, p *people) referralStats {
	years := 104.0 / 52
	var st referralStats
	inWindow, severe := 0, 0
	refsBy, kidsBy := map[string]float64{}, map[string]float64{}
	refsByGroup, kidsByGroup := map[string]float64{}, map[string]float64{}
	inNeed := map[string]bool{}
	eachRow(t, filepath.Join(dir, referralsFile), func(r []string) {
		d := parseDate(t, r[2])
		if r[4] == "cin_plan" || r[4] == "cp_plan" || r[4] == "looked_after" {
			if !d.After(censusDate) && (r[5] == "" || parseDate(t, r[5]).After(censusDate)) {
				inNeed[r[1]] = true
			}
		}
		if d.Before(windowFirst) {
			return // open when the window started
		}
		inWindow++
		if r[4] != "nfa" && r[4] != "early_help" {
			severe++
		}
		refsBy[p.decile[r[1]]]++
		refsByGroup[p.eth[r[1]]]++
	})
	alive := 0
	for id := range p.children {
		kidsBy[p.decile[id]]++
		kidsByGroup[p.eth[id]]++
		if p.childOn(id, censusDate) {
			alive++
		}
	}
	st.per10k = float64(inWindow) / (float64(len(p.children)) * years) * 10000
	st.cinPct = pct(len(inNeed), alive)
	st.decileRatio = ratio(refsBy["1"]/kidsBy["1"], refsBy["10"]/kidsBy["10"])
	st.severeShare = ratio(float64(severe), float64(inWindow))
	st.byGroup = map[string]float64{}
	for _, g := range groupNames {
		st.byGroup[g] = refsByGroup[g] / (kidsByGroup[g] * years) * 10000
	}
	return st
}

func TestAcceptanceReferrals(t *testing.T) {
	dir, sum := council(t, ProfileNational)
	p := loadPeople(t, dir)
	st := computeReferralStats(t, dir, p)
	inRange(t, "referrals per 10,000 children a year", st.per10k, 400, 650)
	inRange(t, "children in need on 31 March 2026 %", st.cinPct, 2.5, 4.5)
	inRange(t, "referral rate IMD decile 1 / decile 10", st.decileRatio, 5, 40)
	inRange(t, "severe outcome share", st.severeShare, 0.65, 0.85)
	inRange(t, "oracle AUC", sum.OracleAUC, 0.75, 0.90)
	t.Logf("referrals per 10k a year by group: %v", st.byGroup)
	g := st.byGroup
	for _, other := range []string{"Black", "Mixed", "White", "Other"} {
		if g["Asian"] >= g[other] {
			t.Errorf("Asian referral rate %.0f is not below %s's %.0f", g["Asian"], other, g[other])
		}
	}
	if g["Black"] <= g["White"] || g["Mixed"] <= g["White"] {
		t.Errorf("Black %.0f and Mixed %.0f are not both above White %.0f", g["Black"], g["Mixed"], g["White"])
	}
}

// newBirthWithin14 is the % of children born in the window (at least 30
// days before End) with an attended new birth visit within 14 days.
func newBirthWithin14(t *testing.T, dir string, p *people) float64 {
	seen := map[string]bool{}
	eachRow(t, filepath.Join(dir, hvContactsFile), func(r []string) {
		if r[2] != "NEW_BIRTH" || (r[4] != "5" && r[4] != "6") {
			return
		}
		id := p.byNHS[r[1]]
		if days := parseDate(t, r[3]).Sub(p.dob[id]).Hours() / 24; days <= 14 {
			seen[id] = true
		}
	})
	born, visited := 0, 0
	last := DefaultEnd.AddDate(0, 0, -30)
	for id := range p.children {
		if d := p.dob[id]; !d.Before(windowFirst) && !d.After(last) {
			born++
			if seen[id] {
				visited++
			}
		}
	}
	return pct(visited, born)
}

// childrenInTA is the % of children living, on the census date, in a
// household whose lead person has an open TA placement.
func childrenInTA(t *testing.T, dir string, p *people) float64 {
	lead := map[string]string{}
	eachRow(t, filepath.Join(dir, homelessnessFile), func(r []string) { lead[r[0]] = r[2] })
	hh, kids := p.householdsOn(censusDate)
	placed := map[string]bool{}
	eachRow(t, filepath.Join(dir, taFile), func(r []string) {
		if parseDate(t, r[2]).After(censusDate) || r[3] != "" && !parseDate(t, r[3]).After(censusDate) {
			return
		}
		placed[hh[lead[r[1]]]] = true
	})
	inTA, all := 0, 0
	for h, k := range kids {
		all += k
		if placed[h] {
			inTA += k
		}
	}
	return pct(inTA, all)
}

func TestAcceptanceHealthAndHousing(t *testing.T) {
	dir, _ := council(t, ProfileNational)
	p := loadPeople(t, dir)
	inRange(t, "new birth visits within 14 days %", newBirthWithin14(t, dir, p), 80, 90)
	inRange(t, "children in TA on 31 March 2026 %", childrenInTA(t, dir, p), 0.8, 3)
}

func TestAcceptanceInnerUrban(t *testing.T) {
	dir, sum := council(t, ProfileInnerUrban)
	p := loadPeople(t, dir)
	var deprived, n int
	groups := map[string]int{}
	for id := range p.children {
		n++
		if d, _ := strconv.Atoi(p.decile[id]); d <= 4 {
			deprived++
		}
		groups[p.eth[id]]++
	}
	inRange(t, "children in IMD deciles 1-4 %", pct(deprived, n), 52, 68)
	for g, want := range map[string]float64{"Asian": 25, "Black": 20, "Mixed": 10, "White": 38, "Other": 7} {
		inRange(t, g+" children %", pct(groups[g], n), want-3, want+3)
	}
	inRange(t, "children in TA on 31 March 2026 %", childrenInTA(t, dir, p), 3, 8)
	st := computeReferralStats(t, dir, p)
	t.Logf("referrals per 10k a year %.0f, CIN %.2f%%, decile ratio %.1f, by group %v, NBV≤14d %.1f%%, AUC %.3f",
		st.per10k, st.cinPct, st.decileRatio, st.byGroup, newBirthWithin14(t, dir, p), sum.OracleAUC)
	inRange(t, "oracle AUC", sum.OracleAUC, 0.75, 0.90)
}

// TestAcceptanceIdentifiers checks every UPN and NHS number of the clean
// layer, and that every source of CONTRACTS §2 has files under its folder
// that match its pattern and carry its header.
func TestAcceptanceIdentifiers(t *testing.T) {
	dir, sum := council(t, ProfileNational)
	bad := 0
	eachRow(t, filepath.Join(dir, "incoming/persons/persons.csv"), func(r []string) {
		if r[1] != "" && connectors.CheckUPN(r[1]) != nil || connectors.CheckNHS(r[2]) != nil {
			bad++
		}
	})
	for _, f := range []string{hvContactsFile, hvAssessmentsFile} {
		eachRow(t, filepath.Join(dir, f), func(r []string) {
			if connectors.CheckNHS(r[1]) != nil {
				bad++
			}
		})
	}
	if bad > 0 {
		t.Errorf("%d identifiers fail their check", bad)
	}
	for name, spec := range connectors.Specs() {
		files := sourceFiles(t, dir, name, "*")
		var rows int64
		for _, f := range files {
			if ok, _ := filepath.Match(spec.Pattern, filepath.Base(f)); !ok {
				t.Errorf("%s does not match %s's pattern %q", f, name, spec.Pattern)
			}
			header, n := headerAndRows(t, f)
			if !slices.Equal(header, spec.ColumnNames()) {
				t.Errorf("%s header %v; want %v", f, header, spec.ColumnNames())
			}
			rows += n
		}
		if rows == 0 || sum.Rows[name] != rows {
			t.Errorf("%s: %d rows on disk, Summary.Rows %d; want the same, above zero", name, rows, sum.Rows[name])
		}
	}
}
