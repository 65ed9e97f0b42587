package connectors

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ListFolder returns the names of the regular files (links followed) in dir
// whose lower-cased name matches any of the glob patterns, in name order:
// the deliveries a folder connector offers. Errors name the folder, never a
// file's contents; like every error of a Source's Read, they leave naming
// the source to the caller, which knows it (the pipeline's ingest prefixes
// it), so the source is named once.
func ListFolder(dir string, patterns ...string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("source folder %s: no such directory", dir)
		}
		if fi, serr := os.Stat(dir); serr == nil && !fi.IsDir() {
			return nil, fmt.Errorf("source folder %s: not a directory", dir)
		}
		return nil, fmt.Errorf("source folder %s: %w", dir, UnwrapPath(err))
	}
	var out []string
	for _, e := range entries { // ReadDir sorts by name
		name := strings.ToLower(e.Name())
		matched := false
		for _, p := range patterns {
			if ok, _ := filepath.Match(strings.ToLower(p), name); ok {
				matched = true
				break
			}
		}
		if !matched {
			continue
		}
		fi, err := os.Stat(filepath.Join(dir, e.Name()))
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		out = append(out, e.Name())
	}
	return out, nil
}

// EachFile calls fn with the name of every file ListFolder finds, in name
// order, stopping at the first error or when ctx is done: the loop of every
// folder connector's Read.
func EachFile(ctx context.Context, dir string, patterns []string, fn func(name string) error) error {
	files, err := ListFolder(dir, patterns...)
	if err != nil {
		return err
	}
	for _, name := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(name); err != nil {
			return err
		}
	}
	return nil
}

// UnwrapPath drops the path from an *fs.PathError, for callers that name
// the file themselves.
func UnwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}
