package pipeline

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/rs/zerolog"
)

// State is one run as it goes through its stages: who it is, where it
// writes, and what each stage hands on to the next. Stages read what an
// earlier stage set and set what a later one reads; the run loop owns it
// and the feature snapshots, which it releases when the run ends.
type State struct {
	ID      string    // YYYYMMDDTHHMMSSZ
	Dir     string    // the run folder
	AsOf    time.Time // features use data before this date only
	Council string
	// Features build the run's snapshots; HorizonWeeks is how far after
	// an as-of date its outcome is read.
	Features     FeatureSet
	HorizonWeeks int
	// OracleAUC, for a synthetic council only, is the AUC of its true
	// risk: the model card shows it as the ceiling.
	OracleAUC *float64

	Log     zerolog.Logger
	Mem     memory.Allocator
	Metrics *Metrics // may be nil
	Now     func() time.Time
	// Man is the run's manifest, written after every stage.
	Man *Manifest

	// Set by the training stages.
	Model      Model
	BaseRate   float64
	Start      time.Time   // first day of stored history; zero if unknown
	TrainFor   time.Time   // the run date, or the day after the data ends if earlier
	TrainDates []time.Time // the scoring model's training dates
	Reused     *SavedModel // the saved model this run scores with, if reused
	PSIRef     map[string]PSIBins
	Backtest   *Backtest
	Folds      []*FoldScores // the backtest's test households, scored
	// Set by the audit and the governance check.
	Fairness  string
	ShouldRun *ShouldRun

	snapMu    sync.Mutex // guards snapshots while the backtest fits models concurrently
	snapshots map[string]*Snapshot
}

// Output records a file or folder (relative to the run folder) the run
// wrote, once: the audit and the governance check rewrite the model card
// the train stage wrote, and the manifest lists a file, not each write.
func (s *State) Output(rel string) {
	if !slices.Contains(s.Man.Outputs, rel) {
		s.Man.Outputs = append(s.Man.Outputs, rel)
	}
}

// Snapshot is the features, labels and interventions as of one date.
type Snapshot struct {
	Table  *FeatureTable
	Labels []bool
	// Intervened marks households that received early help within the
	// horizon: their outcome was changed by the offer, so they are left
	// out of training and calibration (but not out of testing).
	Intervened []bool
}

// SnapshotAt builds (once per run) the features and labels as of a date.
// The backtest's models call it from several goroutines; builds are one at
// a time, so a FeatureSet need not be safe for concurrent use.
func (s *State) SnapshotAt(ctx context.Context, asOf time.Time) (*Snapshot, error) {
	s.snapMu.Lock()
	defer s.snapMu.Unlock()
	key := asOf.Format(time.DateOnly)
	if sn, ok := s.snapshots[key]; ok {
		return sn, nil
	}
	t, err := s.Features.Build(ctx, s.Mem, asOf)
	if err != nil {
		return nil, fmt.Errorf("features as of %s: %w", key, err)
	}
	labels, err := s.Features.Labels(ctx, t, s.HorizonWeeks)
	if err != nil {
		t.Release()
		return nil, fmt.Errorf("labels as of %s: %w", key, err)
	}
	sn := &Snapshot{Table: t, Labels: labels}
	if sn.Intervened, err = s.Features.Intervened(ctx, t, s.HorizonWeeks); err != nil {
		t.Release()
		return nil, fmt.Errorf("early help as of %s: %w", key, err)
	}
	if s.snapshots == nil {
		s.snapshots = map[string]*Snapshot{}
	}
	s.snapshots[key] = sn
	return sn, nil
}

// Cached returns the snapshot of a date if the run holds it.
func (s *State) Cached(asOf time.Time) (*Snapshot, bool) {
	s.snapMu.Lock()
	defer s.snapMu.Unlock()
	sn, ok := s.snapshots[asOf.Format(time.DateOnly)]
	return sn, ok
}

// Forget releases the snapshot of a date, for a date read once, and tells
// the feature set to let go of what it kept for it.
func (s *State) Forget(asOf time.Time) {
	s.snapMu.Lock()
	key := asOf.Format(time.DateOnly)
	sn, ok := s.snapshots[key]
	delete(s.snapshots, key)
	if ok {
		// Under the lock: builds, which add to what the set keeps, run
		// under it too.
		s.Features.ForgetTable(sn.Table.AsOf)
	}
	s.snapMu.Unlock()
	if ok {
		sn.Table.Release()
	}
}

// ReleaseSnapshots releases every snapshot the run holds.
func (s *State) ReleaseSnapshots() {
	s.snapMu.Lock()
	defer s.snapMu.Unlock()
	for k, sn := range s.snapshots {
		sn.Table.Release()
		delete(s.snapshots, k)
	}
}
