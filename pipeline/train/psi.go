package train

import (
	"earlyhelp/pipeline"
	"slices"
	"time"
)

// psiReference bins every feature of the model's newest psiSnapshots
// training snapshots, pooled: the population the model most recently
// learnt from. Training spans the year, and its summer snapshots' 4- and
// 13-week attendance windows hold the holidays; against the whole year
// pooled, a July list read as drift (PSI 0.89 on no_reason_rate_13w on a
// 3,000-child council, above the alert's 0.5) that was only the calendar.
func (r *run) psiReference() map[string]pipeline.PSIBins {
	train := map[string][]float64{}
	for _, d := range newest(r.TrainDates, psiSnapshots) {
		s, ok := r.Cached(d)
		if !ok {
			continue
		}
		for name, vals := range pipeline.FloatColumns(s.Table.Record) {
			train[name] = append(train[name], vals...)
		}
	}
	out := make(map[string]pipeline.PSIBins, len(train))
	for name, vals := range train {
		out[name] = pipeline.NewPSIBins(vals)
	}
	return out
}

// psiSnapshots is how many of the newest training snapshots the drift
// reference pools: four, four weeks apart, a season.
const psiSnapshots = 4

// newest returns the n latest of dates.
func newest(dates []time.Time, n int) []time.Time {
	s := slices.Clone(dates)
	slices.SortFunc(s, func(a, b time.Time) int { return b.Compare(a) })
	return s[:min(n, len(s))]
}
