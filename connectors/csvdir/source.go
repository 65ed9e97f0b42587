// Package csvdir loads one source from a folder of CSV extracts as councils
// deliver them (CONTRACTS §2): plain or gzipped; UTF-8, Windows-1252 or
// UTF-16 with a byte-order mark; comma, semicolon, tab or pipe separated;
// with a report's preamble and summary lines around the data; validated row
// by row and pseudonymised at the door.
package csvdir

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow/go/v15/arrow/memory"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"

	"earlyhelp/connectors"
	"earlyhelp/pipeline"
	"earlyhelp/pipeline/recycle"
)

// Encodings a source may force. Auto reads a file as UTF-8 when every byte
// of it is UTF-8, else the whole file as Windows-1252.
const (
	EncodingAuto        = "auto"
	EncodingUTF8        = "utf-8"
	EncodingWindows1252 = "windows-1252"
)

// Config is a csvdir source's configuration.
type Config struct {
	Path string // the folder the source's files are dropped into
	// Encoding is "" or EncodingAuto (the default), or EncodingUTF8 or
	// EncodingWindows1252 to decode every file so. Forced UTF-8 reads bytes
	// that are not UTF-8 as U+FFFD, where auto would read the whole file as
	// Windows-1252.
	Encoding string
	// BalanceSign is connectors.LoadOptions.BalanceSign: "" or
	// "positive_arrears", or "negative_arrears" for a rent system that shows
	// arrears as negative balances.
	BalanceSign string
	// Columns maps contract column names to the file's headers
	// (connectors.LoadOptions.Columns).
	Columns map[string]string
	// Delimiter is "" or DelimiterAuto (found from the header row), or
	// ",", ";", "\t" or "|".
	Delimiter string
}

// Source reads the files of one source's folder that match its pattern,
// in name order.
type Source struct {
	cfg   Config
	spec  connectors.Spec
	rules *connectors.Rules
	pseud *connectors.Pseudonymiser
	ts    *connectors.TimestampParser
}

var _ pipeline.Source = (*Source)(nil)

// New checks the configuration against the spec and does no I/O. The source
// keeps its own clone of p, so sources built from one Pseudonymiser may read
// concurrently.
func New(cfg Config, spec connectors.Spec, p *connectors.Pseudonymiser) (*Source, error) {
	if spec.Name == "" {
		return nil, errors.New("csvdir: spec has no name")
	}
	if cfg.Path == "" {
		return nil, errors.New("csvdir: path is empty")
	}
	if _, err := filepath.Match(spec.Pattern, ""); err != nil || spec.Pattern == "" {
		return nil, fmt.Errorf("csvdir: bad file pattern %q", spec.Pattern)
	}
	if p == nil {
		return nil, errors.New("csvdir: no pseudonymiser")
	}
	switch cfg.Encoding {
	case "", EncodingAuto, EncodingUTF8, EncodingWindows1252:
	default:
		return nil, fmt.Errorf("csvdir: encoding %q: want %q, %q or %q", cfg.Encoding, EncodingAuto, EncodingUTF8, EncodingWindows1252)
	}
	switch cfg.Delimiter {
	case "", DelimiterAuto, ",", ";", "\t", "|":
	default:
		return nil, fmt.Errorf("csvdir: delimiter %q: want %q, \",\", \";\", \"\\t\" or \"|\"", cfg.Delimiter, DelimiterAuto)
	}
	opts := connectors.LoadOptions{BalanceSign: cfg.BalanceSign, Columns: cfg.Columns}
	if err := opts.Validate(spec.Name); err != nil {
		return nil, fmt.Errorf("csvdir: %w", err)
	}
	r, err := connectors.NewRules(spec, opts)
	if err != nil {
		return nil, fmt.Errorf("csvdir: %w", err)
	}
	return &Source{cfg: cfg, spec: spec, rules: r, pseud: p.Clone()}, nil
}

// Read offers every matching file to the sink and streams the accepted ones
// into it. It stops at the first file that cannot be read at all.
func (s *Source) Read(ctx context.Context, mem memory.Allocator, sink pipeline.Sink) error {
	if s.ts == nil {
		ts, err := connectors.NewTimestampParser()
		if err != nil {
			return err
		}
		s.ts = ts
	}
	// One recycler for every file: a council sends attendance as many
	// files, and each file's loader would otherwise allocate its records'
	// buffers afresh. The sink has released every record when End returns.
	rc := recycle.New(mem, connectors.RecycleBytes)
	defer rc.Close()
	defer s.pseud.Forget() // see Forget: no raw identifier outlives the read
	defer s.rules.ForgetBuffers()
	files, err := connectors.ListFolder(s.cfg.Path, s.spec.Pattern, s.spec.Pattern+".gz")
	if err != nil {
		return err
	}
	// A file the store knows by name, size and time is skipped unread.
	// speed-up; fallback tested by TestKnownFilesFallbackSameBooks: a sink
	// without it refuses the file in Begin once it is hashed.
	known, _ := sink.(pipeline.KnownFiles)
	// While a file is parsed, the next one is hashed on another goroutine
	// (see ahead): the hash is a whole read of the file, about a tenth of
	// the ingest's time when it ran between files on one goroutine.
	var next *ahead
	defer func() { next.wait() }()
	for i, name := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		cur := next
		next = nil
		hashNext := func() {
			if i+1 < len(files) {
				next = s.hashAhead(known, files[i+1])
			}
		}
		err := s.readFile(ctx, rc, sink, known, name, cur, hashNext)
		cur.wait()
		if err != nil {
			return err
		}
	}
	return nil
}

// ahead is a file's fingerprint taken on another goroutine while the file
// before it is read. It is used only if the file's size and modification
// time are still those it was hashed at; otherwise, or if hashing failed,
// the file is hashed again where it is read, so every error and every
// digest is the one a file-by-file read would give.
type ahead struct {
	done chan struct{}
	fp   digest
	err  error
}

// hashAhead starts hashing the named file, unless the store already knows
// it by name, size and time (a weekly run skips such files unread, and
// hashing them ahead would read every old delivery again).
func (s *Source) hashAhead(known pipeline.KnownFiles, name string) *ahead {
	path := filepath.Join(s.cfg.Path, name)
	info, err := os.Stat(path)
	if err != nil {
		return nil
	}
	if known != nil {
		if _, ok := known.Known(name, info.Size(), info.ModTime()); ok {
			return nil
		}
	}
	gz := strings.HasSuffix(strings.ToLower(name), ".gz")
	auto := s.cfg.Encoding == "" || s.cfg.Encoding == EncodingAuto
	a := &ahead{done: make(chan struct{})}
	go func() {
		defer close(a.done)
		a.fp, a.err = fingerprint(path, gz, auto)
	}()
	return a
}

// wait waits for the hash to finish (nil: none was started).
func (a *ahead) wait() {
	if a != nil {
		<-a.done
	}
}

// digest returns the hash taken ahead if it still describes the file as
// it now is (info).
func (a *ahead) digest(info os.FileInfo) (digest, bool) {
	if a == nil {
		return digest{}, false
	}
	a.wait()
	if a.err != nil || a.fp.ref.Size != info.Size() || !a.fp.modTime.Equal(info.ModTime()) {
		return digest{}, false
	}
	return a.fp, true
}

// readFile reads one file. One pass both hashes the file and, when the
// encoding is auto, sniffs it, so a file is read twice rather than three
// times.
//
// known is the sink's KnownFiles, nil if it has none. pre is the file's
// hash taken ahead (nil: none). hashNext is called once the file is
// begun, to start hashing the next file while this one is parsed.
func (s *Source) readFile(ctx context.Context, mem memory.Allocator, sink pipeline.Sink, known pipeline.KnownFiles, name string, pre *ahead, hashNext func()) error {
	path := filepath.Join(s.cfg.Path, name)
	gz := strings.HasSuffix(strings.ToLower(name), ".gz")
	enc := s.cfg.Encoding
	auto := enc == "" || enc == EncodingAuto
	info, err := os.Stat(path)
	if err != nil {
		return s.fileErr(name, connectors.UnwrapPath(err))
	}
	if known != nil {
		if sha, ok := known.Known(name, info.Size(), info.ModTime()); ok {
			ok, err := sink.Begin(pipeline.FileRef{Name: name, SHA256: sha, Size: info.Size(), ModTime: info.ModTime()})
			if err != nil {
				return s.fileErr(name, err)
			}
			if ok { // Known and Loaded read the same deliveries: cannot happen
				return s.fileErr(name, errors.New("the store knows the file by its time but not by its hash"))
			}
			return nil
		}
	}
	fp, ok := pre.digest(info)
	if !ok {
		if fp, err = fingerprint(path, gz, auto); err != nil {
			return s.fileErr(name, err)
		}
	}
	ref := fp.ref
	ref.Name, ref.ModTime = name, info.ModTime()
	ok, err = sink.Begin(ref)
	if err != nil {
		return s.fileErr(name, err)
	}
	if !ok {
		return nil
	}
	hashNext()
	if auto {
		if fp.sniffErr != nil {
			return s.fileErr(name, fp.sniffErr)
		}
		enc = fp.enc
	}
	f, err := os.Open(path)
	if err != nil {
		return s.fileErr(name, connectors.UnwrapPath(err))
	}
	defer f.Close()
	r, err := decoded(f, gz, enc, s.cfg.Encoding == EncodingUTF8)
	if err != nil {
		return s.fileErr(name, err)
	}
	rows, shape, err := s.parse(ctx, mem, sink, name, r)
	if err != nil {
		return err
	}
	if shape != (pipeline.FileShape{}) {
		if err := sink.Shape(ref, shape); err != nil {
			return s.fileErr(name, err)
		}
	}
	if err := sink.End(ref, rows); err != nil {
		return s.fileErr(name, err)
	}
	return nil
}

// fileErr names the file. Read's errors leave the source to its caller
// (see connectors.ListFolder), so it is named once.
func (s *Source) fileErr(name string, err error) error {
	return fmt.Errorf("file %s: %w", name, err)
}

// digest is what one pass over a delivered file learns.
type digest struct {
	ref pipeline.FileRef // without the name
	// enc is the encoding sniffed: EncodingUTF8 when the (decompressed)
	// bytes are all UTF-8, encodingUTF16 after a UTF-16 byte-order mark,
	// else EncodingWindows1252.
	enc      string
	sniffErr error // why the bytes could not be sniffed (not gzip)
	// modTime is the file's modification time when it was hashed, so a
	// hash taken ahead can be checked against the file as it is read.
	modTime time.Time
}

// encodingUTF16 is UTF-16 with a byte-order mark, little- or big-endian
// (Excel's "Unicode text"). It is sniffed, never configured: without the
// mark the byte order is a guess.
const encodingUTF16 = "utf-16"

// fingerprint hashes a file as delivered and, when sniff is set, sniffs its
// (decompressed) bytes on the way. An error reading the file is returned;
// one of sniffing it is kept in sniffErr, for the caller to report only if
// it reads the file (a file loaded before is skipped without complaint).
func fingerprint(path string, gz, sniff bool) (digest, error) {
	f, err := os.Open(path)
	if err != nil {
		return digest{}, connectors.UnwrapPath(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return digest{}, connectors.UnwrapPath(err)
	}
	h := sha256.New()
	var p digest
	if sniff {
		fr := &fileReader{f: f}
		p.enc, p.sniffErr = sniffReader(io.TeeReader(fr, h), gz)
		if fr.err != nil {
			return digest{}, connectors.UnwrapPath(fr.err)
		}
	}
	// The bytes the sniffer did not need, or all of them.
	if _, err := io.Copy(h, f); err != nil {
		return digest{}, connectors.UnwrapPath(err)
	}
	p.ref = pipeline.FileRef{SHA256: hex.EncodeToString(h.Sum(nil)), Size: fi.Size()}
	p.modTime = fi.ModTime()
	return p, nil
}

// fileReader remembers the file's own read error, to tell it from a
// decompression error.
type fileReader struct {
	f   *os.File
	err error
}

func (r *fileReader) Read(p []byte) (int, error) {
	n, err := r.f.Read(p)
	if err != nil && err != io.EOF && r.err == nil {
		r.err = err
	}
	return n, err
}

// sniffUTF8 reports whether the file's (decompressed) bytes are all valid
// UTF-8. A file is decoded as one encoding: the whole of it as Windows-1252
// when any byte is not UTF-8, which is how Excel's "CSV" saves arrive.
func sniffUTF8(path string, gz bool) (bool, error) {
	p, err := fingerprint(path, gz, true)
	if err != nil {
		return false, err
	}
	return p.enc == EncodingUTF8, p.sniffErr
}

// sniffReader reads r, gzipped or not, until it knows the text's
// encoding: UTF-16 from its byte-order mark, else UTF-8 when every byte
// is, else Windows-1252.
func sniffReader(r io.Reader, gz bool) (string, error) {
	if gz {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return "", fmt.Errorf("not gzip: %w", err)
		}
		defer zr.Close()
		r = zr
	}
	buf := make([]byte, 256<<10)
	held := 0 // bytes of an incomplete rune carried to the next read
	first := true
	for {
		n, err := r.Read(buf[held:])
		n += held
		if first && n >= 2 && (buf[0] == 0xFF && buf[1] == 0xFE || buf[0] == 0xFE && buf[1] == 0xFF) {
			return encodingUTF16, nil
		}
		first = first && n < 2
		end := n
		if err == nil {
			end = completeRunes(buf[:n])
		}
		if !utf8.Valid(buf[:end]) {
			return EncodingWindows1252, nil
		}
		held = copy(buf, buf[end:n])
		if err == io.EOF {
			if held == 0 {
				return EncodingUTF8, nil
			}
			return EncodingWindows1252, nil
		}
		if err != nil {
			return "", err
		}
	}
}

// completeRunes returns the length of b without a trailing incomplete rune.
func completeRunes(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return i
			}
			break
		}
	}
	return len(b)
}

// decoded returns the file's text, in enc, as UTF-8 without a byte-order
// mark. forced UTF-8 text is checked as it is read: what is not UTF-8
// becomes U+FFFD (a sniffed file is known to be valid already).
func decoded(f *os.File, gz bool, enc string, forced bool) (io.Reader, error) {
	var r io.Reader = f
	if gz {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("not gzip: %w", err)
		}
		r = zr
	}
	br := bufio.NewReaderSize(r, 256<<10)
	if bom, err := br.Peek(3); err == nil && string(bom) == "\xEF\xBB\xBF" {
		br.Discard(3)
	}
	switch {
	case enc == encodingUTF16:
		// The mark decides the byte order and is dropped.
		return bufio.NewReaderSize(unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder().Reader(br), 256<<10), nil
	case enc == EncodingUTF8 && forced:
		return bufio.NewReaderSize(unicode.UTF8.NewDecoder().Reader(br), 256<<10), nil
	case enc == EncodingUTF8:
		return br, nil
	}
	return bufio.NewReaderSize(charmap.Windows1252.NewDecoder().Reader(br), 256<<10), nil
}
