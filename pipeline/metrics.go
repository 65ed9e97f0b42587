package pipeline

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the run loop's Prometheus metrics (CONTRACTS §7). They are
// registered on the registerer passed in, never the global one, and carry no
// identifier in any label.
type Metrics struct {
	RowsRead        *prometheus.CounterVec
	RowsLoaded      *prometheus.CounterVec
	RowsQuarantined *prometheus.CounterVec
	// CellsNulled counts optional cells stored as null because they could
	// not be read, their rows kept (CONTRACTS §2 cell policy).
	CellsNulled *prometheus.CounterVec
	// ObjectionsUnmatched is the last run's objection rows that could not
	// be tied to anyone: an alert, since such an objection cannot be
	// honoured.
	ObjectionsUnmatched prometheus.Gauge
	LinkMatch           *prometheus.GaugeVec
	StageDuration       *prometheus.HistogramVec
	Runs                *prometheus.CounterVec
	LastSuccess         *prometheus.GaugeVec
	ListHouseholds      prometheus.Gauge
	ListChurn           prometheus.Gauge
	ModelAUC            *prometheus.GaugeVec
	FeaturePSI          *prometheus.GaugeVec
	FairnessRatio       *prometheus.GaugeVec
	FairnessOutside     *prometheus.GaugeVec
	// Decisions counts navigators' recorded decisions by kind (CONTRACTS
	// §6); the review site increments it.
	Decisions *prometheus.CounterVec
	// GovernanceCriterionMet is 1 for a switch-off criterion the council
	// set in advance that this run found met, 0 for one checked and not
	// met (issue 21); a criterion without a target has no series.
	GovernanceCriterionMet *prometheus.GaugeVec
	// GovernanceReviewDue is 1 once the governance review date is reached,
	// or when no review date was set.
	GovernanceReviewDue prometheus.Gauge

	// SourceLastFile and SourceExpectedEvery are the stale-source alert's
	// two sides: when the store loaded a source's newest file (from its
	// record of files, so a new process knows it) and how often the config
	// expects one.
	SourceLastFile      *prometheus.GaugeVec
	SourceExpectedEvery *prometheus.GaugeVec
	// SourceQuarantined and SourceNulled are the rejection rates of the
	// last ingest that read rows of a source: a per-delivery ratio the
	// surge alerts compare with the source's own usual rate, which
	// counters' increase() cannot give for a source delivered weekly.
	SourceQuarantined *prometheus.GaugeVec
	SourceNulled      *prometheus.GaugeVec
	// ListCapacity is the capacity the latest list was drawn for, beside
	// ListHouseholds so a list short of it can be alerted on. (ListChurn
	// is set only for a list with one before it: a first list is all new,
	// which is no churn.)
	ListCapacity prometheus.Gauge
}

// NewMetrics creates the metrics and registers them on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	const ns = "earlyhelp"
	m := &Metrics{
		RowsRead: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "rows_read_total",
			Help: "Data rows read from source extracts.",
		}, []string{"source"}),
		RowsLoaded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "rows_loaded_total",
			Help: "Rows that passed validation and were loaded into the store.",
		}, []string{"source"}),
		RowsQuarantined: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "rows_quarantined_total",
			Help: "Rows rejected into the run's quarantine file, by reason.",
		}, []string{"source", "reason"}),
		CellsNulled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "cells_nulled_total",
			Help: "Optional cells that could not be read and were loaded as null, by column and reason.",
		}, []string{"source", "column", "reason"}),
		ObjectionsUnmatched: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: ns, Name: "objections_unmatched",
			Help: "Objection rows of the last ingest that could not be tied to any person.",
		}),
		SourceLastFile: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: ns, Name: "source_last_file_timestamp_seconds",
			Help: "Unix time the store loaded the newest file delivered for a source.",
		}, []string{"source"}),
		SourceExpectedEvery: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: ns, Name: "source_expected_every_seconds",
			Help: "How often a new file of a source is expected (sources.<name>.expected_every).",
		}, []string{"source"}),
		SourceQuarantined: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: ns, Name: "source_quarantined_ratio",
			Help: "Share of a source's rows quarantined, in the last ingest that read rows of it.",
		}, []string{"source"}),
		SourceNulled: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: ns, Name: "source_nulled_ratio",
			Help: "Largest share of a column's cells loaded as null for being unreadable, in the last ingest that loaded rows of the source.",
		}, []string{"source"}),
		LinkMatch: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: ns, Name: "link_match_ratio",
			Help: "Share of a source's people linked to a household as of the run date.",
		}, []string{"source"}),
		StageDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: ns, Name: "stage_duration_seconds",
			Help:    "Wall time of each pipeline stage.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2.5, 12),
		}, []string{"stage"}),
		Runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "run_total",
			Help: "Pipeline runs by final status.",
		}, []string{"status"}),
		LastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: ns, Name: "last_success_timestamp_seconds",
			Help: "Unix time of the last successful run of each job.",
		}, []string{"job"}),
		ListHouseholds: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: ns, Name: "list_households",
			Help: "Households on the latest navigator list.",
		}),
		ListCapacity: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: ns, Name: "list_capacity",
			Help: "Households the latest navigator list was drawn to hold (list.capacity).",
		}),
		ListChurn: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: ns, Name: "list_churn_ratio",
			Help: "Share of the latest navigator list that was not on the week before's.",
		}),
		ModelAUC: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: ns, Name: "model_auc",
			Help: "ROC AUC of a model on an evaluation split.",
		}, []string{"model", "split"}),
		FeaturePSI: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: ns, Name: "feature_psi",
			Help: "Population stability index of a feature on the run date against the model's training data.",
		}, []string{"feature"}),
		FairnessRatio: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: ns, Name: "fairness_ratio",
			Help: "A fairness metric of a group divided by the reference group's (1 = parity).",
		}, []string{"attribute", "group", "metric"}),
		FairnessOutside: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: ns, Name: "fairness_outside_tolerance",
			Help: "Groups of an attribute whose comparison on a primary metric (recall) is a finding: its whole interval lies outside the tolerance band.",
		}, []string{"attribute", "metric"}),
		Decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "decisions_total",
			Help: "Navigators' decisions recorded, by decision.",
		}, []string{"decision"}),
		GovernanceCriterionMet: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: ns, Name: "governance_criterion_met",
			Help: "1 if a switch-off criterion set in the governance block is met by the latest run, 0 if checked and not met.",
		}, []string{"criterion"}),
		GovernanceReviewDue: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: ns, Name: "governance_review_due",
			Help: "1 if the governance review date has been reached or none was set.",
		}),
	}
	// Every decision is a series from the start, so a dashboard shows 0
	// rather than nothing before the first is recorded.
	for _, d := range []string{"offer_made", "offer_accepted", "offer_declined", "not_appropriate", "already_supported", "unable_to_contact"} {
		m.Decisions.WithLabelValues(d)
	}
	for _, c := range []prometheus.Collector{
		m.RowsRead, m.RowsLoaded, m.RowsQuarantined, m.CellsNulled, m.ObjectionsUnmatched, m.LinkMatch, m.StageDuration,
		m.Runs, m.LastSuccess, m.ListHouseholds, m.ListChurn, m.ModelAUC, m.FeaturePSI,
		m.FairnessRatio, m.FairnessOutside, m.Decisions, m.GovernanceCriterionMet, m.GovernanceReviewDue,
		m.SourceLastFile, m.SourceExpectedEvery, m.SourceQuarantined, m.SourceNulled, m.ListCapacity,
	} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// DeliveryTimes is what the stale-source gauges need of a store.
type DeliveryTimes interface {
	// LastDelivered is when the newest file of source was loaded; false
	// when none ever was.
	LastDelivered(source string) (time.Time, bool)
}

// SetSourceFreshness sets the stale-source gauges of every configured
// source (expected maps each to its expected_every, 0 for none): the load
// time of its newest file when it has one, and its expectation when it has
// one. A source expected but never delivered gets only the expectation,
// which the alert reads as stale; no time is made up for it.
func (m *Metrics) SetSourceFreshness(expected map[string]time.Duration, st DeliveryTimes) {
	if st == nil {
		return // an expectation without the store's record would read as never delivered
	}
	for source, every := range expected {
		if every > 0 {
			m.SourceExpectedEvery.WithLabelValues(source).Set(every.Seconds())
		} else {
			m.SourceExpectedEvery.DeleteLabelValues(source)
		}
		if t, ok := st.LastDelivered(source); ok {
			m.SourceLastFile.WithLabelValues(source).Set(float64(t.Unix()))
		}
	}
}
