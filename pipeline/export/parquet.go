package export

import "earlyhelp/pipeline/rundir"

// listRows are the list's rows as rundir writes them to
// navigator_list.parquet: the CSV's columns, typed, unrounded score.
func listRows(rows []row) []rundir.ListRow {
	out := make([]rundir.ListRow, len(rows))
	for i, r := range rows {
		out[i] = rundir.ListRow{
			Rank: r.Rank, Household: r.Household, Locality: r.Locality, Band: r.Band, Score: r.score,
			Status: r.Status, WeeksOnList: r.WeeksOnList, Children: r.Children, ChildRefs: r.ChildRefs,
			Reasons: r.Reasons, ReasonCodes: r.ReasonCodes, Decision: r.Decision, DecisionAt: r.decisionAt,
			ContactSafety: r.ContactSafety, Likelihood: r.Likelihood, Context: r.Context,
		}
	}
	return out
}
