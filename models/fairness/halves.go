package fairness

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"earlyhelp/pipeline/rundir"
)

// halvesFrom is the smallest file readHalves splits: below it, a second
// reader costs more than it saves.
var halvesFrom int64 = 8 << 20

// readHalves reads the scored children in f as ReadCSV does, the file's
// two halves side by side. A backtest's file holds a council's children
// on a dozen dates, 1.5 million rows at 300,000 children: read on one
// core, it was two to four seconds in which the audit left the other
// idle. The halves meet at a line's end, so a file is split only where
// every line is a record of its own: no quote (a quoted field may hold a
// newline), no carriage return and no blank line (which the reader
// skips, and the line numbers of errors would then not add up). Any
// other file, and a small one, is read whole.
func readHalves(f *os.File) ([]Row, error) {
	size, split, records, ok, err := halfway(f)
	if err != nil {
		return nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	if !ok {
		return ReadCSV(f)
	}
	first, err := newRowReader(io.NewSectionReader(f, 0, split))
	if err != nil {
		return nil, err
	}
	second := *first
	second.recs = rundir.NewCSVLines(bufio.NewReaderSize(io.NewSectionReader(f, split, size-split), 1<<16), first.fields)
	second.shared, second.ids = map[string]string{}, nil
	second.line = 1 + records // the header's line, then the first half's records
	// The second half's records, guessed from its bytes, with room to
	// spare: rows that do not fit are copied once at the end.
	guess := int(float64(records)*float64(size-split)/float64(split)*1.01) + 64
	all := make([]Row, 0, records+guess)
	var (
		a, b       []Row
		errA, errB error
		wg         sync.WaitGroup
	)
	wg.Go(func() { a, errA = first.readAll(all[:0:records]) })
	wg.Go(func() { b, errB = second.readAll(all[records:records]) })
	wg.Wait()
	if errA != nil {
		return nil, errA // the earlier line's error, as a reading from the top meets it
	}
	if errB != nil {
		return nil, errB
	}
	if len(a) != records {
		return nil, fmt.Errorf("read %d records of the first half's %d", len(a), records)
	}
	if len(b) == 0 || &b[0] == &all[:records+1][records] {
		return all[:records+len(b)], nil // the second half filled the rest in place
	}
	return append(a[:len(a):len(a)], b...), nil
}

// readAll appends the rows of every record to dst.
func (rr *rowReader) readAll(dst []Row) ([]Row, error) {
	for {
		rec, err := rr.next()
		if errors.Is(err, io.EOF) {
			return dst, nil
		}
		if err != nil {
			return nil, err
		}
		row, err := rr.row(rec)
		if err != nil {
			return nil, err
		}
		dst = append(dst, row)
	}
}

// halfway reads f once: its size, the offset of the first line that
// starts at or after its middle, and how many records (lines after the
// header) come before that line. ok is false when the file is not to be
// split (see readHalves).
func halfway(f *os.File) (size, split int64, records int, ok bool, err error) {
	st, err := f.Stat()
	if err != nil {
		return 0, 0, 0, false, err
	}
	size = st.Size()
	if size < halvesFrom {
		return size, 0, 0, false, nil
	}
	mid := size / 2
	buf := make([]byte, 1<<20)
	var (
		off   int64
		lines int
		last  byte
	)
	split = -1
	for {
		n, err := f.Read(buf)
		chunk := buf[:n]
		if bytes.IndexByte(chunk, '"') >= 0 || bytes.IndexByte(chunk, '\r') >= 0 ||
			bytes.Contains(chunk, []byte("\n\n")) || n > 0 && last == '\n' && chunk[0] == '\n' {
			return size, 0, 0, false, nil
		}
		if split < 0 && off+int64(n) > mid {
			// The first newline at or after the middle ends the first half.
			from := max(mid-off, 0)
			if i := bytes.IndexByte(chunk[from:], '\n'); i >= 0 {
				split = off + from + int64(i) + 1
				lines += bytes.Count(chunk[:from+int64(i)+1], []byte{'\n'})
				records = lines - 1
			}
		}
		if split < 0 {
			lines += bytes.Count(chunk, []byte{'\n'})
		}
		if n > 0 {
			last = chunk[n-1]
		}
		off += int64(n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, 0, 0, false, err
		}
	}
	if split < 0 || split >= size || records < 1 {
		return size, 0, 0, false, nil
	}
	return size, split, records, true, nil
}
