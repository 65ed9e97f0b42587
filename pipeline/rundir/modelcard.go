package rundir

import (
	"fmt"
	"sort"
	"strings"
)

// The model card (model/model_card.json and .md) and the governance
// check's answer (model/governance.json) it carries.

// ModelCard is model/model_card.json (CONTRACTS §4): what the model is, what
// it was trained on, how it did out of time, and what it is for and not for.
// Auditors read it without access to any family's data.
type ModelCard struct {
	ModelID       string                 `json:"model_id"`
	Kind          string                 `json:"kind"`
	RunID         string                 `json:"run_id"`
	AsOf          string                 `json:"as_of"`
	Label         string                 `json:"label"`
	HorizonWeeks  int                    `json:"horizon_weeks"`
	TrainingDates []string               `json:"training_as_of_dates"`
	TrainingRows  int                    `json:"training_rows"`
	Positives     int                    `json:"training_positives"`
	Features      []string               `json:"features"`
	Excluded      []string               `json:"never_features"`
	Calibration   string                 `json:"calibration_as_of,omitempty"`
	Backtest      map[string]EvalMetrics `json:"backtest_metrics"`
	BacktestFrom  string                 `json:"backtest_from"`
	BacktestTo    string                 `json:"backtest_to"`
	BacktestFolds int                    `json:"backtest_folds"`
	// CalibrationGap is, per model, the largest |observed − predicted|
	// over backtest score deciles of at least 100 households.
	CalibrationGap map[string]float64 `json:"calibration_max_gap"`
	ChoiceRule     string             `json:"choice_rule"`
	// DeprivedAUC is each model's mean AUC within IMD deciles 1–2, beside
	// the comparison trained without area deprivation.
	DeprivedAUC map[string]float64 `json:"mean_auc_imd_deciles_1_2,omitempty"`
	// TopOfList is the list itself in the backtest: the listed households'
	// mean score against their outcome rate, by band.
	TopOfList   *TopOfList `json:"top_of_list,omitempty"`
	OracleAUC   *float64   `json:"oracle_auc,omitempty"`
	Fairness    string     `json:"fairness_headline"`
	IntendedUse string     `json:"intended_use"`
	Limits      []string   `json:"limits"`
	// ShouldRun is the governance check: the verdict against the targets
	// and switch-off criteria set in advance, with the evidence. A run
	// without the check says that no targets were set.
	ShouldRun *ShouldRun `json:"should_this_still_run"`
	// Weights are the chosen model's weight per standard deviation of each
	// feature, largest first, for a model that has them (a forest has
	// none); each need signal weighed against need is explained.
	Weights   []FeatureWeight `json:"weights,omitempty"`
	WrittenAt string          `json:"written_at"`
}

// FeatureWeight is one feature's weight in the chosen model.
type FeatureWeight struct {
	Feature string  `json:"feature"`
	Weight  float64 `json:"weight_per_sd"`
	// Context: an area or family fact the model may weigh but a family is
	// never told as a reason (Contexter).
	Context bool `json:"context,omitempty"`
	// Note explains a need signal with a negative weight: among households
	// alike in everything else the model sees, the signal went with fewer
	// referrals in training.
	Note string `json:"note,omitempty"`
}

func (c ModelCard) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Model card: %s\n\n", c.ModelID)
	fmt.Fprintf(&b, "Run %s, as of %s. Kind: %s.\n\n", c.RunID, c.AsOf, c.Kind)
	fmt.Fprintf(&b, "## Intended use\n\nThe score is used %s.\n\n", c.IntendedUse)
	c.ShouldRun.markdown(&b)
	fmt.Fprintf(&b, "## What it predicts\n\nThe chance that %s (%d weeks).\n\n", c.Label, c.HorizonWeeks)
	fmt.Fprintf(&b, "## Training\n\n%d household snapshots (%d with the outcome) as of %s.\n\n",
		c.TrainingRows, c.Positives, strings.Join(c.TrainingDates, ", "))
	fmt.Fprintf(&b, "Features: %s. Never a feature: %s.\n\n", strings.Join(c.Features, ", "), strings.Join(c.Excluded, ", "))
	if c.Calibration != "" {
		fmt.Fprintf(&b, "Scores are calibrated to probabilities on a fifth of households held out of training, on the same dates (the latest %s).\n\n", c.Calibration)
	}
	if len(c.Weights) > 0 {
		b.WriteString("### What the model weighs\n\nWeight per standard deviation of each feature (log-odds), largest first. Context features are area and family facts the model may weigh but a family is never told as a reason. A need signal with a negative weight is explained.\n\n| feature | weight | context | why a need signal weighs against need |\n|---|---|---|---|\n")
		for _, fw := range c.Weights {
			ctx := ""
			if fw.Context {
				ctx = "yes"
			}
			fmt.Fprintf(&b, "| %s | %+.3f | %s | %s |\n", fw.Feature, fw.Weight, ctx, cell(fw.Note))
		}
		b.WriteString("\n")
	}
	if len(c.Backtest) > 0 {
		fmt.Fprintf(&b, "## Temporal backtest (%d dates, %s to %s)\n\n", c.BacktestFolds, c.BacktestFrom, c.BacktestTo)
		b.WriteString("Each date is scored by models trained on earlier dates and on other households only; figures are means over the dates. ")
		fmt.Fprintf(&b, "The model is chosen by %s. K is the navigators' capacity scaled to the tested households.\n\n", c.ChoiceRule)
		b.WriteString("| model | AUC | average precision | precision@K | recall@K | Brier | calibration gap | base rate |\n|---|---|---|---|---|---|---|---|\n")
		for _, name := range sortedKeys(c.Backtest) {
			e := c.Backtest[name]
			fmt.Fprintf(&b, "| %s | %.3f | %.3f | %.3f | %.3f | %.4f | %.3f | %.3f |\n",
				name, e.AUC, e.AveragePrecision, e.PrecisionAtK, e.RecallAtK, e.Brier, c.CalibrationGap[name], e.BaseRate)
		}
		b.WriteString("\nThe calibration gap is the largest difference between the share of households with the outcome and the mean score, over score deciles of at least 100 households in the backtest: 0.02 means a decile scored 10% had between 8% and 12% with the outcome.\n")
		b.WriteString("\n")
		if len(c.DeprivedAUC) > 0 {
			b.WriteString("### What the family's own signals add\n\nAUC within IMD deciles 1 and 2 (the most deprived fifth of areas, where most of a list lies and area deprivation cannot tell families apart), and a candidate model trained without area deprivation (`_without_deprivation`, reported, never chosen):\n\n| model | AUC | AUC within IMD deciles 1–2 |\n|---|---|---|\n")
			for _, name := range sortedKeys(c.DeprivedAUC) {
				fmt.Fprintf(&b, "| %s | %.3f | %.3f |\n", name, c.Backtest[name].AUC, c.DeprivedAUC[name])
			}
			b.WriteString("\n")
		}
		if top := c.TopOfList; top != nil && top.Listed.Households > 0 {
			fmt.Fprintf(&b, "### The top of the list\n\nA list's scores are multiplied by the ratio of outcomes to scores on the backtest's lists (the households ranked highest on each date): %.2f. "+
				"To test that correction as a live list meets it, each backtest date's list was corrected by the dates before it: on the lists after the first date (%d households), the mean score was %.3f, the corrected mean %.3f, and %.3f had the outcome. "+
				"The bands are drawn on the corrected score; a band whose corrected mean lies more than %.2f from its outcome rate is merged into the next.\n\n",
				top.Listed.Ratio, top.Listed.Households, top.Listed.MeanScore, top.Listed.Corrected, top.Listed.ObservedRate, top.Tolerance)
			b.WriteString("| band | holds | households | mean score | corrected | outcome rate | within |\n|---|---|---|---|---|---|---|\n")
			for _, bc := range top.Bands {
				fmt.Fprintf(&b, "| %s | %s | %d | %.3f | %.3f | %.3f | %t |\n", bc.Band, strings.Join(bc.Holds, ", "), bc.Households, bc.MeanScore, bc.Corrected, bc.ObservedRate, bc.Within)
			}
			b.WriteString("\n")
		}
		if c.OracleAUC != nil {
			fmt.Fprintf(&b, "The synthetic council's true risk ranks outcomes with AUC %.3f: the ceiling any model could reach on this data.\n\n", *c.OracleAUC)
		}
	}
	fmt.Fprintf(&b, "## Fairness\n\n%s.\n\n## Limits\n\n", c.Fairness)
	for _, l := range c.Limits {
		fmt.Fprintf(&b, "- %s\n", l)
	}
	fmt.Fprintf(&b, "\nWritten %s.\n", c.WrittenAt)
	return b.String()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// markdown writes the model card's "Should this still run?" section. The
// verdict is a heading of its own: a reader skimming the card must not
// miss "switch off", nor that no targets were set.
func (s *ShouldRun) markdown(b *strings.Builder) {
	b.WriteString("## Should this still run?\n\n")
	if s == nil || s.Verdict == VerdictNoTargets {
		b.WriteString("# No targets were set\n\n")
		b.WriteString("The council has set no targets, switch-off criteria or review date for this model (the `governance:` block of its configuration), " +
			"so nothing shows whether it is doing what it was brought in to do. Set an owner, a review date, targets and switch-off criteria before relying on its list.\n\n")
		return
	}
	switch s.Verdict {
	case VerdictSwitchOff:
		b.WriteString("# Verdict: switch off\n\nAt least one switch-off criterion the council set in advance is met. " +
			"The list should not be used until the owner has reviewed the evidence below and decided, in writing, whether to switch the model off.\n\n")
	default:
		fmt.Fprintf(b, "# Verdict: %s\n\nNo switch-off criterion the council set in advance is met.\n\n", s.Verdict)
	}
	owner := s.Owner
	if owner == "" {
		owner = "not named"
	}
	if s.Contact != "" {
		owner += " (" + s.Contact + ")"
	}
	review := "none set"
	if s.ReviewDate != "" {
		review = s.ReviewDate
	}
	due := "not yet due"
	if s.ReviewDue {
		due = "due"
	}
	fmt.Fprintf(b, "Owner: %s. Review date: %s (%s).\n\n", owner, review, due)
	b.WriteString("| criterion | checked | met | value | threshold | evidence |\n|---|---|---|---|---|---|\n")
	for _, c := range s.Criteria {
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s |\n", c.Name, yesNo(c.Checked), yesNo(c.Met),
			cell(c.Value), cell(c.Threshold), cell(c.Evidence))
	}
	b.WriteString("\n")
}

func yesNo(v bool) string {
	if v {
		return "yes"
	}
	return "no"
}

// cell keeps a table cell on one row of the Markdown table.
func cell(s string) string {
	return strings.NewReplacer("|", "\\|", "\n", " ").Replace(s)
}

// ShouldRun is the governance check's answer to "should this still run?":
// the verdict, who owns the decision, and each switch-off criterion with
// its evidence.
type ShouldRun struct {
	Verdict    string `json:"verdict"`
	Owner      string `json:"owner,omitempty"`
	Contact    string `json:"contact,omitempty"`
	ReviewDate string `json:"review_date,omitempty"`
	// ReviewDue is true once the review date is reached, and when none was
	// set: a model without a review date is overdue one.
	ReviewDue bool                  `json:"review_due"`
	Criteria  []GovernanceCriterion `json:"criteria"`
}

// GovernanceCriterion is one switch-off criterion: its figure this run
// against the threshold set in advance, in words a DPO can check.
type GovernanceCriterion struct {
	Name string `json:"name"`
	// Checked is false when the council set no target for it: it is
	// listed so the gap shows, and never met.
	Checked   bool   `json:"checked"`
	Met       bool   `json:"met"`
	Value     string `json:"value"`
	Threshold string `json:"threshold"`
	Evidence  string `json:"evidence"`
}

// Verdicts of the governance check.
const (
	VerdictContinue  = "continue"
	VerdictSwitchOff = "switch off"
	// VerdictNoTargets: the council set no target or review date, so no
	// one can say whether the model should still run.
	VerdictNoTargets = "no targets set"
)
