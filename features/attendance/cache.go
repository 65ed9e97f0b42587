package attendance

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"slices"

	"earlyhelp/features"
	"earlyhelp/pipeline/atomicfile"
)

// The index cache keeps a weekly run's index on disk with the deliveries
// it was read from, so the next week's run reads only the deliveries that
// came since (resume.go) instead of a year of attendance. It is derived
// data: any doubt (another format, a damaged file, a store whose
// deliveries no longer begin with the ones named) and the index is read
// from the store again.

// cacheFile is the cache's name in the store's cache folder.
const cacheFile = "attendance-index.bin"

// cacheMagic begins the file. cacheFormat changes whenever what an index
// holds, or how rows become marks (markOf, loader.record), changes: an old
// file is then read again from the store rather than trusted.
const (
	cacheMagic  = "EHATTIDX"
	cacheFormat = 1
)

// cached is what the cache file holds.
type cached struct {
	since      features.Day // the index holds the rows dated on or after since
	deliveries []string     // the store's names of the deliveries read, in order
	idx        *Index
}

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// writeCache writes c to path atomically. A CRC-32C of every byte before
// it ends the file, so damage is found before the index is used.
func writeCache(path string, c cached) error {
	return atomicfile.Write(path, 0o640, func(w io.Writer) error {
		h := crc32.New(crcTable)
		bw := bufio.NewWriterSize(io.MultiWriter(w, h), 1<<20)
		enc := encoder{w: bw}
		idx := c.idx
		enc.bytes([]byte(cacheMagic))
		enc.uvarint(cacheFormat)
		enc.varint(int64(c.since))
		enc.uvarint(uint64(len(c.deliveries)))
		for _, d := range c.deliveries {
			enc.str(d)
		}
		keys := make([]string, len(idx.pupils))
		for k, p := range idx.pupils {
			keys[p] = k
		}
		enc.varint(int64(idx.start))
		enc.uvarint(uint64(idx.days))
		enc.uvarint(uint64(len(keys)))
		for _, k := range keys {
			enc.str(k)
		}
		enc.uvarint(uint64(len(idx.marks)))
		enc.bytes(idx.marks)
		// Maps in slot order, so the same index makes the same file.
		slots := make([]int, 0, len(idx.stamps))
		for k := range idx.stamps {
			slots = append(slots, k)
		}
		slices.Sort(slots)
		enc.uvarint(uint64(len(slots)))
		for _, k := range slots {
			enc.uvarint(uint64(k))
			enc.uvarint(uint64(idx.stamps[k]))
		}
		slots = slots[:0]
		for k := range idx.older {
			slots = append(slots, k)
		}
		slices.Sort(slots)
		enc.uvarint(uint64(len(slots)))
		for _, k := range slots {
			vs := idx.older[k]
			enc.uvarint(uint64(k))
			enc.uvarint(uint64(len(vs)))
			for _, v := range vs {
				enc.uvarint(uint64(v.mark))
				enc.uvarint(uint64(v.stamp))
			}
		}
		enc.uvarint(uint64(len(idx.schools)))
		for _, ss := range idx.schools {
			enc.uvarint(uint64(len(ss)))
			for _, s := range ss {
				enc.varint(int64(s.urn))
				enc.varint(int64(s.last))
			}
		}
		if enc.err != nil {
			return enc.err
		}
		if err := bw.Flush(); err != nil {
			return err
		}
		return binary.Write(w, binary.LittleEndian, h.Sum32())
	})
}

// readCache reads the cache at path. A missing file is (cached{}, false,
// nil); a file of another format or damaged is an error, for the caller to
// read the store instead.
func readCache(path string) (cached, bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return cached{}, false, nil
	}
	if err != nil {
		return cached{}, false, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return cached{}, false, err
	}
	if fi.Size() < int64(len(cacheMagic))+4 {
		return cached{}, false, errors.New("too short")
	}
	h := crc32.New(crcTable)
	body := io.LimitReader(f, fi.Size()-4)
	dec := &decoder{r: bufio.NewReaderSize(io.TeeReader(body, h), 1<<20), left: fi.Size() - 4}
	c, err := dec.cached()
	if err != nil {
		return cached{}, false, err
	}
	if dec.left != 0 {
		return cached{}, false, fmt.Errorf("%d bytes after the index", dec.left)
	}
	var sum uint32
	if err := binary.Read(f, binary.LittleEndian, &sum); err != nil {
		return cached{}, false, err
	}
	if sum != h.Sum32() {
		return cached{}, false, errors.New("checksum does not match: the file is damaged")
	}
	return c, true, nil
}

// readCacheHead reads what deliveries from which day the cache at path was
// read from, without the index or its checksum: enough to tell that the
// cache need not be written again, not to trust the index.
func readCacheHead(path string) (cached, error) {
	f, err := os.Open(path)
	if err != nil {
		return cached{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return cached{}, err
	}
	d := &decoder{r: bufio.NewReader(f), left: fi.Size() - 4}
	var c cached
	if err := d.head(&c); err != nil {
		return cached{}, err
	}
	return c, nil
}

type encoder struct {
	w   *bufio.Writer
	buf [binary.MaxVarintLen64]byte
	err error
}

func (e *encoder) bytes(b []byte) {
	if e.err == nil {
		_, e.err = e.w.Write(b)
	}
}

func (e *encoder) uvarint(v uint64) { e.bytes(binary.AppendUvarint(e.buf[:0], v)) }
func (e *encoder) varint(v int64)   { e.bytes(binary.AppendVarint(e.buf[:0], v)) }
func (e *encoder) str(s string) {
	e.uvarint(uint64(len(s)))
	if e.err == nil {
		_, e.err = e.w.WriteString(s)
	}
}

// decoder reads what encoder wrote, never trusting a length beyond the
// bytes left, so a damaged file cannot ask for a huge allocation.
type decoder struct {
	r    *bufio.Reader
	left int64 // bytes of the body not yet read
	err  error
}

func (d *decoder) count(n int64) {
	d.left -= n
	if d.left < 0 && d.err == nil {
		d.err = io.ErrUnexpectedEOF
	}
}

// ReadByte reads a byte of a varint, counted against the bytes left.
func (d *decoder) ReadByte() (byte, error) {
	b, err := d.r.ReadByte()
	if err == nil {
		d.count(1)
	}
	return b, err
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, err := binary.ReadUvarint(d)
	if err != nil && d.err == nil {
		d.err = err
	}
	if d.err != nil {
		return 0
	}
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, err := binary.ReadVarint(d)
	if err != nil && d.err == nil {
		d.err = err
	}
	if d.err != nil {
		return 0
	}
	return v
}

// maxCacheDays bounds an index's days (a century), and dayBound its days,
// so a damaged file cannot make a grid or a day sum overflow.
const (
	maxCacheDays = 36600
	dayBound     = 1 << 28
)

// day reads a day: math.MinInt32 (from the beginning of time), or one
// within dayBound of 1970.
func (d *decoder) day() features.Day {
	v := d.varint()
	if d.err == nil && v != math.MinInt32 && (v < -dayBound || v > dayBound) {
		d.err = fmt.Errorf("day %d out of range", v)
	}
	return features.Day(v)
}

// length reads a count of items at least min bytes each.
func (d *decoder) length(min int64) int {
	n := d.uvarint()
	if d.err == nil && (n > uint64(d.left) || int64(n)*min > d.left) {
		d.err = fmt.Errorf("a length of %d is more than the file holds", n)
	}
	if d.err != nil {
		return 0
	}
	return int(n)
}

func (d *decoder) bytes(n int) []byte {
	if d.err != nil {
		return nil
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(d.r, b); err != nil {
		d.err = err
		return nil
	}
	d.count(int64(n))
	return b
}

func (d *decoder) str() string { return string(d.bytes(d.length(1))) }

// head reads the magic, the format, since and the deliveries.
func (d *decoder) head(c *cached) error {
	if magic := d.bytes(len(cacheMagic)); d.err == nil && string(magic) != cacheMagic {
		return errors.New("not an attendance index")
	}
	if v := d.uvarint(); d.err == nil && v != cacheFormat {
		return fmt.Errorf("format %d, not %d", v, cacheFormat)
	}
	c.since = d.day()
	c.deliveries = make([]string, d.length(1))
	for i := range c.deliveries {
		c.deliveries[i] = d.str()
	}
	return d.err
}

func (d *decoder) cached() (cached, error) {
	var c cached
	if err := d.head(&c); err != nil {
		return c, err
	}
	idx := &Index{older: map[int][]version{}, stamps: map[int]uint32{}}
	idx.start = d.day()
	if idx.days = int(d.uvarint()); d.err == nil && (idx.days > maxCacheDays || c.since != features.Day(math.MinInt32) && idx.days > 0 && idx.start < c.since) {
		return c, fmt.Errorf("%d days from day %d, read from day %d", idx.days, idx.start, c.since)
	}
	pupils := d.length(1)
	idx.pupils = make(map[string]int32, pupils)
	for p := range pupils {
		idx.pupils[d.str()] = int32(p)
	}
	n := d.length(1)
	if d.err == nil && (len(idx.pupils) != pupils || n != pupils*idx.days*2) {
		return c, fmt.Errorf("%d slots for %d pupils over %d days", n, pupils, idx.days)
	}
	idx.marks = d.bytes(n)
	for _, m := range idx.marks {
		if m&^stampedBit > markMissing {
			return c, fmt.Errorf("no mark %d", m)
		}
	}
	for range d.length(2) {
		k, st := d.uvarint(), d.uvarint()
		if d.err == nil && (k >= uint64(n) || st > 1<<32-1 || idx.marks[k]&stampedBit == 0) {
			return c, fmt.Errorf("a stamp out of place at slot %d", k)
		}
		idx.stamps[int(k)] = uint32(st)
	}
	for range d.length(2) {
		k := d.uvarint()
		vs := make([]version, d.length(2))
		for i := range vs {
			m, st := d.uvarint(), d.uvarint()
			if d.err == nil && (m > uint64(markMissing) || st > 1<<32-1) {
				return c, errors.New("an older version out of range")
			}
			vs[i] = version{uint8(m), uint32(st)}
		}
		if d.err == nil && k >= uint64(n) {
			return c, fmt.Errorf("older versions out of place at slot %d", k)
		}
		idx.older[int(k)] = vs
	}
	schools := d.length(1)
	if d.err == nil && schools > pupils {
		return c, fmt.Errorf("schools for %d pupils of %d", schools, pupils)
	}
	idx.schools = make([][]schoolSeen, schools)
	for p := range idx.schools {
		ss := make([]schoolSeen, d.length(2))
		for i := range ss {
			ss[i] = schoolSeen{urn: int32(d.varint()), last: d.day()}
		}
		idx.schools[p] = ss
	}
	if d.err != nil {
		return c, d.err
	}
	c.idx = idx
	return c, nil
}
