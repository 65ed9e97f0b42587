package main

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"earlyhelp/models/evaluate"
	"earlyhelp/pipeline"
	"earlyhelp/pipeline/config"
	"earlyhelp/pipeline/review/decisions"
)

// lotteryOf is list.evaluation as the list rules take it; nil when the
// council has not turned the evaluation on. Without a configured seed the
// run draws one: the manifest and the allocation file record it, so the
// draw can still be reproduced.
func lotteryOf(cfg *config.Config) *pipeline.Lottery {
	e := cfg.List.Evaluation
	if e == nil {
		return nil
	}
	l := &pipeline.Lottery{Margin: e.Margin}
	if e.Seed != nil {
		l.Seed = *e.Seed
	} else {
		var b [8]byte
		rand.Read(b[:])
		l.Seed = int64(binary.LittleEndian.Uint64(b[:]) >> 1)
	}
	return l
}

// allocationRecorder keeps a run's draw in the decisions database, creating
// it when the review site has not yet: the evaluation needs the arms
// whether or not navigators record decisions there.
func allocationRecorder(dataDir string, now func() time.Time) func(context.Context, string, time.Time, pipeline.Lottery, []pipeline.Allocation) error {
	return func(ctx context.Context, runID string, asOf time.Time, l pipeline.Lottery, alloc []pipeline.Allocation) error {
		if len(alloc) == 0 {
			return nil
		}
		if err := os.MkdirAll(filepath.Join(dataDir, "review"), 0o750); err != nil {
			return fmt.Errorf("decisions database: %w", err)
		}
		st, err := decisions.Open(reviewPath(dataDir, decisionsFile))
		if err != nil {
			return err
		}
		defer st.Close()
		rows := make([]decisions.Allocation, len(alloc))
		for i, a := range alloc {
			rows[i] = decisions.Allocation{RunID: runID, AsOf: asOf.Format(time.DateOnly), Household: a.Household,
				Rank: a.Rank, Arm: a.Arm, Margin: l.Margin, Seed: l.Seed}
		}
		return st.RecordAllocations(ctx, rows, now())
	}
}

// pastAllocations gives a run every household's first draw from the
// decisions database; none when the database does not exist yet.
func pastAllocations(dataDir string) func(context.Context) ([]pipeline.PastAllocation, error) {
	return func(ctx context.Context) ([]pipeline.PastAllocation, error) {
		path := reviewPath(dataDir, decisionsFile)
		if !fileExists(path) {
			return nil, nil
		}
		st, err := decisions.Open(path)
		if err != nil {
			return nil, err
		}
		defer st.Close()
		all, err := st.Allocations(ctx, "")
		if err != nil {
			return nil, err
		}
		first := decisions.FirstAllocations(all)
		out := make([]pipeline.PastAllocation, 0, len(first))
		for _, a := range first {
			d, err := time.Parse(time.DateOnly, a.AsOf)
			if err != nil {
				return nil, fmt.Errorf("allocation %d: as-of date: %w", a.ID, err)
			}
			out = append(out, pipeline.PastAllocation{RunID: a.RunID, AsOf: d, Household: a.Household, Arm: a.Arm})
		}
		return out, nil
	}
}

// compareArms is the pipeline's estimator: Newcombe's hybrid score
// interval for the difference, Wilson's for each arm, at 95%.
func compareArms(offered, offeredEvents, notOffered, notOfferedEvents int) (pipeline.ArmsEstimate, error) {
	c, err := evaluate.CompareArms(offeredEvents, offered, notOfferedEvents, notOffered, evaluate.Z95)
	if err != nil {
		return pipeline.ArmsEstimate{}, err
	}
	return pipeline.ArmsEstimate{Difference: c.Difference, Low: c.DiffCI.Low, High: c.DiffCI.High,
		Offered: [2]float64{c.Offered.CI.Low, c.Offered.CI.High}, NotOffered: [2]float64{c.NotOffered.CI.Low, c.NotOffered.CI.High}}, nil
}
