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
	// Digested behind the scan, on its own goroutine: hashing the lines
	// was 0.35 of the scan's 0.86 CPU-seconds on a 300,000-child weekly
	// run, its copy into batches a twentieth of that.
	digest := hashBehind(sc.digest)
	defer digest.close() // before sc.digest is read, on every return
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
		digest.write(line)
		digest.write(newline)
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

// behind writes to a hash on its own goroutine, in batches of up to a
// MiB copied out of the caller's bytes.
type behind struct {
	buf        []byte
	full, free chan []byte
	done       chan struct{}
}

func hashBehind(h hash.Hash) *behind {
	const batch, batches = 1 << 20, 3
	b := &behind{buf: make([]byte, 0, batch), full: make(chan []byte, batches), free: make(chan []byte, batches), done: make(chan struct{})}
	for range batches - 1 {
		b.free <- make([]byte, 0, batch)
	}
	go func() {
		defer close(b.done)
		for p := range b.full {
			h.Write(p)
			b.free <- p[:0]
		}
	}()
	return b
}

// write hashes a copy of p: p may change once write returns.
func (b *behind) write(p []byte) {
	if len(b.buf) > 0 && len(b.buf)+len(p) > cap(b.buf) {
		b.full <- b.buf
		b.buf = <-b.free
	}
	b.buf = append(b.buf, p...)
}

// close hashes what is left and waits for the hash.
func (b *behind) close() {
	if len(b.buf) > 0 {
		b.full <- b.buf
	}
	close(b.full)
	<-b.done
}
