package export

import (
	"earlyhelp/pipeline/atomicfile"
	"earlyhelp/pipeline/contract"
	"strings"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// listSchema is navigator_list.parquet: the CSV's columns, typed, for BI
// tools. Lists within a cell stay ";"-joined as in the CSV.
var listSchema = arrow.NewSchema([]arrow.Field{
	{Name: "rank", Type: arrow.PrimitiveTypes.Int32},
	{Name: "household_ref", Type: arrow.BinaryTypes.String},
	{Name: contract.ColLocality, Type: arrow.BinaryTypes.String},
	{Name: "band", Type: arrow.BinaryTypes.String},
	{Name: "score", Type: arrow.PrimitiveTypes.Float64},
	{Name: "status", Type: arrow.BinaryTypes.String},
	{Name: "weeks_on_list", Type: arrow.PrimitiveTypes.Int32},
	{Name: "children", Type: arrow.PrimitiveTypes.Int32},
	{Name: "child_refs", Type: arrow.BinaryTypes.String},
	{Name: "reasons", Type: arrow.BinaryTypes.String},
	{Name: "reason_codes", Type: arrow.BinaryTypes.String},
	{Name: "last_decision", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "last_decision_date", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
	{Name: "contact_safety", Type: arrow.BinaryTypes.String},
	{Name: "likelihood", Type: arrow.BinaryTypes.String},
	{Name: "context", Type: arrow.BinaryTypes.String},
}, nil)

func writeParquet(path string, rows []row) error {
	b := array.NewRecordBuilder(memory.DefaultAllocator, listSchema)
	defer b.Release()
	for _, r := range rows {
		b.Field(0).(*array.Int32Builder).Append(int32(r.Rank))
		b.Field(1).(*array.StringBuilder).Append(r.Household)
		b.Field(2).(*array.StringBuilder).Append(r.Locality)
		b.Field(3).(*array.StringBuilder).Append(r.Band)
		b.Field(4).(*array.Float64Builder).Append(r.score)
		b.Field(5).(*array.StringBuilder).Append(r.Status)
		b.Field(6).(*array.Int32Builder).Append(int32(r.WeeksOnList))
		b.Field(7).(*array.Int32Builder).Append(int32(r.Children))
		b.Field(8).(*array.StringBuilder).Append(strings.Join(r.ChildRefs, ";"))
		b.Field(9).(*array.StringBuilder).Append(strings.Join(r.Reasons, ";"))
		b.Field(10).(*array.StringBuilder).Append(strings.Join(r.ReasonCodes, ";"))
		if r.Decision == "" {
			b.Field(11).AppendNull()
			b.Field(12).AppendNull()
		} else {
			b.Field(11).(*array.StringBuilder).Append(r.Decision)
			b.Field(12).(*array.Date32Builder).Append(arrow.Date32FromTime(r.decisionAt))
		}
		b.Field(13).(*array.StringBuilder).Append(strings.Join(r.ContactSafety, "; "))
		b.Field(14).(*array.StringBuilder).Append(r.Likelihood)
		b.Field(15).(*array.StringBuilder).Append(strings.Join(r.Context, "; "))
	}
	rec := b.NewRecord()
	defer rec.Release()
	return atomicfile.WriteParquet(path, rec)
}
