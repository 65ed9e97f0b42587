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
	for {
		rec, err := rr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		label, err := parseFlag(rr.field(rec, "label"))
		if err != nil {
			return nil, fmt.Errorf("line %d: label: %w", rr.line, err)
		}
		if label < 0 {
			row, err := rr.row(rec)
			if err != nil {
				return nil, err
			}
			unlabelled = append(unlabelled, row)
			sc.latest = max(sc.latest, row.AsOf)
			continue
		}
		if rr.recs.Raw() == "" {
			sc.raw = false
		}
		io.WriteString(sc.digest, rr.recs.Raw())
		sc.digest.Write([]byte{'\n'})
		sc.labelled.add(rr.field(rec, "as_of"), rr.field(rec, "model"))
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
