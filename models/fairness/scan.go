package fairness

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"
)

// scoredScan is one pass over a run's scored_children.csv for an audit
// whose backtest may be cached: the labelled rows (a weekly run's copy of
// its training run's backtest, 1.5 million at 300,000 children) are
// digested line by line as they stand in the file and summed up for the
// manifest, not made into rows; this week's rows are made into rows.
// Making rows of the backtest was most of a weekly run's audit, which then
// read the backtest's audit back from the cache anyway.
//
// A file read only in part as lines (a line with a quote in it) cannot be
// digested so: raw is then false and the audit reads the file in full.
type scoredScan struct {
	labelled labelledSummary
	digest   hash.Hash
	raw      bool
	week     []Row // the rows without a label of the latest such date
	latest   string
}

// scanScored reads the file at path once.
func scanScored(path string) (*scoredScan, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rr, err := newRowReader(f)
	if err != nil {
		return nil, err
	}
	sc := &scoredScan{digest: sha256.New(), raw: true}
	var unlabelled []Row
	// A labelled line is not split: three of its fields are found where
	// they stand, and its date and model are made strings only when they
	// change, which they do once a backtest date.
	label, asOfCol, modelCol := rr.column("label"), rr.column("as_of"), rr.column("model")
	var asOf, model, lastAsOf, lastModel string
	newline := []byte{'\n'}
	for {
		err := rr.advance()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		flag, err := parseFlag(strings.TrimSpace(string(rr.fieldAt(label))))
		if err != nil {
			return nil, fmt.Errorf("line %d: label: %w", rr.line, err)
		}
		if flag < 0 {
			row, err := rr.row(rr.recs.Record())
			if err != nil {
				return nil, err
			}
			unlabelled = append(unlabelled, row)
			sc.latest = max(sc.latest, row.AsOf)
			continue
		}
		line := rr.recs.Line()
		if line == nil {
			sc.raw = false
		}
		sc.digest.Write(line)
		sc.digest.Write(newline)
		if a := rr.fieldAt(asOfCol); string(a) != lastAsOf {
			lastAsOf = string(a)
			asOf = strings.TrimSpace(lastAsOf)
		}
		if m := rr.fieldAt(modelCol); string(m) != lastModel {
			lastModel = string(m)
			model = strings.TrimSpace(lastModel)
		}
		sc.labelled.add(asOf, model)
	}
	// Filtered where they are: a copy of a 300,000-child week's rows,
	// grown by append, was a quarter of a weekly audit's CPU.
	week := unlabelled[:0]
	for _, r := range unlabelled {
		if r.AsOf == sc.latest {
			week = append(week, r)
		}
	}
	sc.week = week
	return sc, nil
}

// key is the cache's key for the labelled lines audited with cfg: like
// auditKey, a changed row, model or setting changes it.
func (sc *scoredScan) key(cfg *Config) string {
	h := sha256.New()
	settings, _ := json.Marshal(cfg.settings())
	h.Write(settings)
	io.WriteString(h, "\nscored_children.csv lines\n")
	h.Write(sc.digest.Sum(nil))
	return hex.EncodeToString(h.Sum(nil))
}
