package main

import (
	"context"
	"fmt"
	"time"

	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/push"
	dto "github.com/prometheus/client_model/go"
	"github.com/rs/zerolog"

	"earlyhelp/pipeline"
	"earlyhelp/pipeline/config"
)

// pushJob is the Pushgateway job name of one-shot runs.
const pushJob = "earlyhelp"

// batchPush is batch, then, when url is set, a push of the run's metrics to
// a Pushgateway: a one-shot run (a council's CronJob, a systemd timer) ends
// before Prometheus could scrape it. The group is keyed by council so the
// councils of a regional deployment do not overwrite each other, and the
// push is a POST (push.Add), so a failed run keeps the group's earlier
// earlyhelp_last_success_timestamp_seconds. A failed push fails a run that
// succeeded; after a failed run the run's error wins and the push error is
// logged.
func batchPush(ctx context.Context, cfg *config.Config, asOf time.Time, log zerolog.Logger, url string, with func(*runSetup)) (*pipeline.Manifest, error) {
	if url == "" {
		return batch(ctx, cfg, asOf, log, with)
	}
	setup, err := setupRun(cfg, asOf, log, time.Now, memory.DefaultAllocator)
	if err != nil {
		return nil, err
	}
	defer setup.unlock()
	if with != nil {
		with(setup)
	}
	man, err := setup.run(ctx)
	// The push gets its own short deadline: ctx may be the reason the run
	// failed, and the failure is what the Pushgateway most needs to hear.
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	perr := push.New(url, pushJob).Gatherer(pushable{setup.reg}).Grouping("council", cfg.Council).AddContext(pctx)
	switch {
	case perr != nil && err == nil:
		return man, fmt.Errorf("pushgateway %s: %w", url, perr)
	case perr != nil:
		log.Error().Err(perr).Str("pushgateway", url).Msg("push failed")
	}
	return man, err
}

// pushable drops the job label the Pushgateway reserves for its grouping
// key: a one-shot run is a full run, so its
// earlyhelp_last_success_timestamp_seconds{job="run"} is pushed as the
// group's job="earlyhelp" (deploy/prometheus/rules.yml matches both), and a
// series of any other job is left out.
type pushable struct{ g prometheus.Gatherer }

func (p pushable) Gather() ([]*dto.MetricFamily, error) {
	mfs, err := p.g.Gather()
	out := mfs[:0]
	for _, mf := range mfs {
		kept := mf.Metric[:0]
		for _, m := range mf.Metric {
			labels, keep := m.Label[:0], true
			for _, l := range m.Label {
				if l.GetName() != "job" {
					labels = append(labels, l)
				} else if l.GetValue() != "run" {
					keep = false
				}
			}
			m.Label = labels
			if keep {
				kept = append(kept, m)
			}
		}
		mf.Metric = kept
		if len(kept) > 0 {
			out = append(out, mf)
		}
	}
	return out, err
}
