package models

import (
	"errors"
	"fmt"
	"math"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"

	"earlyhelp/pipeline/contract"
)

// ErrMissingColumn is returned (wrapped) when a feature the model needs is not
// a column of the record, so callers can tell a schema mismatch from bad data.
var ErrMissingColumn = errors.New("missing feature column")

// Columns of a feature table that identify the row rather than describe it.
const (
	householdID = contract.ColHouseholdID
	asOf        = "as_of"
)

// FeatureColumns returns the names of the numeric columns of feats in schema
// order, leaving out household_id, as_of and every non-numeric column.
func FeatureColumns(feats arrow.Record) []string {
	var names []string
	for _, f := range feats.Schema().Fields() {
		if f.Name == householdID || f.Name == asOf || !numeric(f.Type) {
			continue
		}
		names = append(names, f.Name)
	}
	return names
}

func numeric(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64,
		arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64,
		arrow.FLOAT32, arrow.FLOAT64:
		return true
	}
	return false
}

// Matrix copies the named columns of feats into a row-major matrix: row i
// holds the values of row i in the order of features. All rows are
// sub-slices of one contiguous []float64, so the matrix costs one allocation
// for the data and one for the row headers.
//
// Float and integer columns are accepted; integers are converted. A null, NaN
// or infinite value is an error naming the column: the model has no sound
// value to put in its place, so imputation belongs upstream in the feature
// builders, where the meaning of "missing" is known.
func Matrix(feats arrow.Record, features []string) ([][]float64, error) {
	rows, cols := int(feats.NumRows()), len(features)
	data := make([]float64, rows*cols)
	x := make([][]float64, rows)
	for i := range x {
		x[i] = data[i*cols : (i+1)*cols : (i+1)*cols]
	}
	for j, name := range features {
		if err := fillColumn(data, cols, j, feats, name); err != nil {
			return nil, err
		}
	}
	return x, nil
}

// Columns is Matrix by column: out[j] holds features[j]'s values, row by
// row. A fit that works a column at a time (the bounded fit's coordinate
// descent, the moments) reads them from here without a row-major copy of
// the table beside them.
func Columns(feats arrow.Record, features []string) ([][]float64, error) {
	rows := int(feats.NumRows())
	out := make([][]float64, len(features))
	for j, name := range features {
		out[j] = make([]float64, rows)
		if err := fillColumn(out[j], 1, 0, feats, name); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// columnViews is Columns for a reader that does not write to them: a
// float64 column without nulls is handed over as it stands in feats
// (once its values are checked as fillColumn checks them), and any other
// is copied. The views live as long as feats.
func columnViews(feats arrow.Record, features []string) ([][]float64, error) {
	out := make([][]float64, len(features))
	for j, name := range features {
		col, err := column(feats, name)
		if err != nil {
			return nil, err
		}
		if c, ok := col.(*array.Float64); ok && c.NullN() == 0 {
			vals := c.Float64Values()
			for i, v := range vals {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return nil, fmt.Errorf("column %q: %w", name, nonFinite(i, v))
				}
			}
			out[j] = vals
			continue
		}
		out[j] = make([]float64, feats.NumRows())
		if err := fillColumn(out[j], 1, 0, feats, name); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// fillColumn writes the feature column name, which must be numeric and
// without nulls, into column j of the row-major data with cols columns.
func fillColumn(data []float64, cols, j int, feats arrow.Record, name string) error {
	col, err := column(feats, name)
	if err != nil {
		return err
	}
	if n := col.NullN(); n > 0 {
		return fmt.Errorf("column %q: %d null values", name, n)
	}
	if err := fill(data, cols, j, col); err != nil {
		return fmt.Errorf("column %q: %w", name, err)
	}
	return nil
}

// column finds exactly one column called name.
func column(feats arrow.Record, name string) (arrow.Array, error) {
	idx := feats.Schema().FieldIndices(name)
	switch len(idx) {
	case 0:
		return nil, fmt.Errorf("%w %q", ErrMissingColumn, name)
	case 1:
		return feats.Column(idx[0]), nil
	default:
		return nil, fmt.Errorf("column %q appears %d times", name, len(idx))
	}
}

// fill writes col into column j of the row-major data with cols columns.
func fill(data []float64, cols, j int, col arrow.Array) error {
	switch c := col.(type) {
	case *array.Float64:
		return fillFloat(data, cols, j, c.Float64Values())
	case *array.Float32:
		return fillFloat(data, cols, j, c.Float32Values())
	case *array.Int64:
		fillInt(data, cols, j, c.Int64Values())
	case *array.Int32:
		fillInt(data, cols, j, c.Int32Values())
	case *array.Int16:
		fillInt(data, cols, j, c.Int16Values())
	case *array.Int8:
		fillInt(data, cols, j, c.Int8Values())
	case *array.Uint64:
		fillInt(data, cols, j, c.Uint64Values())
	case *array.Uint32:
		fillInt(data, cols, j, c.Uint32Values())
	case *array.Uint16:
		fillInt(data, cols, j, c.Uint16Values())
	case *array.Uint8:
		fillInt(data, cols, j, c.Uint8Values())
	default:
		return fmt.Errorf("type %s is not numeric", col.DataType())
	}
	return nil
}

func fillFloat[T float32 | float64](data []float64, cols, j int, vals []T) error {
	for i, v := range vals {
		f := float64(v)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nonFinite(i, f)
		}
		data[i*cols+j] = f
	}
	return nil
}

// nonFinite is the error for row i's value v, which a model cannot use.
func nonFinite(i int, v float64) error { return fmt.Errorf("row %d: non-finite value %v", i, v) }

func fillInt[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64](data []float64, cols, j int, vals []T) {
	for i, v := range vals {
		data[i*cols+j] = float64(v)
	}
}
