package connectors

import "unsafe"

// RawRows is a run of one delivery's rows as text, before any check: the
// cells' bytes end to end in one arena, which holds no pointers for the
// collector to scan or the write barrier to track. A connector fills it
// (RowLoader.Buffer, or RowLoader.Row, which copies), and the row loop
// checks it on a goroutine of its own.
type RawRows struct {
	Text  []byte  // the cells' bytes, end to end
	Cells []int32 // per cell: where it ends in Text
	Ends  []int32 // per row: where its cells end in Cells
	// Lines is, per row, its line in the delivery, the header being 1; a
	// negative line -n marks row n as the last row of a delivery that was
	// cut off mid-row, which the row loop quarantines as ReasonTruncated
	// without reading its cells.
	Lines []int64
}

// ReasonTruncated is the quarantine reason of a delivery's last row when
// the delivery ends mid-row (an export cut off).
const ReasonTruncated = "truncated"

// RawBytes bounds a RawRows' text, so that long rows do not blow the
// memory bound: a buffer is full at BatchRows rows or this many bytes.
const RawBytes = 8 << 20

// Len is the number of rows.
func (b *RawRows) Len() int { return len(b.Ends) }

// Full reports whether the buffer should be handed on (RowLoader.Submit)
// before another row is added.
func (b *RawRows) Full() bool { return len(b.Ends) >= BatchRows || len(b.Text) >= RawBytes }

// Add copies one row's cells in.
func (b *RawRows) Add(cells []string, line int64) {
	for _, c := range cells {
		b.Text = append(b.Text, c...)
		b.Cells = append(b.Cells, int32(len(b.Text)))
	}
	b.Ends = append(b.Ends, int32(len(b.Cells)))
	b.Lines = append(b.Lines, line)
}

// Row fills cells with row i's cells, which alias b.Text: they are good
// until b is reset.
func (b *RawRows) Row(i int, cells []string) []string {
	first := int32(0)
	if i > 0 {
		first = b.Ends[i-1]
	}
	start := int32(0)
	if first > 0 {
		start = b.Cells[first-1]
	}
	cells = cells[:0]
	for _, end := range b.Cells[first:b.Ends[i]] {
		cells = append(cells, unsafe.String(unsafe.SliceData(b.Text[start:end]), end-start))
		start = end
	}
	return cells
}

// Reset empties the buffer, keeping its memory.
func (b *RawRows) Reset() {
	b.Text, b.Cells, b.Ends, b.Lines = b.Text[:0], b.Cells[:0], b.Ends[:0], b.Lines[:0]
}
