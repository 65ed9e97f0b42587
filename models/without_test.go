package models

import (
	"context"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/pipeline"
)

// seen records the columns a trainer was given.
type seen struct{ cols []string }

func (s *seen) Fit(_ context.Context, feats arrow.Record, _ []bool) (pipeline.Model, error) {
	for _, f := range feats.Schema().Fields() {
		s.cols = append(s.cols, f.Name)
	}
	return nil, nil
}

func TestWithoutLeavesTheFeatureOut(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.PrimitiveTypes.Float64}, {Name: "area_deprivation", Type: arrow.PrimitiveTypes.Float64}}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	b.Field(0).(*array.Float64Builder).Append(1)
	b.Field(1).(*array.Float64Builder).Append(9)
	rec := b.NewRecord()
	defer rec.Release()
	s := &seen{}
	if _, err := (Without{Trainer: s, Features: []string{"area_deprivation"}}).Fit(context.Background(), rec, []bool{true}); err != nil {
		t.Fatal(err)
	}
	if len(s.cols) != 1 || s.cols[0] != "a" {
		t.Errorf("trained on %v; want [a]", s.cols)
	}
	if _, err := (Without{Trainer: s, Features: []string{"nope"}}).Fit(context.Background(), rec, []bool{true}); err == nil {
		t.Error("leaving out a column that is not there is not an error")
	}
}
