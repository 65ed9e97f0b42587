// Package hugepages has Linux back the Go heap with transparent huge pages
// where the system leaves that to each program (the "madvise" mode).
//
// Why: on the virtual machines councils and CI run on, a page's first
// touch is slow: about 10 µs per 4 KiB page on the bench machine, where a
// Go program touching 800 MiB of new heap took 2.25 s in 4 KiB pages and
// 0.06 s in 2 MiB ones. A 300,000-child backtest touches some 7 GiB: it
// spent 22 of its 120 CPU seconds in the kernel, 1.8 million page faults,
// and took 73.5-74.4 s; with huge pages it took 58.6-63.6 s, with 86,000
// to 94,000 faults and fewer TLB misses saving user time too. The Go
// runtime stopped asking for huge pages itself in Go 1.21.1.
//
// The advice applies to a mapping, and the runtime maps new heap as fresh
// mappings, 4 MiB at a time as the heap grows, each touched at once. So
// Prepare has the runtime map a large stretch of heap in one go, advises
// that one mapping, and frees the memory untouched: the runtime takes the
// lowest free addresses first, so the heap the program goes on to use lies
// in the advised stretch. Untouched memory costs no RAM, and the advice
// changes no result.
//
// The freed stretch stays mapped. The runtime's scavenger, which hands
// free heap back to the kernel a little at a time, works from the highest
// addresses down, so it spends itself on the untouched top of the stretch
// before the heap in use: a batch run stops returning memory it will soon
// fault in again, which on these machines costs more than it saves. A
// memory limit (backtest.max_memory) still holds: over it, the scavenger
// releases what it must at once. With a 3,500 MiB limit the same backtest
// peaked at 3,628 MiB in 66 s, against 3,558 MiB in 94 s without huge
// pages.
package hugepages

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// Mode is the kernel's transparent-huge-page setting: "always",
// "madvise", "never", or "" where the kernel has none.
func Mode() string {
	b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil {
		return ""
	}
	return bracketed(string(b))
}

// bracketed returns the setting a sysfs choice file marks as chosen: the
// file reads "always [madvise] never".
func bracketed(s string) string {
	i, j := strings.IndexByte(s, '['), strings.IndexByte(s, ']')
	if i < 0 || j < i {
		return ""
	}
	return s[i+1 : j]
}

// chunk is the unit the Go heap is mapped in: whole, aligned 4 MiB
// page-allocator chunks. Only mappings that start and end on a chunk
// boundary are advised, which leaves out thread stacks and the C
// library's mappings, where a huge page would mostly hold untouched
// memory.
const chunk = 4 << 20

// Span is one mapping of the process's address space, [Start, End).
type Span struct{ Start, End uintptr }

// heapSpans reads /proc/self/maps-formatted text and returns the private,
// anonymous, read-write mappings that are whole heap chunks.
func heapSpans(maps []byte) []Span {
	var out []Span
	for line := range strings.Lines(string(maps)) {
		// start-end perms offset dev inode, and a path for named ones.
		f := strings.Fields(line)
		if len(f) != 5 || f[1] != "rw-p" || f[4] != "0" {
			continue
		}
		lo, hi, ok := strings.Cut(f[0], "-")
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil || end <= start || start%chunk != 0 || end%chunk != 0 {
			continue
		}
		out = append(out, Span{uintptr(start), uintptr(end)})
	}
	return out
}

// Size is how much heap Prepare maps by default: half the machine's
// memory, small enough that the kernel's default overcommit check lets the
// mapping through. A heap that outgrows it (a million children peaked at
// 12.5 GiB on the 24 GiB bench machine) gets 4 KiB pages beyond it.
func Size() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	return memTotal(b) / 2
}

// memTotal is /proc/meminfo's MemTotal in bytes, 0 if it has none.
func memTotal(meminfo []byte) int64 {
	for line := range strings.SplitSeq(string(meminfo), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			f := strings.Fields(rest)
			if len(f) == 2 && f[1] == "kB" {
				if kb, err := strconv.ParseInt(f[0], 10, 64); err == nil {
					return kb << 10
				}
			}
		}
	}
	return 0
}

// ErrNotAdvised is Prepare's answer where advising would not help or
// would be unsafe; the program runs as it would without.
var ErrNotAdvised = errors.New("huge pages not advised")

// Prepare maps size bytes of heap at once, advises the heap's mappings to
// use huge pages and frees the memory untouched (see the package's
// comment on why it is not released to the kernel at once). It does
// nothing, with an error wrapping ErrNotAdvised, unless the kernel's mode
// is "madvise" (in "always" the heap has huge pages already), the kernel
// does not refuse to overcommit, and the address space is unlimited: the
// runtime dies, not errs, when it cannot map heap. Call it once, at the
// start of a batch command, before the heap grows.
func Prepare(size int64) (advised int64, err error) {
	if m := Mode(); m != "madvise" {
		return 0, fmt.Errorf("%w: the kernel's mode is %q", ErrNotAdvised, m)
	}
	if b, err := os.ReadFile("/proc/sys/vm/overcommit_memory"); err != nil || strings.TrimSpace(string(b)) == "2" {
		return 0, fmt.Errorf("%w: the kernel does not overcommit memory", ErrNotAdvised)
	}
	if !addressSpaceUnlimited() {
		return 0, fmt.Errorf("%w: the address space is limited (ulimit -v)", ErrNotAdvised)
	}
	if size < chunk {
		return 0, fmt.Errorf("%w: %d bytes is too little to map", ErrNotAdvised, size)
	}
	if strconv.IntSize < 64 {
		// A stretch of any use would not fit a 32-bit address space.
		return 0, fmt.Errorf("%w: a 32-bit process", ErrNotAdvised)
	}
	b := make([]byte, size)
	maps, err := os.ReadFile("/proc/self/maps")
	runtime.KeepAlive(b) // mapped until the maps are read; garbage after
	if err == nil {
		for _, s := range heapSpans(maps) {
			if e := madviseHuge(s); e != nil {
				err = e
				break
			}
			advised += int64(s.End - s.Start)
		}
	}
	runtime.GC()
	if err != nil {
		return advised, fmt.Errorf("huge pages: %w", err)
	}
	return advised, nil
}
