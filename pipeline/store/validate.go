package store

import (
	"fmt"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/bitutil"

	"earlyhelp/pipeline/contract"
)

// validate checks what Arrow's decoder leaves to the reader of a record: a
// damaged file can decode into a string column whose offsets run backwards
// or past their bytes, or a validity bitmap shorter than its column, and
// the first reader to touch such a value panics on its own goroutine, out
// of the scan's reach. A file that matched its checksum is the one the
// store wrote from sound records, so only files without one are checked.
func validate(rec arrow.Record) error {
	for i, col := range rec.Columns() {
		err := validArray(col)
		if err == nil {
			err = validCodes(rec.Schema().Field(i), col)
		}
		if err != nil {
			return fmt.Errorf("%w: column %d (%s): %v", ErrUndecodable, i, col.DataType(), err)
		}
	}
	return nil
}

// validCodes checks a coded column (contract.CodesKey): its list reads,
// and each row's place is in it.
func validCodes(f arrow.Field, col arrow.Array) error {
	j := f.Metadata.FindKey(contract.CodesKey)
	if j < 0 {
		return nil
	}
	words, err := contract.ParseCodes(f.Metadata.Values()[j])
	if err != nil {
		return err
	}
	c, ok := col.(*array.Int8)
	if !ok {
		return fmt.Errorf("a coded column of type %s", col.DataType())
	}
	for i, p := range c.Int8Values() {
		if c.IsValid(i) && (p < 0 || int(p) >= len(words)) {
			return fmt.Errorf("row %d holds place %d of a list of %d", i, p, len(words))
		}
	}
	return nil
}

func validArray(a arrow.Array) error {
	n := a.Data().Offset() + a.Len()
	if bufs := a.Data().Buffers(); a.NullN() > 0 && len(bufs) > 0 && bufs[0] != nil &&
		bufs[0].Len() < int(bitutil.BytesForBits(int64(n))) {
		return fmt.Errorf("validity bitmap of %d bytes for %d values", bufs[0].Len(), n)
	}
	switch c := a.(type) {
	case *array.String:
		return validOffsets(c.ValueOffsets(), n, len(c.ValueBytes()))
	case *array.Binary:
		return validOffsets(c.ValueOffsets(), n, len(c.ValueBytes()))
	case *array.FixedSizeBinary:
		// A packed pseudonym: Value slices the buffer by width.
		w := c.DataType().(*arrow.FixedSizeBinaryType).ByteWidth
		size := 0
		if bufs := a.Data().Buffers(); len(bufs) > 1 && bufs[1] != nil {
			size = bufs[1].Len()
		}
		if size < n*w {
			return fmt.Errorf("%d bytes for %d values of %d", size, n, w)
		}
	}
	return nil
}

// validOffsets checks that n values' offsets rise and stay within size bytes.
func validOffsets(offsets []int32, n, size int) error {
	if n == 0 {
		return nil
	}
	if len(offsets) < n+1 {
		return fmt.Errorf("%d offsets for %d values", len(offsets), n)
	}
	if offsets[0] < 0 {
		return fmt.Errorf("offset %d", offsets[0])
	}
	for i, o := range offsets[1 : n+1] {
		if o < offsets[i] {
			return fmt.Errorf("offset %d of value %d falls back from %d", o, i, offsets[i])
		}
	}
	if int(offsets[n]) > size {
		return fmt.Errorf("offsets reach byte %d of %d", offsets[n], size)
	}
	return nil
}
