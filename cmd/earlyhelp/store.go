package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/pipeline/config"
	"earlyhelp/pipeline/store"
)

// storeUsage is 'earlyhelp store -h': what check and repair do, and how to
// repair by hand.
const storeUsage = `usage: earlyhelp store check  --config F
       earlyhelp store repair --config F [--force]

check verifies every file in data_dir/store against the SHA-256 recorded in
data_dir/store/state.json when it was written (a file written before
checksums were recorded is decoded whole instead). It prints one line per
damaged file and a summary, and exits 1 if any file is damaged. It changes
nothing and can run beside a run.

A run that meets a damaged file fails (exit 1) naming it. To repair:

  earlyhelp store repair --config F

takes the run lock (no run may be in progress), then removes each damaged
delivery from state.json with every later delivery of the same source, and
deletes their store files. A source's rows are read in load order and a
re-read file is loaded last, so the later deliveries go too and come back
after it in their own order. The next ingest ('earlyhelp ingest', or the
next run) loads those delivered files again from the source folders. It
refuses if one of them is no longer in its csvdir or parquetdir folder,
since that file's rows would be lost: put the file back (from the council's
archive) and repair again, or pass --force to lose them. A postgres source
is queried afresh, so it reloads today's rows, not the damaged delivery's.

By hand, with no run in progress: in state.json, delete from "deliveries"
the damaged delivery's entry (its "file" is the path check printed) and
every later entry with the same "source"; delete those store files; run
'earlyhelp ingest --config F'.
`

// runStore checks and repairs the store's files.
func runStore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprint(stderr, storeUsage)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			return flag.ErrHelp
		}
		return &usageError{"store: want check or repair"}
	}
	verb, args := args[0], args[1:]
	if verb != "check" && verb != "repair" {
		return &usageError{fmt.Sprintf("store: unknown %q: want check or repair", verb)}
	}
	fs := flag.NewFlagSet("store "+verb, flag.ContinueOnError)
	force := fs.Bool("force", false, "repair even when a delivered file to reload is gone, losing its rows")
	var cf commonFlags
	cf.withConfig(fs)
	cf.register(fs)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), storeUsage+"\nflags:\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	cfg, _, err := cf.load(stderr)
	if err != nil {
		return err
	}
	st, err := store.Open(cfg.DataDir, time.Now)
	if err != nil {
		return err
	}
	if verb == "check" {
		return storeCheck(ctx, st, stdout)
	}
	return storeRepair(ctx, cfg, st, *force, stdout)
}

// storeCheck prints a line per damaged file and a summary; damage is an
// error, so the command exits 1.
func storeCheck(ctx context.Context, st *store.Store, stdout io.Writer) error {
	rep, err := st.Check(ctx, memory.DefaultAllocator)
	if err != nil {
		return fmt.Errorf("store check: %w", err)
	}
	for _, d := range rep.Damaged {
		fmt.Fprintf(stdout, "damaged %s (source %s, delivered as %s): %v\n", d.File, d.Source, d.Name, d.Err)
	}
	fmt.Fprintf(stdout, "store check: %d files, %d damaged, %d without a recorded checksum (decoded instead)\n",
		rep.Files, len(rep.Damaged), rep.Unsummed)
	if len(rep.Damaged) == 0 {
		return nil
	}
	return fmt.Errorf("%d damaged store files: %s (see 'earlyhelp store -h' to repair)", len(rep.Damaged), damagedFiles(rep))
}

func damagedFiles(rep store.CheckReport) string {
	files := make([]string, len(rep.Damaged))
	for i, d := range rep.Damaged {
		files[i] = d.File
	}
	return strings.Join(files, ", ")
}

// storeRepair forgets the damaged deliveries, and the later ones of their
// sources, so the next ingest loads them again.
func storeRepair(ctx context.Context, cfg *config.Config, st *store.Store, force bool, stdout io.Writer) error {
	unlock, err := st.Lock()
	if err != nil {
		return err
	}
	defer unlock()
	rep, err := st.Check(ctx, memory.DefaultAllocator)
	if err != nil {
		return fmt.Errorf("store repair: %w", err)
	}
	if len(rep.Damaged) == 0 {
		fmt.Fprintf(stdout, "store repair: %d files, none damaged: nothing to do\n", rep.Files)
		return nil
	}
	files := make([]string, len(rep.Damaged))
	for i, d := range rep.Damaged {
		files[i] = d.File
	}
	// Checked before anything changes: a delivered file that is gone
	// cannot be reloaded, and its rows would be lost.
	missing, err := reloadable(cfg, st, files)
	if err != nil {
		return err
	}
	if len(missing) > 0 && !force {
		return fmt.Errorf("store repair: not in their source folders, so not reloadable: %s; put them back and repair again, or pass --force to lose their rows",
			strings.Join(missing, ", "))
	}
	gone, err := st.Forget(files)
	for _, g := range gone {
		why := "damaged"
		if !g.Damaged {
			why = "after a damaged delivery, to keep the load order"
		}
		fmt.Fprintf(stdout, "removed %s/%s (%s)\n", g.Source, g.Name, why)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "store repair: %d deliveries removed; the next ingest loads them again\n", len(gone))
	return nil
}

// reloadable returns the delivered files, as source/name, that repairing
// files would need reloaded but that are not in their csvdir or parquetdir
// folder.
func reloadable(cfg *config.Config, st *store.Store, files []string) ([]string, error) {
	deliveries, err := st.WouldForget(files)
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, d := range deliveries {
		src, ok := cfg.Sources[d.Source]
		if !ok || (src.Kind != "csvdir" && src.Kind != "parquetdir") {
			continue
		}
		if _, err := os.Stat(filepath.Join(src.Path, d.Name)); errors.Is(err, os.ErrNotExist) {
			missing = append(missing, d.Source+"/"+d.Name)
		} else if err != nil {
			return nil, fmt.Errorf("store repair: %w", err)
		}
	}
	return missing, nil
}
