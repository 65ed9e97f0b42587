package connectors

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"

	"earlyhelp/pipeline/contract"
)

// packedSink keeps each emitted row's UPN as the record holds it.
type packedSink struct {
	recordingSink
	upns [][]byte
	typ  arrow.DataType
}

func (s *packedSink) Emit(rec arrow.Record) error {
	i := rec.Schema().FieldIndices(contract.ColUPN)[0]
	s.typ = rec.Column(i).DataType()
	if c, ok := rec.Column(i).(*array.FixedSizeBinary); ok {
		for r := range c.Len() {
			s.upns = append(s.upns, append([]byte(nil), c.Value(r)...))
		}
	}
	return s.recordingSink.Emit(rec)
}

// TestPackedUPN: attendance keeps a UPN's pseudonym as the ten bytes its
// hex spells, the same pseudonym the persons register keeps as text; only
// an identifier may be packed, and only at that width.
func TestPackedUPN(t *testing.T) {
	spec := Specs()[AttendanceSessions]
	sink := &packedSink{}
	rows := [][]string{
		{"100001", "A123456789012", "2025-01-13", "AM", "/", "", ""},
		{"100001", "a123456789012", "2025-01-13", "PM", "/", "", ""}, // the same pupil
		{"100001", "B801200005001", "2025-01-13", "AM", "/", "", ""},
	}
	if _, err := loadRows(t, spec, rows, 1, sink); err != nil {
		t.Fatal(err)
	}
	if want := (&arrow.FixedSizeBinaryType{ByteWidth: 10}); !arrow.TypeEqual(sink.typ, want) {
		t.Fatalf("upn stored as %s; want %s", sink.typ, want)
	}
	p := testPseudonymiser(t)
	for i, norm := range []string{"A123456789012", "A123456789012", "B801200005001"} {
		want := p.Pseudonym(NSUPN, norm)
		if i >= len(sink.upns) || hex.EncodeToString(sink.upns[i]) != want {
			t.Fatalf("row %d: stored %x; want the bytes of %s", i, sink.upns[min(i, len(sink.upns)-1)], want)
		}
		if got := strings.Split(sink.rows[i], "|")[spec.Schema.FieldIndices(contract.ColUPN)[0]]; got != want {
			t.Errorf("row %d: StoredText %q; want %q", i, got, want)
		}
	}
	if string(sink.upns[0]) == string(sink.upns[2]) {
		t.Error("two pupils stored with one pseudonym")
	}

	upn := spec.Schema.FieldIndices(contract.ColUPN)[0]
	urn := spec.Schema.FieldIndices(contract.ColSchoolURN)[0]
	for name, mutate := range map[string]func(fs []arrow.Field){
		"a school packed":  func(fs []arrow.Field) { fs[urn] = packed(contract.ColSchoolURN) },
		"eight bytes wide": func(fs []arrow.Field) { fs[upn].Type = &arrow.FixedSizeBinaryType{ByteWidth: 8} },
	} {
		s := Specs()[AttendanceSessions]
		fs := s.Schema.Fields()
		mutate(fs)
		s.Schema = arrow.NewSchema(fs, nil)
		if _, err := NewRules(s, LoadOptions{}); err == nil {
			t.Errorf("%s: NewRules took it", name)
		}
	}
}
