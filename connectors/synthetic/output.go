package synthetic

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// csvFile is one output being written under name.tmp. Rows are appended
// straight into the bufio.Writer's free space (row), so nothing is allocated
// per row.
type csvFile struct {
	rel  string // final path relative to Out, slash-separated
	path string // final path
	f    *os.File
	w    *bufio.Writer
	rows int64 // data rows written so far
	done bool
}

// row returns a scratch buffer to append one row to; pass it to end.
func (c *csvFile) row() []byte { return c.w.AvailableBuffer() }

// end writes a row appended to a row() buffer and returns its 1-based row
// number, counting the header as row 1.
func (c *csvFile) end(b []byte) int64 {
	c.w.Write(b) // errors are sticky and reported by close
	c.rows++
	return c.rows + 1
}

// close flushes and closes the temporary file; the rename waits for commit.
func (c *csvFile) close() error {
	if c.done {
		return nil
	}
	c.done = true
	err := c.w.Flush()
	if cerr := c.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", c.rel, err)
	}
	return nil
}

// outputs is the set of files of one generation. Nothing appears under its
// final name until commit, so a failed or cancelled run leaves only *.tmp
// files, which abort removes.
type outputs struct {
	root  string
	files []*csvFile
}

// create opens rel (slash-separated, under root) as name.tmp with the given
// permissions and writes the header line, after a UTF-8 BOM if asked.
func (o *outputs) create(rel string, perm os.FileMode, bom bool, header ...string) (*csvFile, error) {
	path := filepath.Join(o.root, filepath.FromSlash(rel))
	dirPerm := os.FileMode(0o755)
	if perm&0o077 == 0 { // a private file (the key) gets a private folder
		dirPerm = 0o700
	}
	if err := os.MkdirAll(filepath.Dir(path), dirPerm); err != nil {
		return nil, fmt.Errorf("create %s: %w", rel, err)
	}
	f, err := os.OpenFile(path+".tmp", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", rel, err)
	}
	if err := f.Chmod(perm); err != nil { // an existing .tmp keeps its old mode
		f.Close()
		return nil, fmt.Errorf("create %s: %w", rel, err)
	}
	c := &csvFile{rel: rel, path: path, f: f, w: bufio.NewWriterSize(f, 256<<10)}
	o.files = append(o.files, c)
	if bom {
		c.w.WriteString("\ufeff")
	}
	if len(header) > 0 {
		c.w.WriteString(strings.Join(header, ","))
		c.w.WriteByte('\n')
	}
	return c, nil
}

// commit closes every file and renames each to its final name. It does not
// fsync: the point is that no reader ever sees a half-written file under a
// real name, not durability across a power cut.
func (o *outputs) commit() error {
	for _, c := range o.files {
		if err := c.close(); err != nil {
			o.abort()
			return err
		}
	}
	for _, c := range o.files {
		if err := os.Rename(c.path+".tmp", c.path); err != nil {
			o.abort()
			return fmt.Errorf("rename %s: %w", c.rel, err)
		}
	}
	return nil
}

// abort closes and removes every temporary file.
func (o *outputs) abort() {
	for _, c := range o.files {
		c.close()
		os.Remove(c.path + ".tmp")
	}
}

// names lists the files, relative to root, sorted.
func (o *outputs) names() []string {
	out := make([]string, len(o.files))
	for i, c := range o.files {
		out[i] = c.rel
	}
	slices.Sort(out)
	return out
}

// removeStale deletes files in dir (relative to root) that match pattern
// and that this generation did not write: attendance months left by an
// earlier, longer run would otherwise be loaded with this one.
func (o *outputs) removeStale(dir, pattern string) error {
	matches, err := filepath.Glob(filepath.Join(o.root, filepath.FromSlash(dir), pattern))
	if err != nil {
		return err
	}
	ours := make(map[string]bool, len(o.files))
	for _, c := range o.files {
		ours[c.path] = true
	}
	var errs []error
	for _, m := range matches {
		if !ours[m] {
			if err := os.Remove(m); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}
