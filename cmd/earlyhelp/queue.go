package main

import (
	"context"
	"time"
)

// The queue of serve's jobs: an invocation that finds another job of this
// process running waits here (see scheduler) rather than being dropped.

// pendingRun is an invocation waiting for this process's running job.
type pendingRun struct {
	job job
	due time.Time // when it was invoked; its wait is measured from here
}

// queueOrder is the order pending runs start in: the list first, since the
// navigators wait for it and the next ingest is as good as this one.
var queueOrder = []string{"weekly_list", "retrain", "ingest"}

// invoke is one scheduled or catch-up invocation of j. With no job of this
// process running it runs j and returns when j and the start of the next
// pending run are done; otherwise it queues j and returns at once.
func (s *scheduler) invoke(ctx context.Context, j job) {
	log := s.log.With().Str("job", j.name).Logger()
	due := s.now()
	s.mu.Lock()
	running := s.running
	switch running {
	case "":
		s.running = j.name
		s.mu.Unlock()
		s.runQueued(ctx, pendingRun{job: j, due: due})
		return
	case j.name:
		s.mu.Unlock()
		s.skipped.WithLabelValues(j.name).Inc()
		log.Warn().Msg("job skipped: its previous run is still running")
		return
	}
	joined, waits := s.enqueue(j, due)
	s.mu.Unlock()
	ev := log.Info().Str("running", running).Str("pending", joined)
	if !waits {
		ev.Msg("job coalesced with a pending run: another job of this process is running")
		return
	}
	s.queued.WithLabelValues(joined).Inc()
	ev.Msg("job queued: another job of this process is running")
}

// enqueue leaves j pending, at most one run per job, and says which pending
// run it joined and whether that is a new wait. s.mu is held.
func (s *scheduler) enqueue(j job, due time.Time) (joined string, waits bool) {
	if _, ok := s.pending["retrain"]; ok && j.name == "weekly_list" {
		return "retrain", false // a retrain lists too
	}
	if _, ok := s.pending[j.name]; ok {
		return j.name, false // its wait counts from the first invocation
	}
	if w, ok := s.pending["weekly_list"]; ok && j.retrain {
		// The retrain lists too; its wait counts from the list's.
		delete(s.pending, "weekly_list")
		due = earlier(w.due, due)
	}
	s.pending[j.name] = pendingRun{job: j, due: due}
	return j.name, true
}

func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// runQueued runs p, which holds the slot, then hands the slot on.
func (s *scheduler) runQueued(ctx context.Context, p pendingRun) {
	_ = s.runFrom(ctx, p.job, p.due) // runFrom logs and counts its own outcome
	s.startNext(ctx)
}

// startNext is called as this process's running job ends: it starts the
// pending run that goes first, in a goroutine of its own (so the job that
// ended does not look still running to cron.SkipIfStillRunning), or frees
// the slot.
func (s *scheduler) startNext(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.running = ""
	if ctx.Err() != nil || s.stopping {
		for name := range s.pending {
			s.log.Warn().Str("job", name).Msg("pending job dropped: serve is stopping")
		}
		clear(s.pending)
		return
	}
	p, ok := s.takeNext()
	if !ok {
		return
	}
	s.running = p.job.name
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		s.runQueued(ctx, p)
	}()
}

// takeNext removes and returns the pending run that goes first. s.mu is
// held.
func (s *scheduler) takeNext() (pendingRun, bool) {
	for _, name := range queueOrder {
		if p, ok := s.pending[name]; ok {
			delete(s.pending, name)
			return p, true
		}
	}
	return pendingRun{}, false
}
