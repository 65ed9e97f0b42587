package csvdir

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"reflect"
	"testing"
)

// lexed is one record or the error that ended the input, as either reader
// gives it.
type lexed struct {
	Cells []string
	Line  int
	Err   string
}

func lexAll(data []byte) []lexed {
	x := newLexer(bytes.NewReader(data))
	var out []lexed
	for {
		text, cells, line, err := x.record(nil, nil)
		if err == io.EOF {
			return out
		}
		if err != nil {
			return append(out, lexed{Err: describe(err)})
		}
		rec := lexed{Line: line, Cells: []string{}}
		start := int32(0)
		for _, end := range cells {
			rec.Cells = append(rec.Cells, string(text[start:end]))
			start = end
		}
		out = append(out, rec)
	}
}

func stdlibAll(data []byte) []lexed {
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	var out []lexed
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return out
		}
		if err != nil {
			return append(out, lexed{Err: describe(err)})
		}
		line, _ := cr.FieldPos(0)
		out = append(out, lexed{Line: line, Cells: append([]string{}, rec...)})
	}
}

// describe keeps what the row loop reports of an error: its lines, column
// and kind.
func describe(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.Error()
	}
	return "other: " + err.Error()
}

var lexerCases = []string{
	"",
	"a,b,c\n",
	"a,b,c",
	"a,b,c\r\n1,2,3\r\n",
	"a,b\r",
	"\n\n a , b \n\n",
	",,\n,\n",
	`"a","b""c",d` + "\n",
	`"multi` + "\nline\r\n" + `field",x` + "\n",
	`a"b,c` + "\n",
	`"a"b,c` + "\n",
	`"unterminated` + "\n",
	`"unterminated`,
	`x,"y` + "\n\n\n",
	"\xef\xbb\xbfupn,date\n\xa3,\x1a\n",
	`"",""` + "\n",
	"a,\"\"\r\n",
	"a\rb,c\n",
	`"a\rb",c` + "\r\n",
}

func TestLexerMatchesEncodingCSV(t *testing.T) {
	for _, in := range lexerCases {
		got, want := lexAll([]byte(in)), stdlibAll([]byte(in))
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q:\n got %+v\nwant %+v", in, got, want)
		}
	}
}

// FuzzLexer: the lexer reads any input exactly as encoding/csv does.
func FuzzLexer(f *testing.F) {
	for _, in := range lexerCases {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, want := lexAll(data), stdlibAll(data)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\n got %+v\nwant %+v", data, got, want)
		}
	})
}

// BenchmarkLexer lexes an attendance extract's lines (no quotes, seven
// short cells) into a reused arena, as readRecords does.
func BenchmarkLexer(b *testing.B) {
	var data []byte
	for i := range 100_000 {
		data = fmt.Appendf(data, "1007%02d,A8732020%05d,2024-07-%02d,%s,%s,,\n", i%50, i/2, 1+i%28, [2]string{"AM", "PM"}[i%2], [3]string{"/", "\\", "L"}[i%3])
	}
	b.SetBytes(int64(len(data)))
	var text []byte
	var cells []int32
	for b.Loop() {
		x := newLexer(bytes.NewReader(data))
		for {
			var err error
			text, cells, _, err = x.record(text[:0], cells[:0])
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}
