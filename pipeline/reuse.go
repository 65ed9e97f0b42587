package pipeline

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
)

// SavedModel is the model a run trained, kept for the weekly runs until the
// next retrain: training (with its backtest) is monthly work, scoring is
// weekly work.
type SavedModel struct {
	Model    Model
	Manifest ModelManifest
	BaseRate float64
	// TrainedFor is the run date the model was trained for; RunID the run
	// that trained it, whose backtest rows the audit reuses.
	TrainedFor time.Time
	RunID      string
	Backtest   *BacktestSummary
	// PSI holds the training distribution of every feature.
	PSI map[string]PSIBins
}

// A ModelStore keeps the current model between runs.
type ModelStore interface {
	// Current returns the saved model, or nil when there is none.
	Current(ctx context.Context) (*SavedModel, error)
	Save(ctx context.Context, m *SavedModel) error
}

// DefaultRetrainDays is how old a model may get before a run retrains it
// unprompted: a little over the monthly retrain schedule, so a missed
// retrain job does not leave a stale model in use.
const DefaultRetrainDays = 35

// reuse loads the saved model if this run may use it: not asked to retrain,
// and the model trained for a date before this run's and not too long ago.
// It says why not otherwise.
func (r *run) reuse(ctx context.Context) (*SavedModel, string, error) {
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
	age := o.AsOf.Sub(sm.TrainedFor)
	switch {
	case age < 0:
		return nil, "the saved model was trained for a later date", nil
	case age > time.Duration(days)*24*time.Hour:
		return nil, fmt.Sprintf("the saved model is %d days old (retrain after %d)", int(age.Hours()/24), days), nil
	}
	return sm, "", nil
}

// backtestOrReuse is the backtest stage: skipped, with the saved model put
// in place, when the run may reuse it.
func (r *run) backtestOrReuse(ctx context.Context) error {
	sm, why, err := r.reuse(ctx)
	if err != nil {
		return err
	}
	if sm == nil {
		r.log.Info().Str("why", why).Msg("training a new model")
		return r.backtest(ctx)
	}
	r.reused = sm
	r.model, r.baseRate, r.psiRef = sm.Model, sm.BaseRate, sm.PSI
	mm := sm.Manifest
	mm.ReusedFrom = sm.RunID
	r.man.Model, r.man.Backtest = &mm, sm.Backtest
	r.log.Info().Str("model", mm.ID).Str("trained_in", sm.RunID).Msg("reusing the saved model")
	return nil
}

// trainOrReuse is the train stage: nothing to do with a reused model but
// the card; a new model is saved for the runs that follow.
func (r *run) trainOrReuse(ctx context.Context) error {
	if r.reused != nil {
		return r.writeModelCard()
	}
	if err := r.train(ctx); err != nil {
		return err
	}
	if r.opts.Models == nil {
		return nil
	}
	sm := &SavedModel{
		Model: r.model, Manifest: *r.man.Model, BaseRate: r.baseRate, TrainedFor: r.opts.AsOf,
		RunID: r.opts.RunID, Backtest: r.man.Backtest, PSI: r.psiRef,
	}
	if err := r.opts.Models.Save(ctx, sm); err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	return nil
}

// copyBacktestChildren copies the labelled rows of the training run's
// scored_children.csv, so a run with a reused model is audited over the
// same backtest as the run that trained it. Rows are read one at a time
// into the same slice and written straight on to cw.
func (r *run) copyBacktestChildren(cw *csv.Writer) error {
	if r.reused == nil {
		return nil
	}
	path := filepath.Join(filepath.Dir(r.runDir), r.reused.RunID, "evaluation", "scored_children.csv")
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		r.log.Warn().Str("trained_in", r.reused.RunID).Msg("the training run's backtest rows are gone; auditing this week's list only")
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	cr := csv.NewReader(bufio.NewReaderSize(f, 1<<16))
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	label := -1
	for i, h := range head {
		if h == "label" {
			label = i
		}
	}
	// An older build's file lacks the equality columns at the end: its
	// rows are padded with blanks (not recorded) rather than refused.
	if label < 0 || (len(head) != len(scoredChildrenHeader) && len(head) != scoredChildrenColumnsBefore21) {
		return fmt.Errorf("%s: not a scored_children file", path)
	}
	pad := len(scoredChildrenHeader) - len(head)
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if rec[label] != "" {
			for range pad {
				rec = append(rec, "")
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
	}
}

// checkFeatures fails clearly when a model was trained on other features
// than the table has: a saved model from an older build, say. Columns
// outside the model's list are ignored only if the model names its inputs.
func checkFeatures(m Model, rec arrow.Record) error {
	f, ok := m.(interface{ Features() []string })
	if !ok {
		return nil
	}
	want := f.Features()
	have := map[string]bool{}
	for i, fd := range rec.Schema().Fields() {
		if _, ok := rec.Column(i).(*array.Float64); ok {
			have[fd.Name] = true
		}
	}
	var missing []string
	for _, n := range want {
		if !have[n] {
			missing = append(missing, n)
		}
		delete(have, n)
	}
	var extra []string
	for n := range have {
		extra = append(extra, n)
	}
	if len(missing) == 0 && len(extra) == 0 {
		return nil
	}
	sort.Strings(extra)
	id := "the model"
	if i, ok := m.(interface{ ID() string }); ok {
		id = "model " + i.ID()
	}
	return fmt.Errorf("%s was trained on other features than this table has (missing: %s; not in the model: %s): retrain with --retrain",
		id, listOrNone(missing), listOrNone(extra))
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}
