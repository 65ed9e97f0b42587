package features

import (
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// TestGetterPseudonyms: a pseudonym column reads the same as text or
// packed; the packed bytes are handed over only without a null; a packed
// buffer too short for its rows is an error, not a panic.
func TestGetterPseudonyms(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ten := &arrow.FixedSizeBinaryType{ByteWidth: 10}
	packed := func(vs [][]byte, valid []bool) arrow.Array {
		b := array.NewFixedSizeBinaryBuilder(mem, ten)
		defer b.Release()
		b.AppendValues(vs, valid)
		return b.NewArray()
	}
	a := []byte{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x00, 0xff}
	z := make([]byte, 10)
	short := func() arrow.Array {
		full := packed([][]byte{a, z}, nil)
		defer full.Release()
		d := full.Data()
		cut := memory.NewBufferBytes(d.Buffers()[1].Bytes()[:15])
		return array.MakeFromData(array.NewData(ten, 2, []*memory.Buffer{nil, cut}, nil, 0, 0))
	}
	texts := func(vs ...string) arrow.Array {
		b := array.NewStringBuilder(mem)
		defer b.Release()
		b.AppendValues(vs, nil)
		return b.NewArray()
	}
	ints := func() arrow.Array {
		b := array.NewInt32Builder(mem)
		defer b.Release()
		b.Append(1)
		return b.NewArray()
	}
	tests := []struct {
		name   string
		col    arrow.Array
		want   string // values joined by commas
		err    string
		packed bool
	}{
		{"packed", packed([][]byte{a, z, a}, nil), "0123456789abcdef00ff,00000000000000000000,0123456789abcdef00ff", "", true},
		{"packed with a null", packed([][]byte{a, z}, []bool{true, false}), "0123456789abcdef00ff,", "", false},
		{"text", texts("u-1", "0123456789abcdef00ff"), "u-1,0123456789abcdef00ff", "", false},
		{"buffer too short", short(), "", "15 bytes for 2 values of 10", false},
		{"another type", ints(), "", "is int32", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer tc.col.Release()
			rec := array.NewRecord(arrow.NewSchema([]arrow.Field{{Name: "upn", Type: tc.col.DataType(), Nullable: true}}, nil),
				[]arrow.Array{tc.col}, int64(tc.col.Len()))
			defer rec.Release()
			var g Getter
			p := g.Pseudonyms(rec, "upn")
			if tc.err != "" {
				if g.Err == nil || !strings.Contains(g.Err.Error(), tc.err) {
					t.Fatalf("error %v; want one saying %q", g.Err, tc.err)
				}
				return
			}
			if g.Err != nil {
				t.Fatal(g.Err)
			}
			var got []string
			for i := range tc.col.Len() {
				got = append(got, p.Value(i))
				if p.IsValid(i) != tc.col.IsValid(i) {
					t.Errorf("row %d valid %v; want %v", i, p.IsValid(i), tc.col.IsValid(i))
				}
			}
			if s := strings.Join(got, ","); s != tc.want {
				t.Errorf("values %q; want %q", s, tc.want)
			}
			b, w, ok := p.Packed()
			if ok != tc.packed {
				t.Fatalf("Packed ok %v; want %v", ok, tc.packed)
			}
			if ok && (w != 10 || len(b) != 10*tc.col.Len() || string(b[:10]) != string(a)) {
				t.Errorf("Packed gave %d bytes of width %d starting %x", len(b), w, b[:min(len(b), 10)])
			}
		})
	}
}
