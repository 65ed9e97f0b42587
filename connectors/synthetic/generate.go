package synthetic

import (
	"context"
	"fmt"
	"math/rand/v2"

	"earlyhelp/connectors"
)

// generator carries one generation's state between the writers.
type generator struct {
	cfg       Config
	w         *world
	cal       *calendar
	out       *outputs
	defects   *defectLog
	rDef      *rand.Rand // draws only under the light profile
	specs     map[string]connectors.Spec
	rows      map[string]int64
	referrals int
	oracleAUC float64
	// Set up by simulate for the weekly signal writers.
	bias  *biases
	links *links
	kids  []int32 // per household: children living there this week
}

func (g *generator) light() bool { return g.cfg.Defects == DefectsLight }

// columns is the header of a source, exactly as its spec names them.
func (g *generator) columns(source string) []string { return g.specs[source].ColumnNames() }

// Generate writes a synthetic council into cfg.Out: the source extracts
// under incoming/<source>/, the demo key under secrets/ and truth/. The same
// Config gives byte-identical files. Files appear under their final names
// only when everything succeeded; on error (or when ctx is cancelled, which
// is checked every simulated week) only the temporary files were written,
// and they are removed.
func Generate(ctx context.Context, cfg Config) (Summary, error) {
	if err := cfg.Validate(); err != nil {
		return Summary{}, fmt.Errorf("synthetic: %w", err)
	}
	cfg = cfg.withDefaults()
	last := dayFromTime(cfg.End)
	first := last.monday() - day(7*(cfg.Weeks-1))
	w, err := newWorld(cfg, first, last)
	if err != nil {
		return Summary{}, fmt.Errorf("synthetic: world: %w", err)
	}
	g := &generator{
		cfg:   cfg,
		w:     w,
		cal:   newCalendar(first, last),
		out:   &outputs{root: cfg.Out},
		rDef:  newRand(cfg.Seed, streamDefects),
		specs: connectors.Specs(),
		rows:  make(map[string]int64),
	}
	if err := g.run(ctx); err != nil {
		g.out.abort()
		return Summary{}, fmt.Errorf("synthetic: %w", err)
	}
	if err := g.out.removeStale(attendanceDir, "attendance_????-??.csv"); err != nil {
		return Summary{}, fmt.Errorf("synthetic: %w", err)
	}
	return Summary{
		Children:   len(w.children),
		Households: len(w.households),
		Persons:    len(w.persons),
		Rows:       g.rows,
		Files:      g.out.names(),
		Referrals:  g.referrals,
		OracleAUC:  g.oracleAUC,
	}, nil
}

func (g *generator) run(ctx context.Context) error {
	df, err := g.out.create(defectsFile, 0o644, false, "file", "row_number", "column", "defect_type", "still_valid")
	if err != nil {
		return err
	}
	g.defects = &defectLog{f: df}
	for _, write := range []func() error{
		g.writeKey, g.writeDeprivation, g.writePersons, g.writeHouseholds, g.writeTruthPersons,
	} {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := write(); err != nil {
			return err
		}
	}
	if err := g.simulate(ctx); err != nil {
		return err
	}
	if g.realistic() || g.referenceVocabulary() { // re-render the finished clean files (realistic.go)
		if err := g.renderRealistic(ctx); err != nil {
			return err
		}
	}
	if g.hostile() { // likewise, breaking whole files (hostile.go)
		if err := g.renderHostile(ctx); err != nil {
			return err
		}
	}
	return g.out.commit()
}
