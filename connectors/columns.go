package connectors

import (
	"encoding/binary"
	"math"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/bitutil"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// columns builds a checker's record straight into Arrow buffers. Arrow's
// builders check capacity, set a validity bit and go through an interface
// for every value; at tens of millions of marks a night that was a fifth of
// the ingest's CPU. Here a record's size is known before its rows are
// checked (one raw buffer makes one record), so buffers are sized once and
// values written in place; a validity bitmap is made only for a column
// that meets a null. Buffers come from the loader's recycler and go back
// to it when the store releases the record.
type columns struct {
	mem    memory.Allocator
	schema *arrow.Schema
	cols   []colBuf
	rows   int // rows appended to the record being built
	cap    int // rows the fixed-width buffers hold
}

// colBuf is one column of the record being built.
type colBuf struct {
	kind  kind
	width int            // bytes per value; 0 for booleans (bits) and strings (offsets are 4)
	valid *memory.Buffer // nil while the column has no null
	nulls int
	vals  *memory.Buffer // values, bits or string offsets
	data  *memory.Buffer // string bytes
	dataN int
	// bytes of string per row seen in the last record, to size the next
	dataPerRow float64
}

func newColumns(mem memory.Allocator, schema *arrow.Schema, kinds []kind, types []arrow.Type) *columns {
	c := &columns{mem: mem, schema: schema, cols: make([]colBuf, len(kinds))}
	for i, k := range kinds {
		b := &c.cols[i]
		b.kind = k
		switch k {
		case kindCode:
			b.width = 1 // its place in the field's list
		case kindKey:
			b.width = pseudonymBytes
		case kindString, kindDate:
			b.width = 4
		case kindTimestamp, kindFloat:
			b.width = 8
		case kindInt:
			b.width = map[arrow.Type]int{arrow.INT8: 1, arrow.INT16: 2, arrow.INT32: 4}[types[i]]
			if b.width == 0 {
				b.width = 8
			}
		}
	}
	return c
}

// start readies the buffers for a record of up to rows rows.
func (c *columns) start(rows int) {
	c.rows, c.cap = 0, rows
	for i := range c.cols {
		b := &c.cols[i]
		b.nulls = 0
		b.vals = memory.NewResizableBuffer(c.mem)
		switch b.kind {
		case kindBool:
			b.vals.Resize(int(bitutil.BytesForBits(int64(rows))))
		case kindString:
			b.vals.Resize(4 * (rows + 1)) // offsets; the first is 0, as the allocator gives it
			b.data = memory.NewResizableBuffer(c.mem)
			b.data.Resize(max(64, int(b.dataPerRow*float64(rows)*1.1)))
			b.dataN = 0
		default:
			b.vals.Resize(b.width * rows)
		}
	}
}

// append adds one row's values; there must be room (start).
func (c *columns) append(vals []value) {
	r := c.rows
	for i := range c.cols {
		b := &c.cols[i]
		v := &vals[i]
		if v.null {
			b.null(c.mem, r, c.cap)
			if b.kind == kindString {
				binary.LittleEndian.PutUint32(b.vals.Buf()[4*(r+1):], uint32(b.dataN))
			}
			continue
		}
		if b.valid != nil {
			bitutil.SetBit(b.valid.Buf(), r)
		}
		buf := b.vals.Buf()
		switch b.kind {
		case kindString:
			if b.dataN+len(v.s) > b.data.Len() {
				b.data.Resize(max(2*b.data.Len(), b.dataN+len(v.s)))
			}
			b.dataN += copy(b.data.Buf()[b.dataN:], v.s)
			binary.LittleEndian.PutUint32(buf[4*(r+1):], uint32(b.dataN))
		case kindBool:
			if v.n == 1 {
				bitutil.SetBit(buf, r)
			}
		case kindFloat:
			binary.LittleEndian.PutUint64(buf[8*r:], math.Float64bits(v.f))
		case kindKey:
			copy(buf[b.width*r:b.width*(r+1)], v.s)
		default: // kindCode too: its place, a byte
			switch b.width {
			case 1:
				buf[r] = byte(v.n)
			case 2:
				binary.LittleEndian.PutUint16(buf[2*r:], uint16(v.n))
			case 4:
				binary.LittleEndian.PutUint32(buf[4*r:], uint32(v.n))
			default:
				binary.LittleEndian.PutUint64(buf[8*r:], uint64(v.n))
			}
		}
	}
	c.rows++
}

// null marks row r null, making the validity bitmap (every earlier row
// valid) on the column's first null.
func (b *colBuf) null(mem memory.Allocator, r, rows int) {
	if b.valid == nil {
		b.valid = memory.NewResizableBuffer(mem)
		b.valid.Resize(int(bitutil.BytesForBits(int64(rows))))
		bitutil.SetBitsTo(b.valid.Buf(), 0, int64(r), true)
	}
	b.nulls++
}

// record hands the rows appended since start over as a record; the
// columns are empty until the next start.
func (c *columns) record() arrow.Record {
	n := c.rows
	arrs := make([]arrow.Array, len(c.cols))
	for i := range c.cols {
		b := &c.cols[i]
		bufs := []*memory.Buffer{b.valid, b.vals}
		switch b.kind {
		case kindString:
			b.vals.ResizeNoShrink(4 * (n + 1))
			b.data.ResizeNoShrink(b.dataN)
			bufs = append(bufs, b.data)
			if n > 0 {
				b.dataPerRow = float64(b.dataN) / float64(n)
			}
		case kindBool:
			b.vals.ResizeNoShrink(int(bitutil.BytesForBits(int64(n))))
		default:
			b.vals.ResizeNoShrink(b.width * n)
		}
		if b.valid != nil {
			b.valid.ResizeNoShrink(int(bitutil.BytesForBits(int64(n))))
		}
		d := array.NewData(c.schema.Field(i).Type, n, bufs, nil, b.nulls, 0)
		arrs[i] = array.MakeFromData(d)
		d.Release()
		b.release()
	}
	rec := array.NewRecord(c.schema, arrs, int64(n))
	for _, a := range arrs {
		a.Release()
	}
	c.rows, c.cap = 0, 0
	return rec
}

// release drops the column's buffers (a record holds its own references).
func (b *colBuf) release() {
	for _, p := range []**memory.Buffer{&b.valid, &b.vals, &b.data} {
		if *p != nil {
			(*p).Release()
			*p = nil
		}
	}
}

// close frees what a record never took.
func (c *columns) close() {
	for i := range c.cols {
		c.cols[i].release()
	}
}
