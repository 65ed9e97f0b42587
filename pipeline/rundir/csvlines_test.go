package rundir

import (
	"bufio"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
)

// TestCSVLinesFields: a line read as it stands gives each field where it
// stands (Field) as the split record does (Record), and its text (Line);
// from a quoted line on, encoding/csv reads the rest, Line is nil and
// Field still gives the fields. A line short of a field is an error.
func TestCSVLinesFields(t *testing.T) {
	in := "a,b,c\n" +
		"1,,x y\n" +
		"\n" +
		" 2 ,b2,\n" +
		"\"3\",\"q, r\",z\n" +
		"4,b4,c4"
	want := []struct {
		line   string // "" when csv read it
		fields []string
	}{
		{"1,,x y", []string{"1", "", "x y"}},
		{" 2 ,b2,", []string{" 2 ", "b2", ""}},
		{"", []string{"3", "q, r", "z"}},
		{"", []string{"4", "b4", "c4"}},
	}
	br := bufio.NewReader(strings.NewReader(in))
	if _, err := br.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	r := NewCSVLines(br, 3)
	for n, w := range want {
		if err := r.Next(); err != nil {
			t.Fatalf("record %d: %v", n, err)
		}
		if got := string(r.Line()); got != w.line || (w.line == "") != (r.Line() == nil) {
			t.Errorf("record %d: line %q; want %q", n, got, w.line)
		}
		for i, f := range w.fields {
			if got := string(r.Field(i)); got != f {
				t.Errorf("record %d: field %d %q; want %q", n, i, got, f)
			}
		}
		if got := r.Record(); !slices.Equal(got, w.fields) {
			t.Errorf("record %d: %q; want %q", n, got, w.fields)
		}
	}
	if err := r.Next(); !errors.Is(err, io.EOF) {
		t.Errorf("after the last record: %v; want io.EOF", err)
	}
	short := NewCSVLines(bufio.NewReader(strings.NewReader("1,2\n")), 3)
	if err := short.Next(); err == nil {
		t.Error("a line of two fields read as three")
	}
}
