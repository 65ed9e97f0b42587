package features

import (
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// TestOwnedReadsLikeTheColumn: an owned copy gives every value and null of
// the column, also for a record sliced from the middle of a larger one (its
// offsets do not start at zero); a missing column is an error, as with Str.
func TestOwnedReadsLikeTheColumn(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{{Name: "person_id", Type: arrow.BinaryTypes.String, Nullable: true}}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	sb := b.Field(0).(*array.StringBuilder)
	vals := []string{"p1", "", "p333", "x", "p55555", "", "last"}
	for i, v := range vals {
		if i == 5 {
			sb.AppendNull()
			continue
		}
		sb.Append(v)
	}
	whole := b.NewRecord()
	defer whole.Release()
	for _, c := range []struct{ from, to int64 }{{0, 7}, {2, 6}, {5, 7}, {3, 3}} {
		rec := whole.NewSlice(c.from, c.to)
		var g Getter
		col, own := g.Str(rec, "person_id"), g.Owned(rec, "person_id")
		if g.Err != nil {
			t.Fatal(g.Err)
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			if own.IsValid(i) != col.IsValid(i) || own.Value(i) != col.Value(i) {
				t.Errorf("rows %d-%d, row %d: owned %q (valid %t); column %q (valid %t)",
					c.from, c.to, i, own.Value(i), own.IsValid(i), col.Value(i), col.IsValid(i))
			}
		}
		rec.Release()
	}
	var g Getter
	g.Owned(whole, "no_such_column")
	if g.Err == nil {
		t.Error("Owned of a missing column: no error")
	}
}
