package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"earlyhelp/connectors"
	"earlyhelp/connectors/synthetic"
	"earlyhelp/pipeline/atomicfile"
	"earlyhelp/pipeline/config"
)

// synthFlags are synth's flags, shared with demo.
type synthFlags struct {
	children int
	seed     uint64
	weeks    int
	end      string
	defects  string
	profile  string
	world    string
	bias     multiFlag
	// vocabulary: project or reference; "" takes the profile's default
	// (reference under realistic defects).
	vocabulary string
}

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func (s *synthFlags) register(fs *flag.FlagSet, defects string) {
	fs.IntVar(&s.children, "children", synthetic.DefaultChildren, "children in the council")
	fs.Uint64Var(&s.seed, "seed", synthetic.DefaultSeed, "random seed: the same seed and flags give the same files")
	fs.IntVar(&s.weeks, "weeks", synthetic.DefaultWeeks, "weeks of history")
	fs.StringVar(&s.end, "end", synthetic.DefaultEnd.Format(time.DateOnly), "last day covered, yyyy-mm-dd")
	fs.StringVar(&s.defects, "defects", defects, "defect profile: none, light, realistic or hostile")
	fs.StringVar(&s.profile, "profile", synthetic.ProfileNational, "population profile: national or inner_urban")
	fs.StringVar(&s.world, "world", synthetic.WorldSchool, "how need shows in the records and referrals follow it: "+strings.Join(synthetic.Worlds, ", ")+" (see README)")
	fs.StringVar(&s.vocabulary, "vocabulary", "", "how extracts spell codes, dates and amounts: project or reference (default: reference with --defects realistic, else project)")
	fs.Var(&s.bias, "bias", "observation bias KIND:ATTRIBUTE=VALUE:FACTOR, repeatable (see README)")
}

func (s *synthFlags) config(out string) (synthetic.Config, error) {
	end, err := parseDate("end", s.end)
	if err != nil {
		return synthetic.Config{}, err
	}
	c := synthetic.Config{
		Out: out, Children: s.children, Seed: s.seed, Weeks: s.weeks, End: end,
		Defects: s.defects, Profile: s.profile, World: s.world, Bias: s.bias, Vocabulary: s.vocabulary,
	}
	if err := c.Validate(); err != nil {
		return c, &usageError{oneLine(err.Error())}
	}
	return c, nil
}

func runSynth(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("synth", flag.ContinueOnError)
	out := fs.String("out", "", "folder to write the council into (required)")
	var sf synthFlags
	sf.register(fs, synthetic.DefectsNone)
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	if *out == "" {
		return &usageError{"--out is required"}
	}
	cfg, err := sf.config(*out)
	if err != nil {
		return err
	}
	sum, err := synthesise(ctx, cfg)
	if err != nil {
		return err
	}
	printSynth(stdout, cfg, sum)
	return nil
}

// synthesise generates a council and writes its ready config.
func synthesise(ctx context.Context, cfg synthetic.Config) (synthetic.Summary, error) {
	sum, err := synthetic.Generate(ctx, cfg)
	if err != nil {
		return sum, fmt.Errorf("synth: %w", err)
	}
	var columns map[string]map[string]string
	if cfg.Defects == synthetic.DefectsHostile {
		// Its supplier headers need the maps validate would suggest.
		columns = synthetic.HostileColumns()
	}
	if err := writeSynthConfig(cfg.Out, columns); err != nil {
		return sum, fmt.Errorf("synth: %w", err)
	}
	return sum, nil
}

// synthSources are the sources the synthetic council wrote, in CONTRACTS §2
// order: those with a folder under D/incoming.
func synthSources(dir string) []string {
	var out []string
	for _, s := range connectors.Names() {
		if st, err := os.Stat(filepath.Join(dir, "incoming", s)); err == nil && st.IsDir() {
			out = append(out, s)
		}
	}
	return out
}

// writeSynthConfig writes D/earlyhelp.yaml, reading D's extracts into D/var,
// with the column maps (sources.<name>.columns) the extracts need.
func writeSynthConfig(dir string, columns map[string]map[string]string) error {
	var b strings.Builder
	b.WriteString("# Written by earlyhelp synth: a synthetic council, no real family's data.\n")
	b.WriteString("council: \"Demo Borough\"\n")
	b.WriteString("data_dir: ./var\n")
	b.WriteString("pseudonym_key_file: ./secrets/pseudonym.key\n")
	b.WriteString("sources:\n")
	for _, s := range synthSources(dir) {
		m := columns[s]
		if len(m) == 0 {
			fmt.Fprintf(&b, "  %s: {kind: csvdir, path: ./incoming/%s}\n", s, s)
			continue
		}
		fmt.Fprintf(&b, "  %s:\n    kind: csvdir\n    path: ./incoming/%s\n    columns:\n", s, s)
		cols := make([]string, 0, len(m))
		for c := range m {
			cols = append(cols, c)
		}
		sort.Strings(cols)
		for _, c := range cols {
			fmt.Fprintf(&b, "      %s: %s\n", c, strconv.Quote(m[c]))
		}
	}
	b.WriteString("max_quarantine_ratio: 0.05\n")
	b.WriteString("model:\n  horizon_weeks: 26\n  candidates: [logistic_signed, logistic_ridge]\n  use_deprivation: true\n")
	b.WriteString("list:\n  capacity: 60\n  cooloff_weeks: 12\n")
	path := filepath.Join(dir, "earlyhelp.yaml")
	// The config must load: a generator that writes a config its own
	// loader rejects is a bug worth failing on.
	if _, err := config.Parse(path, []byte(b.String())); err != nil {
		return err
	}
	return atomicfile.WriteFile(path, []byte(b.String()), 0o644)
}

func printSynth(w io.Writer, cfg synthetic.Config, sum synthetic.Summary) {
	fmt.Fprintf(w, "synthetic council: %d children, %d households, %d persons, %d referrals\n",
		sum.Children, sum.Households, sum.Persons, sum.Referrals)
	for _, s := range synthSources(cfg.Out) {
		fmt.Fprintf(w, "  %-24s %d rows\n", s, sum.Rows[s])
	}
	if sum.OracleAUC > 0 {
		fmt.Fprintf(w, "oracle AUC (true probability against realised outcome): %.3f\n", sum.OracleAUC)
	}
	fmt.Fprintf(w, "config: %s\n", filepath.Join(cfg.Out, "earlyhelp.yaml"))
}
