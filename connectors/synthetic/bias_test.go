package synthetic

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseBias(t *testing.T) {
	tests := []struct {
		spec string
		want string // substring of the error; "" for valid
	}{
		{"lateness_underrecorded:ethnicity5=Asian:0.5", ""},
		{"visibility:imd_quintile=Q1:1.5", ""},
		{"visibility:ethnicity5=Other:0.8", ""},
		{"lateness_underrecorded:imd_quintile=Q5:1", ""},
		{"lateness_underrecorded:ethnicity5=Asian", "want KIND:ATTRIBUTE=VALUE:FACTOR"},
		{"a:b:c:d", "want KIND:ATTRIBUTE=VALUE:FACTOR"},
		{"hiding:ethnicity5=Asian:0.5", `unknown kind "hiding"`},
		{"visibility:ethnicity5:1.5", `is not ATTRIBUTE=VALUE`},
		{"visibility:religion=None:1.5", `unknown attribute "religion"`},
		{"visibility:ethnicity5=asian:1.5", `value "asian" is not one of Asian, Black, Mixed, White, Other`},
		{"visibility:imd_quintile=Q6:1.5", `value "Q6" is not one of Q1`},
		{"visibility:imd_quintile=1:1.5", `value "1" is not one of Q1`},
		{"visibility:imd_quintile=Q1:lots", `factor "lots" is not a number`},
		{"visibility:imd_quintile=Q1:NaN", `is not a number`},
		{"visibility:imd_quintile=Q1:0", "outside (0, 10]"},
		{"visibility:imd_quintile=Q1:11", "outside (0, 10]"},
		{"lateness_underrecorded:ethnicity5=Black:1.5", "outside (0, 1]"},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			_, err := parseBias(tc.spec)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("parseBias = %v; want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("parseBias = %v; want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestValidateProfileAndBias(t *testing.T) {
	ok := Config{Out: "x", Profile: ProfileInnerUrban, Bias: []string{"visibility:imd_quintile=Q1:1.5"}}
	if err := ok.Validate(); err != nil {
		t.Errorf("Validate(%+v) = %v", ok, err)
	}
	bad := Config{Out: "x", Profile: "rural", Bias: []string{"visibility:imd_quintile=Q9:1.5"}}
	err := bad.Validate()
	for _, want := range []string{`unknown profile "rural"`, `value "Q9"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate(%+v) = %v; want an error containing %q", bad, err, want)
		}
	}
}

// TestBiasChangesRecordsOnly generates one council with and without both
// biases: need, the truth and referrals stay byte-identical, Asian pupils'
// late marks halve and Q1 families' approaches and targeted contacts rise.
func TestBiasChangesRecordsOnly(t *testing.T) {
	cfg := Config{Children: 6000, Weeks: 60, Seed: 9}
	base, _ := generate(t, cfg)
	cfg.Bias = []string{"lateness_underrecorded:ethnicity5=Asian:0.5", "visibility:imd_quintile=Q1:1.5"}
	biased, _ := generate(t, cfg)
	for _, f := range []string{householdWeeksFile, referralsFile, truthPersonsFile} {
		a, _ := os.ReadFile(filepath.Join(base, f))
		b, _ := os.ReadFile(filepath.Join(biased, f))
		if !bytes.Equal(a, b) {
			t.Errorf("%s changed under observation bias", f)
		}
	}
	p := loadPeople(t, base)
	late := func(dir string) (asian, other float64) {
		var n [2][2]int // [asian][late]
		for _, f := range sourceFiles(t, dir, "attendance_sessions", "attendance_*.csv") {
			eachRowBytes(t, f, func(r [][]byte) {
				g := 0
				if p.eth[p.byUPN[string(r[1])]] == "Asian" {
					g = 1
				}
				n[g][0]++
				if c := string(r[4]); c == "L" || c == "U" {
					n[g][1]++
				}
			})
		}
		return float64(n[1][1]) / float64(n[1][0]), float64(n[0][1]) / float64(n[0][0])
	}
	a0, o0 := late(base)
	a1, o1 := late(biased)
	inRange(t, "Asian late-mark ratio biased/unbiased", a1/a0, 0.4, 0.6)
	inRange(t, "other late-mark ratio biased/unbiased", o1/o0, 0.95, 1.05)

	visible := func(dir string) (q1, rest float64) {
		var n [2]float64
		q := func(id string) int {
			if d := p.decile[id]; d == "1" || d == "2" {
				return 0
			}
			return 1
		}
		eachRow(t, filepath.Join(dir, homelessnessFile), func(r []string) { n[q(r[2])]++ })
		eachRow(t, filepath.Join(dir, hvContactsFile), func(r []string) {
			if r[2] == "TARGETED" {
				n[q(p.byNHS[r[1]])]++
			}
		})
		return n[0], n[1]
	}
	q0, r0 := visible(base)
	q1, r1 := visible(biased)
	inRange(t, "Q1 approaches+targeted contacts ratio", q1/q0, 1.25, 1.8)
	inRange(t, "other quintiles' ratio", r1/r0, 0.85, 1.15)
}
