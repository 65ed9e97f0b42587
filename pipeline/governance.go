package pipeline

import (
	"context"
	"earlyhelp/pipeline/rundir"
	"errors"
	"time"
)

// GovernanceFile is the governance check's output in a run folder (issue
// 21): the verdict and its evidence, which the model card shows and
// `earlyhelp transparency` reads.
const GovernanceFile = rundir.GovernanceFile

// GovernanceInput is what a run hands the governance check after its
// audit: the check reads the audit's findings and earlier runs itself.
type GovernanceInput struct {
	RunID  string
	RunDir string
	AsOf   time.Time
	// Today is the run's clock, for the review date.
	Today time.Time
	// Backtest is this run's temporal backtest, nil when the run reused a
	// saved model; ReusedFrom then names the run that trained it.
	Backtest   *Backtest
	ReusedFrom string
}

// Governance is the governance stage (issue 21): it runs the council's
// check of its targets and switch-off criteria after the audit, sets the
// governance metrics and puts the answer on the model card.
func Governance(check func(ctx context.Context, in GovernanceInput) (*ShouldRun, error)) Stage {
	return StageFunc("governance", func(ctx context.Context, r *State) error {
		in := GovernanceInput{
			RunID: r.ID, RunDir: r.Dir, AsOf: r.AsOf, Today: r.Now().UTC(),
			Backtest: r.Backtest,
		}
		if r.Man.Model != nil {
			in.ReusedFrom = r.Man.Model.ReusedFrom
		}
		sr, err := check(ctx, in)
		if err != nil {
			return err
		}
		if sr == nil {
			return errors.New("the governance check gave no answer")
		}
		r.ShouldRun = sr
		r.Output(GovernanceFile)
		if m := r.Metrics; m != nil {
			m.GovernanceCriterionMet.Reset()
			for _, c := range sr.Criteria {
				if c.Checked {
					m.GovernanceCriterionMet.WithLabelValues(c.Name).Set(boolGauge(c.Met))
				}
			}
			m.GovernanceReviewDue.Set(boolGauge(sr.ReviewDue))
		}
		r.Log.Info().Str("verdict", sr.Verdict).Bool("review_due", sr.ReviewDue).Msg("governance checked")
		return r.WriteModelCard()
	})
}

// Audit is the audit stage: it runs the fairness audit over the finished
// run folder and puts its headline on the manifest and the model card.
func Audit(audit func(ctx context.Context, runDir string) (headline string, err error)) Stage {
	return StageFunc("audit", func(ctx context.Context, r *State) error {
		// The audit reads the run folder, not the run's memory. What the
		// stages before it held (the snapshots, the backtest's scored
		// folds, 400 MB at 300,000 children) is let go first: a collection
		// traces whatever is live, and a cold run's audit spent a third of
		// its time in collections that traced them again and again.
		r.ReleaseSnapshots()
		r.Folds = nil
		headline, err := audit(ctx, r.Dir)
		if err != nil {
			return err
		}
		r.Fairness = headline
		r.Man.Fairness = headline
		r.Output(rundir.AuditFolder + "/")
		return r.WriteModelCard()
	})
}

func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
