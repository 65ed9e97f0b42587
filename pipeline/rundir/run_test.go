package rundir

import (
	"path/filepath"
	"testing"
)

// TestLayout pins the folder's layout to CONTRACTS §4: run folders written
// before a change here would no longer be read, so a name changes only
// with the contract.
func TestLayout(t *testing.T) {
	r := ForID("/data", "20260105T060000Z")
	for _, tc := range []struct{ got, want string }{
		{r.Dir, "/data/runs/20260105T060000Z"},
		{r.ID(), "20260105T060000Z"},
		{r.DataDir(), "/data"},
		{Open("/data/runs/20260105T060000Z/").DataDir(), "/data"},
		{r.ManifestPath(), "/data/runs/20260105T060000Z/manifest.json"},
		{r.MetricsProm(), "/data/runs/20260105T060000Z/metrics.prom"},
		{r.FeaturesParquet(), "/data/runs/20260105T060000Z/features.parquet"},
		{r.ScoresParquet(), "/data/runs/20260105T060000Z/scores.parquet"},
		{r.QuarantineCSV("persons"), "/data/runs/20260105T060000Z/quarantine/persons.csv"},
		{r.QuarantineCellsCSV("persons"), "/data/runs/20260105T060000Z/quarantine/persons_cells.csv"},
		{r.ModelJSON(), "/data/runs/20260105T060000Z/model/model.json"},
		{r.ModelCardJSON(), "/data/runs/20260105T060000Z/model/model_card.json"},
		{r.ModelCardMD(), "/data/runs/20260105T060000Z/model/model_card.md"},
		{r.GovernanceJSON(), "/data/runs/20260105T060000Z/model/governance.json"},
		{r.BacktestJSON(), "/data/runs/20260105T060000Z/backtest/backtest.json"},
		{r.BacktestMetricsCSV(), "/data/runs/20260105T060000Z/backtest/metrics.csv"},
		{r.BacktestCalibrationCSV(), "/data/runs/20260105T060000Z/backtest/calibration.csv"},
		{r.ScoredChildrenCSV(), "/data/runs/20260105T060000Z/evaluation/scored_children.csv"},
		{r.OracleJSON(), "/data/runs/20260105T060000Z/evaluation/oracle.json"},
		{r.ListCSV(), "/data/runs/20260105T060000Z/list/navigator_list.csv"},
		{r.ListHTML(), "/data/runs/20260105T060000Z/list/navigator_list.html"},
		{r.ListParquet(), "/data/runs/20260105T060000Z/list/navigator_list.parquet"},
		{r.FamiliesJSON(), "/data/runs/20260105T060000Z/list/families.json"},
		{r.ListStateJSON(), "/data/runs/20260105T060000Z/list/list_state.json"},
		{r.AllocationCSV(), "/data/runs/20260105T060000Z/list/evaluation_allocation.csv"},
		{r.TransparencyDir(), "/data/runs/20260105T060000Z/governance"},
		{r.Audit().JSON(), "/data/runs/20260105T060000Z/audit/audit.json"},
		{r.Audit().ManifestJSON(), "/data/runs/20260105T060000Z/audit/audit_manifest.json"},
		{r.Audit().DecisionsCSV(), "/data/runs/20260105T060000Z/audit/decisions.csv"},
		{r.Audit().ReportHTML(), "/data/runs/20260105T060000Z/audit/report.html"},
		{r.Audit().EvaluationArmsCSV(), "/data/runs/20260105T060000Z/audit/evaluation_arms.csv"},
		{r.Audit().ThisWeek().PublishableCSV(), "/data/runs/20260105T060000Z/audit/this_week/publishable/group_metrics.csv"},
		{r.Audit().ThisWeek().IntersectionsCSV(), "/data/runs/20260105T060000Z/audit/this_week/intersections/group_metrics.csv"},
		{r.Path(AuditReportFile), r.Audit().ReportHTML()},
	} {
		if tc.got != filepath.FromSlash(tc.want) {
			t.Errorf("got %s; want %s", tc.got, tc.want)
		}
	}
}
