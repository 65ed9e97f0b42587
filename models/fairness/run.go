package fairness

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
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
}

// AuditRun reads runDir/evaluation/scored_children.csv, audits it with cfg
// and writes runDir/audit/.
func AuditRun(runDir string, cfg Config) (*RunAudit, error) {
	f, err := os.Open(filepath.Join(runDir, "evaluation", "scored_children.csv"))
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	rows, err := ReadCSV(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("audit: scored_children.csv: %w", err)
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
	out := &RunAudit{}
	dir := filepath.Join(runDir, "audit")
	if len(labelled) > 0 {
		bcfg := fit(cfg, len(labelled))
		key := ""
		if cfg.CacheDir != "" {
			key = auditKey(labelled, &bcfg)
			out.Backtest, out.Reused = cachedAudit(cfg.CacheDir, key, &bcfg)
		}
		if out.Backtest == nil {
			if out.Backtest, err = Audit(labelled, bcfg); err != nil {
				return nil, fmt.Errorf("audit of the backtest: %w", err)
			}
			if key != "" {
				keepAudit(cfg.CacheDir, key, out.Backtest)
			}
		}
		if err := out.Backtest.Write(dir); err != nil {
			return nil, err
		}
	}
	if len(week) > 0 {
		wcfg := fit(cfg, len(week))
		wcfg.Bootstrap = 0 // selection rates only: no outcomes to resample
		if out.ThisWeek, err = Audit(week, wcfg); err != nil {
			return nil, fmt.Errorf("audit of this week's list: %w", err)
		}
		if err := out.ThisWeek.Write(filepath.Join(dir, "this_week")); err != nil {
			return nil, err
		}
	}
	if err := out.writeReport(dir, latest); err != nil {
		return nil, err
	}
	return out, nil
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
	"fpr":            "selected among children who were not referred",
	"precision":      "referred among the children selected",
}

// Gauge is one value of earlyhelp_fairness_ratio.
type Gauge struct {
	Attribute, Group, Metric string
	Ratio                    float64
}

// Gauges are the backtest's ratios to the reference group for the
// headline metrics, and per attribute and metric how many groups lie
// outside the tolerance band. Labels carry group names, never identifiers.
func (a *RunAudit) Gauges() (ratios []Gauge, outside map[[2]string]int) {
	outside = map[[2]string]int{}
	if a.Backtest == nil {
		return nil, outside
	}
	for _, d := range a.Backtest.Disparities {
		if d.Decision != "selected" || !isHeadline(d.Metric) || !headlineAttribute(d.Attribute) {
			continue
		}
		key := [2]string{d.Attribute, d.Metric}
		if _, ok := outside[key]; !ok {
			outside[key] = 0
		}
		if d.Ratio != nil && !math.IsNaN(*d.Ratio) && !math.IsInf(*d.Ratio, 0) {
			ratios = append(ratios, Gauge{d.Attribute, d.Group, d.Metric, *d.Ratio})
		}
		if d.Verdict == VerdictOutside {
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

// Findings are the backtest's headline disparities outside the tolerance
// band, largest departure from parity first.
func (a *RunAudit) Findings() []Disparity {
	if a.Backtest == nil {
		return nil
	}
	var out []Disparity
	for _, d := range a.Backtest.Disparities {
		if d.Decision == "selected" && isHeadline(d.Metric) && headlineAttribute(d.Attribute) && d.Verdict == VerdictOutside && d.Ratio != nil {
			out = append(out, d)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		return math.Abs(math.Log(*out[i].Ratio)) > math.Abs(math.Log(*out[j].Ratio))
	})
	return out
}

// Sentence says one disparity in words.
func Sentence(d Disparity) string {
	words := metricWords[d.Metric]
	if words == "" {
		words = d.Metric
	}
	ci := ""
	if d.RatioLo != nil && d.RatioHi != nil {
		ci = fmt.Sprintf(" (95%% CI %.2f–%.2f)", *d.RatioLo, *d.RatioHi)
	}
	verdict := map[string]string{
		VerdictOutside: "outside the tolerance band", VerdictWithin: "within the tolerance band",
		VerdictInsufficient: "too few children to judge", VerdictUndefined: "not defined",
	}[d.Verdict]
	return fmt.Sprintf("children in group %s of %s were %s at %.2f times the rate of group %s%s, %s",
		d.Group, d.Attribute, words, *d.Ratio, d.RefGroup, ci, verdict)
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

// Headline is the audit in one sentence for the model card and manifest.
func (a *RunAudit) Headline() string {
	if a.Backtest == nil {
		return "no backtest rows with known outcomes to audit"
	}
	f := a.Findings()
	checked := 0
	for _, d := range a.Backtest.Disparities {
		if d.Decision == "selected" && isHeadline(d.Metric) && headlineAttribute(d.Attribute) && (d.Verdict == VerdictOutside || d.Verdict == VerdictWithin) {
			checked++
		}
	}
	if len(f) == 0 {
		return fmt.Sprintf("recall and selection rate within the tolerance band for every ethnicity group and deprivation quintile with enough children (%d comparisons); see audit/report.html", checked)
	}
	more := ""
	if len(f) > 1 {
		more = fmt.Sprintf("; %d more comparison(s) outside the band", len(f)-1)
	}
	return strings.ToUpper(Sentence(f[0])[:1]) + Sentence(f[0])[1:] + more + "; see audit/report.html"
}
