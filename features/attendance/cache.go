package attendance

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"earlyhelp/features"
	"earlyhelp/features/cachefile"
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

// writeCache writes c to path atomically (cachefile.Write).
func writeCache(path string, c cached) error {
	return cachefile.Write(path, cacheMagic, cacheFormat, func(enc *cachefile.Encoder) {
		idx := c.idx
		enc.Varint(int64(c.since))
		enc.Uvarint(uint64(len(c.deliveries)))
		for _, d := range c.deliveries {
			enc.Str(d)
		}
		keys := make([]string, len(idx.pupils))
		for k, p := range idx.pupils {
			keys[p] = k
		}
		enc.Varint(int64(idx.start))
		enc.Uvarint(uint64(idx.days))
		enc.Uvarint(uint64(len(keys)))
		for _, k := range keys {
			enc.Str(k)
		}
		enc.Uvarint(uint64(len(idx.marks)))
		enc.Bytes(idx.marks)
		// Maps in slot order, so the same index makes the same file.
		slots := make([]int, 0, len(idx.stamps))
		for k := range idx.stamps {
			slots = append(slots, k)
		}
		slices.Sort(slots)
		enc.Uvarint(uint64(len(slots)))
		for _, k := range slots {
			enc.Uvarint(uint64(k))
			enc.Uvarint(uint64(idx.stamps[k]))
		}
		slots = slots[:0]
		for k := range idx.older {
			slots = append(slots, k)
		}
		slices.Sort(slots)
		enc.Uvarint(uint64(len(slots)))
		for _, k := range slots {
			vs := idx.older[k]
			enc.Uvarint(uint64(k))
			enc.Uvarint(uint64(len(vs)))
			for _, v := range vs {
				enc.Uvarint(uint64(v.mark))
				enc.Uvarint(uint64(v.stamp))
			}
		}
		enc.Uvarint(uint64(len(idx.schools)))
		for _, ss := range idx.schools {
			enc.Uvarint(uint64(len(ss)))
			for _, s := range ss {
				enc.Varint(int64(s.urn))
				enc.Varint(int64(s.last))
			}
		}
	})
}

// readCache reads the cache at path. A missing file is (cached{}, false,
// nil); a file of another format or damaged is an error, for the caller to
// read the store instead.
func readCache(path string) (c cached, found bool, err error) {
	found, err = cachefile.Read(path, cacheMagic, cacheFormat, func(d *cachefile.Decoder) error {
		c, err = decodeCached(d)
		return err
	})
	if err != nil || !found {
		return cached{}, false, err
	}
	return c, true, nil
}

// readCacheHead reads what deliveries from which day the cache at path was
// read from, without the index or its checksum: enough to tell that the
// cache need not be written again, not to trust the index.
func readCacheHead(path string) (c cached, err error) {
	err = cachefile.ReadHead(path, cacheMagic, cacheFormat, func(d *cachefile.Decoder) error {
		return decodeHead(d, &c)
	})
	if err != nil {
		return cached{}, err
	}
	return c, nil
}

// maxCacheDays bounds an index's days (a century), so a damaged file
// cannot make a grid overflow.
const maxCacheDays = 36600

// decodeHead reads since and the deliveries.
func decodeHead(d *cachefile.Decoder, c *cached) error {
	c.since = features.Day(d.Day())
	c.deliveries = make([]string, d.Length(1))
	for i := range c.deliveries {
		c.deliveries[i] = d.Str()
	}
	return d.Err()
}

// decodeCached reads a cache's body after its magic and format.
func decodeCached(d *cachefile.Decoder) (cached, error) {
	var c cached
	if err := decodeHead(d, &c); err != nil {
		return c, err
	}
	idx := &Index{older: map[int][]version{}, stamps: map[int]uint32{}}
	idx.start = features.Day(d.Day())
	if idx.days = int(d.Uvarint()); d.Err() == nil && (idx.days > maxCacheDays || c.since != features.Day(math.MinInt32) && idx.days > 0 && idx.start < c.since) {
		return c, fmt.Errorf("%d days from day %d, read from day %d", idx.days, idx.start, c.since)
	}
	pupils := d.Length(1)
	idx.pupils = make(map[string]int32, pupils)
	for p := range pupils {
		idx.pupils[d.Str()] = int32(p)
	}
	n := d.Length(1)
	if d.Err() == nil && (len(idx.pupils) != pupils || n != pupils*idx.days*2) {
		return c, fmt.Errorf("%d slots for %d pupils over %d days", n, pupils, idx.days)
	}
	idx.marks = d.Bytes(n)
	for _, m := range idx.marks {
		if m&^stampedBit > markMissing {
			return c, fmt.Errorf("no mark %d", m)
		}
	}
	for range d.Length(2) {
		k, st := d.Uvarint(), d.Uvarint()
		if d.Err() == nil && (k >= uint64(n) || st > 1<<32-1 || idx.marks[k]&stampedBit == 0) {
			return c, fmt.Errorf("a stamp out of place at slot %d", k)
		}
		idx.stamps[int(k)] = uint32(st)
	}
	for range d.Length(2) {
		k := d.Uvarint()
		vs := make([]version, d.Length(2))
		for i := range vs {
			m, st := d.Uvarint(), d.Uvarint()
			if d.Err() == nil && (m > uint64(markMissing) || st > 1<<32-1) {
				return c, errors.New("an older version out of range")
			}
			vs[i] = version{uint8(m), uint32(st)}
		}
		if d.Err() == nil && k >= uint64(n) {
			return c, fmt.Errorf("older versions out of place at slot %d", k)
		}
		idx.older[int(k)] = vs
	}
	schools := d.Length(1)
	if d.Err() == nil && schools > pupils {
		return c, fmt.Errorf("schools for %d pupils of %d", schools, pupils)
	}
	idx.schools = make([][]schoolSeen, schools)
	for p := range idx.schools {
		ss := make([]schoolSeen, d.Length(2))
		for i := range ss {
			ss[i] = schoolSeen{urn: int32(d.Varint()), last: features.Day(d.Day())}
		}
		idx.schools[p] = ss
	}
	if err := d.Err(); err != nil {
		return c, err
	}
	c.idx = idx
	return c, nil
}
