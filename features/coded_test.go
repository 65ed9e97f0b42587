package features

import (
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/pipeline/contract"
)

// TestGetterCoded: a coded column reads as its values, from its list or
// from text; a place past the list, an int8 column without a list and a
// column of another type are errors, never a panic.
func TestGetterCoded(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	list := arrow.NewMetadata([]string{contract.CodesKey}, []string{contract.FormatCodes([]string{"AM", "PM"})})
	int8s := func(vs []int8, valid []bool) arrow.Array {
		b := array.NewInt8Builder(mem)
		defer b.Release()
		b.AppendValues(vs, valid)
		return b.NewArray()
	}
	texts := func(vs ...string) arrow.Array {
		b := array.NewStringBuilder(mem)
		defer b.Release()
		b.AppendValues(vs, nil)
		return b.NewArray()
	}
	int16s := func(v int16) arrow.Array {
		b := array.NewInt16Builder(mem)
		defer b.Release()
		b.Append(v)
		return b.NewArray()
	}
	tests := []struct {
		name    string
		field   arrow.Field
		col     arrow.Array
		want    string // values joined by commas
		err     string
		byPlace bool
	}{
		{"coded", arrow.Field{Name: "s", Type: arrow.PrimitiveTypes.Int8, Metadata: list}, int8s([]int8{1, 0, 1}, nil), "PM,AM,PM", "", true},
		{"coded with a null", arrow.Field{Name: "s", Type: arrow.PrimitiveTypes.Int8, Metadata: list}, int8s([]int8{1, 7}, []bool{true, false}), "PM,", "", false},
		{"text", arrow.Field{Name: "s", Type: arrow.BinaryTypes.String}, texts("AM", "PM"), "AM,PM", "", false},
		{"past the list", arrow.Field{Name: "s", Type: arrow.PrimitiveTypes.Int8, Metadata: list}, int8s([]int8{0, 2}, nil), "", "row 1 holds place 2", false},
		{"no list", arrow.Field{Name: "s", Type: arrow.PrimitiveTypes.Int8}, int8s([]int8{0}, nil), "", "is int8", false},
		{"another type", arrow.Field{Name: "s", Type: arrow.PrimitiveTypes.Int16}, int16s(3), "", "is int16", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer tc.col.Release()
			rec := array.NewRecord(arrow.NewSchema([]arrow.Field{tc.field}, nil), []arrow.Array{tc.col}, int64(tc.col.Len()))
			defer rec.Release()
			var g Getter
			c := g.Coded(rec, "s")
			if tc.err != "" {
				if g.Err == nil || !strings.Contains(g.Err.Error(), tc.err) {
					t.Fatalf("error %v; want one saying %q", g.Err, tc.err)
				}
				return
			}
			if g.Err != nil {
				t.Fatal(g.Err)
			}
			var got []string
			for i := range tc.col.Len() {
				got = append(got, c.Value(i))
			}
			if strings.Join(got, ",") != tc.want {
				t.Errorf("values %q; want %s", got, tc.want)
			}
			if _, _, ok := c.Places(); ok != tc.byPlace {
				t.Errorf("Places ok %t; want %t", ok, tc.byPlace)
			}
		})
	}
}

// TestGetterCodedLists: a Getter given Lists parses a list once and reads
// the next record of the same file from what it kept.
func TestGetterCodedLists(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	meta := contract.FormatCodes([]string{"AM", "PM"})
	b := array.NewInt8Builder(mem)
	defer b.Release()
	b.AppendValues([]int8{1, 0}, nil)
	col := b.NewArray()
	defer col.Release()
	schema := arrow.NewSchema([]arrow.Field{{Name: "s", Type: arrow.PrimitiveTypes.Int8,
		Metadata: arrow.NewMetadata([]string{contract.CodesKey}, []string{meta})}}, nil)
	rec := array.NewRecord(schema, []arrow.Array{col}, 2)
	defer rec.Release()
	lists := map[string][]string{}
	g := Getter{Lists: lists}
	if c := g.Coded(rec, "s"); g.Err != nil || c.Value(0) != "PM" {
		t.Fatalf("first read: %q, %v", c.Value(0), g.Err)
	}
	if len(lists) != 1 {
		t.Fatalf("%d lists kept; want 1", len(lists))
	}
	lists[meta] = []string{"kept", "list"} // what the next read must use
	if c := g.Coded(rec, "s"); g.Err != nil || c.Value(0) != "list" {
		t.Fatalf("second read: %q, %v; want the kept list's", c.Value(0), g.Err)
	}
}
