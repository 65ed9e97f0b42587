package attendance

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/features"
	ft "earlyhelp/features/featurestest"
	"earlyhelp/pipeline/contract"
)

// asText is rec with its coded columns written out as text, as a store
// written before codes were kept as places in a list holds them.
func asText(t *testing.T, mem memory.Allocator, rec arrow.Record) arrow.Record {
	t.Helper()
	fields := slices.Clone(rec.Schema().Fields())
	cols := slices.Clone(rec.Columns())
	var made []arrow.Array
	for i, f := range fields {
		if f.Metadata.FindKey(contract.CodesKey) < 0 {
			continue
		}
		var g features.Getter
		c := g.Coded(rec, f.Name)
		if g.Err != nil {
			t.Fatal(g.Err)
		}
		b := array.NewStringBuilder(mem)
		for r := range int(rec.NumRows()) {
			b.Append(c.Value(r))
		}
		cols[i] = b.NewArray()
		made = append(made, cols[i])
		b.Release()
		fields[i] = arrow.Field{Name: f.Name, Type: arrow.BinaryTypes.String}
	}
	out := array.NewRecord(arrow.NewSchema(fields, nil), cols, rec.NumRows())
	for _, a := range made {
		a.Release()
	}
	return out
}

// TestTextAndCodedSameIndex: a store written before the attendance codes
// were kept as places in a list (text) and one written since give the
// same index, mark for mark, and so do stores holding both.
func TestTextAndCodedSameIndex(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	_, delivered := weeklyDeliveries(mem)
	coded := delivered[len(delivered)-1]
	defer func() {
		for _, r := range coded {
			r.Release()
		}
	}()
	text := make([]arrow.Record, len(coded))
	mixed := make([]arrow.Record, len(coded))
	for i, r := range coded {
		text[i] = asText(t, mem, r)
		mixed[i] = r
		if i%2 == 1 {
			mixed[i] = text[i]
		}
	}
	defer func() {
		for _, r := range text {
			r.Release()
		}
	}()
	if f := coded[0].Schema().Field(coded[0].Schema().FieldIndices(contract.ColCategory)[0]); f.Type.ID() != arrow.INT8 {
		t.Fatalf("test records' category is %s; want the store's coded int8", f.Type)
	}
	ctx := context.Background()
	since := features.Day(math.MinInt32)
	want, err := LoadSince(ctx, mem, &ft.SinceTables{Tables: ft.Tables{Source: coded}}, since)
	if err != nil {
		t.Fatal(err)
	}
	if len(want.pupils) == 0 {
		t.Fatal("no pupil read")
	}
	for name, recs := range map[string][]arrow.Record{"text": text, "text and coded": mixed} {
		got, err := LoadSince(ctx, mem, &ft.SinceTables{Tables: ft.Tables{Source: recs}}, since)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		sameIndex(t, name, got, want)
	}
}
