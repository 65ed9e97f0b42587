package synthetic

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"earlyhelp/connectors"
)

// small is the council most tests use: fast, and long enough (60 weeks) to
// cover a full school year and the 26-week truth horizon.
var small = Config{Children: 2000, Weeks: 60, Seed: 7}

func TestGenerateIsDeterministic(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"none", small},
		{"light", Config{Children: 2000, Weeks: 60, Seed: 7, Defects: DefectsLight}},
		{"end midweek", Config{Children: 500, Weeks: 30, Seed: 3, End: time.Date(2025, 3, 12, 15, 0, 0, 0, time.UTC)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			prev := runtime.GOMAXPROCS(1)
			a, sa := generate(t, tc.cfg)
			runtime.GOMAXPROCS(max(2, prev))
			b, sb := generate(t, tc.cfg)
			runtime.GOMAXPROCS(prev)

			fa, fb := listFiles(t, a), listFiles(t, b)
			if !slices.Equal(fa, fb) {
				t.Fatalf("file lists differ:\n%v\n%v", fa, fb)
			}
			if !slices.Equal(fa, sa.Files) {
				t.Errorf("Summary.Files = %v; want the files on disk %v", sa.Files, fa)
			}
			for _, f := range fa {
				ba, err := os.ReadFile(filepath.Join(a, f))
				if err != nil {
					t.Fatal(err)
				}
				bb, err := os.ReadFile(filepath.Join(b, f))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(ba, bb) {
					t.Errorf("%s differs between two runs", f)
				}
			}
			if sa.OracleAUC != sb.OracleAUC || sa.Referrals != sb.Referrals {
				t.Errorf("summaries differ: %+v and %+v", sa, sb)
			}
		})
	}
}

func TestSeedsDiffer(t *testing.T) {
	a, _ := generate(t, Config{Children: 200, Weeks: 4, Seed: 1})
	b, _ := generate(t, Config{Children: 200, Weeks: 4, Seed: 2})
	for _, f := range []string{"incoming/persons/persons.csv", keyFile} {
		ba, _ := os.ReadFile(filepath.Join(a, f))
		bb, _ := os.ReadFile(filepath.Join(b, f))
		if bytes.Equal(ba, bb) {
			t.Errorf("%s is the same for seeds 1 and 2", f)
		}
	}
}

func TestOutputLayout(t *testing.T) {
	dir, s := generate(t, small)
	specs := connectors.Specs()
	tests := []struct {
		source string
		files  []string
	}{
		{connectors.Persons, []string{"incoming/persons/persons.csv"}},
		{connectors.Households, []string{"incoming/households/households.csv"}},
		{connectors.Deprivation, []string{"incoming/deprivation/deprivation.csv"}},
		{connectors.CSCReferrals, []string{"incoming/csc_referrals/csc_referrals.csv"}},
		{connectors.AttendanceSessions, nil}, // every month
	}
	for _, tc := range tests {
		t.Run(tc.source, func(t *testing.T) {
			files := tc.files
			if files == nil {
				for _, f := range attendanceFiles(t, dir) {
					rel, _ := filepath.Rel(dir, f)
					files = append(files, filepath.ToSlash(rel))
				}
			}
			var rows int64
			for _, f := range files {
				matched, _ := filepath.Match(specs[tc.source].Pattern, filepath.Base(f))
				if !matched {
					t.Errorf("%s does not match the source pattern %q", f, specs[tc.source].Pattern)
				}
				header, recs := readCSV(t, filepath.Join(dir, f))
				if want := specs[tc.source].ColumnNames(); !slices.Equal(header, want) {
					t.Errorf("%s header = %v; want %v", f, header, want)
				}
				for i, rec := range recs {
					if len(rec) != len(header) {
						t.Fatalf("%s row %d has %d fields; want %d", f, i+2, len(rec), len(header))
					}
				}
				rows += int64(len(recs))
			}
			if s.Rows[tc.source] != rows {
				t.Errorf("Summary.Rows[%s] = %d; want %d", tc.source, s.Rows[tc.source], rows)
			}
		})
	}

	t.Run("key", func(t *testing.T) {
		info, err := os.Stat(filepath.Join(dir, keyFile))
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o600 {
			t.Errorf("key mode = %v; want 0600", info.Mode().Perm())
		}
		b, _ := os.ReadFile(filepath.Join(dir, keyFile))
		if !regexp.MustCompile(`^[0-9a-f]{64}\n$`).Match(b) {
			t.Errorf("key = %q; want 64 hex digits on one line", b)
		}
	})
	t.Run("no temporary files", func(t *testing.T) {
		for _, f := range listFiles(t, dir) {
			if strings.HasSuffix(f, ".tmp") {
				t.Errorf("%s left behind", f)
			}
		}
	})
}

func TestIdentifiers(t *testing.T) {
	dir, s := generate(t, small)
	upns, nhs := map[string]bool{}, map[string]bool{}
	persons := records(t, filepath.Join(dir, "incoming/persons/persons.csv"))
	if len(persons) != s.Persons {
		t.Errorf("persons.csv has %d rows; Summary.Persons = %d", len(persons), s.Persons)
	}
	idForm := regexp.MustCompile(`^P\d{7}$`)
	for _, p := range persons {
		if !idForm.MatchString(p["person_id"]) {
			t.Errorf("person_id %q", p["person_id"])
		}
		if u := p["upn"]; u != "" {
			if err := connectors.CheckUPN(u); err != nil {
				t.Errorf("%s: upn %q: %v", p["person_id"], u, err)
			}
			if upns[u] {
				t.Errorf("upn %q given twice", u)
			}
			upns[u] = true
		}
		n := p["nhs_number"]
		if err := connectors.CheckNHS(n); err != nil || !strings.HasPrefix(n, "999") {
			t.Errorf("%s: nhs_number %q: %v", p["person_id"], n, err)
		}
		if nhs[n] {
			t.Errorf("nhs_number %q given twice", n)
		}
		nhs[n] = true
		if _, ok := ethCodes()[p["ethnicity"]]; !ok {
			t.Errorf("%s: ethnicity %q is not an ONS 2021 code", p["person_id"], p["ethnicity"])
		}
	}
	for _, f := range attendanceFiles(t, dir) {
		_, recs := readCSV(t, f)
		for _, rec := range recs {
			if !upns[rec[1]] {
				t.Fatalf("%s: upn %q is not in persons.csv", f, rec[1])
			}
			if len(rec[0]) != 6 {
				t.Fatalf("%s: school_urn %q is not six digits", f, rec[0])
			}
		}
	}
	for _, h := range records(t, filepath.Join(dir, "incoming/households/households.csv")) {
		if !regexp.MustCompile(`^1\d{11}$`).MatchString(h["uprn"]) || !regexp.MustCompile(`^E01\d{6}$`).MatchString(h["lsoa_code"]) {
			t.Fatalf("household row %v: bad uprn or lsoa_code", h)
		}
	}
}

func ethCodes() map[string]bool {
	m := map[string]bool{}
	for _, e := range ethnicities {
		m[e.code] = true
	}
	return m
}

func TestAttendanceCalendar(t *testing.T) {
	// 120 weeks to End crosses 19 August 2024, so both code sets appear.
	dir, _ := generate(t, Config{Children: 800, Weeks: 120, Seed: 5})
	legacyOnly := map[string]bool{"H": true, "J": true}
	currentOnly := map[string]bool{"K": true, "C1": true, "C2": true, "J1": true}
	change := time.Date(2024, 8, 19, 0, 0, 0, 0, time.UTC)
	holidays := map[string]bool{}
	for y := 2024; y <= 2026; y++ {
		for _, d := range bankHolidays(y) {
			holidays[isoString(d)] = true
		}
	}
	seen := map[bool]map[string]bool{true: {}, false: {}}
	for _, f := range attendanceFiles(t, dir) {
		month := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "attendance_"), ".csv")
		_, recs := readCSV(t, f)
		for _, rec := range recs {
			date, session, code, minutes := rec[2], rec[3], rec[4], rec[5]
			d := parseDate(t, date)
			if !strings.HasPrefix(date, month) {
				t.Fatalf("%s holds a session of %s", f, date)
			}
			if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday || holidays[date] {
				t.Fatalf("%s: session on %s (%s)", f, date, wd)
			}
			if session != "AM" && session != "PM" {
				t.Fatalf("%s: session %q", f, session)
			}
			legacy := d.Before(change)
			seen[legacy][code] = true
			if legacy && currentOnly[code] || !legacy && legacyOnly[code] {
				t.Errorf("%s: code %q on %s is from the wrong code set", f, code, date)
			}
			switch code {
			case "L", "U":
				m, err := strconv.Atoi(minutes)
				lo, hi := 1, 30
				if code == "U" {
					lo, hi = 31, 150
				}
				if err != nil || m < lo || m > hi {
					t.Fatalf("%s: %s with minutes_late %q; want %d–%d", f, code, minutes, lo, hi)
				}
			default:
				if minutes != "" {
					t.Fatalf("%s: %s with minutes_late %q", f, code, minutes)
				}
			}
		}
	}
	for _, c := range []string{"/", `\`, "L", "I", "O", "#", "H"} {
		if !seen[true][c] {
			t.Errorf("legacy sessions never coded %q", c)
		}
	}
	for _, c := range []string{"/", `\`, "L", "I", "O", "#", "K", "C2"} {
		if !seen[false][c] {
			t.Errorf("2024 code set sessions never coded %q", c)
		}
	}
}

func TestHouseholdSpells(t *testing.T) {
	dir, _ := generate(t, small)
	type spell struct {
		household, uprn string
		from, to        time.Time
	}
	byPerson := map[string][]spell{}
	roles := map[string]bool{"parent": true, "carer": true, "child": true, "other_adult": true}
	end := DefaultEnd
	for _, r := range records(t, filepath.Join(dir, "incoming/households/households.csv")) {
		if !roles[r["role"]] {
			t.Fatalf("role %q", r["role"])
		}
		s := spell{household: r["household_id"], uprn: r["uprn"], from: parseDate(t, r["from_date"]), to: end.AddDate(100, 0, 0)}
		if r["to_date"] != "" {
			s.to = parseDate(t, r["to_date"])
		}
		if s.to.Before(s.from) || s.from.After(end) {
			t.Fatalf("spell %v of %s runs backwards or starts after End", s, r["person_id"])
		}
		byPerson[r["person_id"]] = append(byPerson[r["person_id"]], s)
	}
	moves, changes := 0, 0
	for p, spells := range byPerson {
		slices.SortFunc(spells, func(a, b spell) int { return a.from.Compare(b.from) })
		for i := 1; i < len(spells); i++ {
			prev, cur := spells[i-1], spells[i]
			if !cur.from.After(prev.to) {
				t.Errorf("%s: spells overlap: %v and %v", p, prev, cur)
			}
			if !cur.from.Equal(prev.to.AddDate(0, 0, 1)) {
				t.Errorf("%s: gap between %v and %v", p, prev, cur)
			}
			if cur.household == prev.household {
				moves++
				if cur.uprn == prev.uprn {
					t.Errorf("%s: a move to the same UPRN: %v, %v", p, prev, cur)
				}
			} else {
				changes++
			}
		}
		if last := spells[len(spells)-1]; last.to.Before(end) {
			t.Errorf("%s: no current household at End (last spell %v)", p, last)
		}
	}
	if moves == 0 || changes == 0 {
		t.Errorf("%d address moves and %d household changes; want some of each", moves, changes)
	}
}

// codeCategories maps each code the generator writes to its statistical
// category (domain-data §1.2).
func codeCategories() map[string]string {
	m := map[string]string{"#": "nc"}
	for _, c := range strings.Fields(`/ \ L`) {
		m[c] = "present"
	}
	for _, c := range strings.Fields("K V P W B J") {
		m[c] = "aea"
	}
	for _, c := range strings.Fields("I M C C1 C2 J1 S T R E H") {
		m[c] = "auth"
	}
	for _, c := range strings.Fields("G N O U") {
		m[c] = "unauth"
	}
	return m
}

func TestTruth(t *testing.T) {
	dir, s := generate(t, small)
	weeks := records(t, filepath.Join(dir, householdWeeksFile))
	if len(weeks) == 0 {
		t.Fatal("no household weeks")
	}
	var sum float64
	for _, r := range weeks {
		p, err := strconv.ParseFloat(r["p_referral_26w"], 64)
		if err != nil || p < 0 || p > 1 {
			t.Fatalf("p_referral_26w %q", r["p_referral_26w"])
		}
		if z, err := strconv.ParseFloat(r["need"], 64); err != nil || math.Abs(z) > 20 {
			t.Fatalf("need %q", r["need"])
		}
		if parseDate(t, r["week_start"]).Weekday() != time.Monday {
			t.Fatalf("week_start %s is not a Monday", r["week_start"])
		}
		sum += p
	}
	// ≈500 referrals per 10,000 children a year, three quarters severe, one
	// to two children per household: a few per cent over 26 weeks.
	if mean := sum / float64(len(weeks)); mean < 0.01 || mean > 0.1 {
		t.Errorf("mean p_referral_26w = %.4f; want 0.01–0.1", mean)
	}
	if s.OracleAUC < 0.6 {
		t.Errorf("OracleAUC = %.3f; want at least 0.6", s.OracleAUC)
	}
	persons := records(t, filepath.Join(dir, truthPersonsFile))
	if len(persons) != s.Persons {
		t.Errorf("truth/persons.csv has %d rows; want %d", len(persons), s.Persons)
	}
	defects := records(t, filepath.Join(dir, defectsFile))
	if len(defects) != 0 {
		t.Errorf("defects none wrote %d defects", len(defects))
	}
	for _, f := range listFiles(t, dir) {
		b, _ := os.ReadFile(filepath.Join(dir, f))
		if bytes.HasPrefix(b, []byte("\ufeff")) {
			t.Errorf("%s has a BOM under defects none", f)
		}
	}
}

func TestCancelledLeavesNoFiles(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Generate(ctx, Config{Out: dir, Children: 200, Weeks: 10})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Generate(cancelled) = %v; want context.Canceled", err)
	}
	if files := listFiles(t, dir); len(files) != 0 {
		t.Errorf("a cancelled run left %v", files)
	}
}

func TestRerunRemovesStaleMonths(t *testing.T) {
	dir, _ := generate(t, Config{Children: 100, Weeks: 30})
	before := len(attendanceFiles(t, dir))
	generate(t, Config{Out: dir, Children: 100, Weeks: 4})
	if after := len(attendanceFiles(t, dir)); after >= before {
		t.Errorf("%d attendance files after a shorter rerun; want fewer than %d", after, before)
	}
}
