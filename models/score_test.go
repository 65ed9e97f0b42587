package models

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// rowScores is Logistic.Score a row at a time from Matrix, as it was
// before it summed a column at a time: the reference the scores must
// match to the bit.
func rowScores(t *testing.T, m *Logistic, feats arrow.Record) []float64 {
	t.Helper()
	x, err := Matrix(feats, m.features)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float64, len(x))
	z := make([]float64, len(m.features))
	for i, row := range x {
		m.standardise(row, z)
		s := m.intercept
		for j, c := range m.coefs {
			s += c * z[j]
		}
		out[i] = sigmoid(s)
	}
	return out
}

// abn is a record of float64 columns a and b (b's nulls where valid is
// false) and int32 column n.
func abn(mem memory.Allocator, a, b []float64, valid []bool, n []int32) arrow.Record {
	fa, fb, ib := array.NewFloat64Builder(mem), array.NewFloat64Builder(mem), array.NewInt32Builder(mem)
	defer fa.Release()
	defer fb.Release()
	defer ib.Release()
	fa.AppendValues(a, nil)
	fb.AppendValues(b, valid)
	ib.AppendValues(n, nil)
	cols := []arrow.Array{fa.NewArray(), fb.NewArray(), ib.NewArray()}
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	schema := arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.PrimitiveTypes.Float64},
		{Name: "b", Type: arrow.PrimitiveTypes.Float64, Nullable: true}, {Name: "n", Type: arrow.PrimitiveTypes.Int32}}, nil)
	return array.NewRecord(schema, cols, int64(len(a)))
}

// TestScoreByColumn: Score gives Matrix's row-at-a-time scores bit for
// bit, on values far enough out to be capped at ±zLimit, on integer
// columns and on no rows; a non-finite value is still an error naming
// its column and row.
func TestScoreByColumn(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rng := rand.New(rand.NewPCG(5, 6))
	m := &Logistic{features: []string{"a", "b", "n"}, means: []float64{0.3, -2, 4}, sds: []float64{1.7, 0.01, 3},
		coefs: []float64{0.8, -1.3, 0.05}, intercept: -2.2, penalty: PenaltyL2}
	build := func(rows int, bad float64) arrow.Record {
		a, b, n := make([]float64, rows), make([]float64, rows), make([]int32, rows)
		for i := range rows {
			a[i] = rng.NormFloat64() * 3
			b[i] = -2 + rng.NormFloat64()*0.05 // often past ±4 sd
			if i == rows-1 && bad != 0 {
				b[i] = bad
			}
			n[i] = int32(rng.IntN(20))
		}
		return abn(mem, a, b, nil, n)
	}
	for _, rows := range []int{0, 1, 1000} {
		rec := build(rows, 0)
		got, err := m.Score(context.Background(), rec)
		if err != nil {
			t.Fatal(err)
		}
		want := rowScores(t, m, rec)
		capped := 0
		for _, v := range rec.Column(1).(*array.Float64).Float64Values() {
			if math.Abs((v-m.means[1])/m.sds[1]) > zLimit {
				capped++
			}
		}
		rec.Release()
		if rows == 1000 && (capped < 100 || capped > 900) {
			t.Fatalf("%d of %d values of b past the cap: the test would not test it", capped, rows)
		}
		if len(got) != len(want) {
			t.Fatalf("%d rows: %d scores; want %d", rows, len(got), len(want))
		}
		for i := range got {
			if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
				t.Fatalf("%d rows: row %d scores %v; want %v", rows, i, got[i], want[i])
			}
		}
	}
	rec := build(10, math.Inf(1))
	defer rec.Release()
	if _, err := m.Score(context.Background(), rec); err == nil || !strings.Contains(err.Error(), `column "b": row 9: non-finite`) {
		t.Errorf("an infinite value: got error %v; want one naming column b, row 9", err)
	}
}

// TestColumnViews: columnViews gives Columns' values, and Columns' error
// for a null or a non-finite value in the same column and row.
func TestColumnViews(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := func(b []float64, valid []bool) arrow.Record {
		return abn(mem, []float64{1.5, -2, 0}, b, valid, []int32{7, 0, -3})
	}
	names := []string{"n", "a", "b"}
	for _, tc := range []struct {
		name  string
		b     []float64
		valid []bool
		err   string
	}{
		{"finite", []float64{0.25, 3, -1}, nil, ""},
		{"a null", []float64{0.25, 3, -1}, []bool{true, false, true}, `column "b": 1 null values`},
		{"NaN", []float64{0.25, math.NaN(), -1}, nil, `column "b": row 1: non-finite value NaN`},
		{"infinite", []float64{0.25, 3, math.Inf(-1)}, nil, `column "b": row 2: non-finite value -Inf`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rec(tc.b, tc.valid)
			defer r.Release()
			got, gerr := columnViews(r, names)
			want, werr := Columns(r, names)
			if tc.err != "" {
				if gerr == nil || werr == nil || gerr.Error() != tc.err || werr.Error() != tc.err {
					t.Fatalf("errors %v and %v; want both %q", gerr, werr, tc.err)
				}
				return
			}
			if gerr != nil || werr != nil {
				t.Fatal(gerr, werr)
			}
			for j := range names {
				for i := range want[j] {
					if got[j][i] != want[j][i] {
						t.Errorf("%s row %d: %v; want %v", names[j], i, got[j][i], want[j][i])
					}
				}
			}
		})
	}
}
