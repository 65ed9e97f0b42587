package rundir

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// listRows covers a decision with its date, one without, a formula-like
// cell and the three columns added with the safety pack.
var listRows = []ListRow{
	{Rank: 1, Household: "HH-1", Locality: "North", Band: "very high", Score: 0.412, Status: "new", WeeksOnList: 1,
		Children: 2, ChildRefs: []string{"P-1 (age 7)", "P-2 (age 3)"}, Reasons: []string{"late arrivals", "missed review"},
		ReasonCodes: []string{"late_13w", "hv_missed"}, ContactSafety: []string{"Speak to the safeguarding lead first"},
		Likelihood: "about 1 in 4", Context: []string{"area deprivation (IMD decile 3)", "two children"}},
	{Rank: 2, Household: "HH-2", Locality: "South", Band: "high", Score: 0.301, Status: "continuing", WeeksOnList: 3,
		Children: 1, ChildRefs: []string{"P-3 (age 12)"}, Reasons: []string{"=in temporary accommodation"},
		ReasonCodes: []string{"ta_weeks"}, Decision: "offer_made", DecisionAt: time.Date(2025, 12, 20, 0, 0, 0, 0, time.UTC),
		Likelihood: "about 1 in 6"},
}

func TestListParquetRoundTrip(t *testing.T) {
	r := Open(t.TempDir())
	if err := os.MkdirAll(r.ListDir(), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteList(listRows); err != nil {
		t.Fatal(err)
	}
	got, err := r.List()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, listRows) {
		t.Fatalf("got %+v\nwant %+v", got, listRows)
	}
}

// TestListCSVFallback: a run from before the Parquet copy is read from its
// CSV, as the export writes it (neutralised cells, three-decimal scores),
// into the same rows; an older CSV without the added columns still reads.
func TestListCSVFallback(t *testing.T) {
	const header = "rank,household_ref,locality,band,score,status,weeks_on_list,children,child_refs,reasons,reason_codes,last_decision,last_decision_date"
	for _, tc := range []struct {
		name, csv string
		want      []ListRow
		wantErr   string
	}{
		{name: "current columns", want: listRows, csv: header + ",contact_safety,likelihood,context\n" +
			"1,HH-1,North,very high,0.412,new,1,2,P-1 (age 7);P-2 (age 3),late arrivals;missed review,late_13w;hv_missed,,," +
			"Speak to the safeguarding lead first,about 1 in 4,area deprivation (IMD decile 3); two children\n" +
			"2,HH-2,South,high,0.301,continuing,3,1,P-3 (age 12),'=in temporary accommodation,ta_weeks,offer_made,2025-12-20,,about 1 in 6,\n"},
		{name: "before the safety pack", csv: header + "\n1,HH-1,North,raised,0.150,new,1,0,,,,,\n",
			want: []ListRow{{Rank: 1, Household: "HH-1", Locality: "North", Band: "raised", Score: 0.15, Status: "new", WeeksOnList: 1}}},
		{name: "a missing column", csv: "rank,household_ref\n1,HH-1\n", wantErr: `no column "locality"`},
		{name: "a bad rank names the row, not the value", csv: header + "\nHH-9,HH-1,North,raised,0.150,new,1,0,,,,,\n",
			wantErr: "row 2: rank: not a whole number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Open(t.TempDir())
			if err := os.MkdirAll(r.ListDir(), 0o750); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(r.ListCSV(), []byte(tc.csv), 0o640); err != nil {
				t.Fatal(err)
			}
			got, err := r.List()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || strings.Contains(err.Error(), "HH-9") {
					t.Fatalf("got error %v; want one containing %q and no reference", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestManifestRoundTrip: what Marshal writes, Run.Manifest reads back,
// the backtest's summary with it.
func TestManifestRoundTrip(t *testing.T) {
	r := Open(t.TempDir())
	m := Manifest{RunID: r.ID(), AsOf: "2026-01-05", Status: Succeeded,
		Backtest: &BacktestSummary{Chosen: "logistic", Folds: 6, Mean: map[string]EvalMetrics{"logistic": {N: 10, K: 2, AUC: 0.7, BaseRate: 0.1, AveragePrecision: 0.2, PrecisionAtK: 0.5, RecallAtK: 0.25, Brier: 0.09}}},
		List:     &ListManifest{Capacity: 30, Households: 2}, Stages: []StageTiming{{Stage: "ingest", Seconds: 1.5, Status: "ok"}}}
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(b), "}\n") || !strings.Contains(string(b), "\n  \"run_id\"") {
		t.Fatalf("Marshal: want indented JSON ending in one newline, got %q", b)
	}
	if err := os.WriteFile(r.ManifestPath(), b, 0o640); err != nil {
		t.Fatal(err)
	}
	got, err := r.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*got, m) {
		t.Fatalf("got %+v; want %+v", *got, m)
	}
}
