package attendance

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/features"
	ft "earlyhelp/features/featurestest"
	"earlyhelp/pipeline/contract"
)

// withUPN is rec with its UPN replaced by a pseudonym of it, ten bytes:
// packed, as the store keeps it now, or spelled in hex, as before.
func withUPN(t *testing.T, mem memory.Allocator, rec arrow.Record, packed bool) arrow.Record {
	t.Helper()
	i := rec.Schema().FieldIndices(contract.ColUPN)[0]
	var g features.Getter
	upn := g.Pseudonyms(rec, contract.ColUPN)
	if g.Err != nil {
		t.Fatal(g.Err)
	}
	var col arrow.Array
	typ := arrow.DataType(arrow.BinaryTypes.String)
	if packed {
		typ = &arrow.FixedSizeBinaryType{ByteWidth: 10}
		b := array.NewFixedSizeBinaryBuilder(mem, typ.(*arrow.FixedSizeBinaryType))
		for r := range int(rec.NumRows()) {
			sum := sha256.Sum256([]byte(upn.Value(r)))
			b.Append(sum[:10])
		}
		col = b.NewArray()
		b.Release()
	} else {
		b := array.NewStringBuilder(mem)
		for r := range int(rec.NumRows()) {
			sum := sha256.Sum256([]byte(upn.Value(r)))
			b.Append(hex.EncodeToString(sum[:10]))
		}
		col = b.NewArray()
		b.Release()
	}
	defer col.Release()
	fields, cols := slices.Clone(rec.Schema().Fields()), slices.Clone(rec.Columns())
	fields[i], cols[i] = arrow.Field{Name: contract.ColUPN, Type: typ}, col
	return array.NewRecord(arrow.NewSchema(fields, nil), cols, rec.NumRows())
}

// TestPackedSameIndex: a store holding UPN pseudonyms packed gives the
// index one holding them in hex gives, keyed by the hex, mark for mark;
// and so does a store holding both, one delivery packed and the next in
// hex, whose pupils are first met one way and then the other.
func TestPackedSameIndex(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	_, delivered := weeklyDeliveries(mem)
	recs := delivered[len(delivered)-1]
	var spelt, packed, mixed []arrow.Record
	for i, r := range recs {
		spelt = append(spelt, withUPN(t, mem, r, false))
		packed = append(packed, withUPN(t, mem, r, true))
		r.Release()
		mixed = append(mixed, packed[i])
		if i%3 == 1 {
			mixed[i] = spelt[i]
		}
	}
	defer func() {
		for i := range spelt {
			spelt[i].Release()
			packed[i].Release()
		}
	}()
	ctx := context.Background()
	for _, since := range []features.Day{features.Day(math.MinInt32), features.DayOf(time.Date(2025, 1, 6, 0, 0, 0, 0, time.UTC))} {
		want, err := LoadSince(ctx, mem, &ft.SinceTables{Tables: ft.Tables{Source: spelt}}, since)
		if err != nil {
			t.Fatal(err)
		}
		if len(want.pupils) < 30 {
			t.Fatalf("%d pupils read; want the deliveries' 30 or more", len(want.pupils))
		}
		for name, recs := range map[string][]arrow.Record{"packed": packed, "packed and hex": mixed} {
			got, err := LoadSince(ctx, mem, &ft.SinceTables{Tables: ft.Tables{Source: recs}}, since)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			sameIndex(t, name, got, want)
		}
	}
}

// TestSameKey: the loader's compare of pseudonyms agrees with ==, a byte
// changed anywhere in a packed pseudonym, and at any width.
func TestSameKey(t *testing.T) {
	for _, n := range []int{0, 1, 7, 8, 9, 10, 15, 16, 17, 20} {
		a := make([]byte, n)
		for i := range a {
			a[i] = byte(0x30 + i)
		}
		if !sameKey(string(a), string(a)) {
			t.Errorf("width %d: a key is not the same as itself", n)
		}
		for i := range a {
			b := slices.Clone(a)
			b[i] ^= 0x40
			if sameKey(string(a), string(b)) {
				t.Errorf("width %d: keys differing at byte %d are the same", n, i)
			}
		}
		if n > 0 && sameKey(string(a), string(a[:n-1])) {
			t.Errorf("width %d: a key is the same as its first %d bytes", n, n-1)
		}
	}
}
