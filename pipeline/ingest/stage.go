// Package ingest is the run's first stage: every configured source is read
// through its connector into the store, each file's rows booked as loaded
// or quarantined with a reason, and each unreadable cell counted.
package ingest

import (
	"context"

	"earlyhelp/pipeline"
)

// Config is the ingest stage's part of the council's configuration.
type Config struct {
	Sources []pipeline.SourceSpec
	Store   pipeline.Store
	// MaxQuarantineRatio fails the run when a source quarantines more than
	// this share of the rows it read.
	MaxQuarantineRatio float64
	// MaxNulledRatio bounds, per column, the share of a source's loaded
	// rows whose cell was unreadable and nulled (0: DefaultMaxNulledRatio).
	MaxNulledRatio float64
	// Ingested, when set, is called as each source's read ends well, its
	// deliveries committed, before the next source is read: a run may
	// start reading that source from the store (the store takes one
	// writer and readers beside it) while the rest load. It must not
	// block.
	Ingested func(ctx context.Context, st *pipeline.State, source string)
}

// Stage is the ingest stage.
type Stage struct{ cfg Config }

// New returns the ingest stage for cfg.
func New(cfg Config) *Stage { return &Stage{cfg: cfg} }

// Name is "ingest".
func (*Stage) Name() string { return "ingest" }

// Run reads every source into the store.
func (s *Stage) Run(ctx context.Context, st *pipeline.State) error {
	r := &run{State: st, opts: s.cfg}
	return r.ingest(ctx)
}

// run is one ingest: the run's state and the stage's configuration.
type run struct {
	*pipeline.State
	opts Config
}
