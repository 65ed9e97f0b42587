package transparency

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"
)

// governanceVerdict is what the drafts say of model/governance.json, the
// switch-off check written by the run (issue 21). Its layout belongs to
// that check, so only a verdict at the top level is read, under any of
// the names it may carry; the rest is listed by key.
type governanceVerdict struct {
	Verdict string
	Keys    []string
}

func readGovernance(path string) (*governanceVerdict, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("governance.json: %w", err)
	}
	g := &governanceVerdict{}
	for _, k := range []string{"verdict", "decision", "should_run"} {
		switch v := m[k].(type) {
		case string:
			g.Verdict = v
		case bool:
			g.Verdict = map[bool]string{true: "continue", false: "switch off"}[v]
		}
		if g.Verdict != "" {
			break
		}
	}
	for k := range m {
		g.Keys = append(g.Keys, k)
	}
	sort.Strings(g.Keys)
	return g, nil
}

// verdictText is the switch-off verdict in words.
func (r *run) verdictText() string {
	switch g := r.governance; {
	case g == nil:
		return "not computed (the run has no model/governance.json)"
	case g.Verdict == "":
		return "model/governance.json holds no verdict (keys: " + strings.Join(g.Keys, ", ") + ")"
	default:
		return g.Verdict + " (model/governance.json)"
	}
}

// countDecisions counts the rows of audit/decisions.csv, the audit of the
// navigators' decisions; -1 when the run has none.
func countDecisions(path string) (int, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return -1, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n := -1 // the header
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) != "" {
			n++
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("decisions.csv: %w", err)
	}
	return max(n, 0), nil
}
