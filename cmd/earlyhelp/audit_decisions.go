package main

import (
	"context"
	"os"
	"sort"

	"earlyhelp/models/fairness"
	"earlyhelp/pipeline"
	"earlyhelp/pipeline/review/decisions"
	"earlyhelp/pipeline/rundir"
)

// decisionRowsFor gives the audit the run's listed households, every
// household ever listed up to the run (its list_state.json), each with its
// latest navigators' decision from the decisions store. A household's
// locality is its decision's, else this week's list's, else unknown; the
// audit fills in ethnicity and deprivation from this week's rows. A data
// folder without the review site's store gives the households without
// decisions; a run without a list, none.
func decisionRowsFor(dataDir string) func(runDir string) ([]fairness.DecisionRow, error) {
	return func(runDir string) ([]fairness.DecisionRow, error) {
		var st pipeline.ListState
		if ok, err := readOptionalJSON(rundir.Open(runDir).ListStateJSON(), &st); !ok {
			return nil, err
		}
		localities, err := listLocalitiesByPseudonym(runDir)
		if err != nil {
			return nil, err
		}
		latest := map[string]decisions.Decision{}
		if path := reviewPath(dataDir, decisionsFile); fileExists(path) {
			ds, err := decisions.Open(path)
			if err != nil {
				return nil, err
			}
			defer ds.Close()
			if latest, err = ds.LatestDecisions(context.Background()); err != nil {
				return nil, err
			}
		}
		rows := make([]fairness.DecisionRow, 0, len(st.Listed))
		for hh := range st.Listed {
			r := fairness.DecisionRow{Household: hh, Locality: localities[hh]}
			if d, ok := latest[hh]; ok {
				r.Kind, r.ReasonCategory = d.Kind, d.ReasonCategory
				if d.Locality != "" {
					r.Locality = d.Locality
				}
			}
			rows = append(rows, r)
		}
		sort.Slice(rows, func(i, j int) bool { return rows[i].Household < rows[j].Household })
		return rows, nil
	}
}

// listLocalitiesByPseudonym maps this week's listed households' pseudonyms
// to their localities, from families.json.
func listLocalitiesByPseudonym(runDir string) (map[string]string, error) {
	var fams []pipeline.ListFamily
	if _, err := readOptionalJSON(rundir.Open(runDir).FamiliesJSON(), &fams); err != nil {
		return nil, err
	}
	out := make(map[string]string, len(fams))
	for _, f := range fams {
		out[f.Pseudonym] = f.Locality
	}
	return out, nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
