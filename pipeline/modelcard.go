package pipeline

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

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
	Evaluation    map[string]EvalMetrics `json:"holdout_metrics"`
	TestAsOf      string                 `json:"holdout_as_of"`
	Fairness      string                 `json:"fairness_headline"`
	IntendedUse   string                 `json:"intended_use"`
	Limits        []string               `json:"limits"`
	WrittenAt     string                 `json:"written_at"`
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
	"the holdout is one out-of-time date on a fifth of households; small groups have wide uncertainty",
}

// writeModelCard writes model/model_card.json and model/model_card.md.
func (r *run) writeModelCard() error {
	mm := r.man.Model
	if mm == nil {
		return nil
	}
	c := ModelCard{
		ModelID: mm.ID, Kind: mm.Kind, RunID: r.man.RunID, AsOf: r.man.AsOf, Label: cardLabel,
		HorizonWeeks: mm.HorizonWeeks, TrainingDates: mm.TrainingDates, TrainingRows: mm.TrainingRows,
		Positives: mm.Positives, Features: mm.Features, Excluded: []string{"ethnicity"},
		Fairness:    "not yet audited in this build: the ethnicity and deprivation audit is issue 6",
		IntendedUse: cardUse, Limits: cardLimits, WrittenAt: r.opts.Now().UTC().Format(time.RFC3339),
	}
	if ev := r.man.Evaluation; ev != nil {
		c.Evaluation, c.TestAsOf = ev.Models, ev.TestAsOf
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	if err := WriteFileAtomic(filepath.Join(r.runDir, "model", "model_card.json"), append(b, '\n'), 0o640); err != nil {
		return err
	}
	if err := WriteFileAtomic(filepath.Join(r.runDir, "model", "model_card.md"), []byte(c.markdown()), 0o640); err != nil {
		return err
	}
	r.output("model/model_card.json")
	r.output("model/model_card.md")
	return nil
}

func (c ModelCard) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Model card: %s\n\n", c.ModelID)
	fmt.Fprintf(&b, "Run %s, as of %s. Kind: %s.\n\n", c.RunID, c.AsOf, c.Kind)
	fmt.Fprintf(&b, "## Intended use\n\nThe score is used %s.\n\n", c.IntendedUse)
	fmt.Fprintf(&b, "## What it predicts\n\nThe chance that %s (%d weeks).\n\n", c.Label, c.HorizonWeeks)
	fmt.Fprintf(&b, "## Training\n\n%d household snapshots (%d with the outcome) as of %s.\n\n",
		c.TrainingRows, c.Positives, strings.Join(c.TrainingDates, ", "))
	fmt.Fprintf(&b, "Features: %s. Never a feature: %s.\n\n", strings.Join(c.Features, ", "), strings.Join(c.Excluded, ", "))
	if len(c.Evaluation) > 0 {
		fmt.Fprintf(&b, "## Out-of-time holdout (as of %s)\n\n", c.TestAsOf)
		b.WriteString("| model | AUC | average precision | precision@K | recall@K | K | Brier | base rate |\n|---|---|---|---|---|---|---|---|\n")
		for _, name := range sortedKeys(c.Evaluation) {
			e := c.Evaluation[name]
			fmt.Fprintf(&b, "| %s | %.3f | %.3f | %.3f | %.3f | %d | %.4f | %.3f |\n",
				name, e.AUC, e.AveragePrecision, e.PrecisionAtK, e.RecallAtK, e.K, e.Brier, e.BaseRate)
		}
		b.WriteString("\n")
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
