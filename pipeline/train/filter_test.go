package train

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// testFields are a feature table's kinds of column: a household, a date
// with nulls, and float64s without and with them.
func testFields() []arrow.Field {
	return []arrow.Field{
		{Name: "h", Type: arrow.BinaryTypes.String},
		{Name: "d", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{Name: "x", Type: arrow.PrimitiveTypes.Float64},
		{Name: "y", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	}
}

// TestFilterRecord keeps the marked rows of every column type a feature
// table has, with and without nulls (which take different paths).
func TestFilterRecord(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema(append(testFields(), arrow.Field{Name: "e", Type: arrow.FixedWidthTypes.Date32}), nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	b.Field(0).(*array.StringBuilder).AppendValues([]string{"a", "b", "c", "d", "e"}, nil)
	b.Field(1).(*array.Date32Builder).AppendValues([]arrow.Date32{1, 2, 3, 4, 5}, []bool{true, false, true, true, false})
	b.Field(2).(*array.Float64Builder).AppendValues([]float64{0.5, 1.5, 2.5, 3.5, 4.5}, nil)
	b.Field(3).(*array.Float64Builder).AppendValues([]float64{10, 11, 12, 13, 14}, []bool{false, true, true, false, true})
	b.Field(4).(*array.Date32Builder).AppendValues([]arrow.Date32{7, 8, 9, 10, 11}, nil)
	rec := b.NewRecord()
	defer rec.Release()

	// A count that is not the marks' is an error, not a short or overrun
	// column.
	for _, n := range []int{2, 4} {
		if _, err := filterRecord(mem, rec, []bool{true, false, true, false, true}, n); err == nil {
			t.Errorf("%d rows kept of three marked: no error", n)
		}
	}
	got, err := filterRecord(mem, rec, []bool{true, false, true, false, true}, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Release()
	if got.NumRows() != 3 {
		t.Fatalf("got %d rows; want 3", got.NumRows())
	}
	if h := got.Column(0).(*array.String); h.Value(0) != "a" || h.Value(1) != "c" || h.Value(2) != "e" {
		t.Errorf("households %v; want a c e", h)
	}
	if x := got.Column(2).(*array.Float64).Float64Values(); !slices.Equal(x, []float64{0.5, 2.5, 4.5}) {
		t.Errorf("x %v; want [0.5 2.5 4.5]", x)
	}
	d := got.Column(1).(*array.Date32)
	if d.IsNull(0) || d.Value(0) != 1 || d.IsNull(1) || d.Value(1) != 3 || !d.IsNull(2) {
		t.Errorf("dates %v; want [1 3 (null)]", d)
	}
	if e := got.Column(4).(*array.Date32).Date32Values(); !slices.Equal(e, []arrow.Date32{7, 9, 11}) {
		t.Errorf("e %v; want [7 9 11]", e)
	}
	y := got.Column(3).(*array.Float64)
	if !y.IsNull(0) || y.IsNull(1) || y.Value(1) != 12 || y.IsNull(2) || y.Value(2) != 14 {
		t.Errorf("y %v; want [(null) 12 14]", y)
	}
}

// BenchmarkFilterRecord keeps three in four rows, at random, of a feature
// table's shape: a household column and forty float64 features.
func BenchmarkFilterRecord(b *testing.B) {
	const rows, feats = 200000, 40
	mem := memory.NewGoAllocator()
	fields := []arrow.Field{{Name: "h", Type: arrow.BinaryTypes.String}}
	for j := range feats {
		fields = append(fields, arrow.Field{Name: fmt.Sprint("f", j), Type: arrow.PrimitiveTypes.Float64})
	}
	rb := array.NewRecordBuilder(mem, arrow.NewSchema(fields, nil))
	defer rb.Release()
	rng := rand.New(rand.NewPCG(1, 2))
	keep, n := make([]bool, rows), 0
	for i := range rows {
		rb.Field(0).(*array.StringBuilder).Append(fmt.Sprint("h", i))
		for j := range feats {
			rb.Field(1 + j).(*array.Float64Builder).Append(rng.Float64())
		}
		if keep[i] = rng.IntN(4) > 0; keep[i] {
			n++
		}
	}
	rec := rb.NewRecord()
	defer rec.Release()
	b.ResetTimer()
	for range b.N {
		got, err := filterRecord(mem, rec, keep, n)
		if err != nil {
			b.Fatal(err)
		}
		got.Release()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(rows*feats), "ns/value")
}

// TestKeepStrings: keepStrings gives what the builder gives, value for
// value, on a column that is a slice of a larger one (its offsets start
// past zero) and with empty strings among the values.
func TestKeepStrings(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rng := rand.New(rand.NewPCG(3, 4))
	b := array.NewStringBuilder(mem)
	for i := range 500 {
		b.Append(fmt.Sprintf("%.*s", rng.IntN(5), fmt.Sprint("h", i, "xyz")))
	}
	whole := b.NewStringArray()
	b.Release()
	defer whole.Release()
	for _, tc := range []struct{ from, to int }{{0, 500}, {37, 400}, {499, 500}, {10, 10}} {
		sl := array.NewSlice(whole, int64(tc.from), int64(tc.to)).(*array.String)
		keep, n := make([]bool, sl.Len()), 0
		for i := range keep {
			if keep[i] = rng.IntN(3) > 0; keep[i] {
				n++
			}
		}
		got := keepStrings(mem, []*array.String{sl}, keptRows([][]bool{keep}, n), n).(*array.String)
		want := keepRows(array.NewStringBuilder(mem), []arrow.Array{sl}, keptRows([][]bool{keep}, n), n, func(_, i int) string { return sl.Value(i) }).(*array.String)
		if !array.Equal(got, want) {
			t.Errorf("rows %d–%d: got %v; want %v", tc.from, tc.to, got, want)
		}
		got.Release()
		want.Release()
		sl.Release()
	}
}

// TestGather: gathering the marked rows of several tables gives each
// table filtered and the results concatenated, column for column, with a
// sliced string column, nulls in one table's column and not the other's,
// and a table with no row kept.
func TestGather(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema(testFields(), nil)
	rng := rand.New(rand.NewPCG(9, 10))
	table := func(rows int, nulls bool) arrow.Record {
		b := array.NewRecordBuilder(mem, schema)
		defer b.Release()
		for i := range rows + 3 {
			b.Field(0).(*array.StringBuilder).Append(fmt.Sprint("h", rng.IntN(1000), "-", i))
			if nulls && i%3 == 0 {
				b.Field(1).AppendNull()
				b.Field(3).AppendNull()
			} else {
				b.Field(1).(*array.Date32Builder).Append(arrow.Date32(i))
				b.Field(3).(*array.Float64Builder).Append(rng.Float64())
			}
			b.Field(2).(*array.Float64Builder).Append(rng.NormFloat64())
		}
		whole := b.NewRecord()
		defer whole.Release()
		return whole.NewSlice(3, int64(rows+3)) // offsets past zero
	}
	recs := []arrow.Record{table(50, false), table(30, true), table(20, false)}
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	keeps, n := make([][]bool, len(recs)), 0
	for k, r := range recs {
		keeps[k] = make([]bool, r.NumRows())
		for i := range keeps[k] {
			if keeps[k][i] = k != 2 && rng.IntN(2) == 0; keeps[k][i] {
				n++
			}
		}
	}
	got, err := gather(mem, recs, keeps, n)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Release()
	parts := make([]arrow.Record, len(recs))
	for k, r := range recs {
		kept := 0
		for _, b := range keeps[k] {
			if b {
				kept++
			}
		}
		if parts[k], err = filterRecord(mem, r, keeps[k], kept); err != nil {
			t.Fatal(err)
		}
		defer parts[k].Release()
	}
	for j := range schema.NumFields() {
		cs := make([]arrow.Array, len(parts))
		for k, p := range parts {
			cs[k] = p.Column(j)
		}
		want, err := array.Concatenate(cs, mem)
		if err != nil {
			t.Fatal(err)
		}
		if !array.Equal(got.Column(j), want) {
			t.Errorf("column %s: got %v; want %v", schema.Field(j).Name, got.Column(j), want)
		}
		want.Release()
	}
	if _, err := gather(mem, recs, keeps, n+1); err == nil {
		t.Error("a count that is not the marks': no error")
	}
}

// TestKeptRows lists each record's marked rows in order, whatever the
// marks: none, all, a record of no rows, or the last row alone.
func TestKeptRows(t *testing.T) {
	for _, c := range []struct {
		name  string
		keeps [][]bool
		want  [][]int32
	}{
		{"none", [][]bool{{false, false}}, [][]int32{{}}},
		{"all", [][]bool{{true, true, true}}, [][]int32{{0, 1, 2}}},
		{"no rows", [][]bool{{}, {true}}, [][]int32{{}, {0}}},
		{"mixed", [][]bool{{false, true, false, true}, {true, false}, {false, false, true}}, [][]int32{{1, 3}, {0}, {2}}},
	} {
		n := 0
		for _, keep := range c.keeps {
			for _, k := range keep {
				if k {
					n++
				}
			}
		}
		got := keptRows(c.keeps, n)
		if len(got) != len(c.want) {
			t.Fatalf("%s: %d lists; want %d", c.name, len(got), len(c.want))
		}
		for k := range got {
			if !slices.Equal(got[k], c.want[k]) {
				t.Errorf("%s: record %d keeps %v; want %v", c.name, k, got[k], c.want[k])
			}
		}
	}
}

// BenchmarkGather gathers a fold's training set as a 300,000-child
// backtest does: a tenth of the rows of 21 dates of 150,000 households,
// 35 float64 feature columns and the household's id.
func BenchmarkGather(b *testing.B) {
	mem := memory.NewGoAllocator()
	fields := []arrow.Field{{Name: "h", Type: arrow.BinaryTypes.String}}
	for j := range 35 {
		fields = append(fields, arrow.Field{Name: fmt.Sprint("f", j), Type: arrow.PrimitiveTypes.Float64})
	}
	schema := arrow.NewSchema(fields, nil)
	rng := rand.New(rand.NewPCG(3, 4))
	const dates, rows = 21, 150000
	recs, keeps, n := make([]arrow.Record, dates), make([][]bool, dates), 0
	for k := range recs {
		bld := array.NewRecordBuilder(mem, schema)
		keeps[k] = make([]bool, rows)
		for i := range rows {
			bld.Field(0).(*array.StringBuilder).Append(fmt.Sprintf("hh%012d", i))
			for j := 1; j < len(fields); j++ {
				bld.Field(j).(*array.Float64Builder).Append(rng.NormFloat64())
			}
			if keeps[k][i] = rng.IntN(10) == 0; keeps[k][i] {
				n++
			}
		}
		recs[k] = bld.NewRecord()
		bld.Release()
	}
	b.ResetTimer()
	for range b.N {
		rec, err := gather(mem, recs, keeps, n)
		if err != nil {
			b.Fatal(err)
		}
		rec.Release()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(dates*rows), "ns/row")
}
