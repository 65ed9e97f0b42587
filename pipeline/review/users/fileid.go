package users

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
)

// fileID is enough of a file's identity to tell that it changed: a
// rewrite by rename (atomicfile.WriteFile) changes the inode, an edit
// in place the modification time or size.
type fileID struct {
	exists   bool
	modNanos int64
	size     int64
	dev, ino uint64
}

// statFile returns path's identity; a missing file is the zero fileID
// with exists false, not an error.
func statFile(path string) (fileID, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fileID{}, nil
	}
	if err != nil {
		return fileID{}, err
	}
	id := fileID{exists: true, modNanos: fi.ModTime().UnixNano(), size: fi.Size()}
	// Where the platform has no inode, time and size have to do.
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		id.dev, id.ino = uint64(st.Dev), uint64(st.Ino)
	}
	return id, nil
}
