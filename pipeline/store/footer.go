package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	flatbuffers "github.com/google/flatbuffers/go"
)

// The Arrow IPC file layout and the slots of the footer's flatbuffer tables
// that checkFooter reads (format/File.fbs, format/Schema.fbs).
const (
	arrowMagic   = "ARROW1"
	footerSchema = 6 // Footer.schema

	schemaFields         = 6 // Schema.fields
	schemaCustomMetadata = 8 // Schema.custom_metadata
	fieldChildren        = 14
	fieldCustomMetadata  = 16

	// maxFieldDepth is deeper than any schema the store writes (flat
	// tables), and shallow enough to stop a cycle of children.
	maxFieldDepth = 32
)

// checkFooter checks the schema in an Arrow IPC file's footer before
// Arrow's reader decodes it. The reader sizes slices by the counts the
// schema claims (fields, a field's children, custom metadata) and recurses
// into children, trusting the file: a damaged count asked for a 360 GB slice
// in FuzzScanFile, and a cycle of children would recurse until the stack
// overflows, and neither is a panic recover can catch. So every count is
// checked against the bytes that could hold it, and the depth is bounded.
func checkFooter(r io.ReaderAt, size int64) (err error) {
	defer func() {
		if p := recover(); p != nil { // an offset out of the footer's bytes
			err = fmt.Errorf("%w: footer: %v", ErrUndecodable, p)
		}
	}()
	// The bounds are the reader's own (readFooter), so that every footer
	// it would decode is checked here first.
	trailer, least := int64(len(arrowMagic)+4), int64(2*len(arrowMagic)+4)
	if size <= least {
		return nil // the reader says "file too small" itself
	}
	end := make([]byte, trailer)
	if _, err := r.ReadAt(end, size-trailer); err != nil {
		return err
	}
	n := int64(binary.LittleEndian.Uint32(end))
	if !bytes.Equal(end[4:], []byte(arrowMagic)) || n <= 0 || n+least > size {
		return nil // the reader finds these itself, as errors
	}
	buf := make([]byte, n)
	if _, err := r.ReadAt(buf, size-trailer-n); err != nil {
		return err
	}
	footer := root(buf)
	schema, ok := footer.table(footerSchema)
	if !ok {
		return nil
	}
	if err := schema.vector(schemaCustomMetadata); err != nil {
		return err
	}
	return schema.fields(schemaFields, 0)
}

// fbTable is a flatbuffer table whose offsets are checked before use.
type fbTable struct{ flatbuffers.Table }

func root(buf []byte) fbTable {
	return fbTable{flatbuffers.Table{Bytes: buf, Pos: flatbuffers.GetUOffsetT(buf)}}
}

var errFooterCount = errors.New("a count larger than the footer")

// table is the table in slot, if present.
func (t fbTable) table(slot flatbuffers.VOffsetT) (fbTable, bool) {
	o := t.Offset(slot)
	if o == 0 {
		return fbTable{}, false
	}
	return fbTable{flatbuffers.Table{Bytes: t.Bytes, Pos: t.Indirect(flatbuffers.UOffsetT(o) + t.Pos)}}, true
}

// vector checks that the vector of tables in slot fits in the footer: each
// element is an offset of 4 bytes.
func (t fbTable) vector(slot flatbuffers.VOffsetT) error {
	o := t.Offset(slot)
	if o == 0 {
		return nil
	}
	start := int64(t.Vector(flatbuffers.UOffsetT(o)))
	if n := int64(t.VectorLen(flatbuffers.UOffsetT(o))); start+4*n > int64(len(t.Bytes)) {
		return fmt.Errorf("%w: %d entries at byte %d of %d", errFooterCount, n, start, len(t.Bytes))
	}
	return nil
}

// fields checks the vector of fields in slot and, in turn, each field's
// children and custom metadata.
func (t fbTable) fields(slot flatbuffers.VOffsetT, depth int) error {
	if depth > maxFieldDepth {
		return fmt.Errorf("%w: footer: fields nested deeper than %d", ErrUndecodable, maxFieldDepth)
	}
	if err := t.vector(slot); err != nil {
		return fmt.Errorf("%w: footer: %v", ErrUndecodable, err)
	}
	o := t.Offset(slot)
	if o == 0 {
		return nil
	}
	vec := t.Vector(flatbuffers.UOffsetT(o))
	for i := 0; i < t.VectorLen(flatbuffers.UOffsetT(o)); i++ {
		f := fbTable{flatbuffers.Table{Bytes: t.Bytes, Pos: t.Indirect(vec + flatbuffers.UOffsetT(4*i))}}
		if err := f.vector(fieldCustomMetadata); err != nil {
			return fmt.Errorf("%w: footer: %v", ErrUndecodable, err)
		}
		if err := f.fields(fieldChildren, depth+1); err != nil {
			return err
		}
	}
	return nil
}
