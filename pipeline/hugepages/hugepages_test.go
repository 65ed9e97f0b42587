package hugepages

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

func TestHeapSpans(t *testing.T) {
	for _, tc := range []struct {
		line string
		want []Span
	}{
		// The Go heap: anonymous, private, read-write, whole 4 MiB chunks.
		{"7dc00000-97000000 rw-p 00000000 00:00 0 ", []Span{{0x7dc00000, 0x97000000}}},
		{"7dc00000-7e000000 rw-p 00000000 00:00 0", []Span{{0x7dc00000, 0x7e000000}}},
		// A reservation the runtime has not mapped yet.
		{"7c000000-7dc00000 ---p 00000000 00:00 0 ", nil},
		// A thread's stack: 8 MiB less its guard page, not chunk-aligned.
		{"36e00000-37dff000 rw-p 00000000 00:00 0 ", nil},
		// Aligned at the start, not at the end.
		{"34c00000-34e01000 rw-p 00000000 00:00 0 ", nil},
		// The binary's data, and named mappings.
		{"0058e000-00599000 rw-p 0018e000 fe:00 9987750                            /tmp/ft", nil},
		{"8ac00000-8b000000 rw-p 00000000 00:00 0                          [stack]", nil},
		{"8ac00000-8b000000 rw-s 00000000 00:00 0 ", nil},
		{"garbage", nil},
		{"zz-7e000000 rw-p 00000000 00:00 0", nil},
	} {
		if got := heapSpans([]byte(tc.line)); !slices.Equal(got, tc.want) {
			t.Errorf("%q: got %x, want %x", tc.line, got, tc.want)
		}
	}
}

func TestBracketedAndMemTotal(t *testing.T) {
	for in, want := range map[string]string{
		"always [madvise] never\n": "madvise",
		"[always] madvise never\n": "always",
		"always madvise [never]\n": "never",
		"always madvise never\n":   "",
		"] [":                      "",
	} {
		if got := bracketed(in); got != want {
			t.Errorf("bracketed(%q) = %q, want %q", in, got, want)
		}
	}
	meminfo := "MemFree:        21000000 kB\nMemTotal:       24576000 kB\n"
	if got, want := memTotal([]byte(meminfo)), int64(24576000)<<10; got != want {
		t.Errorf("memTotal = %d, want %d", got, want)
	}
	if got := memTotal([]byte("MemTotal: lots\n")); got != 0 {
		t.Errorf("memTotal of a bad line = %d, want 0", got)
	}
}

// TestPrepareAdvisesTheHeap: heap allocated after Prepare lies in a
// mapping the kernel will back with huge pages, where heap allocated
// before it, in madvise mode, did not.
func TestPrepareAdvisesTheHeap(t *testing.T) {
	if m := Mode(); m != "madvise" {
		t.Skipf("the kernel's transparent-huge-page mode is %q; Prepare acts only in madvise mode", m)
	}
	before := make([]byte, 64<<20)
	if eligible(t, before) {
		t.Skip("this process's heap is already eligible for huge pages")
	}
	n, err := Prepare(512 << 20)
	if errors.Is(err, ErrNotAdvised) {
		t.Skipf("Prepare declined: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if n < 512<<20 {
		t.Errorf("advised %d bytes, want at least the 512 MiB mapped", n)
	}
	after := make([]byte, 64<<20)
	for i := 0; i < len(after); i += 4096 {
		after[i] = 1
	}
	if !eligible(t, after) {
		t.Error("heap allocated after Prepare is not in a mapping eligible for huge pages")
	}
}

// eligible reads /proc/self/smaps for the mapping holding b's first byte
// and returns its THPeligible flag.
func eligible(t *testing.T, b []byte) bool {
	t.Helper()
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Skipf("no /proc/self/smaps: %v", err)
	}
	addr := uint64(uintptr(unsafe.Pointer(&b[0])))
	in := false
	sc := bufio.NewScanner(bytes.NewReader(smaps))
	for sc.Scan() {
		line := sc.Text()
		if f := strings.Fields(line); len(f) > 0 && strings.Contains(f[0], "-") && !strings.HasSuffix(f[0], ":") {
			lo, hi, _ := strings.Cut(f[0], "-")
			start, err1 := strconv.ParseUint(lo, 16, 64)
			end, err2 := strconv.ParseUint(hi, 16, 64)
			in = err1 == nil && err2 == nil && start <= addr && addr < end
			continue
		}
		if v, ok := strings.CutPrefix(line, "THPeligible:"); ok && in {
			return strings.TrimSpace(v) == "1"
		}
	}
	t.Skip("smaps gives no THPeligible for the mapping")
	return false
}
