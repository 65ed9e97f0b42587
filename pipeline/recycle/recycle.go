// Package recycle is an Arrow allocator that reuses released buffers, shared
// by the connectors and the store.
package recycle

import (
	"math/bits"
	"sync"

	"github.com/apache/arrow/go/v15/arrow/memory"
)

// A Recycler is an Arrow allocator that keeps the buffers of released
// arrays and hands them to the next ones, so a long stream of records (the
// row loaders' records, the store's compressed buffers) costs the garbage
// collector a few records' worth of buffers instead of one set per record.
// Buffers come from the wrapped allocator in power-of-two sizes and go
// back to it on Close, or when more than the Recycler's bound would be
// kept. Records are released on other goroutines than those that make
// them, so it is safe for concurrent use.
type Recycler struct {
	mem    memory.Allocator
	mu     sync.Mutex
	free   map[int][][]byte // by capacity
	kept   int              // bytes in free
	keep   int              // the bound on kept
	closed bool
}

var _ memory.Allocator = (*Recycler)(nil)

// New wraps mem, keeping up to keep bytes for reuse. Close it
// when the records made from it have been released, or let it go with
// what it keeps.
func New(mem memory.Allocator, keep int) *Recycler {
	return &Recycler{mem: mem, free: make(map[int][][]byte), keep: keep}
}

// class is the capacity of a buffer of size bytes.
func class(size int) int {
	if size <= 64 {
		return 64
	}
	return 1 << bits.Len(uint(size-1))
}

// Allocate returns size zeroed bytes.
func (r *Recycler) Allocate(size int) []byte {
	c := class(size)
	r.mu.Lock()
	if l := r.free[c]; len(l) > 0 {
		b := l[len(l)-1]
		r.free[c] = l[:len(l)-1]
		r.kept -= c
		r.mu.Unlock()
		b = b[:size]
		clear(b)
		return b
	}
	r.mu.Unlock()
	return r.mem.Allocate(c)[:size:c]
}

// Reallocate grows or shrinks b to size, keeping its bytes; bytes past
// them are zero.
func (r *Recycler) Reallocate(size int, b []byte) []byte {
	if cap(b) >= size {
		if size > len(b) {
			clear(b[len(b):size])
		}
		return b[:size]
	}
	nb := r.Allocate(size)
	copy(nb, b)
	r.Free(b)
	return nb
}

// Free keeps b for reuse, or returns it to the wrapped allocator.
func (r *Recycler) Free(b []byte) {
	b = b[:cap(b)]
	r.mu.Lock()
	if !r.closed && r.kept+len(b) <= r.keep {
		r.free[len(b)] = append(r.free[len(b)], b)
		r.kept += len(b)
		r.mu.Unlock()
		return
	}
	r.mu.Unlock()
	r.mem.Free(b)
}

// Close returns the kept buffers to the wrapped allocator; buffers freed
// after it go straight back too.
func (r *Recycler) Close() {
	r.mu.Lock()
	free := r.free
	r.free, r.kept, r.closed = nil, 0, true
	r.mu.Unlock()
	for _, l := range free {
		for _, b := range l {
			r.mem.Free(b)
		}
	}
}
