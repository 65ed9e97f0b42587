package fairness

import (
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"

	"earlyhelp/pipeline/rundir"
)

// RunAudit is the audit of a run folder (CONTRACTS §4): the rows of
// evaluation/scored_children.csv whose outcome is known (the backtest
// dates, pooled) are audited in full into audit/, and this week's rows
// (blank label) for selection metrics into audit/this_week/. It writes
// report.html beside the restricted files.
type RunAudit struct {
	Backtest *Result // nil when the run had no labelled rows
	ThisWeek *Result // nil when the run listed nobody
	// Reused says the backtest audit was read back from Config.CacheDir.
	Reused bool
	// Decisions is the audit of the navigators' decisions, when
	// Config.Decisions gave any listed household.
	Decisions []DecisionCell
}

// AuditRun reads runDir/evaluation/scored_children.csv, audits it with cfg
// and writes runDir/audit/.
func AuditRun(runDir string, cfg Config) (*RunAudit, error) {
	scored := rundir.Open(runDir).ScoredChildrenCSV()
	scoredSum := hashFile(scored)
	out := &RunAudit{}
	dir := rundir.Open(runDir).AuditDir()
	var week []Row
	latest := ""
	done := false
	rawKey := "" // the backtest's key by its lines, known to miss
	var err error
	readRows := func() ([]Row, error) { return readScored(scored) }
	if cfg.CacheDir != "" && cfg.FreshBacktest {
		var (
			rows    []Row
			readErr error
			read    = make(chan struct{}) // not waited for on a cache hit
		)
		go func() { rows, readErr = readScored(scored); close(read) }()
		readRows = func() ([]Row, error) { <-read; return rows, readErr }
	}
	if cfg.CacheDir != "" {
		// A weekly run's backtest rows are the training run's, line for
		// line: digested as they stand, a cached audit of them is found
		// without making a row of any (see scanScored).
		sc, err := scanScored(scored)
		if err != nil {
			return nil, fmt.Errorf("audit: scored_children.csv: %w", err)
		}
		if sc.raw && sc.labelled.Rows > 0 {
			bcfg := fit(cfg, sc.labelled.Rows)
			key := sc.key(&bcfg)
			if res, ok := cachedAudit(cfg.CacheDir, key, &bcfg); ok {
				out.Backtest, out.Reused = res, true
				if err := out.Backtest.Write(dir); err != nil {
					return nil, err
				}
				if err := writeManifest(dir, scoredSum, sc.labelled, &bcfg, out.Backtest); err != nil {
					return nil, err
				}
				week, latest, done = sc.week, sc.latest, true
			} else {
				rawKey = key
			}
		}
	}
	if !done {
		if week, latest, err = auditBacktest(out, dir, readRows, scoredSum, cfg, rawKey); err != nil {
			return nil, err
		}
	}
	if len(week) > 0 {
		wcfg := fit(cfg, len(week))
		wcfg.Bootstrap = 0 // selection rates only: no outcomes to resample
		if out.ThisWeek, err = Audit(week, wcfg); err != nil {
			return nil, fmt.Errorf("audit of this week's list: %w", err)
		}
		if err := out.ThisWeek.Write(rundir.Audit{Dir: dir}.ThisWeek().Dir); err != nil {
			return nil, err
		}
	}
	if cfg.Decisions != nil {
		rows, err := cfg.Decisions(runDir)
		if err != nil {
			return nil, fmt.Errorf("audit of the decisions: %w", err)
		}
		if len(rows) > 0 {
			groupDecisions(rows, week)
			tau := float64(cfg.TauNum) / float64(max(cfg.TauDen, 1))
			out.Decisions = AuditDecisions(rows, tau, cfg.MinDenVerdict)
			if err := WriteDecisions(dir, out.Decisions); err != nil {
				return nil, err
			}
		}
	}
	if err := out.writeReport(dir, latest); err != nil {
		return nil, err
	}
	return out, nil
}

// readScored reads every row of the scored-children file at path.
func readScored(path string) ([]Row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	defer f.Close()
	rows, err := readHalves(f)
	if err != nil {
		return nil, fmt.Errorf("audit: scored_children.csv: %w", err)
	}
	return rows, nil
}

// auditBacktest reads every row of the scored file (readRows), audits the
// labelled ones into out.Backtest and dir (from cfg.CacheDir when kept
// there under rawKey, or under the rows' digest when rawKey is "") and
// returns this week's rows and their date.
func auditBacktest(out *RunAudit, dir string, readRows func() ([]Row, error), scoredSum func() (string, error), cfg Config, rawKey string) ([]Row, string, error) {
	rows, err := readRows()
	if err != nil {
		return nil, "", err
	}
	latest := ""
	for _, r := range rows {
		if r.Label < 0 && r.AsOf > latest {
			latest = r.AsOf
		}
	}
	// This week's rows are copied out; the labelled rows, most of the
	// file, are kept in place and in order, so the file is held once.
	var week []Row
	for _, r := range rows {
		if r.Label < 0 && r.AsOf == latest {
			week = append(week, r)
		}
	}
	labelled := rows[:0]
	for _, r := range rows {
		if r.Label >= 0 {
			labelled = append(labelled, r)
		}
	}
	clear(rows[len(labelled):]) // drop the unlabelled rows' strings
	if len(labelled) == 0 {
		return week, latest, nil
	}
	bcfg := fit(cfg, len(labelled))
	key := rawKey
	if cfg.CacheDir != "" {
		// By its rows: a file that could not be digested as lines, or an
		// audit kept before audits were kept by lines, which is then kept
		// by its lines too, so an upgrade does not bootstrap it again.
		rowKey := auditKey(labelled, &bcfg)
		out.Backtest, out.Reused = cachedAudit(cfg.CacheDir, rowKey, &bcfg)
		switch {
		case key == "":
			key = rowKey
		case out.Backtest != nil:
			keepAudit(cfg.CacheDir, key, out.Backtest)
		}
	}
	if out.Backtest == nil {
		if out.Backtest, err = Audit(labelled, bcfg); err != nil {
			return nil, "", fmt.Errorf("audit of the backtest: %w", err)
		}
		if key != "" {
			keepAudit(cfg.CacheDir, key, out.Backtest)
		}
	}
	if err := out.Backtest.Write(dir); err != nil {
		return nil, "", err
	}
	if err := writeManifest(dir, scoredSum, summariseLabelled(labelled), &bcfg, out.Backtest); err != nil {
		return nil, "", err
	}
	return week, latest, nil
}

// groupDecisions gives each listed household the ethnicity5 of its first
// child and its IMD quintile, from this week's rows: a household no longer
// scored this week stays UNKNOWN.
func groupDecisions(rows []DecisionRow, week []Row) {
	type groups struct{ eth, imd string }
	by := make(map[string]groups, len(week))
	for i := range week {
		r := &week[i]
		if _, seen := by[r.HouseholdID]; seen {
			continue
		}
		eth := r.Ethnicity5
		if eth == "" {
			eth, _ = GroupOf5(r.Ethnicity)
		}
		q := ""
		if r.IMDDecile > 0 {
			q = Quintile(r.IMDDecile)
		}
		by[r.HouseholdID] = groups{eth, q}
	}
	for i := range rows {
		if g, ok := by[rows[i].Household]; ok {
			rows[i].Ethnicity5, rows[i].IMDQuintile = g.eth, g.imd
		}
	}
}

// fit drops capacity what-ifs larger than the rows audited: a small
// council may have fewer children than the list's capacity.
func fit(cfg Config, rows int) Config {
	var caps []int
	for _, k := range cfg.Capacities {
		if k <= rows {
			caps = append(caps, k)
		}
	}
	cfg.Capacities = caps
	return cfg
}

// Headline metrics: what the audit judges first. Recall (tpr) is the
// share of children who went on to need statutory help whom the list
// found; selection rate is the share of children the list picked.
var headlineMetrics = []string{"tpr", "selection_rate"}

// metricWords names a metric for a reader.
var metricWords = map[string]string{
	"tpr":            "found by the list among children who went on to be referred (recall)",
	"selection_rate": "selected for the list",
	"fpr":            "selected among children whose household was not referred",
	"ppv":            "in a referred household among the children selected (precision)",
	"for":            "in a referred household among the children passed over (false-omission rate)",
}

// Gauge is one value of earlyhelp_fairness_ratio.
type Gauge struct {
	Attribute, Group, Metric string
	Ratio                    float64
}

// judgedDecision says whether a decision's comparisons count towards the
// headline: the list as made, and the what-ifs at a fraction of children,
// which show whether a difference holds further down the ranking where a
// weekly capacity of a few dozen families has too few events to show it.
func judgedDecision(id string) bool { return id == "selected" || strings.HasPrefix(id, "rank_pct=") }

// judged says whether a comparison is one the headline, the gauge and the
// alert judge: a primary metric of a headline attribute under a judged
// decision.
func judged(d *Disparity) bool {
	return judgedDecision(d.Decision) && IsPrimary(d.Metric) && headlineAttribute(d.Attribute)
}

// Gauges are the backtest's ratios to the reference group for the
// headline metrics, and per attribute and primary metric how many
// comparisons are findings (the whole interval outside the tolerance
// band). Labels carry group names, never identifiers.
func (a *RunAudit) Gauges() (ratios []Gauge, outside map[[2]string]int) {
	outside = map[[2]string]int{}
	if a.Backtest == nil {
		return nil, outside
	}
	for _, d := range a.Backtest.Disparities {
		if d.Decision == "selected" && isHeadline(d.Metric) && headlineAttribute(d.Attribute) &&
			d.Ratio != nil && !math.IsNaN(*d.Ratio) && !math.IsInf(*d.Ratio, 0) {
			ratios = append(ratios, Gauge{d.Attribute, d.Group, d.Metric, *d.Ratio})
		}
		if !judged(&d) {
			continue
		}
		key := [2]string{d.Attribute, d.Metric}
		if _, ok := outside[key]; !ok {
			outside[key] = 0
		}
		if d.Finding == ClassFinding {
			outside[key]++
		}
	}
	return ratios, outside
}

// headlineAttributes are the attributes the headline and the alerts judge:
// the five ethnicity groups and the deprivation quintiles. The 19
// categories, deciles and intersections are in the files and the report,
// where small groups are marked, but too fine to alert on.
func headlineAttribute(a string) bool { return a == "ethnicity5" || a == "imd_quintile" }

func isHeadline(m string) bool {
	for _, h := range headlineMetrics {
		if h == m {
			return true
		}
	}
	return false
}

// byDeparture orders comparisons by their departure from parity, largest
// first.
func byDeparture(out []Disparity) {
	sort.SliceStable(out, func(i, j int) bool {
		return math.Abs(math.Log(*out[i].Ratio+1e-9)) > math.Abs(math.Log(*out[j].Ratio+1e-9))
	})
}

// Findings are the judged comparisons whose whole interval lies outside
// the tolerance band, largest departure from parity first.
func (a *RunAudit) Findings() []Disparity { return a.classed(ClassFinding) }

// Inconclusive are the judged comparisons whose interval crosses the band:
// not evidence of a difference, and not evidence of none.
func (a *RunAudit) Inconclusive() []Disparity { return a.classed(ClassInconclusive) }

func (a *RunAudit) classed(class string) []Disparity {
	if a.Backtest == nil {
		return nil
	}
	var out []Disparity
	for _, d := range a.Backtest.Disparities {
		if judged(&d) && d.Finding == class && d.Ratio != nil {
			out = append(out, d)
		}
	}
	byDeparture(out)
	return out
}

// decisionWords introduces a what-if's comparison.
func decisionWords(id string) string {
	if p, ok := strings.CutPrefix(id, "rank_pct="); ok {
		return fmt.Sprintf("if the list took the top %s of children by score, ", pctWords(p))
	}
	if id != "selected" {
		return "under " + id + ", "
	}
	return ""
}

func pctWords(p string) string {
	if p == "0.1" {
		return "tenth"
	}
	var f float64
	fmt.Sscan(p, &f)
	return fmt.Sprintf("%g%%", 100*f)
}

// Sentence says one disparity in words: the ratio, its interval, and what
// the findings rule makes of it.
func Sentence(d Disparity) string {
	words := metricWords[d.Metric]
	if words == "" {
		words = d.Metric
	}
	ci := ""
	if d.JudgedLo != nil && d.JudgedHi != nil {
		ci = fmt.Sprintf(" (95%% interval %.2f–%.2f, over %s and %s households)", *d.JudgedLo, *d.JudgedHi,
			households(d.Households), households(d.RefHouseholds))
	}
	class := map[string]string{
		ClassFinding:      "a finding: the whole interval lies outside the tolerance band",
		ClassInconclusive: "inconclusive: the interval crosses the tolerance band",
		ClassWithin:       "within the tolerance band",
		ClassInsufficient: "too few children or households to judge",
		ClassUndefined:    "not defined",
	}[d.Finding]
	if d.Finding == ClassFinding {
		if d.FindingBH == ClassFinding {
			class += ", and remains one after adjusting for the run's many comparisons (Benjamini–Hochberg)"
		} else {
			class += ", though not after adjusting for the run's many comparisons (Benjamini–Hochberg)"
		}
	}
	if d.Finding == ClassInsufficient || d.Ratio == nil {
		// No numbers: a ratio on a few households could give a small
		// count away.
		return fmt.Sprintf("%schildren in group %s of %s: %s", decisionWords(d.Decision), d.Group, d.Attribute, class)
	}
	return fmt.Sprintf("%schildren in group %s of %s were %s at %.2f times the rate of group %s%s, %s",
		decisionWords(d.Decision), d.Group, d.Attribute, words, *d.Ratio, d.RefGroup, ci, class)
}

// households says a count of households for a sentence; below 10 it says
// only that, as the report publishes no count from 1 to 9.
func households(n int64) string {
	if n > 0 && n < 10 {
		return "fewer than 10"
	}
	return strconv.FormatInt(n, 10)
}

// countWords writes a count of comparisons; small ones in words, so the
// report's no-small-number check need not tell them from counts of
// children.
func countWords(n int) string {
	if n >= 0 && n < 10 {
		return [...]string{"no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}[n]
	}
	return strconv.Itoa(n)
}

// Deeper says, for the what-if that selects the top tenth of children,
// each headline group's recall in words: at a capacity of a few dozen
// families a group's recall rests on a handful of children, and this
// shows whether a difference holds further down the ranking.
func (a *RunAudit) Deeper() []string {
	if a.Backtest == nil {
		return nil
	}
	var out []string
	for _, d := range a.Backtest.Disparities {
		if d.Decision == "rank_pct=0.1" && d.Metric == "tpr" && headlineAttribute(d.Attribute) && d.Ratio != nil && d.Group != d.RefGroup {
			out = append(out, Sentence(d))
		}
	}
	return out
}

// NeedBeside says, per deprivation quintile, how often its children were
// selected beside how often they went on to be referred, against the
// reference group: selection by deprivation is expected wherever need
// differs, so the two are read together and selection is not judged.
func (a *RunAudit) NeedBeside() []string {
	if a.Backtest == nil {
		return nil
	}
	prev := map[string]*float64{}
	for _, d := range a.Backtest.Disparities {
		if d.Decision == "selected" && d.Attribute == "imd_quintile" && d.Metric == "prevalence" {
			prev[d.Group] = d.Ratio
		}
	}
	var out []string
	for _, d := range a.Backtest.Disparities {
		if d.Decision != "selected" || d.Attribute != "imd_quintile" || d.Metric != "selection_rate" || d.Group == d.RefGroup {
			continue
		}
		sel, ref := "not comparable", "not comparable"
		if d.Ratio != nil {
			sel = fmt.Sprintf("%.1f times as often", *d.Ratio)
		}
		if p := prev[d.Group]; p != nil {
			ref = fmt.Sprintf("%.1f times as often", *p)
		}
		out = append(out, fmt.Sprintf("Children in %s were selected %s as children in %s, and referred %s.", d.Group, sel, d.RefGroup, ref))
	}
	return out
}

// Headline is the audit in one sentence for the model card and manifest.
func (a *RunAudit) Headline() string {
	if a.Backtest == nil {
		return "no backtest rows with known outcomes to audit"
	}
	f := a.Findings()
	count := map[string]int{}
	for _, d := range a.Backtest.Disparities {
		if judged(&d) {
			count[d.Finding]++
		}
	}
	if len(f) == 0 {
		return fmt.Sprintf("no finding on recall for any ethnicity group or deprivation quintile: %s comparison(s) within the tolerance band, %s inconclusive, %s with too few households to judge; see "+rundir.AuditReportFile,
			countWords(count[ClassWithin]), countWords(count[ClassInconclusive]), countWords(count[ClassInsufficient]))
	}
	more := ""
	if len(f) > 1 {
		more = fmt.Sprintf("; %s more finding(s) on recall", countWords(len(f)-1))
	}
	return strings.ToUpper(Sentence(f[0])[:1]) + Sentence(f[0])[1:] + more +
		fmt.Sprintf("; %s inconclusive; see "+rundir.AuditReportFile, countWords(count[ClassInconclusive]))
}
