package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// readJSONFile reads the JSON file at path into v; a decoding error names
// the file.
func readJSONFile(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return nil
}

// readOptionalJSON is readJSONFile for a file a run may not have written
// (a list, an audit): false, and no error, when it is absent.
func readOptionalJSON(path string, v any) (bool, error) {
	err := readJSONFile(path, v)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}
