package attendance

import (
	"slices"

	"earlyhelp/features"
	"earlyhelp/pipeline/cachefile"
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

// readResumed reads the cache at path into a loader that goes on from its
// index as of since (decodeResumed). A missing file is (cached{}, nil,
// nil); a file of another format, damaged, or read from after since is an
// error, for the caller to read the store instead.
func readResumed(path string, since features.Day) (c cached, ld *loader, err error) {
	found, err := cachefile.Read(path, cacheMagic, cacheFormat, func(d *cachefile.Decoder) error {
		c, ld, err = decodeResumed(d, since)
		return err
	})
	if err != nil || !found {
		return cached{}, nil, err
	}
	return c, ld, nil
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
