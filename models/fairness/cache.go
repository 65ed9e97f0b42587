package fairness

import (
	"bytes"
	"crypto/sha256"
	"earlyhelp/pipeline/atomicfile"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// The backtest audit of a weekly run is the audit of the run that trained
// its model: the same children, scores and outcomes, and the same
// bootstrap seed. Its bootstrap (a thousand resamples of every backtest
// child) was most of a weekly run's time, so the result is kept by a digest
// of its input and settings and read back, instead of being recomputed,
// whenever the digest recurs. A changed row, model or setting changes the
// digest.

// cacheKeep is how many audits a cache folder keeps: a retrain and the
// weeks that reuse it need only the newest.
const cacheKeep = 4

// auditKey digests the rows and the settings the result depends on.
func auditKey(rows []Row, cfg *Config) string {
	h := sha256.New()
	settings, _ := json.Marshal(cfg.settings())
	h.Write(settings)
	var buf []byte
	for i := range rows {
		r := &rows[i]
		buf = buf[:0]
		for _, s := range []string{r.AsOf, r.Model, r.ID, r.HouseholdID, r.Ethnicity, r.Ethnicity5, r.AgeBand, r.Sex, r.SENStatus} {
			buf = append(buf, s...)
			buf = append(buf, 0)
		}
		buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(r.Score))
		buf = append(buf, byte(r.Selected), byte(r.Label))
		buf = binary.LittleEndian.AppendUint64(buf, uint64(r.IMDDecile))
		if len(r.Extra) > 0 {
			keys := make([]string, 0, len(r.Extra))
			for k := range r.Extra {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				buf = append(buf, k...)
				buf = append(buf, '=')
				buf = append(buf, r.Extra[k]...)
				buf = append(buf, 0)
			}
		}
		buf = append(buf, '\n')
		h.Write(buf)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// cachedAudit returns the audit kept under key, if there is one that reads
// back cleanly; anything else is a miss.
func cachedAudit(dir, key string, cfg *Config) (*Result, bool) {
	b, err := os.ReadFile(filepath.Join(dir, key+".json"))
	if err != nil {
		return nil, false
	}
	res := &Result{}
	if err := json.Unmarshal(b, res); err != nil || res.Rows == 0 {
		return nil, false
	}
	res.attrs = cfg.Attributes
	res.Publishable = publish(res, cfg)
	return res, true
}

// keepAudit stores res under key and drops all but the newest cacheKeep
// audits. A cache that cannot be written only costs the next run time.
func keepAudit(dir, key string, res *Result) {
	var b bytes.Buffer
	if res.writeJSON(&b) != nil {
		return
	}
	if os.MkdirAll(dir, 0o750) != nil {
		return
	}
	if atomicfile.WriteFile(filepath.Join(dir, key+".json"), b.Bytes(), 0o640) != nil {
		return
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	type kept struct {
		name string
		mod  int64
	}
	var all []kept
	for _, e := range ents {
		if info, err := e.Info(); err == nil && strings.HasSuffix(e.Name(), ".json") {
			all = append(all, kept{e.Name(), info.ModTime().UnixNano()})
		}
	}
	slices.SortFunc(all, func(a, b kept) int { return int(b.mod - a.mod) })
	for _, k := range all[min(len(all), cacheKeep):] {
		os.Remove(filepath.Join(dir, k.name))
	}
}
