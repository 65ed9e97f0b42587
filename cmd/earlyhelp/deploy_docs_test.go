package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// quoted is one `earlyhelp <command> …` a document quotes.
type quoted struct {
	line    string   // as quoted, for messages
	command string   // e.g. users
	verb    string   // users and store take one: add, check, ...
	flags   []string // without dashes or values
}

var (
	fenced     = regexp.MustCompile("(?ms)^\\s*```[a-z]*\\n(.*?)^\\s*```")
	inlineCode = regexp.MustCompile("`([^`]+)`")
	plainWord  = regexp.MustCompile(`^[a-z]+$`)
	// A flag's defaults line as flag.PrintDefaults writes it.
	defaultsFlag = regexp.MustCompile(`(?m)^  -([A-Za-z0-9][A-Za-z0-9_-]*)`)
)

// verbCommands take an action word before their flags.
var verbCommands = map[string]bool{"users": true, "store": true}

// quotedCommands finds every earlyhelp command line quoted in a Markdown
// document: in fenced blocks (a trailing backslash continues a line) and in
// inline code, which may break across lines. A command is the word after a
// field that is, or ends in, "earlyhelp" (./earlyhelp, /usr/local/bin/…);
// its flags run until a shell operator or redirection ends the command.
func quotedCommands(doc string) []quoted {
	var lines []string
	for _, m := range fenced.FindAllStringSubmatch(doc, -1) {
		lines = append(lines, strings.Split(strings.ReplaceAll(m[1], "\\\n", " "), "\n")...)
	}
	for _, m := range inlineCode.FindAllStringSubmatch(fenced.ReplaceAllString(doc, ""), -1) {
		lines = append(lines, strings.ReplaceAll(m[1], "\n", " "))
	}
	var out []quoted
	for _, line := range lines {
		fields := strings.Fields(line)
		for i := 0; i+1 < len(fields); i++ {
			f := fields[i]
			if f != "earlyhelp" && !strings.HasSuffix(f, "/earlyhelp") {
				continue
			}
			if !plainWord.MatchString(fields[i+1]) || fields[i+1] == "earlyhelp" {
				continue
			}
			q := quoted{line: strings.TrimSpace(line), command: fields[i+1]}
			j := i + 2
			if verbCommands[q.command] && j < len(fields) && plainWord.MatchString(fields[j]) {
				q.verb = fields[j]
				j++
			}
			for ; j < len(fields); j++ {
				g := fields[j]
				if g == "|" || g == "||" || g == "&&" || g == ";" || strings.HasPrefix(g, ">") ||
					strings.HasPrefix(g, "<") || strings.HasPrefix(g, "2>") {
					break
				}
				g = strings.Trim(g, "[]();")
				if !strings.HasPrefix(g, "-") || g == "-" || g == "--" {
					continue
				}
				name := strings.TrimLeft(g, "-")
				if k := strings.Index(name, "="); k >= 0 {
					name = name[:k]
				}
				q.flags = append(q.flags, name)
			}
			out = append(out, q)
			i = j - 1
		}
	}
	return out
}

// commandFlags lists the flags a command (and verb) defines, from its own
// -h output: each command declares its FlagSet inside its run function, so
// asking it is the one way to read them without changing it.
func commandFlags(c command, verb string) map[string]bool {
	args := []string{"-h"}
	if verb != "" {
		args = []string{verb, "-h"}
	}
	var stderr bytes.Buffer
	c.run(context.Background(), args, io.Discard, &stderr)
	flags := map[string]bool{"h": true, "help": true}
	for _, m := range defaultsFlag.FindAllStringSubmatch(stderr.String(), -1) {
		flags[m[1]] = true
	}
	return flags
}

// checkQuoted returns every quoted command, verb or flag that this build's
// commands() does not have.
func checkQuoted(qs []quoted) []string {
	byName := map[string]command{}
	for _, c := range commands() {
		byName[c.name] = c
	}
	var problems []string
	for _, q := range qs {
		c, ok := byName[q.command]
		if !ok {
			problems = append(problems, fmt.Sprintf("%q: there is no command %q", q.line, q.command))
			continue
		}
		if verbCommands[q.command] {
			// The verbs a command takes are named in its summary.
			if q.verb == "" || !regexp.MustCompile(`\b`+q.verb+`\b`).MatchString(c.summary) {
				problems = append(problems, fmt.Sprintf("%q: %q is not an action of %s (%s)", q.line, q.verb, q.command, c.summary))
				continue
			}
		}
		flags := commandFlags(c, q.verb)
		for _, f := range q.flags {
			if !flags[f] {
				problems = append(problems, fmt.Sprintf("%q: %s has no flag --%s", q.line, strings.TrimSpace(q.command+" "+q.verb), f))
			}
		}
	}
	return problems
}

// TestDeployDocs: every earlyhelp command and flag deploy/README.md quotes
// exists in this build.
func TestDeployDocs(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(deployDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	qs := quotedCommands(string(b))
	seen := map[string]bool{}
	for _, q := range qs {
		seen[q.command] = true
		t.Logf("earlyhelp %s %s %v", q.command, q.verb, q.flags)
	}
	// The walk-throughs quote at least these; fewer means the extraction
	// broke, not that the document is right.
	for _, c := range []string{"serve", "run", "validate", "users", "version"} {
		if !seen[c] {
			t.Errorf("deploy/README.md quotes no `earlyhelp %s`, or the extraction missed it (found %d commands)", c, len(qs))
		}
	}
	for _, p := range checkQuoted(qs) {
		t.Error("deploy/README.md: " + p)
	}
}

// TestDeployDocsChecker: the extraction and the check catch what they are
// for, so TestDeployDocs passing means something.
func TestDeployDocsChecker(t *testing.T) {
	tests := []struct {
		name, doc string
		want      []string // problems, by a substring each; none for a good document
	}{
		{"inline serve with its flags", "Run `earlyhelp serve --config F [--listen ADDR] --secure-cookies`.", nil},
		{"fenced, continued, behind sudo", "```sh\nsudo -u earlyhelp earlyhelp run --config /etc/e.yaml \\\n  --retrain --log-format=json > out.txt --bogus\n```\n", nil},
		{"users verb and flags over a line break", "`earlyhelp users add NAME --role navigator\n--localities A,B --config F`", nil},
		{"a path to the binary", "```\n/usr/local/bin/earlyhelp validate --config F\n```", nil},
		{"not commands", "the job `earlyhelp`, `journalctl -u earlyhelp -f`, `earlyhelp.yaml`, `sudo useradd earlyhelp`", nil},
		{"misspelt flag", "`earlyhelp serve --secure-cookie`", []string{"serve has no flag --secure-cookie"}},
		{"a flag of another command", "```\nearlyhelp validate --config F --retrain\n```", []string{"validate has no flag --retrain"}},
		{"no such command", "`earlyhelp frobnicate --config F`", []string{`there is no command "frobnicate"`}},
		{"no such action", "`earlyhelp users delete NAME --config F`", []string{`"delete" is not an action of users`}},
		{"a flag of another action", "`earlyhelp store check --config F --force --bogus`", []string{"store check has no flag --bogus"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			qs := quotedCommands(tc.doc)
			if len(qs) == 0 && !strings.HasPrefix(tc.name, "not commands") {
				t.Fatalf("found no command in %q", tc.doc)
			}
			if strings.HasPrefix(tc.name, "not commands") && len(qs) > 0 {
				t.Fatalf("found commands %+v in %q", qs, tc.doc)
			}
			got := checkQuoted(qs)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d problems %q; want %d like %q", len(got), got, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("problem %q; want it to say %q", got[i], w)
				}
			}
		})
	}
}
