// Package cachefile writes and reads the files readers keep in the store's
// cache folder (an attendance index, a roster): derived data, each file
// named by a magic string and a format number and ended by a CRC-32C of
// every byte before it, so a file of another kind, another format or
// damaged is found before anything in it is used, and the reader derives
// it from the store again.
package cachefile

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"

	"earlyhelp/pipeline/atomicfile"
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// Write writes path atomically: magic, format, what fn encodes, and the
// checksum. An error fn or the encoder meets leaves path as it was.
func Write(path, magic string, format uint64, fn func(*Encoder)) error {
	return atomicfile.Write(path, 0o640, func(w io.Writer) error {
		h := crc32.New(crcTable)
		bw := bufio.NewWriterSize(io.MultiWriter(w, h), 1<<20)
		enc := &Encoder{w: bw}
		enc.Bytes([]byte(magic))
		enc.Uvarint(format)
		fn(enc)
		if enc.err != nil {
			return enc.err
		}
		if err := bw.Flush(); err != nil {
			return err
		}
		return binary.Write(w, binary.LittleEndian, h.Sum32())
	})
}

// Read reads the file at path with fn, which must read the whole body
// after Header (Read checks the magic and format first). A missing file
// is (false, nil); one of another kind or format, damaged, or that fn
// finds wrong is an error, for the caller to derive from the store instead.
func Read(path, magic string, format uint64, fn func(*Decoder) error) (found bool, err error) {
	f, size, err := open(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	if size < int64(len(magic))+4 {
		return false, errors.New("too short")
	}
	h := crc32.New(crcTable)
	body := io.LimitReader(f, size-4)
	d := NewDecoder(io.TeeReader(body, h), size-4)
	if err := d.Header(magic, format); err != nil {
		return false, err
	}
	if err := fn(d); err != nil {
		return false, err
	}
	if d.err != nil {
		return false, d.err
	}
	if d.left != 0 {
		return false, fmt.Errorf("%d bytes after the end", d.left)
	}
	var sum uint32
	if err := binary.Read(f, binary.LittleEndian, &sum); err != nil {
		return false, err
	}
	if sum != h.Sum32() {
		return false, errors.New("checksum does not match: the file is damaged")
	}
	return true, nil
}

// ReadHead reads the start of the file at path with fn, after its magic
// and format, without its checksum: enough to tell that a file need not be
// written again, never to trust what it holds.
func ReadHead(path, magic string, format uint64, fn func(*Decoder) error) error {
	f, size, err := open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	d := NewDecoder(f, size-4)
	if err := d.Header(magic, format); err != nil {
		return err
	}
	if err := fn(d); err != nil {
		return err
	}
	return d.err
}

// open opens path for reading, with its size.
func open(path string) (*os.File, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, fi.Size(), nil
}

// An Encoder writes varints, strings and bytes, keeping the first error.
type Encoder struct {
	w   *bufio.Writer
	buf [binary.MaxVarintLen64]byte
	err error
}

// Bytes writes b as it is.
func (e *Encoder) Bytes(b []byte) {
	if e.err == nil {
		_, e.err = e.w.Write(b)
	}
}

func (e *Encoder) Uvarint(v uint64) { e.Bytes(binary.AppendUvarint(e.buf[:0], v)) }
func (e *Encoder) Varint(v int64)   { e.Bytes(binary.AppendVarint(e.buf[:0], v)) }

// Str writes s's length, then s.
func (e *Encoder) Str(s string) {
	e.Uvarint(uint64(len(s)))
	if e.err == nil {
		_, e.err = e.w.WriteString(s)
	}
}

// A Decoder reads what an Encoder wrote, never trusting a length beyond
// the bytes left, so a damaged file cannot ask for a huge allocation. It
// keeps the first error; once it has one, it reads zeros.
type Decoder struct {
	r    *bufio.Reader
	left int64 // bytes of the body not yet read
	err  error
}

// NewDecoder reads the n bytes of r (a file's body, without its checksum).
func NewDecoder(r io.Reader, n int64) *Decoder {
	return &Decoder{r: bufio.NewReaderSize(r, 1<<20), left: n}
}

// Err is the first error the decoder met.
func (d *Decoder) Err() error { return d.err }

// Fail records err as the decoder's error unless it has one already, for
// a reader that finds what it read wrong; it returns the decoder's error.
func (d *Decoder) Fail(err error) error {
	if d.err == nil {
		d.err = err
	}
	return d.err
}

// Header reads magic and format and checks them.
func (d *Decoder) Header(magic string, format uint64) error {
	if m := d.Bytes(len(magic)); d.err == nil && string(m) != magic {
		return d.Fail(fmt.Errorf("not a %s file", magic))
	}
	if v := d.Uvarint(); d.err == nil && v != format {
		return d.Fail(fmt.Errorf("format %d, not %d", v, format))
	}
	return d.err
}

func (d *Decoder) count(n int64) {
	d.left -= n
	if d.left < 0 && d.err == nil {
		d.err = io.ErrUnexpectedEOF
	}
}

// ReadByte reads a byte of a varint, counted against the bytes left.
func (d *Decoder) ReadByte() (byte, error) {
	b, err := d.r.ReadByte()
	if err == nil {
		d.count(1)
	}
	return b, err
}

func (d *Decoder) Uvarint() uint64 { return readVarint(d, binary.ReadUvarint) }
func (d *Decoder) Varint() int64   { return readVarint(d, binary.ReadVarint) }

// readVarint reads a varint with read, or 0 once the decoder has an error.
func readVarint[T uint64 | int64](d *Decoder, read func(io.ByteReader) (T, error)) T {
	if d.err != nil {
		return 0
	}
	v, err := read(d)
	if err != nil {
		d.Fail(err)
		return 0
	}
	return v
}

// DayBound bounds the days Day reads, so that a damaged file cannot make
// a grid or a sum of days overflow.
const DayBound = 1 << 28

// Day reads a day (days since 1970-01-01): math.MinInt32 (from the
// beginning of time), or one within DayBound of 1970.
func (d *Decoder) Day() int32 { return d.day(false) }

// Until reads a day that may also be math.MaxInt32 (for as long as it
// goes on).
func (d *Decoder) Until() int32 { return d.day(true) }

func (d *Decoder) day(open bool) int32 {
	v := d.Varint()
	if d.err == nil && v != math.MinInt32 && !(open && v == math.MaxInt32) && (v < -DayBound || v > DayBound) {
		d.Fail(fmt.Errorf("day %d out of range", v))
	}
	if d.err != nil {
		return 0
	}
	return int32(v)
}

// Length reads a count of items that take at least min bytes each.
func (d *Decoder) Length(min int64) int {
	n := d.Uvarint()
	if d.err == nil && (n > uint64(d.left) || int64(n)*min > d.left) {
		d.Fail(fmt.Errorf("a length of %d is more than the file holds", n))
	}
	if d.err != nil {
		return 0
	}
	return int(n)
}

// Bytes reads n bytes.
func (d *Decoder) Bytes(n int) []byte {
	if d.err != nil {
		return nil
	}
	if int64(n) > d.left { // before the allocation a damaged length asks for
		d.Fail(io.ErrUnexpectedEOF)
		return nil
	}
	b := make([]byte, n)
	if d.Fill(b); d.err != nil {
		return nil
	}
	return b
}

// Str reads a string Str wrote.
func (d *Decoder) Str() string { return string(d.Bytes(d.Length(1))) }

// Strs writes a list of strings as their lengths, then their bytes end to
// end, for Decoder.Strs to read back in one allocation.
func (e *Encoder) Strs(ss []string) {
	e.Uvarint(uint64(len(ss)))
	for _, s := range ss {
		e.Uvarint(uint64(len(s)))
	}
	for _, s := range ss {
		if e.err == nil {
			_, e.err = e.w.WriteString(s)
		}
	}
}

// Strs reads what Encoder.Strs wrote. The strings share one copy of their
// bytes, laid out in the order written: a reader that keeps them all keeps
// one allocation, not one each.
func (d *Decoder) Strs() []string {
	lens := make([]int, d.Length(1))
	total := 0
	for i := range lens {
		lens[i] = d.Length(0)
		total += lens[i]
		if d.err == nil && int64(total) > d.left {
			d.Fail(fmt.Errorf("strings of %d bytes are more than the file holds", total))
		}
	}
	all := string(d.Bytes(total))
	if d.err != nil {
		return nil
	}
	out := make([]string, len(lens))
	at := 0
	for i, n := range lens {
		out[i] = all[at : at+n]
		at += n
	}
	return out
}

// Fill reads len(b) bytes into b, for a reader that places what it reads
// rather than holding a copy.
func (d *Decoder) Fill(b []byte) {
	if d.err != nil {
		clear(b)
		return
	}
	if int64(len(b)) > d.left {
		d.Fail(io.ErrUnexpectedEOF)
		clear(b)
		return
	}
	if _, err := io.ReadFull(d.r, b); err != nil {
		d.Fail(err)
		clear(b)
		return
	}
	d.count(int64(len(b)))
}

// Discard reads n bytes and drops them.
func (d *Decoder) Discard(n int) {
	if d.err != nil {
		return
	}
	if int64(n) > d.left {
		d.Fail(io.ErrUnexpectedEOF)
		return
	}
	if _, err := d.r.Discard(n); err != nil {
		d.Fail(err)
		return
	}
	d.count(int64(n))
}
