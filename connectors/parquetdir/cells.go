package parquetdir

import (
	"fmt"
	"strconv"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
)

// A cellFunc writes a non-null value of a column as the text a CSV extract
// would hold, the row loop's input.
type cellFunc func(a arrow.Array, i int) string

// converter returns the cell text of a column type: dates yyyy-mm-dd,
// timestamps RFC 3339 in UTC (a timestamp without a time zone as naive
// wall-clock text, which the loop reads as Europe/London, as in a CSV),
// integers in decimal, booleans true/false, floats in the shortest decimal
// that reads back exactly.
func converter(t arrow.DataType) (cellFunc, error) {
	switch t := t.(type) {
	case *arrow.StringType:
		return func(a arrow.Array, i int) string { return a.(*array.String).Value(i) }, nil
	case *arrow.LargeStringType:
		return func(a arrow.Array, i int) string { return a.(*array.LargeString).Value(i) }, nil
	case *arrow.BinaryType:
		return func(a arrow.Array, i int) string { return string(a.(*array.Binary).Value(i)) }, nil
	case *arrow.Date32Type:
		return func(a arrow.Array, i int) string { return a.(*array.Date32).Value(i).FormattedString() }, nil
	case *arrow.Date64Type:
		return func(a arrow.Array, i int) string { return a.(*array.Date64).Value(i).FormattedString() }, nil
	case *arrow.TimestampType:
		layout := time.RFC3339
		if t.TimeZone == "" {
			layout = "2006-01-02T15:04:05"
		}
		unit := t.Unit
		return func(a arrow.Array, i int) string {
			return a.(*array.Timestamp).Value(i).ToTime(unit).UTC().Format(layout)
		}, nil
	case *arrow.BooleanType:
		return func(a arrow.Array, i int) string { return strconv.FormatBool(a.(*array.Boolean).Value(i)) }, nil
	case *arrow.Int8Type:
		return func(a arrow.Array, i int) string { return strconv.FormatInt(int64(a.(*array.Int8).Value(i)), 10) }, nil
	case *arrow.Int16Type:
		return func(a arrow.Array, i int) string { return strconv.FormatInt(int64(a.(*array.Int16).Value(i)), 10) }, nil
	case *arrow.Int32Type:
		return func(a arrow.Array, i int) string { return strconv.FormatInt(int64(a.(*array.Int32).Value(i)), 10) }, nil
	case *arrow.Int64Type:
		return func(a arrow.Array, i int) string { return strconv.FormatInt(a.(*array.Int64).Value(i), 10) }, nil
	case *arrow.Uint8Type:
		return func(a arrow.Array, i int) string { return strconv.FormatUint(uint64(a.(*array.Uint8).Value(i)), 10) }, nil
	case *arrow.Uint16Type:
		return func(a arrow.Array, i int) string { return strconv.FormatUint(uint64(a.(*array.Uint16).Value(i)), 10) }, nil
	case *arrow.Uint32Type:
		return func(a arrow.Array, i int) string { return strconv.FormatUint(uint64(a.(*array.Uint32).Value(i)), 10) }, nil
	case *arrow.Uint64Type:
		return func(a arrow.Array, i int) string { return strconv.FormatUint(a.(*array.Uint64).Value(i), 10) }, nil
	case *arrow.Float32Type:
		return func(a arrow.Array, i int) string {
			return strconv.FormatFloat(float64(a.(*array.Float32).Value(i)), 'f', -1, 32)
		}, nil
	case *arrow.Float64Type:
		return func(a arrow.Array, i int) string {
			return strconv.FormatFloat(a.(*array.Float64).Value(i), 'f', -1, 64)
		}, nil
	case *arrow.Decimal128Type, *arrow.Decimal256Type:
		return func(a arrow.Array, i int) string { return a.ValueStr(i) }, nil
	case *arrow.DictionaryType:
		inner, err := converter(t.ValueType)
		if err != nil {
			return nil, err
		}
		return func(a arrow.Array, i int) string {
			d := a.(*array.Dictionary)
			return inner(d.Dictionary(), d.GetValueIndex(i))
		}, nil
	}
	return nil, fmt.Errorf("type %s is not supported", t)
}
