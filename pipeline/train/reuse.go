package train

import (
	"context"
	"earlyhelp/pipeline"
	"fmt"
	"slices"
	"time"
)

// A ModelStore keeps the current model between runs.
type ModelStore interface {
	// Current returns the saved model, or nil when there is none.
	Current(ctx context.Context) (*pipeline.SavedModel, error)
	Save(ctx context.Context, m *pipeline.SavedModel) error
}

// DefaultRetrainDays is how old a model may get before a run retrains it
// unprompted: a little over the monthly retrain schedule, so a missed
// retrain job does not leave a stale model in use.
const DefaultRetrainDays = 35

// reuse loads the saved model if this run may use it: not asked to retrain,
// and the model trained for a date before this run's and not too long ago.
// It says why not otherwise.
func (r *run) reuse(ctx context.Context) (*pipeline.SavedModel, string, error) {
	o := &r.opts
	switch {
	case o.Models == nil:
		return nil, "no model store", nil
	case o.Retrain:
		return nil, "retrain asked for", nil
	}
	sm, err := o.Models.Current(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("saved model: %w", err)
	}
	if sm == nil {
		return nil, "no saved model", nil
	}
	days := o.RetrainDays
	if days == 0 {
		days = DefaultRetrainDays
	}
	age := r.AsOf.Sub(sm.TrainedFor)
	switch {
	case age < 0:
		return nil, "the saved model was trained for a later date", nil
	case age > time.Duration(days)*24*time.Hour:
		return nil, fmt.Sprintf("the saved model is %d days old (retrain after %d)", int(age.Hours()/24), days), nil
	case !sameColumns(sm.Model.Features(), r.Features.FeatureColumns()):
		// An upgrade that adds or drops a feature would otherwise fail
		// every weekly run at scoring until the monthly retrain.
		return nil, "the saved model was trained on other features than this build makes", nil
	}
	return sm, "", nil
}

// Trains reports whether the backtest stage of the run st will train a
// new model rather than reuse the saved one (reuse): the run can then
// begin reading what only training reads, such as the whole attendance
// history, while its last sources load.
func Trains(ctx context.Context, cfg Config, st *pipeline.State) (bool, error) {
	sm, _, err := (&run{State: st, opts: cfg}).reuse(ctx)
	return err == nil && sm == nil, err
}

// backtestOrReuse is the backtest stage: skipped, with the saved model put
// in place, when the run may reuse it.
func (r *run) backtestOrReuse(ctx context.Context) error {
	sm, why, err := r.reuse(ctx)
	if err != nil {
		return err
	}
	if sm == nil {
		r.Log.Info().Str("why", why).Msg("training a new model")
		return r.backtest(ctx)
	}
	r.Reused = sm
	r.Model, r.BaseRate, r.PSIRef = sm.Model, sm.BaseRate, sm.PSI
	mm := sm.Manifest
	mm.ReusedFrom = sm.RunID
	r.Man.Model, r.Man.Backtest = &mm, sm.Backtest
	r.Log.Info().Str("model", mm.ID).Str("trained_in", sm.RunID).Msg("reusing the saved model")
	return nil
}

// trainOrReuse is the train stage: nothing to do with a reused model but
// the card; a new model is saved for the runs that follow.
func (r *run) trainOrReuse(ctx context.Context) error {
	if r.Reused != nil {
		return r.WriteModelCard()
	}
	if err := r.train(ctx); err != nil {
		return err
	}
	if r.opts.Models == nil {
		return nil
	}
	sm := &pipeline.SavedModel{
		Model: r.Model, Manifest: *r.Man.Model, BaseRate: r.BaseRate, TrainedFor: r.AsOf,
		RunID: r.ID, Backtest: r.Man.Backtest, PSI: r.PSIRef,
	}
	if err := r.opts.Models.Save(ctx, sm); err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	return nil
}

// sameColumns reports whether a model trained on the columns model can
// score a table of the columns built; either nil (not known) passes.
func sameColumns(model, built []string) bool {
	if model == nil || built == nil {
		return true
	}
	return slices.Equal(slices.Sorted(slices.Values(model)), slices.Sorted(slices.Values(built)))
}
