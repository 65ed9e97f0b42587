package train

import (
	"cmp"
	"context"
	"earlyhelp/pipeline"
	"earlyhelp/pipeline/atomicfile"
	"earlyhelp/pipeline/rundir"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
)

// CrossFitGroup puts a household in one of CrossFitGroups groups by a hash of
// its pseudonym. Each group of a fold is scored by models trained on the
// other groups, so no household is in both training and test.
func CrossFitGroup(household string) int {
	h := fnv.New32a()
	h.Write([]byte(household))
	return int(h.Sum32() % CrossFitGroups)
}

// backtestDates are the test dates: every StepWeeks over the BacktestWeeks
// before the latest date whose horizon has passed by the run's as-of date,
// oldest first, keeping those with enough history to train and calibrate.
func (r *run) backtestDates(start time.Time) (dates, skipped []time.Time) {
	o := &r.opts
	to := r.TrainFor.AddDate(0, 0, -7*r.HorizonWeeks)
	if !o.BacktestTo.IsZero() && o.BacktestTo.Before(to) {
		to = o.BacktestTo
	}
	from := to.AddDate(0, 0, -7*o.BacktestWeeks)
	if !o.BacktestFrom.IsZero() && o.BacktestFrom.After(from) {
		from = o.BacktestFrom
	}
	for d := to; !d.Before(from); d = d.AddDate(0, 0, -7*o.BacktestStepWeeks) {
		if len(r.foldTraining(d, start)) == 0 {
			skipped = append(skipped, d)
			continue
		}
		dates = append(dates, d)
	}
	sort.Slice(dates, func(i, j int) bool { return dates[i].Before(dates[j]) })
	sort.Slice(skipped, func(i, j int) bool { return skipped[i].Before(skipped[j]) })
	return dates, skipped
}

// foldTraining returns the training dates of a model used on date d: the
// latest whose outcomes are known by d first, then up to Snapshots more
// StepWeeks apart before it, all with at least MinHistoryWeeks of data.
// Every date trains and calibrates: calibration is on held-out households
// of the same dates (trainingSet), not on a later date, so no horizon of
// history is given up to it. It returns nil when there is nothing to train
// on.
func (r *run) foldTraining(d, start time.Time) []time.Time {
	o := &r.opts
	enough := func(t time.Time) bool {
		return start.IsZero() || !t.Before(start.AddDate(0, 0, 7*o.MinHistoryWeeks))
	}
	cal := d.AddDate(0, 0, -7*r.HorizonWeeks)
	if !enough(cal) {
		return nil
	}
	out := []time.Time{cal}
	for i := 1; i <= o.Snapshots; i++ {
		t := cal.AddDate(0, 0, -7*i*o.StepWeeks)
		if !enough(t) {
			break
		}
		out = append(out, t)
	}
	if o.Calibrate != nil && len(out) < 2 {
		return nil
	}
	return out
}

// dataSpan asks the feature set, if it can tell, over which days history
// runs, and sets the run's start and the date its model is trained for:
// the run date, or the day after the data ends if that is earlier.
func (r *run) dataSpan(ctx context.Context) error {
	r.TrainFor = r.AsOf
	from, to, err := r.Features.DataSpan(ctx, r.Mem)
	if err != nil {
		return err
	}
	r.Start = from
	if end := to.AddDate(0, 0, 1); !to.IsZero() && end.Before(r.TrainFor) {
		r.TrainFor = end
	}
	return nil
}

// fitted is a model trained (and calibrated) for one date.
type fitted struct {
	model        pipeline.Model
	raw          pipeline.Model // model before calibration; nil for the rules
	rows, pos    int
	train        []time.Time
	cal          time.Time
	uncalibrated bool // too few outcomes on the calibration date
}

// minCalibrationOutcomes is the fewest outcomes a held-out calibration set
// should have; below it calibration uses the training households too.
const minCalibrationOutcomes = 10

func countTrue(b []bool) int {
	n := 0
	for _, v := range b {
		if v {
			n++
		}
	}
	return n
}

// backtest runs the temporal backtest of CONTRACTS §5 and chooses the
// model: each fold trains every candidate on earlier dates and other
// households only, and scores its test households beside the baselines.
func (r *run) backtest(ctx context.Context) error {
	o := &r.opts
	if err := r.dataSpan(ctx); err != nil {
		return fmt.Errorf("data span: %w", err)
	}
	start := r.Start
	dates, skipped := r.backtestDates(start)
	bt := &pipeline.Backtest{
		StepWeeks: o.BacktestStepWeeks, HorizonWeeks: r.HorizonWeeks, ChoiceRule: pipeline.ChoiceRule,
		Baselines: []string{pipeline.BaselineRandom}, Mean: map[string]pipeline.EvalMetrics{},
	}
	if o.Rules != nil {
		bt.Baselines = append(bt.Baselines, pipeline.BaselineRules)
	}
	if !start.IsZero() {
		bt.DataStart = start.Format(time.DateOnly)
	}
	bt.LabelsKnownTo = r.TrainFor.Format(time.DateOnly)
	for _, c := range o.Candidates {
		bt.Candidates = append(bt.Candidates, c.Name)
	}
	for _, c := range o.Comparisons {
		bt.Comparisons = append(bt.Comparisons, c.Name)
	}
	for _, d := range skipped {
		bt.SkippedDates = append(bt.SkippedDates, d.Format(time.DateOnly))
	}
	if len(skipped) > 0 {
		bt.SkippedReason = fmt.Sprintf("fewer than %d weeks of history before a training or calibration date", o.MinHistoryWeeks)
	}
	if len(dates) == 0 {
		return fmt.Errorf("no backtest date has %d weeks of history before its training dates and a full %d-week horizon before %s",
			o.MinHistoryWeeks, r.HorizonWeeks, r.TrainFor.Format(time.DateOnly))
	}
	bt.From, bt.To = dates[0].Format(time.DateOnly), dates[len(dates)-1].Format(time.DateOnly)
	r.Folds = r.Folds[:0]
	// Each fold's models train on three groups of five and calibrate on a
	// fourth. The test dates' snapshots stay whole: every household of them
	// is scored, and the audit reads them.
	most := 0
	for _, d := range dates {
		most = max(most, len(r.foldTraining(d, start)))
	}
	r.rows = newSampler(float64(CrossFitGroups-2)/CrossFitGroups, most, func(d time.Time) bool {
		return slices.ContainsFunc(dates, d.Equal)
	})
	defer r.rows.release()
	frs, fss, err := r.runFolds(ctx, dates, start)
	if err != nil {
		return err
	}
	for f, fr := range frs {
		bt.Folds = append(bt.Folds, *fr)
		r.Folds = append(r.Folds, fss[f])
		r.Log.Info().Str("fold", fr.AsOf).Int("test_households", fr.TestHouseholds).Msg("backtest fold done")
	}
	all := append(append(append([]string{}, bt.Candidates...), bt.Comparisons...), bt.Baselines...)
	for _, name := range all {
		bt.Mean[name] = meanMetrics(bt.Folds, name)
		if v, ok := meanDeprivedAUC(bt.Folds, name); ok {
			if bt.MeanDeprivedAUC == nil {
				bt.MeanDeprivedAUC = map[string]float64{}
			}
			bt.MeanDeprivedAUC[name] = v
		}
	}
	bt.Chosen = choose(bt)
	bt.Calibration = map[string]*pipeline.Calibration{}
	cals := make([]*pipeline.Calibration, len(all))
	r.parallel(len(all), func(i int) { cals[i] = calibration(r.Folds, all[i]) })
	for i, name := range all {
		bt.Calibration[name] = cals[i]
	}
	baseRates := make([]float64, len(bt.Folds))
	for f, fr := range bt.Folds {
		baseRates[f] = float64(fr.TrainingPos) / float64(max(1, fr.TrainingRows))
	}
	bt.TopOfList = topOfList(r.Folds, baseRates, bt.Chosen, r.opts.ListRules)
	r.Backtest = bt
	r.Man.Backtest = summarise(bt)
	if r.Metrics != nil {
		for name, m := range bt.Mean {
			r.Metrics.ModelAUC.WithLabelValues(name, "backtest").Set(m.AUC)
		}
	}
	if err := r.writeBacktest(bt); err != nil {
		return err
	}
	ch := bt.Mean[bt.Chosen]
	r.Log.Info().Str("chosen", bt.Chosen).Int("folds", len(bt.Folds)).Float64("auc", ch.AUC).
		Float64("precision_at_k", ch.PrecisionAtK).Msg("backtest done")
	return nil
}

// CrossFitGroups is how many groups of households a fold is split into:
// each group is scored by models trained on the other groups only, so every
// household is tested on every date and precision@K is measured at the
// list's real capacity, yet no household is ever scored by a model that saw
// it in training.
const CrossFitGroups = 5

// randomScores is the random baseline: an arbitrary but fixed order that,
// as a probability, says the training base rate for everyone, so its Brier
// score is the floor a model must beat too.
func randomScores(rec arrow.Record, base float64) []float64 {
	hh, _ := pipeline.StringColumn(rec, pipeline.ColHousehold)
	out := make([]float64, rec.NumRows())
	for i := range out {
		h := fnv.New64a()
		h.Write([]byte(hh.Value(i)))
		out[i] = base + 1e-9*float64(h.Sum64()>>11)/(1<<53)
	}
	return out
}

// expectedRandom is the random baseline's expected figures on the test
// households m was measured on: any one fixed order puts the same
// households first on every date, and its precision@K reads whatever those
// few happen to be (0.000 in the demo). A random order's expectation is the
// base rate for precision@K and average precision, K/N for recall@K and 0.5
// for AUC. Its Brier score is the constant base-rate forecast's, as
// measured.
func expectedRandom(m pipeline.EvalMetrics) pipeline.EvalMetrics {
	if m.N == 0 {
		return m
	}
	prev := float64(m.Positives) / float64(m.N)
	m.AUC, m.AveragePrecision, m.PrecisionAtK = 0.5, prev, prev
	m.RecallAtK = math.NaN()
	if m.Positives > 0 {
		m.RecallAtK = float64(min(m.K, m.N)) / float64(m.N)
	}
	return m
}

// meanDeprivedAUC averages a model's AUC within IMD deciles 1–2 over the
// folds that have it.
func meanDeprivedAUC(folds []pipeline.FoldResult, name string) (float64, bool) {
	var sum float64
	n := 0
	for _, f := range folds {
		if v, ok := f.DeprivedAUC[name]; ok && !math.IsNaN(v) {
			sum += v
			n++
		}
	}
	if n == 0 {
		return 0, false
	}
	return sum / float64(n), true
}

// meanMetrics averages a model's figures over the folds that have them;
// counts are summed.
func meanMetrics(folds []pipeline.FoldResult, name string) pipeline.EvalMetrics {
	var out pipeline.EvalMetrics
	sums := make([]float64, 6)
	ns := make([]int, 6)
	add := func(i int, v float64) {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			sums[i] += v
			ns[i]++
		}
	}
	for _, f := range folds {
		m, ok := f.Models[name]
		if !ok {
			continue
		}
		out.N += m.N
		out.Positives += m.Positives
		out.K += m.K
		add(0, m.BaseRate)
		add(1, m.AUC)
		add(2, m.AveragePrecision)
		add(3, m.PrecisionAtK)
		add(4, m.RecallAtK)
		add(5, m.Brier)
	}
	mean := func(i int) float64 {
		if ns[i] == 0 {
			return math.NaN()
		}
		return sums[i] / float64(ns[i])
	}
	out.BaseRate, out.AUC, out.AveragePrecision = mean(0), mean(1), mean(2)
	out.PrecisionAtK, out.RecallAtK, out.Brier = mean(3), mean(4), mean(5)
	return out
}

// choose picks the candidate with the highest mean precision@K, ties by
// mean average precision, unless its lead over the candidate with the
// highest mean average precision is no bigger than the lead's standard
// error across the dates: then that one. Precision@K is what the list is
// for, but over a few dates of sixty listed households it moves by a
// couple of households either way, and a lead that small is noise, not a
// reason to give up the better ranking as a whole (noise is not a
// finding). In candidate order, so the choice is reproducible.
func choose(bt *pipeline.Backtest) string {
	byPK, byAP := "", ""
	for _, name := range bt.Candidates {
		m := bt.Mean[name]
		if pk := bt.Mean[byPK]; byPK == "" || m.PrecisionAtK > pk.PrecisionAtK ||
			m.PrecisionAtK == pk.PrecisionAtK && m.AveragePrecision > pk.AveragePrecision {
			byPK = name
		}
		if byAP == "" || m.AveragePrecision > bt.Mean[byAP].AveragePrecision {
			byAP = name
		}
	}
	if byPK == byAP {
		return byPK
	}
	if lead, se, ok := pairedLead(bt.Folds, byPK, byAP); ok && lead > se {
		return byPK
	}
	return byAP
}

// pairedLead is the mean over the dates of a's precision@K less b's, on
// the same households, and its standard error; not ok with fewer than two
// dates holding both, when the noise cannot be told.
func pairedLead(folds []pipeline.FoldResult, a, b string) (lead, se float64, ok bool) {
	var d []float64
	for _, f := range folds {
		ma, okA := f.Models[a]
		mb, okB := f.Models[b]
		if okA && okB && !math.IsNaN(ma.PrecisionAtK) && !math.IsNaN(mb.PrecisionAtK) {
			d = append(d, ma.PrecisionAtK-mb.PrecisionAtK)
		}
	}
	n := float64(len(d))
	if len(d) < 2 {
		return 0, 0, false
	}
	for _, v := range d {
		lead += v / n
	}
	var ss float64
	for _, v := range d {
		ss += (v - lead) * (v - lead)
	}
	return lead, math.Sqrt(ss/(n-1)) / math.Sqrt(n), true
}

// MinBinHouseholds is the smallest decile whose gap counts (issue 5's
// acceptance: every decile of at least 100 households within 0.05).
const MinBinHouseholds = 100

func calibration(folds []*pipeline.FoldScores, name string) *pipeline.Calibration {
	type pt struct {
		s   float64
		seq int // the point's place before sorting
		y   bool
	}
	n := 0
	for _, f := range folds {
		n += len(f.Scores[name])
	}
	pts := make([]pt, 0, n)
	for _, f := range folds {
		for j, s := range f.Scores[name] {
			pts = append(pts, pt{s, len(pts), f.Labels[j]})
		}
	}
	c := &pipeline.Calibration{}
	if len(pts) == 0 {
		return c
	}
	// By score, ties in their order before: a stable sort's order, from
	// pdqsort, which took half the time of slices' stable merge sort on
	// the 900,000 points of a 300,000-child council.
	slices.SortFunc(pts, func(a, b pt) int {
		switch {
		case a.s < b.s:
			return -1
		case b.s < a.s:
			return 1
		}
		return cmp.Compare(a.seq, b.seq)
	})
	for d := 0; d < 10; d++ {
		lo, hi := d*len(pts)/10, (d+1)*len(pts)/10
		if hi <= lo {
			continue
		}
		var sum, pos float64
		for _, p := range pts[lo:hi] {
			sum += p.s
			if p.y {
				pos++
			}
		}
		n := float64(hi - lo)
		b := pipeline.CalibrationBin{Decile: d + 1, Households: hi - lo, MeanScore: sum / n, ObservedRate: pos / n}
		c.Bins = append(c.Bins, b)
		if b.Households >= MinBinHouseholds {
			c.MaxGap = math.Max(c.MaxGap, math.Abs(b.ObservedRate-b.MeanScore))
		}
	}
	return c
}

func summarise(bt *pipeline.Backtest) *pipeline.BacktestSummary {
	s := &pipeline.BacktestSummary{From: bt.From, To: bt.To, Folds: len(bt.Folds), Chosen: bt.Chosen, Mean: bt.Mean,
		CalibrationGap: map[string]float64{}, TopOfList: bt.TopOfList, DeprivedAUC: bt.MeanDeprivedAUC}
	for name, c := range bt.Calibration {
		s.CalibrationGap[name] = c.MaxGap
	}
	return s
}

// writeBacktest writes backtest/backtest.json and backtest/metrics.csv (one
// row per date and model, then the means).
func (r *run) writeBacktest(bt *pipeline.Backtest) error {
	b, err := json.MarshalIndent(bt, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(rundir.Open(r.Dir).BacktestJSON(), append(b, '\n'), 0o640); err != nil {
		return err
	}
	r.Output(rundir.BacktestFile)
	rows := [][]string{{"as_of", "model", "n", "positives", "base_rate", "auc", "average_precision", "k", "precision_at_k", "recall_at_k", "brier"}}
	line := func(asOf, name string, m pipeline.EvalMetrics) []string {
		return []string{asOf, name, strconv.Itoa(m.N), strconv.Itoa(m.Positives), fnum(m.BaseRate), fnum(m.AUC),
			fnum(m.AveragePrecision), strconv.Itoa(m.K), fnum(m.PrecisionAtK), fnum(m.RecallAtK), fnum(m.Brier)}
	}
	names := append(append([]string{}, bt.Candidates...), bt.Baselines...)
	for _, f := range bt.Folds {
		for _, n := range names {
			rows = append(rows, line(f.AsOf, n, f.Models[n]))
		}
	}
	for _, n := range names {
		rows = append(rows, line("mean", n, bt.Mean[n]))
	}
	if err := atomicfile.WriteCSV(rundir.Open(r.Dir).BacktestMetricsCSV(), rows); err != nil {
		return err
	}
	r.Output(rundir.BacktestMetricsFile)
	cal := [][]string{{"model", "decile", "households", "mean_score", "observed_rate"}}
	for _, n := range names {
		for _, b := range bt.Calibration[n].Bins {
			cal = append(cal, []string{n, strconv.Itoa(b.Decile), strconv.Itoa(b.Households), fnum(b.MeanScore), fnum(b.ObservedRate)})
		}
	}
	if err := atomicfile.WriteCSV(rundir.Open(r.Dir).BacktestCalibrationCSV(), cal); err != nil {
		return err
	}
	r.Output(rundir.BacktestCalibrationFile)
	return nil
}

// fnum writes a metric for a CSV: blank when it could not be computed.
func fnum(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return ""
	}
	return strconv.FormatFloat(v, 'f', 6, 64)
}
