package pipeline

import (
	"earlyhelp/pipeline/atomicfile"
	"earlyhelp/pipeline/contract"
	"earlyhelp/pipeline/rundir"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

// The model card's types are the run folder's (model/model_card.json, and
// the governance check's answer in model/governance.json); these aliases
// keep pipeline's names.
type (
	ModelCard           = rundir.ModelCard
	FeatureWeight       = rundir.FeatureWeight
	ShouldRun           = rundir.ShouldRun
	GovernanceCriterion = rundir.GovernanceCriterion
)

// Verdicts of the governance check.
const (
	VerdictContinue  = rundir.VerdictContinue
	VerdictSwitchOff = rundir.VerdictSwitchOff
	VerdictNoTargets = rundir.VerdictNoTargets
)

// modelWeights lists m's weights, largest in size first, marking context
// features, saying of any other feature that is not a need signal
// (contract.RaisesNeed) that its weight may go either way, and explaining
// each need signal with a negative weight against
// its family (the features whose names share the first word, as absence_…,
// rent_… or hv_…): when the family's weights sum to more than nothing, the
// negative one is a linear model splitting overlapping evidence; else the
// signal, once the rest is known, went with fewer referrals, which the
// card asks the council to review.
func modelWeights(m Model, ctx Contexter) []FeatureWeight {
	if m == nil {
		return nil
	}
	w := m.Coefficients()
	if w == nil {
		return nil
	}
	out := make([]FeatureWeight, 0, len(w))
	for f, v := range w {
		fw := FeatureWeight{Feature: f, Weight: v}
		if ctx != nil {
			_, fw.Context = ctx.Context(f, 0)
		}
		out = append(out, fw)
	}
	sort.Slice(out, func(i, j int) bool {
		if a, b := math.Abs(out[i].Weight), math.Abs(out[j].Weight); a != b {
			return a > b
		}
		return out[i].Feature < out[j].Feature
	})
	family := func(f string) string {
		if i := strings.IndexByte(f, '_'); i > 0 {
			return f[:i]
		}
		return f
	}
	for i := range out {
		fw := &out[i]
		if fw.Context || fw.Weight >= 0 {
			continue
		}
		if !contract.RaisesNeed(fw.Feature) {
			// Illness, holiday, whether a screen was done: not need
			// signals, so a model may weigh them either way.
			fw.Note = "not a need signal (illness, holiday, or whether a screen was done, which says how to read its score), so its weight may go either way"
			continue
		}
		var partners []string
		net := 0.0
		for _, o := range out {
			if o.Context || !contract.RaisesNeed(o.Feature) || family(o.Feature) != family(fw.Feature) {
				continue
			}
			net += o.Weight
			if o.Feature != fw.Feature && o.Weight > 0 {
				partners = append(partners, fmt.Sprintf("%s (%+.2f)", o.Feature, o.Weight))
			}
		}
		if len(partners) > 0 && net > 0 {
			fw.Note = fmt.Sprintf("read with the rest of its family, %s: they overlap, a linear model splits overlapping evidence between them, and together they weigh towards need (net %+.2f)",
				strings.Join(partners, ", "), net)
		} else {
			fw.Note = fmt.Sprintf("with the rest of its family it weighs against need (net %+.2f): once the other signals are known, it went with fewer referrals in training, as where a service is already working with the family; to review with the service that records it, and never a reason to list a family less", net)
		}
	}
	return out
}

const (
	cardLabel = "a child of the household is referred to children's social care with outcome " +
		"assessment or above within the horizon after the as-of date"
	cardUse = "to prompt a family-hub navigator's conversation about an early-help offer; " +
		"a person decides, and nothing is done to a family because of a score (UK GDPR Art. 22)"
)

var cardLimits = []string{
	"trained and evaluated on the council's own records: a family less visible to services scores lower",
	"scores estimate referrals, which reflect services' decisions as well as families' needs",
	"households with an open social-care case or early-help episode, or an objection, are not scored",
	"the backtest tests each date on a fifth of households; small groups have wide uncertainty",
}

// WriteModelCard writes model/model_card.json and model/model_card.md.
func (r *State) WriteModelCard() error {
	mm := r.Man.Model
	if mm == nil {
		return nil
	}
	c := ModelCard{
		ModelID: mm.ID, Kind: mm.Kind, RunID: r.Man.RunID, AsOf: r.Man.AsOf, Label: cardLabel,
		HorizonWeeks: mm.HorizonWeeks, TrainingDates: mm.TrainingDates, TrainingRows: mm.TrainingRows,
		Positives: mm.Positives, Features: mm.Features, Excluded: []string{contract.ColEthnicity},
		Fairness:    "no fairness audit was run with this model",
		Calibration: mm.CalibrationAsOf, ChoiceRule: ChoiceRule, OracleAUC: r.OracleAUC,
		IntendedUse: cardUse, Limits: cardLimits, WrittenAt: r.Now().UTC().Format(time.RFC3339),
	}
	if r.Fairness != "" {
		c.Fairness = r.Fairness
	}
	c.Weights = modelWeights(r.Model, r.Features)
	c.ShouldRun = r.ShouldRun
	if c.ShouldRun == nil {
		c.ShouldRun = &ShouldRun{Verdict: VerdictNoTargets, ReviewDue: true, Criteria: []GovernanceCriterion{}}
	}
	// A safety source the council runs without is a limit of this model.
	for _, name := range slices.Sorted(maps.Keys(r.Man.MissingSourcesAccepted)) {
		c.Limits = append(append([]string(nil), c.Limits...),
			fmt.Sprintf("run without the %s source, which the council accepts in writing: %s", name, r.Man.MissingSourcesAccepted[name]))
	}
	if bt := r.Man.Backtest; bt != nil {
		c.Backtest, c.BacktestFrom, c.BacktestTo, c.BacktestFolds = bt.Mean, bt.From, bt.To, bt.Folds
		c.CalibrationGap, c.TopOfList, c.DeprivedAUC = bt.CalibrationGap, bt.TopOfList, bt.DeprivedAUC
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(rundir.Open(r.Dir).ModelCardJSON(), append(b, '\n'), 0o640); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(rundir.Open(r.Dir).ModelCardMD(), []byte(c.Markdown()), 0o640); err != nil {
		return err
	}
	r.Output(rundir.ModelCardJSONFile)
	r.Output(rundir.ModelCardMDFile)
	return nil
}
