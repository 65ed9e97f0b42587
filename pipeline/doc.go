// Package pipeline is the run: the contracts every stage plugs into (sources,
// feature builders, models), the run loop that calls them in order, the
// manifest, the metrics and the atomic file writes every output goes through.
//
// It imports no other package of earlyhelp: the concrete connectors, builders
// and models are wired in by cmd/earlyhelp.
package pipeline
