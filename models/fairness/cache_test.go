package fairness_test

import (
	"bytes"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"earlyhelp/models/fairness"
)

func scoredChildren(seed uint64) string {
	rng := rand.New(rand.NewPCG(seed, 6))
	var b strings.Builder
	b.WriteString("as_of,model,person_id,household_id,score,selected,label,ethnicity5,ethnicity,imd_decile\n")
	groups := []string{"WHITE_BRITISH", "WHITE_BRITISH", "ASIAN_INDIAN", "BLACK_AFRICAN"}
	for _, date := range []string{"2026-01-05", "2026-02-02", "2026-07-20"} {
		for i := 0; i < 1500; i++ {
			score := rng.Float64()
			lab := ""
			if date != "2026-07-20" {
				lab = "0"
				if rng.Float64() < score*0.3 {
					lab = "1"
				}
			}
			fmt.Fprintf(&b, "%s,logistic,p%05d,h%05d,%.4f,%d,%s,,%s,%d\n", date, i, i/2, score,
				map[bool]int{true: 1}[score > 0.9], lab, groups[i%len(groups)], 1+i%10)
		}
	}
	return b.String()
}

func auditDir(t *testing.T, csv string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "evaluation"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "evaluation", "scored_children.csv"), []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestAuditRunCache: a second run over the same backtest reads the audit
// back and writes exactly the files a fresh audit writes; a changed
// outcome is audited afresh.
func TestAuditRunCache(t *testing.T) {
	cfg := fairness.DefaultConfig()
	cfg.Bootstrap = 40
	cfg.CapacityFractions = []float64{0.1}
	cfg.CacheDir = t.TempDir()
	csv := scoredChildren(9)

	first := auditDir(t, csv)
	a, err := fairness.AuditRun(first, cfg)
	if err != nil || a.Reused {
		t.Fatalf("first audit: reused %v, %v", a != nil && a.Reused, err)
	}
	second := auditDir(t, csv)
	b, err := fairness.AuditRun(second, cfg)
	if err != nil || !b.Reused {
		t.Fatalf("second audit over the same rows: reused %v, %v", b != nil && b.Reused, err)
	}
	if a.Headline() != b.Headline() {
		t.Errorf("headlines differ:\n%s\n%s", a.Headline(), b.Headline())
	}
	sameAuditFiles(t, "read back", first, second)
	// Flip one outcome: a different backtest is audited afresh.
	changed := strings.Replace(csv, ",0,,WHITE_BRITISH,", ",1,,WHITE_BRITISH,", 1)
	if changed == csv {
		t.Fatal("fixture has no label to flip")
	}
	c, err := fairness.AuditRun(auditDir(t, changed), cfg)
	if err != nil || c.Reused {
		t.Errorf("changed rows: reused %v, %v", c != nil && c.Reused, err)
	}
}

// TestAuditRunFreshBacktest: told the backtest is new, AuditRun reads the
// rows while it keys the cache, and writes the files it writes when not
// told, whether the cache misses (the first audit) or holds the audit
// anyway (the same backtest again); and a bad file fails it the same way.
func TestAuditRunFreshBacktest(t *testing.T) {
	csv := scoredChildren(11)
	for _, fresh := range []bool{false, true} {
		cfg := fairness.DefaultConfig()
		cfg.Bootstrap = 40
		cfg.CacheDir = t.TempDir()
		cfg.FreshBacktest = fresh
		plain := fairness.DefaultConfig()
		plain.Bootstrap = 40
		want := auditDir(t, csv)
		if _, err := fairness.AuditRun(want, plain); err != nil {
			t.Fatal(err)
		}
		for i, reused := range []bool{false, true} {
			got := auditDir(t, csv)
			a, err := fairness.AuditRun(got, cfg)
			if err != nil || a.Reused != reused {
				t.Fatalf("fresh %t, audit %d: reused %v, %v; want reused %t", fresh, i+1, a != nil && a.Reused, err, reused)
			}
			sameAuditFiles(t, fmt.Sprintf("fresh %t, audit %d", fresh, i+1), want, got)
		}
		bad := strings.Replace(csv, ",logistic,p00007,", ",logistic,p00007,h,x,", 1)
		if _, err := fairness.AuditRun(auditDir(t, bad), cfg); err == nil || !strings.Contains(err.Error(), "scored_children.csv") {
			t.Errorf("fresh %t: a line of too many fields gave %v; want an error naming the file", fresh, err)
		}
	}
}

// sameAuditFiles fails unless dirs a and b hold the same audit files.
func sameAuditFiles(t *testing.T, what, a, b string) {
	t.Helper()
	n := 0
	filepath.WalkDir(filepath.Join(a, "audit"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(a, p)
		want, _ := os.ReadFile(p)
		got, err := os.ReadFile(filepath.Join(b, rel))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: %s differs", what, rel)
		}
		n++
		return nil
	})
	if n < 10 {
		t.Errorf("%s: compared %d files", what, n)
	}
}

// TestAuditRunCacheByLines: a weekly run's file holds its training run's
// backtest lines and a new week. The backtest's audit is found in the
// cache by those lines, and the run's audit files, this week's and the
// manifest included, are those of an audit without a cache. It holds too
// for a file with a quoted backtest line, which is read whole and found
// by its rows, as is an audit kept by its rows before audits were kept by
// their lines.
func TestAuditRunCacheByLines(t *testing.T) {
	cfg := fairness.DefaultConfig()
	cfg.Bootstrap = 40
	cfg.CapacityFractions = []float64{0.1}
	training := scoredChildren(11)
	// Another week: this week's rows scored differently.
	cut := strings.Index(training, "\n2026-07-20,")
	var week strings.Builder
	for i, line := range strings.Split(strings.TrimSuffix(training[cut+1:], "\n"), "\n") {
		f := strings.Split(line, ",")
		f[0], f[4], f[5] = "2026-07-27", fmt.Sprintf("%.4f", float64((i*37)%1000)/1000), map[bool]string{true: "1", false: "0"}[i%9 == 0]
		week.WriteString(strings.Join(f, ",") + "\n")
	}
	weekly := training[:cut+1] + week.String()
	quoted := strings.Replace(training, ",logistic,", `,"logistic",`, 1)
	quotedWeekly := strings.Replace(weekly, ",logistic,", `,"logistic",`, 1)
	for _, tc := range []struct{ name, training, weekly string }{
		{"lines", training, weekly},
		{"a quoted line", quoted, quotedWeekly},
		// Kept by its rows only, as audits were before they were kept by
		// their lines, and found so.
		{"kept by rows, read as lines", quoted, weekly},
	} {
		cfg.CacheDir = t.TempDir()
		if a, err := fairness.AuditRun(auditDir(t, tc.training), cfg); err != nil || a.Reused {
			t.Fatalf("%s: training run's audit: reused %v, %v", tc.name, a != nil && a.Reused, err)
		}
		cached := auditDir(t, tc.weekly)
		b, err := fairness.AuditRun(cached, cfg)
		if err != nil || !b.Reused {
			t.Fatalf("%s: weekly run's audit: reused %v, %v", tc.name, b != nil && b.Reused, err)
		}
		if b.ThisWeek == nil {
			t.Fatalf("%s: no audit of this week", tc.name)
		}
		fresh := cfg
		fresh.CacheDir = ""
		plain := auditDir(t, tc.weekly)
		if _, err := fairness.AuditRun(plain, fresh); err != nil {
			t.Fatal(err)
		}
		sameAuditFiles(t, tc.name, plain, cached)
	}
}
