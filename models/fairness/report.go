package fairness

import (
	"earlyhelp/pipeline/atomicfile"
	"earlyhelp/pipeline/contract"
	"earlyhelp/pipeline/rundir"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
)

// report.html is for auditors who are not statisticians: a sentence first,
// then a grid of verdicts, then one dot plot per attribute and metric with
// the tolerance band shaded. It is static, self-contained (inline CSS and
// SVG, no script, no external asset) and carries group names only.
var reportTemplate = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>earlyhelp fairness audit</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Arial,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#0b0c0c}
h1{font-size:1.8rem}h2{font-size:1.3rem;margin-top:2rem}
table{border-collapse:collapse;margin:1rem 0}th,td{border-bottom:1px solid #b1b4b6;padding:.3rem .6rem;text-align:left}
.within{background:#cce2d8}.finding{background:#f4cdc6;font-weight:bold}.inconclusive{background:#fff7bf}.insufficient,.undefined{background:#f3f2f1;color:#505a5f}
.lead{font-size:1.15rem}figure{margin:1rem 0}figcaption{font-size:.95rem;color:#505a5f}
</style></head><body>
<h1>Fairness audit</h1>
<p class="lead">{{.Headline}}</p>
<p>This audit compares groups of children by ethnicity and by the deprivation of their area. Ethnicity is never an input to the model; it is used here only to check the list. A ratio of one means a group is treated like the reference group; the tolerance band is {{.TauLo}} to {{.TauHi}}. A comparison is a <b>finding</b> only when its whole 95% interval lies outside the band, <b>inconclusive</b> when the interval crosses it, and <b>within</b> when the ratio and its interval lie inside; comparisons resting on fewer than {{.MinN}} children or households are too small to judge. Intervals resample households, because the back-test sees the same families on several dates. A finding means "look into this", not "unfair".</p>
<p>{{.Impossibility}}</p>
{{if .Coverage}}<p>{{.Coverage}}</p>{{end}}
{{if .Findings}}<h2>What needs looking into</h2><ul>{{range .Findings}}<li>{{.}}</li>{{end}}</ul>{{else}}<h2>What needs looking into</h2><p>No comparison of recall is a finding.</p>{{end}}
{{if .Inconclusive}}<h2>Inconclusive</h2><p>These differences in recall are outside the band on their own estimate, but their intervals cross it: the data cannot tell them from chance.</p><ul>{{range .Inconclusive}}<li>{{.}}</li>{{end}}</ul>{{end}}
{{if .Need}}<h2>Selection beside need, by deprivation</h2><p>Selection differs by deprivation wherever need does, so it is shown beside how often each group's children went on to be referred, and not judged on its own.</p><ul>{{range .Need}}<li>{{.}}</li>{{end}}</ul>{{end}}
{{if .Decisions}}<h2 id="decisions">Navigators' decisions</h2><p>What happens after the list is where disparity hides: each group's share of listed households with each decision, against the largest group's, by the same findings rule (audit/decisions.csv has every comparison). Within-band and too-small comparisons are not listed here.</p><ul>{{range .Decisions}}<li>{{.}}</li>{{end}}</ul>{{end}}
{{if .Deeper}}<h2>Further down the ranking</h2>
<p>If the list took the top tenth of children by score instead of this week's capacity, this is how often each group's children who went on to be referred would have been found, against the reference group:</p>
<ul>{{range .Deeper}}<li>{{.}}</li>{{end}}</ul>{{end}}
<h2>Summary</h2>
<p>Each cell is a group's ratio to the reference group on the list as made, over the backtest dates pooled ({{.Rows}} child-dates with known outcomes), coloured by the findings rule. Recall is the primary comparison; the others are reported, not alerted on. Recall and selection use each child's own outcome; precision, the false-positive and false-omission rates use the household's.</p>
<table><thead><tr><th>attribute</th><th>group</th>{{range .Metrics}}<th>{{.}}</th>{{end}}</tr></thead><tbody>
{{range .Grid}}<tr><td>{{.Attribute}}</td><td>{{.Group}}</td>{{range .Cells}}<td class="{{.Verdict}}">{{.Text}}</td>{{end}}</tr>
{{end}}</tbody></table>
{{range .Plots}}{{$p := .}}<h2 id="{{.ID}}">{{.Title}}</h2>
<figure><svg xmlns="http://www.w3.org/2000/svg" width="640" height="{{.Height}}" role="img" aria-label="{{.Caption}}">
<rect x="{{.BandX}}" y="0" width="{{.BandW}}" height="{{.Height}}" fill="#cce2d8"/>
<line x1="{{.OneX}}" y1="0" x2="{{.OneX}}" y2="{{.Height}}" stroke="#505a5f" stroke-dasharray="4 3"/>
{{range .Dots}}<text x="4" y="{{.Y}}" dy="4" font-size="12">{{.Label}}</text>
{{if .HasCI}}<line x1="{{.Lo}}" y1="{{.Y}}" x2="{{.Hi}}" y2="{{.Y}}" stroke="#0b0c0c"/>{{end}}<circle cx="{{.X}}" cy="{{.Y}}" r="5" fill="{{.Colour}}"/>
{{end}}{{range .Ticks}}<text x="{{.X}}" y="{{$p.TickY}}" font-size="11" text-anchor="middle">{{.Label}}</text>
{{end}}</svg><figcaption>{{.Caption}}</figcaption></figure>
{{end}}
{{range .Charts}}{{$c := .}}<h2>{{.Title}}</h2>
<figure><svg xmlns="http://www.w3.org/2000/svg" width="640" height="300" role="img" aria-label="{{.Caption}}">
<line x1="60" y1="260" x2="620" y2="260" stroke="#0b0c0c"/><line x1="60" y1="20" x2="60" y2="260" stroke="#0b0c0c"/>
{{if .Diagonal}}<line x1="60" y1="260" x2="620" y2="20" stroke="#505a5f" stroke-dasharray="4 3"/>{{end}}
{{range .XTicks}}<text x="{{.X}}" y="276" font-size="11" text-anchor="middle">{{.Label}}</text>{{end}}
{{range .YTicks}}<text x="54" y="{{.X}}" dy="4" font-size="11" text-anchor="end">{{.Label}}</text>{{end}}
<text x="340" y="296" font-size="12" text-anchor="middle">{{.XLabel}}</text>
{{range $i, $l := .Lines}}<polyline fill="none" stroke="{{$l.Colour}}" stroke-width="2" points="{{$l.Points}}"/>
<text x="630" y="{{$l.LegendY}}" font-size="11" fill="{{$l.Colour}}" text-anchor="end">{{$l.Name}}</text>
{{end}}</svg><figcaption>{{.Caption}}</figcaption></figure>
{{end}}
{{if .Week}}<h2>This week's list ({{.WeekAsOf}})</h2>
<p>The share of each group's children on this week's list, against the reference group. Outcomes are not known yet, so only selection is compared.</p>
<table><thead><tr><th>attribute</th><th>group</th><th>children</th><th>selected</th><th>ratio to reference</th><th>verdict</th></tr></thead><tbody>
{{range .Week}}<tr><td>{{.Attribute}}</td><td>{{.Group}}</td><td>{{.N}}</td><td>{{.Selected}}</td><td>{{.Ratio}}</td><td class="{{.Verdict}}">{{.Verdict}}</td></tr>
{{end}}</tbody></table>{{end}}
<p>Counts from one to {{.SuppressMax}}, and any count that would reveal one, are shown as c; a rate or ratio resting on a hidden count is shown as c too. Counts of households behind a comparison below 10 are not shown.</p>
<p>Files: group_metrics.csv, disparities.csv, summary.csv, topk_curve.csv, calibration_bins.csv, calibration_summary.csv (restricted); publishable/ (small numbers suppressed).</p>
</body></html>
`))

type reportCell struct{ Verdict, Text string }

// gridMetrics are the summary grid's columns: recall first, as the
// primary comparison, then the rates reported beside it.
var gridMetrics = []string{"tpr", "for", "ppv", "fpr", "selection_rate"}

// maxFindings is how many findings the report opens with; the rest are in
// the grid and disparities.csv.
const maxFindings = 5

// Impossibility is the report's statement of which fairness criterion the
// audit treats as primary, and why not all of them.
const Impossibility = "When groups differ in how often their children go on to be referred, as they do by deprivation and by ethnicity, a score cannot be calibrated within every group and also give every group equal error rates (Kleinberg, Mullainathan and Raghavan; Chouldechova): one has to give. This audit treats equal recall as primary, that children who go on to need statutory help are found at the same rate whatever their group, because the list offers help and missing a child in need is the harm it exists to prevent. Calibration by group, precision, the false-positive and false-omission rates are reported with their intervals so a reader can see what that choice costs, but they are not judged."

type reportRow struct {
	Attribute, Group string
	Cells            []reportCell
}

type reportDot struct {
	Label        string
	X, Y, Lo, Hi float64
	HasCI        bool
	Colour       string
}

type reportTick struct {
	X     float64
	Label string
}

type reportPlot struct {
	ID                 string // the heading's anchor: ChartID
	Title, Caption     string
	Height, TickY      float64
	BandX, BandW, OneX float64
	Dots               []reportDot
	Ticks              []reportTick
}

// chart is a line chart: one polyline per group.
type chart struct {
	Title, Caption, XLabel string
	Diagonal               bool
	XTicks, YTicks         []reportTick // YTicks' X holds the y position
	Lines                  []chartLine
}

type chartLine struct {
	Name, Colour, Points string
	LegendY              float64
}

var palette = []string{"#1d70b8", "#d4351c", "#00703c", "#912b88", "#f47738", "#505a5f"}

// newChart scales points (x in [0, xmax], y in [0, ymax]) onto a 560 × 240
// plot area.
func newChart(title, caption, xlabel string, xmax, ymax float64, lines map[string][][2]float64, order []string) chart {
	c := chart{Title: title, Caption: caption, XLabel: xlabel}
	sx := func(x float64) float64 { return 60 + 560*x/xmax }
	sy := func(y float64) float64 { return 260 - 240*math.Min(y, ymax)/ymax }
	for i := 0; i <= 4; i++ {
		c.XTicks = append(c.XTicks, reportTick{X: sx(xmax * float64(i) / 4), Label: fmt.Sprintf("%.3g", xmax*float64(i)/4)})
		c.YTicks = append(c.YTicks, reportTick{X: sy(ymax * float64(i) / 4), Label: fmt.Sprintf("%.3g", ymax*float64(i)/4)})
	}
	for i, name := range order {
		pts := lines[name]
		if len(pts) == 0 {
			continue
		}
		var b []byte
		for _, p := range pts {
			b = fmt.Appendf(b, "%.1f,%.1f ", sx(p[0]), sy(p[1]))
		}
		c.Lines = append(c.Lines, chartLine{Name: name, Colour: palette[i%len(palette)], Points: string(b), LegendY: float64(30 + 14*i)})
	}
	return c
}

// charts are the reliability diagrams and recall-by-capacity curves for
// the ethnicity groups and deprivation quintiles.
func (a *RunAudit) charts() []chart {
	r := a.Backtest
	if r == nil {
		return nil
	}
	var out []chart
	for _, attr := range []string{"ethnicity5", "imd_quintile"} {
		lines := map[string][][2]float64{}
		var order []string
		top := 0.0
		for _, b := range r.CalibrationBins {
			if b.Attribute != attr || b.N < 10 || b.Observed.Value == nil {
				continue
			}
			if _, ok := lines[b.Group]; !ok {
				order = append(order, b.Group)
			}
			lines[b.Group] = append(lines[b.Group], [2]float64{b.MeanScore, *b.Observed.Value})
			top = math.Max(top, math.Max(b.MeanScore, *b.Observed.Value))
		}
		if len(order) > 0 {
			top = math.Min(1, math.Ceil(top*20)/20)
			out = append(out, newChart("Reliability by "+attr,
				"Each line is a group: for children with similar scores (score bins of at least 10 children), the share who went on to be referred (up) against the mean score (across). On the dashed diagonal a score means what it says for that group; a line below it means the group's scores run high, above it low.",
				"mean score", top, top, lines, order))
			out[len(out)-1].Diagonal = true
		}
		lines = map[string][][2]float64{}
		order = nil
		maxK := 0.0
		for _, t := range r.TopK {
			if t.Attribute != attr || t.TPR == nil {
				continue
			}
			if _, ok := lines[t.Group]; !ok {
				order = append(order, t.Group)
			}
			lines[t.Group] = append(lines[t.Group], [2]float64{float64(t.K), *t.TPR})
			maxK = math.Max(maxK, float64(t.K))
		}
		for g := range lines {
			sort.Slice(lines[g], func(i, j int) bool { return lines[g][i][0] < lines[g][j][0] })
		}
		if len(order) > 0 && maxK > 0 {
			out = append(out, newChart("Recall by list size, by "+attr,
				"Each line is a group: the share of its children who went on to be referred whom a list of the top K children (across) would have found (up). Lines close together mean the list finds each group's children at similar rates at every size.",
				"children on the list (K)", maxK, 1, lines, order))
		}
	}
	return out
}

type weekRow struct {
	Attribute, Group, Ratio, Verdict string
	N, Selected                      string // published counts: a number, or c when suppressed
}

// plotX maps a ratio to the log-scale axis of a dot plot (0.25 … 4).
func plotX(r float64) float64 {
	const left, width = 130.0, 490.0
	r = math.Min(math.Max(r, 0.25), 4)
	return left + width*(math.Log(r)-math.Log(0.25))/(math.Log(4)-math.Log(0.25))
}

func (a *RunAudit) writeReport(dir, weekAsOf string) error {
	data := struct {
		Headline      string
		TauLo, TauHi  string
		MinN, Rows    int
		Impossibility string
		SuppressMax   string // in words, like every small number in prose
		Coverage      string
		Findings      []string
		Inconclusive  []string
		Need          []string
		Decisions     []string
		Deeper        []string
		Metrics       []string
		Grid          []reportRow
		Plots         []reportPlot
		Week          []weekRow
		Charts        []chart
		WeekAsOf      string
	}{Headline: a.Headline(), Metrics: gridTitles(), WeekAsOf: weekAsOf, TauLo: "0.80", TauHi: "1.25", MinN: 30,
		Impossibility: Impossibility, SuppressMax: "five"}
	for i, d := range a.Findings() {
		if i == maxFindings {
			break
		}
		data.Findings = append(data.Findings, Sentence(d))
	}
	for _, d := range a.Inconclusive() {
		data.Inconclusive = append(data.Inconclusive, Sentence(d))
	}
	data.Need = a.NeedBeside()
	for _, c := range a.decisionsToShow() {
		data.Decisions = append(data.Decisions, DecisionSentence(c))
	}
	data.Coverage = a.CoverageSentence()
	data.Deeper = a.Deeper()
	data.Charts = a.charts()
	if r := a.Backtest; r != nil {
		data.Rows = r.Labelled
		if v, ok := r.Settings["min_den_verdict"].(int); ok {
			data.MinN = v
		}
		if sdc, ok := r.Settings["sdc"].(map[string]any); ok {
			if v, ok := sdc["suppress_max"].(int); ok {
				data.SuppressMax = countWords(v)
			}
		}
		index := map[[2]string]int{}
		plots := map[[2]string]*reportPlot{}
		var order [][2]string
		for _, d := range r.Disparities {
			if d.Decision != "selected" || !slices.Contains(gridMetrics, d.Metric) || d.Attribute == "ethnicity19" || d.Attribute == contract.ColIMDDecile {
				continue
			}
			key := [2]string{d.Attribute, d.Group}
			i, ok := index[key]
			if !ok {
				i = len(data.Grid)
				index[key] = i
				data.Grid = append(data.Grid, reportRow{Attribute: d.Attribute, Group: d.Group, Cells: make([]reportCell, len(gridMetrics))})
			}
			text := d.Finding
			if d.Ratio != nil {
				text = fmt.Sprintf("%.2f %s", *d.Ratio, d.Finding)
			}
			for j, m := range gridMetrics {
				if m == d.Metric {
					data.Grid[i].Cells[j] = reportCell{Verdict: d.Finding, Text: text}
				}
			}
			if d.Ratio == nil || !isHeadline(d.Metric) || (d.Attribute != "ethnicity5" && d.Attribute != "imd_quintile") {
				continue
			}
			pk := [2]string{d.Attribute, d.Metric}
			p := plots[pk]
			if p == nil {
				p = &reportPlot{
					ID:    ChartID(d.Attribute, d.Metric),
					Title: fmt.Sprintf("%s by %s", metricTitle(d.Metric), d.Attribute),
					Caption: fmt.Sprintf("Each dot is a group's %s as a ratio to group %s, on a log scale from a quarter to four, with its 95%% interval from resampling households; the shaded band is the tolerance 0.8–1.25 and the dashed line is parity. A red dot is a finding: its whole interval lies outside the band.",
						metricTitle(d.Metric), d.RefGroup),
					BandX: plotX(0.8), BandW: plotX(1.25) - plotX(0.8), OneX: plotX(1),
				}
				plots[pk] = p
				order = append(order, pk)
			}
			dot := reportDot{Label: d.Group, X: plotX(*d.Ratio), Y: float64(20 + 24*len(p.Dots)), Colour: "#1d70b8"}
			if d.Finding == ClassFinding {
				dot.Colour = "#d4351c"
			}
			if d.JudgedLo != nil && d.JudgedHi != nil {
				dot.HasCI, dot.Lo, dot.Hi = true, plotX(*d.JudgedLo), plotX(*d.JudgedHi)
			}
			p.Dots = append(p.Dots, dot)
		}
		for _, pk := range order {
			p := plots[pk]
			p.Height = float64(40 + 24*len(p.Dots))
			p.TickY = p.Height - 4
			for _, t := range []float64{0.25, 0.5, 0.8, 1, 1.25, 2, 4} {
				p.Ticks = append(p.Ticks, reportTick{X: plotX(t), Label: fmt.Sprintf("%g", t)})
			}
			data.Plots = append(data.Plots, *p)
		}
	}
	if w := a.ThisWeek; w != nil {
		// Counts come from the publishable tier, with its primary and
		// secondary suppression: the report is read more widely than the
		// restricted files, and "Other | 439 | 5" escaped it before.
		pub := map[[2]string]map[string]string{}
		for _, p := range w.Publishable.Rows {
			if p.Decision == "selected" {
				pub[[2]string{p.Attribute, p.Group}] = p.Values
			}
		}
		for _, d := range w.Disparities {
			if d.Decision != "selected" || d.Metric != "selection_rate" || (d.Attribute != "ethnicity5" && d.Attribute != "imd_quintile") {
				continue
			}
			row := weekRow{Attribute: d.Attribute, Group: d.Group, Verdict: d.Verdict, Ratio: "—", N: "c", Selected: "c"}
			v, ref := pub[[2]string{d.Attribute, d.Group}], pub[[2]string{d.Attribute, d.RefGroup}]
			if v != nil {
				row.N, row.Selected = v["n"], v["selected"]
			}
			hidden := v == nil || ref == nil || v["selected"] == "c" || v["n"] == "c" || ref["selected"] == "c" || ref["n"] == "c"
			switch {
			case hidden:
				row.Ratio, row.Verdict = "c", "suppressed"
			case d.Ratio != nil:
				row.Ratio = fmt.Sprintf("%.2f", *d.Ratio)
			}
			data.Week = append(data.Week, row)
		}
	}
	if err := atomicfile.Write(rundir.Audit{Dir: dir}.ReportHTML(), 0o640, func(w io.Writer) error {
		return reportTemplate.Execute(w, data)
	}); err != nil {
		return err
	}
	return writeFindings(dir, a, data.Plots)
}

// ChartID is the anchor of the report's chart of metric by attribute.
func ChartID(attribute, metric string) string {
	return "chart-" + metric + "-" + strings.ReplaceAll(attribute, "×", "-by-")
}

// FindingsFile, beside report.html, is what the review site's /audit page
// opens with: the findings in words (at most maxFindings), each with the
// anchor of its chart in the report, then the inconclusive comparisons.
const FindingsFile = rundir.FindingsFile

// ReportFinding is one entry of FindingsFile.
type ReportFinding struct {
	Text  string `json:"text"`
	Chart string `json:"chart,omitempty"` // anchor in report.html; empty when no chart shows it
}

// ReportFindings is FindingsFile.
type ReportFindings struct {
	Findings     []ReportFinding `json:"findings"`
	Inconclusive []ReportFinding `json:"inconclusive"`
	// More counts findings beyond the first maxFindings, in the report.
	More int `json:"more"`
	// Decisions are the navigators' decisions' findings, then inconclusive
	// comparisons.
	Decisions []ReportFinding `json:"decisions"`
}

func writeFindings(dir string, a *RunAudit, plots []reportPlot) error {
	charts := map[string]bool{}
	for _, p := range plots {
		charts[p.ID] = true
	}
	entry := func(d Disparity) ReportFinding {
		f := ReportFinding{Text: Sentence(d)}
		if id := ChartID(d.Attribute, d.Metric); charts[id] {
			f.Chart = id
		}
		return f
	}
	out := ReportFindings{Findings: []ReportFinding{}, Inconclusive: []ReportFinding{}, Decisions: []ReportFinding{}}
	for _, c := range a.decisionsToShow() {
		out.Decisions = append(out.Decisions, ReportFinding{Text: DecisionSentence(c), Chart: "decisions"})
	}
	for i, d := range a.Findings() {
		if i == maxFindings {
			out.More = len(a.Findings()) - maxFindings
			break
		}
		out.Findings = append(out.Findings, entry(d))
	}
	for _, d := range a.Inconclusive() {
		out.Inconclusive = append(out.Inconclusive, entry(d))
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(rundir.Audit{Dir: dir}.FindingsJSON(), b, 0o640)
}

func gridTitles() []string {
	out := make([]string, len(gridMetrics))
	for i, m := range gridMetrics {
		out[i] = metricTitle(m)
	}
	return out
}

func metricTitle(m string) string {
	switch m {
	case "tpr":
		return "recall"
	case "selection_rate":
		return "selection rate"
	case "for":
		return "false-omission rate"
	case "ppv":
		return "precision"
	case "fpr":
		return "false-positive rate"
	}
	return m
}

// CoverageSentence says how many child-dates have a recorded ethnicity,
// among those selected and those not: missingness that differs between
// them is itself something to look into (§4.2).
func (a *RunAudit) CoverageSentence() string {
	if a.Backtest == nil {
		return ""
	}
	for _, c := range a.Backtest.Coverage {
		if c.Decision != "selected" || c.Attribute != "ethnicity5" || c.N == 0 {
			continue
		}
		pct := func(k, n int64) string {
			if n < 10 {
				return "c"
			}
			return percent1(k, n) + "%"
		}
		return fmt.Sprintf("Ethnicity is recorded for %s of child-dates in the back-test: %s of those the list selected and %s of those it passed over. The group UNKNOWN holds the rest; it is reported but never compared.",
			pct(c.Known, c.N), pct(c.KnownSel, c.NSel), pct(c.KnownNotSel, c.NNotSel))
	}
	return ""
}

// decisionsToShow are the decisions' findings, then their inconclusive
// comparisons: what the report and the site list.
func (a *RunAudit) decisionsToShow() []DecisionCell {
	var out []DecisionCell
	for _, class := range []string{ClassFinding, ClassInconclusive} {
		for _, c := range a.Decisions {
			if c.Finding == class {
				out = append(out, c)
			}
		}
	}
	return out
}
