package fairness

import (
	"errors"
	"fmt"
	"slices"
	"sync"
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
	seen := make(map[[2]string]struct{}, len(rows))
	for i := range rows {
		if err := rows[i].normalise(); err != nil {
			return nil, fmt.Errorf("audit row %d (%s): %w", i+1, rows[i].ID, err)
		}
		k := [2]string{rows[i].ID, rows[i].AsOf}
		if _, dup := seen[k]; dup {
			return nil, fmt.Errorf("audit row %d: id %q repeated for as_of %q", i+1, rows[i].ID, rows[i].AsOf)
		}
		seen[k] = struct{}{}
	}
	// Households and the score table, the rank order and the groups read
	// the rows apart: four seconds on one core at a council's size, so
	// they are made side by side.
	var (
		u     units
		order []int32
		gidx  [][]int32
		t     *table
		wg    sync.WaitGroup
	)
	wg.Go(func() {
		u = householdUnits(rows) // sets each row's HouseLabel, which the table reads
		t = newTable(rows, cfg.CalibrationBins)
	})
	wg.Go(func() { order = rankOrder(rows) })
	wg.Go(func() { gidx = assign(rows, cfg.Attributes) })
	wg.Wait()
	t.house = u.house
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
	for _, dec := range decs {
		all := overallMetrics(rows, &u, rank, dec, z)
		res.Overall = append(res.Overall, all)
		for k := range cfg.Attributes {
			attr := &cfg.Attributes[k]
			res.Coverage = append(res.Coverage, coverage(dec, attr, gidx[k]))
			gm := groupMetrics(rows, &u, rank, dec, attr, gidx[k], &all, z)
			spec := cfg.Reference[attr.Name]
			ref := reference(spec, gm, &all)
			if attr.parts[0] != "" && (spec == "" || spec == "largest") {
				ref = eventfulReference(gm, int64(cfg.MinDenVerdict))
			}
			if dec == decs[0] {
				r := Reference{Attribute: attr.Name, Rule: spec}
				if r.Rule == "" {
					r.Rule = "largest"
				}
				if ref != nil {
					r.Group = ref.Group
				}
				res.References = append(res.References, r)
			}
			ds := disparities(gm, ref, &all, &cfg)
			if attr.parts[0] != "" {
				dropFewEvents(ds, ref, int64(cfg.MinDenDisplay))
			}
			res.Groups = append(res.Groups, gm...)
			res.Disparities = append(res.Disparities, ds...)
			res.Summaries = append(res.Summaries, summaries(gm, &all)...)
			res.MComparisons = append(res.MComparisons, mComparisons(ds, ref)...)
			if dec.KthScore != nil || dec.ID == "selected" {
				res.TopK = append(res.TopK, topKRows(dec, gm, ds)...)
			}
		}
	}
	res.calibrateAll(t, gidx, &cfg, z)
	if cfg.Bootstrap > 0 {
		bootstrap(res, t, gidx, decs, &cfg)
	}
	classify(res.Disparities, &cfg)
	res.Publishable = publish(res, &cfg)
	return res, nil
}

func newTable(rows []Row, nb int) *table {
	t := &table{score: make([]float64, len(rows)), label: make([]int8, len(rows)), child: make([]int8, len(rows)),
		bin: make([]uint8, len(rows))}
	edges := innerEdges(nb)
	for i := range rows {
		t.score[i], t.label[i], t.child[i] = rows[i].Score, rows[i].HouseLabel, rows[i].Label
		t.bin[i] = uint8(binOf(edges, rows[i].Score))
	}
	t.asc = make([]int32, len(rows))
	for i := range t.asc {
		t.asc[i] = int32(i)
	}
	slices.SortStableFunc(t.asc, func(a, b int32) int {
		switch {
		case t.score[a] < t.score[b]:
			return -1
		case t.score[a] > t.score[b]:
			return 1
		}
		return 0
	})
	return t
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
