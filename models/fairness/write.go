package fairness

import (
	"earlyhelp/pipeline/atomicfile"
	"earlyhelp/pipeline/rundir"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Write puts the §4.10 files in dir, each atomically (temp name in the same
// folder, then rename) through atomicfile.Write. report.html and the
// manifest's run metadata belong to the caller, which knows the run.
// colHouseholds heads the audit CSVs' count of households, as the JSON's
// "households" does: a count, not the households source.
const colHouseholds = "households"

func (r *Result) Write(dir string) error {
	files := []struct {
		name string
		fn   func(w io.Writer) error
	}{
		{rundir.AuditJSONFile, r.writeJSON},
		{rundir.GroupMetricsFile, func(w io.Writer) error { return r.writeGroups(w, func(string) bool { return true }) }},
		{rundir.IntersectionsFile, func(w io.Writer) error {
			return r.writeGroups(w, func(a string) bool { return strings.Contains(a, "×") })
		}},
		{rundir.DisparitiesFile, r.writeDisparities},
		{rundir.SummaryFile, r.writeSummary},
		{rundir.TopKCurveFile, r.writeTopK},
		{rundir.CalibrationBinsFile, r.writeCalibrationBins},
		{rundir.CalibrationSummaryFile, r.writeCalibration},
		{rundir.PublishableFile, r.writePublishable},
	}
	for _, f := range files {
		if err := atomicfile.Write(rundir.Audit{Dir: dir}.Path(f.name), 0o640, f.fn); err != nil {
			return fmt.Errorf("audit output: %w", err)
		}
	}
	return nil
}

// num renders a nullable number; null is an empty cell, never 0 (§6.4).
func num(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'g', -1, 64)
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

func writeAll(w io.Writer, header []string, rows [][]string) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	if err := cw.WriteAll(rows); err != nil {
		return err
	}
	return cw.Error()
}

func (r *Result) writeGroups(w io.Writer, keep func(attr string) bool) error {
	header := []string{"decision_id", "attribute", "group", "known", "children", colHouseholds, "child_dates", "n",
		"selected", "n_labelled", "pos", "neg", "tp", "fp", "fn", "tn", "hh_pos", "hh_neg", "hh_tp", "hh_fp", "hh_fn", "hh_tn"}
	for _, m := range RateMetrics {
		header = append(header, m, m+"_num", m+"_den", m+"_households", m+"_lo", m+"_hi", m+"_rel")
	}
	header = append(header, "representation_ratio", "representation_ratio_rel", "mean_score", "mean_exposure")
	var rows [][]string
	emit := func(g *GroupMetrics) {
		c := &g.Counts
		row := []string{g.Decision, g.Attribute, g.Group, strconv.FormatBool(g.Known), itoa(c.Children), itoa(c.Households),
			itoa(c.N), itoa(c.N), itoa(c.Selected), itoa(c.Labelled), itoa(c.Pos), itoa(c.Neg), itoa(c.TP), itoa(c.FP),
			itoa(c.FN), itoa(c.TN), itoa(c.HousePos), itoa(c.HouseNeg), itoa(c.HouseTP), itoa(c.HouseFP), itoa(c.HouseFN),
			itoa(c.HouseTN)}
		for _, m := range RateMetrics {
			rt := g.Rates[m]
			row = append(row, num(rt.Value), itoa(rt.Num), itoa(rt.Den), itoa(rt.Households), num(rt.Lo), num(rt.Hi), rt.Rel)
		}
		rows = append(rows, append(row, num(g.RepresentationRatio), g.RepresentationRel, num(g.MeanScore), num(g.MeanExposure)))
	}
	for i := range r.Overall {
		if keep("overall") {
			emit(&r.Overall[i])
		}
		for j := range r.Groups {
			if g := &r.Groups[j]; g.Decision == r.Overall[i].Decision && keep(g.Attribute) {
				emit(g)
			}
		}
	}
	return writeAll(w, header, rows)
}

func (r *Result) writeDisparities(w io.Writer) error {
	header := []string{"decision_id", "attribute", "group", "metric", "value", "ref_group", "ref_value", "ratio",
		"ratio_lo", "ratio_hi", "difference", "diff_lo", "diff_hi", "to_overall_ratio", "to_overall_diff",
		"verdict", "reason", "ci_excludes_parity", "direction", "informational", "ratio_boot_lo", "ratio_boot_hi",
		"finding", "p_value", "p_bh", "finding_bh"}
	rows := make([][]string, 0, len(r.Disparities))
	for _, d := range r.Disparities {
		rows = append(rows, []string{d.Decision, d.Attribute, d.Group, d.Metric, num(d.Value), d.RefGroup,
			num(d.RefValue), num(d.Ratio), num(d.RatioLo), num(d.RatioHi), num(d.Difference), num(d.DiffLo),
			num(d.DiffHi), num(d.ToOverallRatio), num(d.ToOverallDiff), d.Verdict, d.Reason,
			strconv.FormatBool(d.CIExcludesParity), d.Direction, strconv.FormatBool(d.Informational),
			num(d.BootLo), num(d.BootHi), d.Finding, num(d.P), num(d.PBH), d.FindingBH})
	}
	return writeAll(w, header, rows)
}

func (r *Result) writeSummary(w io.Writer) error {
	header := []string{"decision_id", "attribute", "metric", "group_min", "argmin", "group_max", "argmax",
		"diff_between", "diff_between_lo", "diff_between_hi", "ratio_between", "ratio_between_lo",
		"ratio_between_hi", "diff_to_overall", "ratio_to_overall", "n_groups_eligible", "reason"}
	rows := make([][]string, 0, len(r.Summaries))
	for _, s := range r.Summaries {
		rows = append(rows, []string{s.Decision, s.Attribute, s.Metric, num(s.GroupMin), s.ArgMin, num(s.GroupMax),
			s.ArgMax, num(s.DiffBetween), num(s.DiffLo), num(s.DiffHi), num(s.RatioBetween), num(s.RatioLo),
			num(s.RatioHi), num(s.DiffToOverall), num(s.RatioToOverall), strconv.Itoa(s.NEligible), s.Reason})
	}
	return writeAll(w, header, rows)
}

func (r *Result) writeTopK(w io.Writer) error {
	header := []string{"decision_id", "k", "kth_score", "ties_at_cutoff", "ties_inside", "attribute", "group", "n",
		"selected", "selection_rate", "share_of_selected", "representation_ratio", "tpr", "ppv", "for", "fnr",
		"mean_exposure", "selection_rate_ratio", "tpr_ratio", "tpr_verdict", "for_ratio", "for_verdict"}
	rows := make([][]string, 0, len(r.TopK))
	for _, t := range r.TopK {
		rows = append(rows, []string{t.Decision, itoa(t.K), num(t.KthScore), itoa(t.TiesAtCutoff), itoa(t.TiesInside),
			t.Attribute, t.Group, itoa(t.N), itoa(t.Selected), num(t.SelectionRate), num(t.ShareOfSelected),
			num(t.RepresentationRatio), num(t.TPR), num(t.PPV), num(t.FOR), num(t.FNR), num(t.MeanExposure),
			num(t.SelectionRatio), num(t.TPRRatio), t.TPRVerdict, num(t.FORRatio), t.FORVerdict})
	}
	return writeAll(w, header, rows)
}

func (r *Result) writeCalibrationBins(w io.Writer) error {
	header := []string{"attribute", "group", "bin", "lower", "upper", "n", "mean_score", "observed_rate",
		"observed_lo", "observed_hi", "observed_rel"}
	rows := make([][]string, 0, len(r.CalibrationBins))
	for _, b := range r.CalibrationBins {
		o := b.Observed
		rows = append(rows, []string{b.Attribute, b.Group, strconv.Itoa(b.Bin), num(&b.Lower), num(&b.Upper),
			itoa(b.N), num(&b.MeanScore), num(o.Value), num(o.Lo), num(o.Hi), o.Rel})
	}
	return writeAll(w, header, rows)
}

func (r *Result) writeCalibration(w io.Writer) error {
	header := []string{"attribute", "group", "known", "n_labelled", "ece", "ece_lo", "ece_hi", "brier", "brier_lo",
		"brier_hi", "mean_score", "base_rate", "oe_ratio", "oe_ratio_to_ref", "ref_group", "citl", "auc", "auc_lo",
		"auc_hi", "reason"}
	rows := make([][]string, 0, len(r.Calibration))
	for _, c := range r.Calibration {
		rows = append(rows, []string{c.Attribute, c.Group, strconv.FormatBool(c.Known), itoa(c.N), num(c.ECE),
			num(c.ECELo), num(c.ECEHi), num(c.Brier), num(c.BrierLo), num(c.BrierHi), num(c.MeanScore),
			num(c.BaseRate), num(c.OERatio), num(c.OERatioToRef), c.RefGroup, num(c.CITL), num(c.AUC),
			num(c.AUCLo), num(c.AUCHi), c.Reason})
	}
	return writeAll(w, header, rows)
}

func (r *Result) writePublishable(w io.Writer) error {
	header := append([]string{"decision_id", "attribute", "group"}, PublishableColumns...)
	rows := make([][]string, 0, len(r.Publishable.Rows))
	for _, p := range r.Publishable.Rows {
		row := []string{p.Decision, p.Attribute, p.Group}
		for _, c := range PublishableColumns {
			row = append(row, p.Values[c])
		}
		rows = append(rows, row)
	}
	return writeAll(w, header, rows)
}

func (r *Result) writeJSON(w io.Writer) error {
	doc := struct {
		*Result
		Performance []Performance `json:"performance"`
	}{r, r.performance()}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}
