// Package featurestest builds small in-memory stores for the tests of the
// feature builders: records in the stored schemas of the roster and
// attendance sources, held by a Tables that satisfies features.Tables.
package featurestest

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/pipeline"
	"earlyhelp/pipeline/contract"
)

// Tables is an in-memory store: records by source, scanned in order.
type Tables map[string][]arrow.Record

// Scan calls fn for every record of source.
func (t Tables) Scan(ctx context.Context, mem memory.Allocator, source string, fn func(arrow.Record) error) error {
	for _, r := range t[source] {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

// Release frees every record.
func (t Tables) Release() {
	for _, rs := range t {
		for _, r := range rs {
			r.Release()
		}
	}
}

var (
	str  = arrow.BinaryTypes.String
	date = arrow.FixedWidthTypes.Date32
)

// Day parses yyyy-mm-dd into a date32 value; "" is null.
func Day(s string) arrow.Date32 {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic("featurestest: bad date " + s)
	}
	return arrow.Date32FromTime(t)
}

func appendStr(b array.Builder, s string) {
	if s == "" {
		b.AppendNull()
		return
	}
	b.(*array.StringBuilder).Append(s)
}

func appendDate(b array.Builder, s string) {
	if s == "" {
		b.AppendNull()
		return
	}
	b.(*array.Date32Builder).Append(Day(s))
}

// Person is one row of persons; NHS is the NHS number pseudonym, null
// when "".
type Person struct{ ID, UPN, DOB, Ethnicity, NHS string }

// Persons builds a persons record.
func Persons(mem memory.Allocator, rows ...Person) arrow.Record {
	b := array.NewRecordBuilder(mem, arrow.NewSchema([]arrow.Field{
		{Name: contract.ColPersonID, Type: str}, {Name: contract.ColUPN, Type: str, Nullable: true},
		{Name: contract.ColNHSNumber, Type: str, Nullable: true}, {Name: contract.ColDateOfBirth, Type: date},
		{Name: contract.ColSex, Type: str, Nullable: true}, {Name: contract.ColEthnicity, Type: str, Nullable: true},
	}, nil))
	defer b.Release()
	for _, p := range rows {
		appendStr(b.Field(0), p.ID)
		appendStr(b.Field(1), p.UPN)
		appendStr(b.Field(2), p.NHS)
		appendDate(b.Field(3), p.DOB)
		appendStr(b.Field(4), "F")
		appendStr(b.Field(5), p.Ethnicity)
	}
	return b.NewRecord()
}

// Spell is one row of households: a person's membership of a household.
type Spell struct{ Household, Person, Role, LSOA, Locality, From, To string }

// Households builds a households record.
func Households(mem memory.Allocator, rows ...Spell) arrow.Record {
	b := array.NewRecordBuilder(mem, arrow.NewSchema([]arrow.Field{
		{Name: contract.ColHouseholdID, Type: str}, {Name: contract.ColPersonID, Type: str}, {Name: contract.ColRole, Type: str},
		{Name: contract.ColUPRN, Type: str, Nullable: true}, {Name: contract.ColLSOACode, Type: str},
		{Name: contract.ColLocality, Type: str, Nullable: true}, {Name: contract.ColFromDate, Type: date},
		{Name: contract.ColToDate, Type: date, Nullable: true},
	}, nil))
	defer b.Release()
	for _, s := range rows {
		appendStr(b.Field(0), s.Household)
		appendStr(b.Field(1), s.Person)
		appendStr(b.Field(2), s.Role)
		b.Field(3).AppendNull()
		appendStr(b.Field(4), s.LSOA)
		appendStr(b.Field(5), s.Locality)
		appendDate(b.Field(6), s.From)
		appendDate(b.Field(7), s.To)
	}
	return b.NewRecord()
}

// Area is one row of deprivation.
type Area struct {
	LSOA      string
	IMDDecile int8
	Vintage   string // "" is IoD2025
}

// Deprivation builds a deprivation record.
func Deprivation(mem memory.Allocator, rows ...Area) arrow.Record {
	b := array.NewRecordBuilder(mem, arrow.NewSchema([]arrow.Field{
		{Name: contract.ColLSOACode, Type: str}, {Name: contract.ColIMDDecile, Type: arrow.PrimitiveTypes.Int8},
		{Name: contract.ColIDACIDecile, Type: arrow.PrimitiveTypes.Int8, Nullable: true}, {Name: contract.ColVintage, Type: str, Nullable: true},
	}, nil))
	defer b.Release()
	for _, a := range rows {
		appendStr(b.Field(0), a.LSOA)
		b.Field(1).(*array.Int8Builder).Append(a.IMDDecile)
		b.Field(2).AppendNull()
		if a.Vintage == "" {
			a.Vintage = "IoD2025"
		}
		appendStr(b.Field(3), a.Vintage)
	}
	return b.NewRecord()
}

// Referral is one row of csc_referrals.
type Referral struct{ ID, Person, Date, Outcome, Closed string }

// Referrals builds a csc_referrals record.
func Referrals(mem memory.Allocator, rows ...Referral) arrow.Record {
	b := array.NewRecordBuilder(mem, arrow.NewSchema([]arrow.Field{
		{Name: contract.ColReferralID, Type: str}, {Name: contract.ColPersonID, Type: str}, {Name: contract.ColReferralDate, Type: date},
		{Name: contract.ColReferralSource, Type: str, Nullable: true}, {Name: contract.ColOutcome, Type: str, Nullable: true},
		{Name: contract.ColCaseClosedDate, Type: date, Nullable: true},
	}, nil))
	defer b.Release()
	for _, r := range rows {
		appendStr(b.Field(0), r.ID)
		appendStr(b.Field(1), r.Person)
		appendDate(b.Field(2), r.Date)
		appendStr(b.Field(3), "school")
		appendStr(b.Field(4), r.Outcome)
		appendDate(b.Field(5), r.Closed)
	}
	return b.NewRecord()
}

// Mark is one row of attendance_sessions.
type Mark struct {
	Date, Session, Code, Category string
	Updated                       string // RFC 3339, or "" for none
}

// Attendance builds an attendance_sessions record for one pupil as the
// store writes it: session, code and category coded (contract.CodesKey)
// by the contract's lists.
func Attendance(mem memory.Allocator, upn string, marks []Mark) arrow.Record {
	return attendance(mem, upn, marks, true)
}

// AttendanceText builds the record as stores written before codes were
// kept so hold it: session, code and category as text.
func AttendanceText(mem memory.Allocator, upn string, marks []Mark) arrow.Record {
	return attendance(mem, upn, marks, false)
}

func attendance(mem memory.Allocator, upn string, marks []Mark, asCodes bool) arrow.Record {
	field := func(name string, words []string) arrow.Field {
		if !asCodes {
			return arrow.Field{Name: name, Type: str}
		}
		return arrow.Field{Name: name, Type: arrow.PrimitiveTypes.Int8,
			Metadata: arrow.NewMetadata([]string{contract.CodesKey}, []string{contract.FormatCodes(words)})}
	}
	sessions, codes, categories := contract.Sessions(), contract.AttendanceCodes(), contract.Categories()
	b := array.NewRecordBuilder(mem, arrow.NewSchema([]arrow.Field{
		{Name: contract.ColSchoolURN, Type: arrow.PrimitiveTypes.Int32},
		{Name: contract.ColUPN, Type: str},
		{Name: contract.ColSessionDate, Type: date},
		field(contract.ColSession, sessions),
		field(contract.ColAttendanceCode, codes),
		{Name: contract.ColMinutesLate, Type: arrow.PrimitiveTypes.Int16, Nullable: true},
		{Name: contract.ColMarkUpdatedAt, Type: arrow.FixedWidthTypes.Timestamp_s, Nullable: true},
		field(contract.ColCategory, categories),
	}, nil))
	defer b.Release()
	text := func(i int, s string, words []string) {
		if !asCodes {
			appendStr(b.Field(i), s)
			return
		}
		p := slices.Index(words, s)
		if p < 0 {
			panic("featurestest: " + s + " is not a listed value")
		}
		b.Field(i).(*array.Int8Builder).Append(int8(p))
	}
	for _, m := range marks {
		b.Field(0).(*array.Int32Builder).Append(100001)
		appendStr(b.Field(1), upn)
		appendDate(b.Field(2), m.Date)
		text(3, m.Session, sessions)
		text(4, m.Code, codes)
		b.Field(5).AppendNull()
		if m.Updated == "" {
			b.Field(6).AppendNull()
		} else {
			ts, err := time.Parse(time.RFC3339, m.Updated)
			if err != nil {
				panic("featurestest: bad timestamp " + m.Updated)
			}
			b.Field(6).(*array.TimestampBuilder).Append(arrow.Timestamp(ts.Unix()))
		}
		text(7, m.Category, categories)
	}
	return b.NewRecord()
}

// SchoolDays gives present AM and PM marks for the weekdays in [from, to).
func SchoolDays(from, to string) []Mark {
	var out []Mark
	d, _ := time.Parse(time.DateOnly, from)
	end, _ := time.Parse(time.DateOnly, to)
	for ; d.Before(end); d = d.AddDate(0, 0, 1) {
		if d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
			continue
		}
		s := d.Format(time.DateOnly)
		out = append(out, Mark{s, "AM", "/", "present", ""}, Mark{s, "PM", `\`, "present", ""})
	}
	return out
}

// NewMark is a Mark from its fields in order, for compact test tables.
func NewMark(date, session, code, category, updated string) Mark {
	return Mark{Date: date, Session: session, Code: code, Category: category, Updated: updated}
}

// Objection is one row of objections.
type Objection struct{ Person, Received, Withdrawn string }

// Objections builds an objections record.
func Objections(mem memory.Allocator, rows ...Objection) arrow.Record {
	b := array.NewRecordBuilder(mem, arrow.NewSchema([]arrow.Field{
		{Name: contract.ColPersonID, Type: str}, {Name: contract.ColReceivedDate, Type: date},
		{Name: contract.ColWithdrawnDate, Type: date, Nullable: true},
	}, nil))
	defer b.Release()
	for _, o := range rows {
		appendStr(b.Field(0), o.Person)
		appendDate(b.Field(1), o.Received)
		appendDate(b.Field(2), o.Withdrawn)
	}
	return b.NewRecord()
}

// Episode is one row of early_help_episodes.
type Episode struct{ ID, Household, Start, End string }

// Episodes builds an early_help_episodes record.
func Episodes(mem memory.Allocator, rows ...Episode) arrow.Record {
	b := array.NewRecordBuilder(mem, arrow.NewSchema([]arrow.Field{
		{Name: contract.ColEpisodeID, Type: str}, {Name: contract.ColHouseholdID, Type: str},
		{Name: contract.ColStartDate, Type: date}, {Name: contract.ColEndDate, Type: date, Nullable: true},
	}, nil))
	defer b.Release()
	for _, e := range rows {
		appendStr(b.Field(0), e.ID)
		appendStr(b.Field(1), e.Household)
		appendDate(b.Field(2), e.Start)
		appendDate(b.Field(3), e.End)
	}
	return b.NewRecord()
}

// Record builds a record of any stored schema from rows of cells written as
// the CSV extracts write them ("" is null; dates yyyy-mm-dd; booleans
// true/false). It covers the column types of CONTRACTS §2's stored schemas.
func Record(mem memory.Allocator, schema *arrow.Schema, rows ...[]string) arrow.Record {
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	for _, row := range rows {
		for j, f := range schema.Fields() {
			cell := row[j]
			fb := b.Field(j)
			if cell == "" {
				fb.AppendNull()
				continue
			}
			switch f.Type.ID() {
			case arrow.STRING:
				fb.(*array.StringBuilder).Append(cell)
			case arrow.DATE32:
				fb.(*array.Date32Builder).Append(Day(cell))
			case arrow.BOOL:
				fb.(*array.BooleanBuilder).Append(cell == "true")
			case arrow.FLOAT64:
				v, err := strconv.ParseFloat(cell, 64)
				if err != nil {
					panic("featurestest: bad number " + cell)
				}
				fb.(*array.Float64Builder).Append(v)
			case arrow.INT8, arrow.INT16, arrow.INT32:
				v, err := strconv.Atoi(cell)
				if err != nil {
					panic("featurestest: bad integer " + cell)
				}
				switch ib := fb.(type) {
				case *array.Int8Builder:
					ib.Append(int8(v))
				case *array.Int16Builder:
					ib.Append(int16(v))
				case *array.Int32Builder:
					ib.Append(int32(v))
				}
			default:
				panic("featurestest: unsupported type " + f.Type.String())
			}
		}
	}
	return b.NewRecord()
}

// FirstRow maps each float64 column of rec to its first row's value: a
// one-household feature table, by feature name.
func FirstRow(rec arrow.Record) map[string]float64 {
	out := map[string]float64{}
	for name, c := range pipeline.FloatColumns(rec) {
		if len(c) > 0 {
			out[name] = c[0]
		}
	}
	return out
}
