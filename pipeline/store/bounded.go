package store

import (
	"errors"
	"fmt"

	"github.com/apache/arrow/go/v15/arrow/memory"
)

// ErrUndecodable means a store file could not be decoded as the Arrow IPC
// file the store wrote.
var ErrUndecodable = errors.New("store file cannot be decoded")

// lz4MaxRatio is the most an LZ4 frame can expand: a match of 255+ bytes
// costs at least one byte.
const lz4MaxRatio = 256

// maxBuffer is the largest buffer a sound store file of size bytes can make
// the decoder allocate: the whole file decompressed at LZ4's best ratio, and
// a little for the metadata.
func maxBuffer(size int64) int {
	const slack = 1 << 20
	if size > (1<<62)/lz4MaxRatio {
		return 1 << 62
	}
	return int(size)*lz4MaxRatio + slack
}

// boundedAllocator refuses, by panicking as the decoder does on damage, a
// buffer larger than max. A damaged buffer header may claim any
// uncompressed size, and the decoder allocates what it claims before
// decoding a byte: an exabyte is a panic the scan recovers, but a terabyte
// could end the process with an out-of-memory error, which no recover
// catches.
type boundedAllocator struct {
	memory.Allocator
	max int
}

func (a boundedAllocator) check(size int) {
	if size > a.max {
		panic(fmt.Sprintf("a %d-byte buffer, more than the file can hold decompressed (%d)", size, a.max))
	}
}

func (a boundedAllocator) Allocate(size int) []byte {
	a.check(size)
	return a.Allocator.Allocate(size)
}

func (a boundedAllocator) Reallocate(size int, b []byte) []byte {
	a.check(size)
	return a.Allocator.Reallocate(size, b)
}
