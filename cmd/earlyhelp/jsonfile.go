package main

import (
	"earlyhelp/pipeline/atomicfile"
	"errors"
	"io/fs"
)

// readOptionalJSON reads a run file a run may not have written (a list, an
// audit) into v: false, and no error, when it is absent.
func readOptionalJSON(path string, v any) (bool, error) {
	err := atomicfile.ReadJSON(path, v)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}
