package pipeline

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"
)

// governanceRun is a run past its audit, with a model to put on the card.
func governanceRun(t *testing.T) (*State, *Metrics) {
	t.Helper()
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)
	r := &State{
		ID: "20261207T060000Z", AsOf: time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC),
		Metrics: m, Now: func() time.Time { return clock },
		Log: zerolog.Nop(), Dir: t.TempDir(),
		Man: &Manifest{RunID: "20261207T060000Z", AsOf: "2026-12-07",
			Model: &ModelManifest{ID: "logistic-1", Kind: "logistic", ReusedFrom: "20261102T060000Z"}},
	}
	return r, m
}

func readCard(t *testing.T, dir string) (ModelCard, string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "model", "model_card.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c ModelCard
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, "model", "model_card.md"))
	if err != nil {
		t.Fatal(err)
	}
	return c, string(md)
}

// The governance stage puts the check's answer on the card and in the
// gauges: a criterion without a target has no series.
func TestGovernanceStageCardAndMetrics(t *testing.T) {
	tests := []struct {
		name     string
		answer   *ShouldRun
		heading  string
		series   int
		met      map[string]float64
		due      float64
		contains []string
	}{
		{
			name: "switch off",
			answer: &ShouldRun{Verdict: VerdictSwitchOff, Owner: "DCS", Contact: "gov@demo", ReviewDate: "2026-09-01", ReviewDue: true,
				Criteria: []GovernanceCriterion{
					{Name: "precision_below_floor", Checked: true, Met: true, Value: "24 weeks below the floor", Threshold: "below 0.650 for 8 weeks", Evidence: "precision@K | was below"},
					{Name: "review_date_passed", Checked: true, Met: true, Value: "2026-12-07", Threshold: "after 2026-09-01", Evidence: "passed"},
					{Name: "recall_below_floor", Threshold: "not set", Evidence: "no recall@K floor was set"},
				}},
			heading: "# Verdict: switch off", series: 2,
			met: map[string]float64{"precision_below_floor": 1, "review_date_passed": 1}, due: 1,
			contains: []string{"Owner: DCS (gov@demo). Review date: 2026-09-01 (due).", "| precision_below_floor | yes | yes | 24 weeks below the floor | below 0.650 for 8 weeks | precision@K \\| was below |"},
		},
		{
			name: "continue",
			answer: &ShouldRun{Verdict: VerdictContinue, ReviewDate: "2027-09-01",
				Criteria: []GovernanceCriterion{{Name: "precision_below_floor", Checked: true, Value: "0 weeks below the floor"}}},
			heading: "# Verdict: continue", series: 1,
			met: map[string]float64{"precision_below_floor": 0}, due: 0,
			contains: []string{"No switch-off criterion the council set in advance is met.", "Owner: not named. Review date: 2027-09-01 (not yet due)."},
		},
		{
			name:    "no targets",
			answer:  &ShouldRun{Verdict: VerdictNoTargets, ReviewDue: true, Criteria: []GovernanceCriterion{{Name: "precision_below_floor"}}},
			heading: "# No targets were set", series: 0, due: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got GovernanceInput
			r, m := governanceRun(t)
			stage := Governance(func(_ context.Context, in GovernanceInput) (*ShouldRun, error) {
				got = in
				return tc.answer, nil
			})
			if err := stage.Run(context.Background(), r); err != nil {
				t.Fatal(err)
			}
			if got.ReusedFrom != "20261102T060000Z" || got.RunDir != r.Dir || !got.Today.Equal(r.Now()) {
				t.Errorf("check got %+v; want the run's folder, its clock and the reused model's run", got)
			}
			if n := testutil.CollectAndCount(m.GovernanceCriterionMet); n != tc.series {
				t.Errorf("%d criterion series; want %d", n, tc.series)
			}
			for name, v := range tc.met {
				if g := testutil.ToFloat64(m.GovernanceCriterionMet.WithLabelValues(name)); g != v {
					t.Errorf("criterion_met{%s} = %g; want %g", name, g, v)
				}
			}
			if g := testutil.ToFloat64(m.GovernanceReviewDue); g != tc.due {
				t.Errorf("review_due = %g; want %g", g, tc.due)
			}
			card, md := readCard(t, r.Dir)
			if card.ShouldRun == nil || card.ShouldRun.Verdict != tc.answer.Verdict {
				t.Errorf("model_card.json should_this_still_run = %+v; want verdict %q", card.ShouldRun, tc.answer.Verdict)
			}
			section := md[strings.Index(md, "## Should this still run?"):]
			if !strings.Contains(section, "\n"+tc.heading+"\n") {
				t.Errorf("model card's section has no heading %q:\n%s", tc.heading, section)
			}
			for _, s := range tc.contains {
				if !strings.Contains(section, s) {
					t.Errorf("model card's section lacks %q:\n%s", s, section)
				}
			}
		})
	}
}

// Without the check wired the card still says, in a heading, that no
// targets were set.
func TestModelCardWithoutGovernance(t *testing.T) {
	r, _ := governanceRun(t)
	if err := r.WriteModelCard(); err != nil {
		t.Fatal(err)
	}
	card, md := readCard(t, r.Dir)
	if card.ShouldRun == nil || card.ShouldRun.Verdict != VerdictNoTargets {
		t.Errorf("should_this_still_run = %+v; want %q", card.ShouldRun, VerdictNoTargets)
	}
	if !strings.Contains(md, "## Should this still run?\n\n# No targets were set\n") {
		t.Errorf("model card lacks the no-targets heading:\n%s", md)
	}
}

// The audit stage reads the run folder; the snapshots and the backtest's
// scored folds the run held are let go before it starts, so its
// collections do not trace them.
func TestAuditLetsGoOfTheRunsMemory(t *testing.T) {
	r, _ := governanceRun(t)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	b := array.NewStringBuilder(mem)
	b.AppendValues([]string{"h1", "h2"}, nil)
	col := b.NewArray()
	b.Release()
	schema := arrow.NewSchema([]arrow.Field{{Name: ColHousehold, Type: arrow.BinaryTypes.String}}, nil)
	table := &FeatureTable{AsOf: r.AsOf, Record: array.NewRecord(schema, []arrow.Array{col}, 2)}
	col.Release()
	r.snapshots = map[string]*Snapshot{"2026-12-07": {Table: table}}
	r.Folds = []*FoldScores{{AsOf: r.AsOf, Table: table}}
	audited := false
	stage := Audit(func(ctx context.Context, runDir string) (string, error) {
		audited = true
		if r.Folds != nil || len(r.snapshots) != 0 {
			t.Errorf("the audit started with %d folds and %d snapshots held", len(r.Folds), len(r.snapshots))
		}
		mem.AssertSize(t, 0)
		return "no findings", nil
	})
	if err := stage.Run(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if !audited {
		t.Fatal("the audit did not run")
	}
}
