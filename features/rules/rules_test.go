package rules_test

import (
	"context"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/features/attendance"
	"earlyhelp/features/health"
	"earlyhelp/features/housing"
	"earlyhelp/features/rules"
)

var cols = []string{attendance.AbsenceRate13w, health.WasNotBrought12m, housing.OpenDuty, housing.WeeksInTA, housing.ArrearsStage}

func record(t *testing.T, mem memory.Allocator, names []string, rows ...[]float64) arrow.Record {
	t.Helper()
	fields := make([]arrow.Field, len(names))
	for i, n := range names {
		fields[i] = arrow.Field{Name: n, Type: arrow.PrimitiveTypes.Float64}
	}
	b := array.NewRecordBuilder(mem, arrow.NewSchema(fields, nil))
	defer b.Release()
	for _, r := range rows {
		for j, v := range r {
			b.Field(j).(*array.Float64Builder).Append(v)
		}
	}
	return b.NewRecord()
}

func TestRules(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	tests := []struct {
		name    string
		row     []float64 // absence 13w, was not brought, open duty, weeks in TA, arrears stage
		score   float64
		reasons []string
	}{
		{"nothing", []float64{0.05, 0, 0, 0, 0}, 0, nil},
		{"attendance exactly 90% is not under 90%", []float64{0.10, 0, 0, 0, 0}, 0, nil},
		{"attendance under 90%", []float64{0.11, 0, 0, 0, 0}, 1, []string{attendance.AbsenceRate13w}},
		{"a missed health visit", []float64{0, 1, 0, 0, 0}, 1, []string{health.WasNotBrought12m}},
		{"open homelessness duty", []float64{0, 0, 1, 0, 0}, 1, []string{housing.OpenDuty}},
		{"temporary accommodation", []float64{0, 0, 0, 3, 0}, 1, []string{housing.OpenDuty}},
		{"arrears at notice seeking possession", []float64{0, 0, 0, 0, 3}, 1, []string{housing.OpenDuty}},
		{"arrears letters only", []float64{0, 0, 0, 0, 2}, 0, nil},
		{"all three", []float64{0.3, 2, 1, 5, 6}, 3, []string{attendance.AbsenceRate13w, health.WasNotBrought12m, housing.OpenDuty}},
	}
	var rows [][]float64
	for _, tc := range tests {
		rows = append(rows, tc.row)
	}
	rec := record(t, mem, cols, rows...)
	defer rec.Release()
	m := rules.New()
	scores, err := m.Score(context.Background(), rec)
	if err != nil {
		t.Fatal(err)
	}
	for i, tc := range tests {
		if scores[i] != tc.score {
			t.Errorf("%s: score %v; want %v", tc.name, scores[i], tc.score)
		}
		var got []string
		for _, r := range m.Explain(rec, i, 3) {
			got = append(got, r.Feature)
		}
		if strings.Join(got, ",") != strings.Join(tc.reasons, ",") {
			t.Errorf("%s: reasons %v; want %v", tc.name, got, tc.reasons)
		}
	}
}

func TestRulesMissingColumn(t *testing.T) {
	mem := memory.NewGoAllocator()
	rec := record(t, mem, cols[:3], []float64{0, 0, 0})
	defer rec.Release()
	_, err := rules.New().Score(context.Background(), rec)
	if err == nil || !strings.Contains(err.Error(), housing.WeeksInTA) {
		t.Fatalf("err = %v; want one naming %s", err, housing.WeeksInTA)
	}
}
