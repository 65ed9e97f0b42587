package models_test

import (
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"

	"earlyhelp/models"
)

func TestFeatureColumns(t *testing.T) {
	mem := checkedAllocator(t)
	rec := newRecord(t, mem,
		col{name: "household_id", vals: []string{"h1"}},
		col{name: "as_of", vals: []arrow.Date32{19000}},
		col{name: "attendance", vals: []float64{0.9}},
		col{name: "name", vals: []string{"x"}},
		col{name: "contacts", vals: []int64{3}},
	)
	defer rec.Release()
	if got, want := models.FeatureColumns(rec), []string{"attendance", "contacts"}; !slices.Equal(got, want) {
		t.Errorf("got %v; want %v", got, want)
	}
}

func TestMatrix(t *testing.T) {
	mem := checkedAllocator(t)
	rec := newRecord(t, mem,
		col{name: "household_id", vals: []string{"h1", "h2", "h3"}},
		col{name: "a", vals: []float64{1.5, 2.5, 3.5}},
		col{name: "b", vals: []int64{10, 20, 30}},
		col{name: "c", vals: []int32{-1, -2, -3}},
		col{name: "d", vals: []float32{0.5, 0.25, 0.125}},
	)
	defer rec.Release()

	x, err := models.Matrix(rec, []string{"d", "c", "b", "a"})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]float64{{0.5, -1, 10, 1.5}, {0.25, -2, 20, 2.5}, {0.125, -3, 30, 3.5}}
	if !slices.EqualFunc(x, want, slices.Equal) {
		t.Errorf("got %v; want %v", x, want)
	}
	// Rows are consecutive windows of one backing array (reflect gives a
	// slice's address without the unsafe package, which models keeps out).
	for i := 1; i < len(x); i++ {
		if d := reflect.ValueOf(x[i]).Pointer() - reflect.ValueOf(x[i-1]).Pointer(); d != 4*8 {
			t.Errorf("row %d starts %d bytes after row %d; want 32", i, d, i-1)
		}
	}

	// A slice of the record keeps its offset.
	part := rec.NewSlice(1, 3)
	defer part.Release()
	x, err = models.Matrix(part, []string{"a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	if want := [][]float64{{2.5, 20}, {3.5, 30}}; !slices.EqualFunc(x, want, slices.Equal) {
		t.Errorf("slice: got %v; want %v", x, want)
	}
}

func TestMatrixErrors(t *testing.T) {
	mem := checkedAllocator(t)
	rec := newRecord(t, mem,
		col{name: "household_id", vals: []string{"h1", "h2"}},
		col{name: "ok", vals: []float64{1, 2}},
		col{name: "holes", vals: []float64{1, 2}, valid: []bool{true, false}},
		col{name: "nan", vals: []float64{1, math.NaN()}},
		col{name: "dup", vals: []float64{1, 2}},
		col{name: "dup", vals: []float64{1, 2}},
	)
	defer rec.Release()
	tests := []struct {
		name, column, want string
		missing            bool
	}{
		{"null", "holes", `column "holes": 1 null values`, false},
		{"nan", "nan", `column "nan": row 1: non-finite value NaN`, false},
		{"string", "household_id", `column "household_id": type utf8 is not numeric`, false},
		{"missing", "absent", `missing feature column "absent"`, true},
		{"duplicate", "dup", `column "dup" appears 2 times`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := models.Matrix(rec, []string{"ok", tt.column})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got error %v; want one containing %q", err, tt.want)
			}
			if got := errors.Is(err, models.ErrMissingColumn); got != tt.missing {
				t.Errorf("errors.Is(ErrMissingColumn): got %t; want %t", got, tt.missing)
			}
		})
	}
}
