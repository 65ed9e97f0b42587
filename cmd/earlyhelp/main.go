// Command earlyhelp runs the early-help pipeline: it generates synthetic
// councils, loads a council's extracts, builds features, trains and checks
// a model, and writes the navigators' weekly list. See README.md.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"earlyhelp/pipeline/hugepages"
)

// hugeHeap are the commands that run one council's batch in a process of
// their own, whose heap grows to gigabytes: their heap is backed by huge
// pages (package hugepages) unless EARLYHELP_HUGEPAGES is "off". Not
// serve, whose heap_sys metric would show the mapped stretch and whose
// weekly runs are small, nor bench, whose runs share one process after
// generating the council, so that its figures stay comparable with the
// benches before.
var hugeHeap = map[string]bool{"demo": true, "ingest": true, "run": true, "backtest": true, "audit": true}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	if len(os.Args) > 1 && hugeHeap[os.Args[1]] && os.Getenv("EARLYHELP_HUGEPAGES") != "off" {
		// Errors here only mean the heap keeps the kernel's default pages.
		_, _ = hugepages.Prepare(hugepages.Size())
	}
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// commands lists what this build can do; help shows exactly these.
func commands() []command {
	return []command{
		{"demo", "generate a synthetic council and run the whole pipeline on it", runDemo},
		{"synth", "write a synthetic council's extracts, truth and config", runSynth},
		{"ingest", "run the connectors once: new extracts into the store", runIngest},
		{"run", "one batch run: ingest, features, backtest, train, score, list, audit", runRun},
		{"backtest", "temporal backtest of the configured models against the baselines", runBacktest},
		{"audit", "recompute the fairness audit of a finished run", runAudit},
		{"version", "print the version, the VCS revision the binary was built from, and Go's version", runVersion},
		{"transparency", "draft the run's ATRS record, DPIA, equality impact assessment and privacy notice into DIR/governance/ (--run DIR)", runTransparency},
		{"evaluate", "synthetic councils only: hold a run's backtest against the council's truth (--run DIR --truth D/truth)", runEvaluate},
		{"validate", "check a config and every source it names, writing nothing", runValidate},
		{subjectCommand, "subject access: every score, rank, reason and decision recorded for a person's households (--person ID --user ENGINEER, password on stdin)", runSubject},
		{"store", "check the store's files against their checksums (check), or take damaged ones out for re-ingest (repair)", runStore},
		{"bench", "time every stage of a cold and a weekly run on a synthetic council", runBench},
		{"prune", "apply the retention: block once: old runs to their manifests, quarantine, evaluation/, the access log", runPrune},
		{"backup", "copy decisions, access log, users, current model and store state consistently (--out DIR)", runBackup},
		{"restore", "check a backup's checksums and put it back (--from DIR); refuses while serve runs", runRestore},
		{"serve", "long-running: the review site, cron schedules, /metrics, /healthz, /readyz", runServe},
		{"users", "manage the review site's accounts: add NAME --role R [--localities A,B] (password on stdin), passwd NAME (password on stdin), remove NAME, list", func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
			return runUsers(ctx, args, os.Stdin, stdout, stderr)
		}},
	}
}

// run dispatches a command line and returns the exit code of CONTRACTS §1.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			err := c.run(ctx, args[1:], stdout, stderr)
			if err == nil {
				return 0
			}
			code := exitCode(err)
			if code != 0 {
				fmt.Fprintf(stderr, "earlyhelp %s: %s\n", c.name, oneLine(err.Error()))
			}
			return code
		}
	}
	fmt.Fprintf(stderr, "earlyhelp: unknown command %q (run 'earlyhelp help')\n", args[0])
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: earlyhelp <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'earlyhelp <command> -h' for a command's flags.")
}

// oneLine keeps an error to the single line CONTRACTS §1 promises.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", "; ")), " ")
}
