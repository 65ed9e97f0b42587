package fairness_test

import (
	"fmt"
	"html"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"earlyhelp/models/fairness"
)

// TestReportShowsNoSmallCount writes a run whose list has small groups
// (five Other children selected this week, a handful of Mixed households)
// and parses report.html: outside the charts' axes no number from 1 to 9
// may stand on its own, so every small count went through suppression,
// with secondary suppression from the publishable tier.
func TestReportShowsNoSmallCount(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(8, 9))
	var b strings.Builder
	b.WriteString("as_of,model,person_id,household_id,score,selected,label,ethnicity5,ethnicity,imd_decile\n")
	eth := func(i int) string {
		switch {
		case i < 40:
			return "OTHER_ANY"
		case i < 52:
			return "MIXED_OTHER"
		case i < 700:
			return "ASIAN_INDIAN"
		}
		return "WHITE_BRITISH"
	}
	for _, date := range []string{"2026-01-05", "2026-02-02", "2026-07-20"} {
		for i := 0; i < 2400; i++ {
			score := rng.Float64()
			sel := score > 0.93
			if i < 40 && date == "2026-07-20" {
				sel = i < 5 // five Other children on this week's list
			}
			lab := ""
			if date != "2026-07-20" {
				lab = "0"
				if rng.Float64() < score*0.4 {
					lab = "1"
				}
			}
			fmt.Fprintf(&b, "%s,logistic,p%05d,h%05d,%.4f,%d,%s,,%s,%d\n", date, i, i/2, score, map[bool]int{true: 1}[sel], lab, eth(i), 1+i%10)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "evaluation"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "evaluation", "scored_children.csv"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := fairness.DefaultConfig()
	cfg.Bootstrap = 40
	cfg.CapacityFractions = []float64{0.1}
	if _, err := fairness.AuditRun(dir, cfg); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(dir, "audit", "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	text := regexp.MustCompile(`(?s)<svg.*?</svg>|<style.*?</style>`).ReplaceAllString(string(page), " ")
	text = html.UnescapeString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(text, " "))
	small := regexp.MustCompile(`(^|[^\w.,\-–])([1-9])($|[^\w.%])`)
	for _, m := range small.FindAllStringIndex(text, -1) {
		lo, hi := max(0, m[0]-60), min(len(text), m[1]+60)
		t.Errorf("report.html shows a small number: …%s…", strings.Join(strings.Fields(text[lo:hi]), " "))
	}
	if !strings.Contains(text, "Other ethnicity5 c") && !strings.Contains(strings.Join(strings.Fields(text), " "), "ethnicity5 Other 40 c") {
		t.Errorf("this week's Other row does not show its selected count as c:\n%s", text[strings.Index(text, "This week"):])
	}
}
