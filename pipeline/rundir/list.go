package rundir

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"earlyhelp/pipeline/atomicfile"
	"earlyhelp/pipeline/contract"
)

// ListRow is one household of the navigator list (CONTRACTS §6),
// re-identified: the council's own ids, never pseudonyms.
type ListRow struct {
	Rank        int
	Household   string // household_ref
	Locality    string
	Band        string
	Score       float64 // the model's calibrated score, unrounded
	Status      string
	WeeksOnList int
	Children    int
	ChildRefs   []string
	Reasons     []string
	ReasonCodes []string
	Decision    string
	DecisionAt  time.Time // zero when there is no decision
	// Added with the safety pack, at the end of the CSV: empty in a list
	// written before them.
	ContactSafety []string
	Likelihood    string
	Context       []string
}

// listSchema is navigator_list.parquet: the CSV's columns, typed, for BI
// tools and the review site. Lists within a cell stay ";"-joined as in the
// CSV.
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

// addedColumn reports whether a list column was added at the list's end
// after its first release: a list from an older run lacks it and is still
// read.
func addedColumn(name string) bool {
	switch name {
	case "contact_safety", "likelihood", "context":
		return true
	}
	return false
}

// WriteList writes list/navigator_list.parquet, atomically.
func (r Run) WriteList(rows []ListRow) error {
	b := array.NewRecordBuilder(memory.DefaultAllocator, listSchema)
	defer b.Release()
	for _, r := range rows {
		b.Field(0).(*array.Int32Builder).Append(int32(r.Rank))
		b.Field(1).(*array.StringBuilder).Append(r.Household)
		b.Field(2).(*array.StringBuilder).Append(r.Locality)
		b.Field(3).(*array.StringBuilder).Append(r.Band)
		b.Field(4).(*array.Float64Builder).Append(r.Score)
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
			b.Field(12).(*array.Date32Builder).Append(arrow.Date32FromTime(r.DecisionAt))
		}
		b.Field(13).(*array.StringBuilder).Append(strings.Join(r.ContactSafety, "; "))
		b.Field(14).(*array.StringBuilder).Append(r.Likelihood)
		b.Field(15).(*array.StringBuilder).Append(strings.Join(r.Context, "; "))
	}
	rec := b.NewRecord()
	defer rec.Release()
	return atomicfile.WriteParquet(r.ListParquet(), rec)
}

// List reads the run's navigator list from its Parquet copy, or, for a run
// written before the list had one, from its CSV.
func (r Run) List() ([]ListRow, error) {
	rows, err := readListParquet(r.ListParquet())
	if errors.Is(err, fs.ErrNotExist) {
		return r.listCSV()
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ListParquetFile, err)
	}
	return rows, nil
}

func readListParquet(path string) ([]ListRow, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	pf, err := file.NewParquetReader(f)
	if err != nil {
		return nil, err
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 1 << 12}, memory.DefaultAllocator)
	if err != nil {
		return nil, err
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		return nil, err
	}
	defer tbl.Release()
	tr := array.NewTableReader(tbl, 1<<12)
	defer tr.Release()
	var out []ListRow
	for tr.Next() {
		rows, err := listRecord(tr.Record())
		if err != nil {
			return nil, err
		}
		out = append(out, rows...)
	}
	return out, tr.Err()
}

// listRecord reads one record of the list's Parquet, checking each
// column's type against listSchema.
func listRecord(rec arrow.Record) ([]ListRow, error) {
	cols := map[string]arrow.Array{}
	for _, f := range listSchema.Fields() {
		idx := rec.Schema().FieldIndices(f.Name)
		if len(idx) == 0 {
			if addedColumn(f.Name) {
				continue
			}
			return nil, fmt.Errorf("no column %q", f.Name)
		}
		c := rec.Column(idx[0])
		if !arrow.TypeEqual(c.DataType(), f.Type) {
			return nil, fmt.Errorf("column %q is %s, want %s", f.Name, c.DataType(), f.Type)
		}
		cols[f.Name] = c
	}
	str := func(name string, i int) string {
		c, ok := cols[name].(*array.String)
		if !ok || c.IsNull(i) {
			return ""
		}
		return c.Value(i)
	}
	i32 := func(name string, i int) int { return int(cols[name].(*array.Int32).Value(i)) }
	out := make([]ListRow, 0, rec.NumRows())
	for i := 0; i < int(rec.NumRows()); i++ {
		lr := ListRow{
			Rank: i32("rank", i), Household: str("household_ref", i), Locality: str(contract.ColLocality, i),
			Band: str("band", i), Score: cols["score"].(*array.Float64).Value(i), Status: str("status", i),
			WeeksOnList: i32("weeks_on_list", i), Children: i32("children", i),
			ChildRefs: splitCell(str("child_refs", i)), Reasons: splitCell(str("reasons", i)),
			ReasonCodes: splitCell(str("reason_codes", i)), Decision: str("last_decision", i),
			ContactSafety: splitCell(str("contact_safety", i)), Likelihood: str("likelihood", i),
			Context: splitCell(str("context", i)),
		}
		if d := cols["last_decision_date"].(*array.Date32); d.IsValid(i) {
			lr.DecisionAt = d.Value(i).ToTime()
		}
		out = append(out, lr)
	}
	return out, nil
}

// splitCell splits a ";"-joined cell, trimming the space after each ";".
func splitCell(s string) []string {
	if s == "" {
		return nil
	}
	parts := strings.Split(s, ";")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}
