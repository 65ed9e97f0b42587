package models_test

import (
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// col is one column of a test record. valid marks non-null rows; nil means
// all valid.
type col struct {
	name  string
	vals  any // []float64, []float32, []int64, []int32, []string or []arrow.Date32
	valid []bool
}

// newRecord builds a record from cols; the caller releases it.
func newRecord(t testing.TB, mem memory.Allocator, cols ...col) arrow.Record {
	t.Helper()
	fields := make([]arrow.Field, len(cols))
	arrs := make([]arrow.Array, len(cols))
	rows := -1
	for i, c := range cols {
		var b array.Builder
		switch v := c.vals.(type) {
		case []float64:
			fb := array.NewFloat64Builder(mem)
			fb.AppendValues(v, c.valid)
			b, rows = fb, len(v)
		case []float32:
			fb := array.NewFloat32Builder(mem)
			fb.AppendValues(v, c.valid)
			b, rows = fb, len(v)
		case []int64:
			ib := array.NewInt64Builder(mem)
			ib.AppendValues(v, c.valid)
			b, rows = ib, len(v)
		case []int32:
			ib := array.NewInt32Builder(mem)
			ib.AppendValues(v, c.valid)
			b, rows = ib, len(v)
		case []string:
			sb := array.NewStringBuilder(mem)
			sb.AppendValues(v, c.valid)
			b, rows = sb, len(v)
		case []arrow.Date32:
			db := array.NewDate32Builder(mem)
			db.AppendValues(v, c.valid)
			b, rows = db, len(v)
		default:
			t.Fatalf("column %q: unsupported %T", c.name, c.vals)
		}
		arrs[i] = b.NewArray()
		b.Release()
		fields[i] = arrow.Field{Name: c.name, Type: arrs[i].DataType(), Nullable: true}
	}
	if rows < 0 {
		rows = 0
	}
	rec := array.NewRecord(arrow.NewSchema(fields, nil), arrs, int64(rows))
	for _, a := range arrs {
		a.Release()
	}
	return rec
}

func checkedAllocator(t *testing.T) *memory.CheckedAllocator {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	return mem
}
