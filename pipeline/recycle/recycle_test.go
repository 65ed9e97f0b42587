package recycle

import (
	"testing"

	"github.com/apache/arrow/go/v15/arrow/memory"
)

// TestRecycler: a freed buffer is handed out again, zeroed; no more than
// the bound is kept; Close gives everything back.
func TestRecycler(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	r := New(mem, 4096)
	a := r.Allocate(1000)
	if len(a) != 1000 || cap(a) != 1024 {
		t.Fatalf("len %d cap %d; want 1000 in a 1024 class", len(a), cap(a))
	}
	a[0], a[999] = 7, 9
	r.Free(a)
	b := r.Allocate(900)
	if &b[:1][0] != &a[:1][0] {
		t.Error("a freed buffer of the class was not reused")
	}
	if b[0] != 0 {
		t.Error("a reused buffer was not zeroed")
	}
	b = r.Reallocate(3000, b) // a bigger class: the old one is kept
	if len(b) != 3000 || b[0] != 0 {
		t.Fatalf("reallocated to %d bytes", len(b))
	}
	big := r.Allocate(8192) // over the bound once freed: not kept
	r.Free(big)
	r.Free(b)
	if r.kept > 4096 {
		t.Errorf("kept %d bytes; bound 4096", r.kept)
	}
	r.Close()
	mem.AssertSize(t, 0)
	after := r.Allocate(10) // after Close, straight through
	r.Free(after)
	mem.AssertSize(t, 0)
}
