package evaluate

import (
	"encoding/json"
	"math"
	"testing"
)

// TestOracle: on one date, need ranks perfectly, the model ranks the two
// deprived households backwards, and the true probability ties them all.
func TestOracle(t *testing.T) {
	rows := []OracleRow{
		{AsOf: "2025-09-01", Score: 0.9, Need: 1, TrueP: 0.2, Label: false, IMDDecile: 1},
		{AsOf: "2025-09-01", Score: 0.1, Need: 3, TrueP: 0.2, Label: true, IMDDecile: 2},
		{AsOf: "2025-09-01", Score: 0.5, Need: 2, TrueP: 0.2, Label: true, IMDDecile: 7},
		{AsOf: "2025-09-01", Score: 0.0, Need: 0, TrueP: 0.2, Label: false, IMDDecile: 9},
	}
	o := ComputeOracle("m", rows, map[string]int{"2025-09-01": 1})
	need, mod, tp := o.Mean[RankerNeed], o.Mean[RankerModel], o.Mean[RankerTrueP]
	if need.AUC != 1 || need.PrecisionAtK != 1 || need.AUCDeprived != 1 {
		t.Errorf("need %+v", need)
	}
	if mod.AUC != 0.5 || mod.PrecisionAtK != 0 || mod.AUCDeprived != 0 || mod.TopMeanScore != 0.9 || mod.TopRate != 0 {
		t.Errorf("model %+v", mod)
	}
	if tp.AUC != 0.5 {
		t.Errorf("true probability AUC %v; want 0.5 (all tied)", tp.AUC)
	}
	if r := o.RatioToNeed["auc"]; r == nil || *r != 0.5 {
		t.Errorf("ratio to need %v", r)
	}
	if !math.IsNaN(need.TopMeanScore) {
		t.Errorf("need has a mean score: %v", need.TopMeanScore)
	}
	if _, err := json.Marshal(o); err != nil {
		t.Errorf("oracle.json: %v", err)
	}
}
