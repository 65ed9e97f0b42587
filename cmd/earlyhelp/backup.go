package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"earlyhelp/pipeline/atomicfile"
	"earlyhelp/pipeline/review/decisions"
)

// backupManifestFile names a backup's contents and their checksums; it is
// written last, so a backup without it is incomplete.
const backupManifestFile = "backup.json"

// backupFormat is the layout version of a backup folder.
const backupFormat = 1

// backupItem is one file a backup holds: its name in the backup folder and
// its place under data_dir. The list is fixed here, and restore writes only
// to these places whatever a backup's manifest says.
type backupItem struct {
	name string
	rel  string      // under data_dir
	perm os.FileMode // the mode it is restored with
}

func backupItems() []backupItem {
	return []backupItem{
		// Owner-only, as the site makes them: notes, hashes and who saw whom.
		{"decisions.db", filepath.Join("review", decisionsFile), 0o600},
		{"access.log", filepath.Join("review", accessLogFile), 0o600},
		{"users.json", filepath.Join("review", usersFile), 0o600},
		{"current.json", filepath.Join("models", "current.json"), 0o640},
		{"state.json", filepath.Join("store", "state.json"), 0o640},
	}
}

// backupManifest is backup.json.
type backupManifest struct {
	Format      int          `json:"format"`
	CreatedAt   time.Time    `json:"created_at"`
	CodeVersion string       `json:"code_version"`
	Council     string       `json:"council"`
	Files       []backupFile `json:"files"`
}

type backupFile struct {
	Name   string `json:"name"`
	Path   string `json:"path"` // where it came from, under data_dir
	SHA256 string `json:"sha256"`
	Bytes  int64  `json:"bytes"`
}

// runBackup writes a consistent copy of what a data folder cannot rebuild
// from the council's extracts:
//
//	earlyhelp backup --config F --out DIR
//
// It needs no lock and may run beside serve and a run: the decisions file
// is copied inside one SQLite read transaction (VACUUM INTO), the access
// log up to its last whole line, and the other files are only ever
// replaced whole by rename, so each is read as one version.
func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	out := fs.String("out", "", "folder to write the backup into: new, or empty (required)")
	var cf commonFlags
	cf.withConfig(fs)
	cf.register(fs)
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if *out == "" {
		return &usageError{"--out is required"}
	}
	cfg, _, err := cf.load(stderr)
	if err != nil {
		return err
	}
	man, err := backup(ctx, cfg.DataDir, *out, time.Now())
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	man.Council = cfg.Council
	if err := writeJSONAtomic(filepath.Join(*out, backupManifestFile), man); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	for _, f := range man.Files {
		fmt.Fprintf(stdout, "backup: %s (%d bytes, sha256 %s)\n", f.Path, f.Bytes, f.SHA256)
	}
	fmt.Fprintf(stdout, "backup: %d files in %s; restore with 'earlyhelp restore --config F --from %s'\n", len(man.Files), *out, *out)
	return nil
}

// backup copies dataDir's files into out and returns the manifest to write
// there. A file the data folder does not have yet is left out.
func backup(ctx context.Context, dataDir, out string, now time.Time) (*backupManifest, error) {
	if err := emptyFolder(out); err != nil {
		return nil, err
	}
	man := &backupManifest{Format: backupFormat, CreatedAt: now.UTC(), CodeVersion: codeVersion()}
	for _, it := range backupItems() {
		src, dst := filepath.Join(dataDir, it.rel), filepath.Join(out, it.name)
		if _, err := os.Stat(src); errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return nil, err
		}
		var err error
		switch it.name {
		case "decisions.db":
			err = backupDecisions(ctx, src, dst)
		case "access.log":
			err = copyFile(src, dst, wholeLines)
		default:
			err = copyFile(src, dst, nil)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", it.rel, err)
		}
		sum, n, err := fileSHA256(dst)
		if err != nil {
			return nil, err
		}
		man.Files = append(man.Files, backupFile{Name: it.name, Path: filepath.ToSlash(it.rel), SHA256: sum, Bytes: n})
	}
	return man, nil
}

// emptyFolder makes dir if needed and refuses one that holds anything: a
// backup never mixes with, or overwrites, another.
func emptyFolder(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	if len(entries) > 0 {
		return fmt.Errorf("%s is not empty: give a new folder for each backup", dir)
	}
	return nil
}

func backupDecisions(ctx context.Context, src, dst string) error {
	st, err := decisions.Open(src)
	if err != nil {
		return err
	}
	defer st.Close()
	return st.Backup(ctx, dst)
}

// wholeLines keeps b up to its last newline: the site may be appending a
// line while the log is read, and half a line is no entry.
func wholeLines(b []byte) []byte {
	return b[:bytes.LastIndexByte(b, '\n')+1]
}

// copyFile copies src to a new file dst (0600), through keep when given.
func copyFile(src, dst string, keep func([]byte) []byte) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if keep != nil {
		b = keep(b)
	}
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func fileSHA256(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, bufio.NewReaderSize(f, 1<<16))
	if err != nil {
		return "", 0, fmt.Errorf("%s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

func writeJSONAtomic(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, append(b, '\n'), 0o600)
}

// runRestore puts a backup back into the configured data folder:
//
//	earlyhelp restore --config F --from DIR
//
// Every file is checked against the backup's manifest before anything is
// replaced, and the decisions copy is integrity-checked. It refuses while
// serve runs on the data folder (the site holds the decisions file and the
// access log open) or a run holds its lock.
func runRestore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	from := fs.String("from", "", "backup folder written by 'earlyhelp backup' (required)")
	var cf commonFlags
	cf.withConfig(fs)
	cf.register(fs)
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if *from == "" {
		return &usageError{"--from is required"}
	}
	cfg, _, err := cf.load(stderr)
	if err != nil {
		return err
	}
	man, err := checkBackup(ctx, *from)
	if err != nil {
		return fmt.Errorf("restore: backup %s: %w; nothing was restored", *from, err)
	}
	release, busy, err := takeServing(cfg.DataDir)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if busy {
		return fmt.Errorf("restore: serve is running on %s (it holds %s and keeps the decisions file and access log open): stop it, then restore; nothing was restored", cfg.DataDir, serveLockFile)
	}
	defer release()
	unlock, err := lockData(cfg.DataDir)
	if err != nil {
		return fmt.Errorf("restore: %w; nothing was restored", err)
	}
	defer unlock()
	for _, f := range man.Files {
		if err := restoreFile(*from, cfg.DataDir, f); err != nil {
			return fmt.Errorf("restore: %s: %w", f.Path, err)
		}
		fmt.Fprintf(stdout, "restore: %s (%d bytes)\n", f.Path, f.Bytes)
	}
	fmt.Fprintf(stdout, "restore: %d files from the backup of %s into %s\n", len(man.Files), man.CreatedAt.Format(time.RFC3339), cfg.DataDir)
	// state.json names store files a backup does not hold: they are
	// rebuilt from the council's extracts, not backed up.
	fmt.Fprintln(stdout, "restore: the store's own files are not in a backup: restore data_dir/store from the volume's backup, or run 'earlyhelp store check' and 'earlyhelp store repair' to reload what is missing")
	return nil
}

// checkBackup reads a backup's manifest and checks every file it names
// against its size and SHA-256, and the decisions copy against SQLite's
// integrity check.
func checkBackup(ctx context.Context, dir string) (*backupManifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, backupManifestFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no %s: not a backup, or one that did not finish", backupManifestFile)
	}
	if err != nil {
		return nil, err
	}
	var man backupManifest
	if err := json.Unmarshal(b, &man); err != nil {
		return nil, fmt.Errorf("%s: %w", backupManifestFile, err)
	}
	if man.Format != backupFormat {
		return nil, fmt.Errorf("%s: format %d, want %d", backupManifestFile, man.Format, backupFormat)
	}
	known := map[string]backupItem{}
	for _, it := range backupItems() {
		known[it.name] = it
	}
	seen := map[string]bool{}
	for _, f := range man.Files {
		if _, ok := known[f.Name]; !ok || seen[f.Name] {
			return nil, fmt.Errorf("%s: unexpected file %q", backupManifestFile, f.Name)
		}
		seen[f.Name] = true
		sum, n, err := fileSHA256(filepath.Join(dir, f.Name))
		if err != nil {
			return nil, err
		}
		if sum != f.SHA256 || n != f.Bytes {
			return nil, fmt.Errorf("%s is damaged: %d bytes with SHA-256 %s, recorded %d bytes with %s", f.Name, n, sum, f.Bytes, f.SHA256)
		}
		if f.Name == "decisions.db" {
			if err := decisions.Verify(ctx, filepath.Join(dir, f.Name)); err != nil {
				return nil, err
			}
		}
	}
	return &man, nil
}

// restoreFile copies one checked backup file into place under a temporary
// name, checks the copy, and renames it over the live file.
func restoreFile(from, dataDir string, f backupFile) error {
	var it backupItem
	for _, x := range backupItems() {
		if x.name == f.Name {
			it = x
		}
	}
	dst := filepath.Join(dataDir, it.rel)
	src, err := os.Open(filepath.Join(from, f.Name))
	if err != nil {
		return err
	}
	defer src.Close()
	out, err := atomicfile.Create(dst, it.perm)
	if err != nil {
		return err
	}
	defer out.Abort()
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(out, h), src); err != nil {
		return err
	}
	// Hashed as it was copied: a backup changed since it was checked is
	// caught before it replaces anything.
	if got := hex.EncodeToString(h.Sum(nil)); got != f.SHA256 {
		return fmt.Errorf("changed since it was checked (SHA-256 %s, recorded %s): restore again from an unchanged backup", got, f.SHA256)
	}
	if it.name == "decisions.db" {
		// The old file's write-ahead log belongs to the old file: SQLite
		// would replay it into the restored one on opening. Removed only
		// once the copy is ready to go in.
		for _, side := range []string{"-wal", "-shm"} {
			if err := os.Remove(dst + side); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
	}
	return out.Commit()
}

// serveLockFile, under data_dir, is held shared by every serve for as long
// as it serves. A holder of it exclusively (restore, the access-log trim of
// a command-line prune) knows no site has the review files open.
//
// Like the run lock it is an flock(2), freed by the kernel however its
// holder exits; unlike it the file stays, since shared holders come and go
// independently.
const serveLockFile = "serve.lock"

// holdServing marks dataDir as served until release. It fails while a
// restore holds the lock.
func holdServing(dataDir string) (release func(), err error) {
	f, busy, err := flockServe(dataDir, syscall.LOCK_SH)
	if err != nil {
		return nil, err
	}
	if busy {
		return nil, fmt.Errorf("data directory %s: a restore is in progress (it holds %s); serve again when it ends", dataDir, serveLockFile)
	}
	return func() { f.Close() }, nil
}

// takeServing takes the serve lock exclusively, reporting busy (and taking
// nothing) while a serve holds it.
func takeServing(dataDir string) (release func(), busy bool, err error) {
	f, busy, err := flockServe(dataDir, syscall.LOCK_EX)
	if err != nil || busy {
		return nil, busy, err
	}
	return func() { f.Close() }, false, nil
}

func flockServe(dataDir string, how int) (*os.File, bool, error) {
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return nil, false, fmt.Errorf("data directory %s: %w", dataDir, err)
	}
	path := filepath.Join(dataDir, serveLockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, false, fmt.Errorf("data directory %s: %w", dataDir, err)
	}
	if err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, true, nil
		}
		return nil, false, fmt.Errorf("data directory %s: lock %s: %w", dataDir, serveLockFile, err)
	}
	return f, false, nil
}
