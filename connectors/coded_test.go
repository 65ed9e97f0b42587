package connectors

import (
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"

	"earlyhelp/pipeline"
	"earlyhelp/pipeline/contract"
)

// TestCodeBook: every listed value of each coded field is found at its
// place, and values not listed (case, blanks and the empty cell included)
// are not found, so a row cannot be stored pointing at the wrong value.
func TestCodeBook(t *testing.T) {
	for name, words := range map[string][]string{
		"sessions": contract.Sessions(), "codes": contract.AttendanceCodes(), "categories": contract.Categories(),
	} {
		b := newCodeBook(words)
		for i, w := range words {
			if p, ok := b.index(w); !ok || int(p) != i {
				t.Errorf("%s: %q found at %d (%t); want %d", name, w, p, ok, i)
			}
		}
		for _, w := range []string{"", " ", "am", "present ", "C3", "X10", "not_counte", "not_counted_", strings.Repeat("Y", 9)} {
			if p, ok := b.index(w); ok {
				t.Errorf("%s: unlisted %q found at %d", name, w, p)
			}
		}
	}
}

// TestCodedFields: the attendance spec stores session, code and category
// as int8 places in the lists its fields' metadata hold, and a spec whose
// coded field is not int8, or whose list does not read, is refused.
func TestCodedFields(t *testing.T) {
	spec := Specs()[AttendanceSessions]
	for _, name := range []string{contract.ColSession, contract.ColAttendanceCode, contract.ColCategory} {
		f := spec.Schema.Field(spec.Schema.FieldIndices(name)[0])
		if f.Type.ID() != arrow.INT8 || f.Metadata.FindKey(contract.CodesKey) < 0 {
			t.Errorf("%s stored as %s with metadata %v; want int8 with %s", name, f.Type, f.Metadata, contract.CodesKey)
		}
	}
	sink := &recordingSink{}
	row := []string{"100001", "A123456789012", "2025-01-13", "pm", "[c1]", "", ""}
	if _, err := loadRows(t, spec, [][]string{row}, 1, sink); err != nil {
		t.Fatal(err)
	}
	if len(sink.rows) != 1 {
		t.Fatalf("rows %v, rejects %v; want one row", sink.rows, sink.rejects)
	}
	f := strings.Split(sink.rows[0], "|")
	at := func(col string) string { return f[spec.Schema.FieldIndices(col)[0]] }
	if got := at(contract.ColSession) + " " + at(contract.ColAttendanceCode) + " " + at(contract.ColCategory); got != "PM C1 auth" {
		t.Errorf("stored %q; want %q", got, "PM C1 auth")
	}

	bad := func(mutate func(fs []arrow.Field)) Spec {
		s := Specs()[AttendanceSessions]
		fs := s.Schema.Fields()
		mutate(fs)
		s.Schema = arrow.NewSchema(fs, nil)
		return s
	}
	i := spec.Schema.FieldIndices(contract.ColSession)[0]
	for name, s := range map[string]Spec{
		"int16": bad(func(fs []arrow.Field) { fs[i].Type = arrow.PrimitiveTypes.Int16 }),
		"not a list": bad(func(fs []arrow.Field) {
			fs[i].Metadata = arrow.NewMetadata([]string{contract.CodesKey}, []string{"AM,PM"})
		}),
		"a value twice": bad(func(fs []arrow.Field) {
			fs[i].Metadata = arrow.NewMetadata([]string{contract.CodesKey}, []string{`["AM","AM"]`})
		}),
	} {
		if _, err := NewRules(s, LoadOptions{}); err == nil || !strings.Contains(err.Error(), contract.ColSession) {
			t.Errorf("%s: NewRules error %v; want one naming %s", name, err, contract.ColSession)
		}
	}
}

// TestUnlistedCodeFailsTheRow: a value the checks let through but a list
// leaves out (a spec out of step with its checks) is quarantined as a bad
// code, never stored at another value's place.
func TestUnlistedCodeFailsTheRow(t *testing.T) {
	spec := Specs()[AttendanceSessions]
	fs := spec.Schema.Fields()
	i := spec.Schema.FieldIndices(contract.ColSession)[0]
	fs[i].Metadata = arrow.NewMetadata([]string{contract.CodesKey}, []string{`["AM"]`})
	spec.Schema = arrow.NewSchema(fs, nil)
	sink := &recordingSink{}
	rows := [][]string{
		{"100001", "A123456789012", "2025-01-13", "AM", "/", "", ""},
		{"100001", "A123456789012", "2025-01-13", "PM", "/", "", ""},
	}
	if _, err := loadRows(t, spec, rows, 1, sink); err != nil {
		t.Fatal(err)
	}
	if len(sink.rows) != 1 || len(sink.rejects) != 1 || sink.rejects[0].Reason != pipeline.ReasonBadCode || sink.rejects[0].Column != contract.ColSession {
		t.Fatalf("rows %v, rejects %+v; want the PM row rejected as %s in %s", sink.rows, sink.rejects, pipeline.ReasonBadCode, contract.ColSession)
	}
}

// BenchmarkCodeBook looks up marks' codes as an extract gives them, mostly
// "/" and "\", in the code book and, for comparison, in a map (the
// map/ sub-benchmark): the row loader does three such lookups a mark.
func BenchmarkCodeBook(b *testing.B) {
	codes := contract.AttendanceCodes()
	var marks []string
	for i := range 4096 {
		switch {
		case i%17 == 0:
			marks = append(marks, codes[i%len(codes)])
		case i%2 == 0:
			marks = append(marks, "/")
		default:
			marks = append(marks, `\`)
		}
	}
	var sum int
	b.Run("book", func(b *testing.B) {
		book := newCodeBook(codes)
		for b.Loop() {
			for _, m := range marks {
				p, _ := book.index(m)
				sum += int(p)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(marks)), "ns/lookup")
	})
	b.Run("map", func(b *testing.B) {
		m := make(map[string]int8, len(codes))
		for i, c := range codes {
			m[c] = int8(i)
		}
		for b.Loop() {
			for _, c := range marks {
				sum += int(m[c])
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(marks)), "ns/lookup")
	})
	_ = sum
}
