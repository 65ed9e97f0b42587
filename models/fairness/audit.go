package fairness

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
)

// Result is the whole audit, restricted tier; Publishable holds the SDC tier.
type Result struct {
	Rows            int              `json:"rows"`
	Labelled        int              `json:"rows_labelled"`
	Decisions       []*Decision      `json:"decisions"`
	References      []Reference      `json:"references"`
	Coverage        []Coverage       `json:"coverage"`
	Overall         []GroupMetrics   `json:"overall"`
	Groups          []GroupMetrics   `json:"group_metrics"`
	Disparities     []Disparity      `json:"disparities"`
	Summaries       []Summary        `json:"summary"`
	TopK            []TopKRow        `json:"topk_curve"`
	Calibration     []Calibration    `json:"calibration_summary"`
	CalibrationBins []CalibrationBin `json:"calibration_bins"`
	MComparisons    []MComparisons   `json:"m_comparisons"`
	Publishable     *Publishable     `json:"-"`
	Settings        map[string]any   `json:"config"`
	attrs           []Attribute
}

// Reference records which group each attribute was compared with.
type Reference struct {
	Attribute string `json:"attribute"`
	Rule      string `json:"rule"`
	Group     string `json:"group"`
}

// MComparisons counts the defined comparisons per (decision, attribute,
// metric) family so readers can apply Bonferroni themselves (§4.5: CIs are
// unadjusted).
type MComparisons struct {
	Decision  string `json:"decision_id"`
	Attribute string `json:"attribute"`
	Metric    string `json:"metric"`
	M         int    `json:"m_comparisons"`
}

// table is the columnar view the calibration and bootstrap loops read.
type table struct {
	score []float64
	label []int8 // the household's outcome: calibration and AUC judge the household's score
	child []int8 // the child's own outcome: recall
	house []int32
	bin   []uint8
	asc   []int32 // rows in ascending score order
}

// Audit computes the §4 audit. rows are normalised in place (derived
// ethnicity5, UNKNOWN for NOT_STATED), which is why the slice is the caller's.
func Audit(rows []Row, cfg Config) (*Result, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("audit config: %w", err)
	}
	if len(rows) == 0 {
		return nil, errors.New("audit: no rows")
	}
	if cfg.CalibrationBins > 255 {
		return nil, fmt.Errorf("audit config: calibration_bins %d: want <= 255", cfg.CalibrationBins)
	}
	for i := range rows {
		if err := rows[i].normalise(); err != nil {
			return nil, fmt.Errorf("audit row %d (%s): %w", i+1, rows[i].ID, err)
		}
	}
	// Households and the score table, the rank order, the groups and the
	// check for repeated rows read the rows apart: seconds on one core at
	// a council's size, so they are made side by side.
	var (
		u      units
		order  []int32
		gidx   [][]int32
		t      *table
		asc    []int32
		dupErr error
		wg     sync.WaitGroup
	)
	wg.Go(func() {
		u = householdUnits(rows) // sets each row's HouseLabel, which the table reads
		t = fillTable(rows, cfg.CalibrationBins)
	})
	wg.Go(func() { asc = ascending(rows) })
	wg.Go(func() { order = rankOrder(rows) })
	wg.Go(func() { gidx = assign(rows, cfg.Attributes) })
	wg.Go(func() { dupErr = repeated(rows) })
	wg.Wait()
	if dupErr != nil {
		return nil, dupErr
	}
	t.house, t.asc = u.house, asc
	z := cfg.z()
	rank := make([]int32, len(rows))
	for pos, i := range order {
		rank[i] = int32(pos + 1)
	}
	decs, err := decisions(rows, order, &cfg)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	if cfg.Bootstrap > 0 && len(decs) > maxBootDecisions {
		return nil, fmt.Errorf("audit config: %d decisions with the bootstrap on: want at most %d", len(decs), maxBootDecisions)
	}
	res := &Result{Rows: len(rows), Decisions: decs, attrs: cfg.Attributes, Settings: cfg.settings()}
	for i := range rows {
		if rows[i].Label >= 0 {
			res.Labelled++
		}
	}
	// Each decision's metrics read the rows apart from the others', and
	// the calibration needs only the first decision's references: after
	// it, the rest and the calibration share the cores, and their parts
	// join the result in the decisions' order.
	parts := make([]decisionPart, len(decs))
	var next atomic.Int64
	if len(decs) > 0 {
		parts[0] = metricsOf(rows, &u, rank, decs[0], gidx, &cfg, z)
		res.References = parts[0].refs
		next.Store(1)
	}
	work := func() {
		for i := int(next.Add(1) - 1); i < len(decs); i = int(next.Add(1) - 1) {
			parts[i] = metricsOf(rows, &u, rank, decs[i], gidx, &cfg, z)
		}
	}
	wg.Go(work)
	wg.Go(func() { res.calibrateAll(t, gidx, &cfg, z); work() })
	wg.Wait()
	for i := range parts {
		p := &parts[i]
		res.Overall = append(res.Overall, p.overall)
		res.Coverage = append(res.Coverage, p.coverage...)
		res.Groups = append(res.Groups, p.groups...)
		res.Disparities = append(res.Disparities, p.disparities...)
		res.Summaries = append(res.Summaries, p.summaries...)
		res.MComparisons = append(res.MComparisons, p.mComparisons...)
		res.TopK = append(res.TopK, p.topK...)
	}
	if cfg.Bootstrap > 0 {
		bootstrap(res, t, gidx, decs, &cfg)
	}
	classify(res.Disparities, &cfg)
	res.Publishable = publish(res, &cfg)
	return res, nil
}

// newTable is the table of rows with its ascending order.
func newTable(rows []Row, nb int) *table {
	t := fillTable(rows, nb)
	t.asc = ascending(rows)
	return t
}

// fillTable is the table of rows but for its order.
func fillTable(rows []Row, nb int) *table {
	t := &table{score: make([]float64, len(rows)), label: make([]int8, len(rows)), child: make([]int8, len(rows)),
		bin: make([]uint8, len(rows))}
	edges := innerEdges(nb)
	for i := range rows {
		t.score[i], t.label[i], t.child[i] = rows[i].Score, rows[i].HouseLabel, rows[i].Label
		t.bin[i] = uint8(binOf(edges, rows[i].Score))
	}
	return t
}

// ascending is the rows in ascending score order, ties in row order.
func ascending(rows []Row) []int32 {
	asc := make([]int32, len(rows))
	for i := range asc {
		asc[i] = int32(i)
	}
	slices.SortStableFunc(asc, func(a, b int32) int {
		switch {
		case rows[a].Score < rows[b].Score:
			return -1
		case rows[a].Score > rows[b].Score:
			return 1
		}
		return 0
	})
	return asc
}

// repeated reports the first row whose id and date an earlier row has.
func repeated(rows []Row) error {
	seen := make(map[[2]string]struct{}, len(rows))
	for i := range rows {
		k := [2]string{rows[i].ID, rows[i].AsOf}
		if _, dup := seen[k]; dup {
			return fmt.Errorf("audit row %d: id %q repeated for as_of %q", i+1, rows[i].ID, rows[i].AsOf)
		}
		seen[k] = struct{}{}
	}
	return nil
}

// decisionPart is one decision's share of the result.
type decisionPart struct {
	overall      GroupMetrics
	refs         []Reference
	coverage     []Coverage
	groups       []GroupMetrics
	disparities  []Disparity
	summaries    []Summary
	mComparisons []MComparisons
	topK         []TopKRow
}

// metricsOf computes one decision's metrics for every attribute.
func metricsOf(rows []Row, u *units, rank []int32, dec *Decision, gidx [][]int32, cfg *Config, z float64) decisionPart {
	all := overallMetrics(rows, u, rank, dec, z)
	p := decisionPart{overall: all}
	for k := range cfg.Attributes {
		attr := &cfg.Attributes[k]
		p.coverage = append(p.coverage, coverage(dec, attr, gidx[k]))
		gm := groupMetrics(rows, u, rank, dec, attr, gidx[k], &all, z)
		spec := cfg.Reference[attr.Name]
		ref := reference(spec, gm, &all)
		if attr.parts[0] != "" && (spec == "" || spec == "largest") {
			ref = eventfulReference(gm, int64(cfg.MinDenVerdict))
		}
		r := Reference{Attribute: attr.Name, Rule: spec}
		if r.Rule == "" {
			r.Rule = "largest"
		}
		if ref != nil {
			r.Group = ref.Group
		}
		p.refs = append(p.refs, r)
		ds := disparities(gm, ref, &all, cfg)
		if attr.parts[0] != "" {
			dropFewEvents(ds, ref, int64(cfg.MinDenDisplay))
		}
		p.groups = append(p.groups, gm...)
		p.disparities = append(p.disparities, ds...)
		p.summaries = append(p.summaries, summaries(gm, &all)...)
		p.mComparisons = append(p.mComparisons, mComparisons(ds, ref)...)
		if dec.KthScore != nil || dec.ID == "selected" {
			p.topK = append(p.topK, topKRows(dec, gm, ds)...)
		}
	}
	return p
}

// groupLists splits t.asc by group, keeping ascending score order.
func groupLists(t *table, gidx []int32, ngroups int) [][]int32 {
	lists := make([][]int32, ngroups)
	for _, r := range t.asc {
		lists[gidx[r]] = append(lists[gidx[r]], r)
	}
	return lists
}

func (res *Result) calibrateAll(t *table, gidx [][]int32, cfg *Config, z float64) {
	all, bins := calibrate(t, "overall", "overall", false, t.asc, cfg.CalibrationBins, z)
	res.Calibration = append(res.Calibration, all)
	res.CalibrationBins = append(res.CalibrationBins, bins...)
	for k := range cfg.Attributes {
		attr := &cfg.Attributes[k]
		lists := groupLists(t, gidx[k], len(attr.Groups))
		start := len(res.Calibration)
		for g, idx := range lists {
			c, b := calibrate(t, attr.Name, attr.Groups[g], attr.Known[g], idx, cfg.CalibrationBins, z)
			res.Calibration = append(res.Calibration, c)
			res.CalibrationBins = append(res.CalibrationBins, b...)
		}
		// The oe_ratio comparison uses the same reference as the disparities.
		var refName string
		for _, r := range res.References {
			if r.Attribute == attr.Name {
				refName = r.Group
			}
		}
		var ref *Calibration
		if refName == "overall" {
			ref = &res.Calibration[0]
		}
		for i := start; i < len(res.Calibration); i++ {
			if res.Calibration[i].Group == refName && refName != "" {
				ref = &res.Calibration[i]
			}
		}
		for i := start; i < len(res.Calibration); i++ {
			c := &res.Calibration[i]
			if ref != nil && c.Known && c.OERatio != nil && ref.OERatio != nil && *ref.OERatio > 0 {
				c.OERatioToRef, c.RefGroup = ptr(*c.OERatio / *ref.OERatio), ref.Group
			}
		}
	}
}

func mComparisons(ds []Disparity, ref *GroupMetrics) []MComparisons {
	var out []MComparisons
	for _, m := range DisparityMetrics {
		mc := MComparisons{Metric: m}
		for i := range ds {
			d := &ds[i]
			mc.Decision, mc.Attribute = d.Decision, d.Attribute
			if d.Metric == m && d.Ratio != nil && (ref == nil || d.Group != ref.Group) {
				mc.M++
			}
		}
		out = append(out, mc)
	}
	return out
}
