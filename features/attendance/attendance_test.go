package attendance_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/features"
	"earlyhelp/features/attendance"
)

// tables is an in-memory store.
type tables map[string][]arrow.Record

func (t tables) Scan(ctx context.Context, mem memory.Allocator, source string, fn func(arrow.Record) error) error {
	for _, r := range t[source] {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

func (t tables) release() {
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

func day(s string) arrow.Date32 {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return arrow.Date32FromTime(t)
}

// mark is one attendance row.
type mark struct {
	date, session, code, category string
	updated                       string // RFC 3339 or ""
}

func attendanceRecord(mem memory.Allocator, upn string, marks []mark) arrow.Record {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "school_urn", Type: arrow.PrimitiveTypes.Int32},
		{Name: "upn", Type: str},
		{Name: "session_date", Type: date},
		{Name: "session", Type: str},
		{Name: "attendance_code", Type: str},
		{Name: "minutes_late", Type: arrow.PrimitiveTypes.Int16, Nullable: true},
		{Name: "mark_updated_at", Type: arrow.FixedWidthTypes.Timestamp_s, Nullable: true},
		{Name: "category", Type: str},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	for _, m := range marks {
		b.Field(0).(*array.Int32Builder).Append(100001)
		b.Field(1).(*array.StringBuilder).Append(upn)
		b.Field(2).(*array.Date32Builder).Append(day(m.date))
		b.Field(3).(*array.StringBuilder).Append(m.session)
		b.Field(4).(*array.StringBuilder).Append(m.code)
		b.Field(5).(*array.Int16Builder).AppendNull()
		if m.updated == "" {
			b.Field(6).(*array.TimestampBuilder).AppendNull()
		} else {
			ts, _ := time.Parse(time.RFC3339, m.updated)
			b.Field(6).(*array.TimestampBuilder).Append(arrow.Timestamp(ts.Unix()))
		}
		b.Field(7).(*array.StringBuilder).Append(m.category)
	}
	return b.NewRecord()
}

// roster builds one household with one child (pseudonyms as the store holds them).
func roster(mem memory.Allocator) tables {
	t := tables{}
	pb := array.NewRecordBuilder(mem, arrow.NewSchema([]arrow.Field{
		{Name: "person_id", Type: str}, {Name: "upn", Type: str, Nullable: true},
		{Name: "nhs_number", Type: str, Nullable: true}, {Name: "date_of_birth", Type: date},
		{Name: "sex", Type: str, Nullable: true}, {Name: "ethnicity", Type: str, Nullable: true},
	}, nil))
	defer pb.Release()
	pb.Field(0).(*array.StringBuilder).Append("p-child")
	pb.Field(1).(*array.StringBuilder).Append("u-child")
	pb.Field(2).(*array.StringBuilder).AppendNull()
	pb.Field(3).(*array.Date32Builder).Append(day("2015-03-01"))
	pb.Field(4).(*array.StringBuilder).Append("F")
	pb.Field(5).(*array.StringBuilder).Append("WHITE_BRITISH")
	t["persons"] = []arrow.Record{pb.NewRecord()}

	hb := array.NewRecordBuilder(mem, arrow.NewSchema([]arrow.Field{
		{Name: "household_id", Type: str}, {Name: "person_id", Type: str}, {Name: "role", Type: str},
		{Name: "uprn", Type: str, Nullable: true}, {Name: "lsoa_code", Type: str},
		{Name: "locality", Type: str, Nullable: true}, {Name: "from_date", Type: date},
		{Name: "to_date", Type: date, Nullable: true},
	}, nil))
	defer hb.Release()
	hb.Field(0).(*array.StringBuilder).Append("h-1")
	hb.Field(1).(*array.StringBuilder).Append("p-child")
	hb.Field(2).(*array.StringBuilder).Append("child")
	hb.Field(3).(*array.StringBuilder).AppendNull()
	hb.Field(4).(*array.StringBuilder).Append("E01000001")
	hb.Field(5).(*array.StringBuilder).Append("North")
	hb.Field(6).(*array.Date32Builder).Append(day("2015-03-01"))
	hb.Field(7).(*array.Date32Builder).AppendNull()
	t["households"] = []arrow.Record{hb.NewRecord()}
	return t
}

// schoolDays gives AM and PM present marks for the weekdays in [from, to).
func schoolDays(from, to string) []mark {
	var out []mark
	d, _ := time.Parse(time.DateOnly, from)
	end, _ := time.Parse(time.DateOnly, to)
	for ; d.Before(end); d = d.AddDate(0, 0, 1) {
		if d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
			continue
		}
		s := d.Format(time.DateOnly)
		out = append(out, mark{s, "AM", "/", "present", ""}, mark{s, "PM", `\`, "present", ""})
	}
	return out
}

func build(t *testing.T, mem memory.Allocator, marks []mark, asOf time.Time) map[string]float64 {
	t.Helper()
	tb := roster(mem)
	tb["attendance_sessions"] = []arrow.Record{attendanceRecord(mem, "u-child", marks)}
	defer tb.release()
	set := features.NewSet(tb, features.Options{}, attendance.New(tb, mem))
	ft, err := set.Build(context.Background(), mem, asOf)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	defer ft.Release()
	if ft.Record.NumRows() != 1 {
		t.Fatalf("rows = %d; want 1", ft.Record.NumRows())
	}
	out := map[string]float64{}
	for i, f := range ft.Record.Schema().Fields() {
		if c, ok := ft.Record.Column(i).(*array.Float64); ok {
			out[f.Name] = c.Value(0)
		}
	}
	return out
}

func TestFutureRowsIgnored(t *testing.T) {
	asOf := time.Date(2025, 3, 17, 0, 0, 0, 0, time.UTC) // a Monday
	base := schoolDays("2025-01-06", "2025-03-17")
	// Two absences before the as-of date so the rates are not trivially 0.
	base[0] = mark{"2025-01-06", "AM", "O", "unauth", ""}
	base[1] = mark{"2025-01-06", "PM", "L", "present", ""}

	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	want := build(t, mem, base, asOf)

	tests := []struct {
		name    string
		planted []mark
	}{
		{"session on the as-of date", []mark{{"2025-03-17", "AM", "O", "unauth", ""}}},
		{"session after the as-of date", []mark{{"2025-03-18", "PM", "U", "unauth", ""}, {"2025-04-01", "AM", "G", "unauth", ""}}},
		{"amendment recorded after the as-of date", []mark{{"2025-03-14", "AM", "O", "unauth", "2025-03-20T09:00:00Z"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			marks := append(append([]mark(nil), base...), tc.planted...)
			got := build(t, mem, marks, asOf)
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s = %v with the planted row; want %v", k, got[k], v)
				}
			}
		})
	}
	// The planted rows do count once the as-of date is past them: the test
	// would notice a builder that ignored them for the wrong reason.
	later := build(t, mem, append(append([]mark(nil), base...), mark{"2025-03-17", "AM", "O", "unauth", ""}), asOf.AddDate(0, 0, 7))
	if later[attendance.AbsenceRate4w] <= want[attendance.AbsenceRate4w] {
		t.Errorf("absence_rate_4w a week later = %v; want above %v", later[attendance.AbsenceRate4w], want[attendance.AbsenceRate4w])
	}
}

func TestFeatureValues(t *testing.T) {
	asOf := time.Date(2025, 3, 17, 0, 0, 0, 0, time.UTC)
	marks := schoolDays("2025-02-17", "2025-03-17") // 4 weeks, 40 sessions
	marks[0].code, marks[0].category = "I", "auth"
	marks[1].code, marks[1].category = "O", "unauth"
	marks[2].code, marks[2].category = "L", "present"
	marks[3].code, marks[3].category = "U", "unauth"
	marks[4].code, marks[4].category = "#", "not_counted"
	// An amended mark: N first, then the definitive code with a later stamp.
	marks = append(marks, mark{marks[5].date, marks[5].session, "G", "unauth", "2025-02-20T10:00:00Z"})
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	got := build(t, mem, marks, asOf)
	// possible = 40 − 1 not counted = 39; absent = I, O, U, G = 4.
	tests := []struct {
		name string
		want float64
	}{
		{attendance.AbsenceRate4w, 4.0 / 39},
		{attendance.UnauthorisedRate13w, 3.0 / 39},
		{attendance.LateBeforeClose13w, 1},
		{attendance.LateAfterClose13w, 1},
		{attendance.PersistentAbsence, 0}, // under 40 possible sessions: too few to call
		{features.FeatChildren, 1},
	}
	for _, tc := range tests {
		if math.Abs(got[tc.name]-tc.want) > 1e-12 {
			t.Errorf("%s = %v; want %v", tc.name, got[tc.name], tc.want)
		}
	}
}
