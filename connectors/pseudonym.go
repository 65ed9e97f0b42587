package connectors

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"os"
	"strings"
)

// MinKeyBytes is the shortest pseudonym key accepted.
const MinKeyBytes = 16

// pseudonymBytes is how much of the HMAC a pseudonym keeps: 80 bits, 20 hex
// characters, far beyond a council's population for collisions.
const pseudonymBytes = 10

// memoLimit bounds the per-namespace memo so a run over an unexpectedly wide
// identifier space cannot grow it without end; beyond it values are simply
// recomputed.
const memoLimit = 1 << 20

// A Pseudonymiser replaces identifiers with keyed pseudonyms (CONTRACTS §2):
// the first 10 bytes of HMAC-SHA-256(key, namespace + "\x00" + value), hex.
//
// It memoises what it has computed, because attendance repeats one pupil's
// UPN hundreds of times a year, and reuses one HMAC state. It is therefore
// not safe for concurrent use: give each goroutine its own Clone.
type Pseudonymiser struct {
	key  []byte
	mac  hash.Hash
	buf  []byte // namespace + "\x00" + value
	sum  []byte
	memo map[string]map[string]string

	// The last namespace asked for, so a column's run of calls skips the
	// outer map lookup.
	lastNS   string
	lastMemo map[string]string

	forks []*Pseudonymiser // see fork

	// ids are the identifier cells the checker using p last worked out,
	// kept for the next checker of the same source (see idMemos).
	ids *idMemos
}

// NewPseudonymiser returns a pseudonymiser keyed with a copy of key, which
// must be at least MinKeyBytes long.
func NewPseudonymiser(key []byte) (*Pseudonymiser, error) {
	if len(key) < MinKeyBytes {
		return nil, fmt.Errorf("pseudonym key: %d bytes; need at least %d", len(key), MinKeyBytes)
	}
	k := bytes.Clone(key)
	return &Pseudonymiser{
		key:  k,
		mac:  hmac.New(sha256.New, k),
		sum:  make([]byte, 0, sha256.Size),
		memo: make(map[string]map[string]string),
	}, nil
}

// Clone returns a pseudonymiser with the same key and an empty memo, for use
// on another goroutine.
func (p *Pseudonymiser) Clone() *Pseudonymiser {
	c, _ := NewPseudonymiser(p.key) // the key was checked when p was made
	return c
}

// Forget drops what p and its forks have memoised. A source calls it when
// a read ends: the memo maps raw identifiers to their pseudonyms, so
// keeping it would hold every UPN, NHS number and UPRN the source read in
// memory for the rest of the run (and for the life of a scheduled
// process), and at 300,000 children it is some 380 MB the backtest's peak
// would carry for nothing. The next read computes them again.
func (p *Pseudonymiser) Forget() {
	p.memo = make(map[string]map[string]string)
	p.lastNS, p.lastMemo = "", nil
	p.ids = nil
	for _, f := range p.forks {
		f.Forget()
	}
}

// Memoised counts the values p and its forks hold memoised, pseudonyms
// and the identifier cells kept for a source's next file, for tests.
func (p *Pseudonymiser) Memoised() int {
	n := 0
	for _, m := range p.memo {
		n += len(m)
	}
	if p.ids != nil {
		for _, c := range p.ids.cells {
			n += c.n
		}
	}
	for _, f := range p.forks {
		n += f.Memoised()
	}
	return n
}

// keepIDs keeps a checker's identifier cells for the next
// checker that uses p, until Forget.
func (p *Pseudonymiser) keepIDs(ids *idMemos) {
	p.ids = ids
}

// takeIDs hands over the identifier cells kept by keepIDs if they were
// checked by r, else nil.
func (p *Pseudonymiser) takeIDs(r *Rules) *idMemos {
	ids := p.ids
	p.ids = nil
	if ids == nil || ids.rules != r {
		return nil
	}
	return ids
}

// fork returns p's k-th fork (k ≥ 1), made on first use and kept with p,
// for a row loader's k-th checker: a source reads many files, one at a
// time, and each fork keeps its memo from file to file as p does.
func (p *Pseudonymiser) fork(k int) *Pseudonymiser {
	for len(p.forks) < k {
		p.forks = append(p.forks, p.Clone())
	}
	return p.forks[k-1]
}

// Pseudonym returns the pseudonym of an already normalised value (see
// NormaliseID) in a namespace (NSPerson, NSUPN, ...). The empty value has
// the empty pseudonym: a missing identifier stays missing.
func (p *Pseudonymiser) Pseudonym(namespace, normalisedValue string) string {
	if normalisedValue == "" {
		return ""
	}
	m := p.lastMemo
	if m == nil || namespace != p.lastNS {
		m = p.memo[namespace]
		if m == nil {
			m = make(map[string]string)
			p.memo[strings.Clone(namespace)] = m
		}
		p.lastNS, p.lastMemo = namespace, m
	}
	if ps, ok := m[normalisedValue]; ok {
		return ps
	}
	ps := p.compute(namespace, normalisedValue)
	if len(m) < memoLimit {
		// Clone: the value is often a slice of a CSV line we must not pin.
		m[strings.Clone(normalisedValue)] = ps
	}
	return ps
}

func (p *Pseudonymiser) compute(namespace, value string) string {
	p.buf = append(p.buf[:0], namespace...)
	p.buf = append(p.buf, 0)
	p.buf = append(p.buf, value...)
	p.mac.Reset()
	p.mac.Write(p.buf)
	p.sum = p.mac.Sum(p.sum[:0])
	var out [2 * pseudonymBytes]byte
	hex.Encode(out[:], p.sum[:pseudonymBytes])
	return string(out[:])
}

// LoadKey reads a pseudonym key file: either hex digits (an even number of
// them) or the raw key bytes, surrounding white space ignored. Errors name
// the file, never its content. Falling back to EARLYHELP_PSEUDONYM_KEY when
// no file is configured is the caller's business.
func LoadKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is said once, below
		}
		return nil, fmt.Errorf("pseudonym key file %s: %w", path, err)
	}
	b = bytes.TrimSpace(b)
	if isHex(b) {
		k := make([]byte, len(b)/2)
		if _, err := hex.Decode(k, b); err != nil {
			// Unreachable after isHex; the error would quote key bytes.
			return nil, fmt.Errorf("pseudonym key file %s: not valid hex", path)
		}
		b = k
	}
	if len(b) < MinKeyBytes {
		return nil, fmt.Errorf("pseudonym key file %s: key is %d bytes; need at least %d", path, len(b), MinKeyBytes)
	}
	return b, nil
}

func isHex(b []byte) bool {
	if len(b) == 0 || len(b)%2 != 0 {
		return false
	}
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f', c >= 'A' && c <= 'F':
		default:
			return false
		}
	}
	return true
}

// NormaliseID puts a raw identifier into the form that is pseudonymised and
// checked, so that the same identifier typed two ways gets one pseudonym.
// It does not validate: a value that is still malformed afterwards is for
// the caller to reject.
func NormaliseID(namespace, raw string) string {
	switch namespace {
	case NSUPN:
		return NormaliseUPN(raw)
	case NSNHS:
		return NormaliseNHS(raw)
	case NSUPRN:
		return NormaliseUPRN(raw)
	}
	return strings.TrimSpace(raw)
}

// NormaliseUPRN undoes what spreadsheets do to a UPRN that is a whole
// number: a trailing ".0" and zero padding. Scientific notation
// ("1.00023E+11") has lost digits and cannot be recovered, so it is left as
// it is for validation to reject.
func NormaliseUPRN(raw string) string {
	s := strings.TrimSpace(raw)
	s = strings.TrimSuffix(s, ".0")
	if s == "" || !allDigits(s) {
		return s
	}
	t := strings.TrimLeft(s, "0")
	if t == "" {
		return "0"
	}
	return t
}

// CheckUPRN reports whether a normalised UPRN is a whole number from 1 to
// 999 999 999 999 (domain-data §3.5).
func CheckUPRN(s string) bool {
	return len(s) >= 1 && len(s) <= 12 && allDigits(s) && s != "0"
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
