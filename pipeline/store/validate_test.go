package store

import (
	"errors"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/pipeline/contract"
)

// TestValidateCodes: a coded column (contract.CodesKey) of a file without
// a checksum is checked before a reader looks a place up in its list: a
// place past the list, or a list that does not read, is ErrUndecodable.
func TestValidateCodes(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	codes := func(meta string) arrow.Field {
		return arrow.Field{Name: "session", Type: arrow.PrimitiveTypes.Int8,
			Metadata: arrow.NewMetadata([]string{contract.CodesKey}, []string{meta})}
	}
	list := contract.FormatCodes([]string{"AM", "PM"})
	tests := []struct {
		name   string
		field  arrow.Field
		places []int8
		valid  []bool
		ok     bool
	}{
		{"in the list", codes(list), []int8{0, 1, 1, 0}, nil, true},
		{"past the list", codes(list), []int8{0, 1, 2, 0}, nil, false},
		{"negative", codes(list), []int8{0, -1}, nil, false},
		{"past the list but null", codes(list), []int8{0, 9}, []bool{true, false}, true},
		{"a list that does not read", codes("AM,PM"), []int8{0}, nil, false},
		{"an int8 without a list", arrow.Field{Name: "n", Type: arrow.PrimitiveTypes.Int8}, []int8{0, 9}, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := array.NewInt8Builder(mem)
			defer b.Release()
			b.AppendValues(tc.places, tc.valid)
			col := b.NewArray()
			defer col.Release()
			rec := array.NewRecord(arrow.NewSchema([]arrow.Field{tc.field}, nil), []arrow.Array{col}, int64(col.Len()))
			defer rec.Release()
			err := validate(rec)
			if (err == nil) != tc.ok || err != nil && !errors.Is(err, ErrUndecodable) {
				t.Errorf("validate: %v; want ok %t, else ErrUndecodable", err, tc.ok)
			}
		})
	}
}

// TestValidatePacked: a packed column (fixed-width pseudonyms) of a file
// without a checksum holds a whole value for each row, or is
// ErrUndecodable before a reader slices past its buffer.
func TestValidatePacked(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ten := &arrow.FixedSizeBinaryType{ByteWidth: 10}
	b := array.NewFixedSizeBinaryBuilder(mem, ten)
	defer b.Release()
	b.AppendValues([][]byte{make([]byte, 10), make([]byte, 10)}, nil)
	whole := b.NewArray()
	defer whole.Release()
	for _, tc := range []struct {
		name  string
		bytes int
		ok    bool
	}{{"whole", 20, true}, {"a byte short", 19, false}, {"no values", 0, false}} {
		t.Run(tc.name, func(t *testing.T) {
			buf := memory.NewBufferBytes(whole.Data().Buffers()[1].Bytes()[:tc.bytes])
			col := array.MakeFromData(array.NewData(ten, 2, []*memory.Buffer{nil, buf}, nil, 0, 0))
			defer col.Release()
			rec := array.NewRecord(arrow.NewSchema([]arrow.Field{{Name: "upn", Type: ten}}, nil), []arrow.Array{col}, 2)
			defer rec.Release()
			err := validate(rec)
			if (err == nil) != tc.ok || err != nil && !errors.Is(err, ErrUndecodable) {
				t.Errorf("validate: %v; want ok %t, else ErrUndecodable", err, tc.ok)
			}
		})
	}
}
