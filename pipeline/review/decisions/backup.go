package decisions

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
)

// Backup writes a consistent copy of the store to dst, a file that must not
// exist yet, while the store stays open for writing.
//
// VACUUM INTO reads the database inside one read transaction, so the copy
// holds exactly the decisions committed before it began: a decision being
// recorded meanwhile is either wholly in it or not at all, and in WAL mode
// the writer is never blocked by the copy. The copy is a plain, compacted
// SQLite file with no -wal beside it, and it carries the schema version and
// the append-only triggers with it.
func (s *Store) Backup(ctx context.Context, dst string) error {
	if dst == "" {
		return errors.New("decisions: backup: empty destination")
	}
	// VACUUM INTO refuses a non-empty file, but an empty one it would
	// overwrite; a backup never replaces anything.
	if _, err := os.Lstat(dst); err == nil {
		return fmt.Errorf("decisions: backup to %s: %w", dst, fs.ErrExist)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("decisions: backup to %s: %w", dst, err)
	}
	if _, err := s.db.ExecContext(ctx, `VACUUM INTO ?`, dst); err != nil {
		os.Remove(dst)
		return fmt.Errorf("decisions: backup to %s: %w", dst, err)
	}
	// Owner-only like the store itself: notes are about families.
	if err := os.Chmod(dst, 0o600); err != nil {
		return fmt.Errorf("decisions: backup to %s: %w", dst, err)
	}
	return nil
}

// Verify opens the decisions file at path read-only and runs SQLite's
// integrity check over it, so a restore can refuse a damaged copy before
// it replaces anything. It changes nothing, and leaves no -wal or -shm
// file beside path.
func Verify(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("decisions: verify %s: %w", path, err)
	}
	db, err := openReadOnly(path)
	if err != nil {
		return fmt.Errorf("decisions: verify %s: %w", path, err)
	}
	defer db.Close()
	var result string
	if err := db.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&result); err != nil {
		return fmt.Errorf("decisions: verify %s: %w", path, err)
	}
	if result != "ok" {
		return fmt.Errorf("decisions: verify %s: integrity check: %s", path, result)
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM decisions`).Scan(&n); err != nil {
		return fmt.Errorf("decisions: verify %s: not a decisions file: %w", path, err)
	}
	return nil
}

// openReadOnly opens path as an immutable database: no locks are taken and
// no journal files are made, which is right for a copy nothing else opens.
func openReadOnly(path string) (*sql.DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	q.Set("mode", "ro")
	q.Set("immutable", "1")
	dsn := (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}).String()
	return sql.Open("sqlite", dsn)
}
