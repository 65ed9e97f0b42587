package connectors

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"earlyhelp/pipeline/contract"
)

// This file matches a delivered header row to a source's contract columns.
// School MIS and case-management exports write human headers ("School
// URN", "Session Date") and every supplier spells them differently, so a
// header cell matches a contract column when:
//   - the source's column map (sources.<name>.columns) names it for that
//     column, compared as below; or
//   - it normalises to the column's name: case, spaces and punctuation
//     ignored, camelCase split ("SessionDate" is session_date); or
//   - it normalises to one of a few common variants of the column's name
//     (headerVariants), such as "DOB" for date_of_birth.
//
// A required column that matches nothing gives a *HeaderError listing the
// headers found and the closest header for each missing column, from
// which validate prints a column map for the council to check and paste.

// NormaliseHeader folds a header cell to the contract's spelling: lower
// case, every run of spaces and punctuation one underscore, camelCase
// split, a byte-order mark and surrounding blanks dropped.
func NormaliseHeader(h string) string {
	h = strings.TrimPrefix(strings.TrimSpace(h), "\uFEFF")
	var b strings.Builder
	b.Grow(len(h) + 4)
	pendingSep := false
	var prev rune
	for _, r := range h {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			// A lower-case letter followed by a capital starts a
			// word: SessionDate, markUpdatedAt.
			if unicode.IsUpper(r) && unicode.IsLower(prev) {
				pendingSep = true
			}
			if pendingSep && b.Len() > 0 {
				b.WriteByte('_')
			}
			pendingSep = false
			b.WriteRune(unicode.ToLower(r))
		default:
			pendingSep = true
		}
		prev = r
	}
	return b.String()
}

// headerVariants are spellings common enough in council exports to be
// matched without a map, by their normalised form. A variant names one
// contract column whatever the source; it is only used for a source that
// has that column.
var headerVariants = map[string]string{
	"dob":               contract.ColDateOfBirth,
	"birth_date":        contract.ColDateOfBirth,
	"nhs_no":            contract.ColNHSNumber,
	"nhs_num":           contract.ColNHSNumber,
	"pupil_upn":         contract.ColUPN,
	"urn":               contract.ColSchoolURN,
	"school_urn_number": contract.ColSchoolURN,
	"date":              contract.ColSessionDate,
	"am_pm":             contract.ColSession,
	"mark":              contract.ColAttendanceCode,
	"attendance_mark":   contract.ColAttendanceCode,
	"mins_late":         contract.ColMinutesLate,
	"late_minutes":      contract.ColMinutesLate,
	"last_updated":      contract.ColMarkUpdatedAt,
	"updated_at":        contract.ColMarkUpdatedAt,
	"lsoa":              contract.ColLSOACode,
	"lsoa11cd":          contract.ColLSOACode,
	"lsoa21cd":          contract.ColLSOACode,
	"gender":            contract.ColSex,
}

// headerMatcher resolves delivered headers against one source's columns.
type headerMatcher struct {
	names    []string
	required []bool
	// mapped is, per contract column, the normalised header the source's
	// column map names for it ("" when the map has none).
	mapped []string
}

func newHeaderMatcher(spec Spec, columns map[string]string) (*headerMatcher, error) {
	m := &headerMatcher{}
	known := map[string]bool{}
	for _, c := range spec.Columns {
		m.names = append(m.names, c.Name)
		m.required = append(m.required, c.Required)
		m.mapped = append(m.mapped, NormaliseHeader(columns[c.Name]))
		known[c.Name] = true
	}
	for col, h := range columns {
		if !known[col] {
			return nil, fmt.Errorf("columns: %q is not a column of %s (known: %s)", col, spec.Name, strings.Join(m.names, ", "))
		}
		if NormaliseHeader(h) == "" {
			return nil, fmt.Errorf("columns: %s: the header is empty", col)
		}
	}
	return m, nil
}

// matches reports whether header cell h (normalised) is contract column i.
func (m *headerMatcher) matches(i int, h string) bool {
	if h == "" {
		return false
	}
	if m.mapped[i] != "" && h == m.mapped[i] {
		return true
	}
	return h == m.names[i] || headerVariants[h] == m.names[i]
}

// resolve returns, per contract column, its place in header or -1. A
// mapped header is preferred to the contract's own name when a file has
// both.
func (m *headerMatcher) resolve(header []string) ([]int, error) {
	norm := make([]string, len(header))
	for i, h := range header {
		norm[i] = NormaliseHeader(h)
	}
	idx := make([]int, len(m.names))
	var missing []string
	for i := range m.names {
		idx[i] = -1
		if m.mapped[i] != "" {
			for j, h := range norm {
				if h == m.mapped[i] {
					if idx[i] >= 0 {
						return nil, fmt.Errorf("column %q appears twice in the header", m.names[i])
					}
					idx[i] = j
				}
			}
			if idx[i] >= 0 {
				continue
			}
		}
		for j, h := range norm {
			if h != "" && (h == m.names[i] || headerVariants[h] == m.names[i]) {
				if idx[i] >= 0 {
					return nil, fmt.Errorf("column %q appears twice in the header", m.names[i])
				}
				idx[i] = j
			}
		}
		if idx[i] < 0 && m.required[i] {
			missing = append(missing, m.names[i])
		}
	}
	if len(missing) > 0 {
		return nil, &HeaderError{Missing: missing, Found: shownHeaders(header), Suggested: m.suggest(header, idx)}
	}
	return idx, nil
}

// score is how many contract columns header matches: how the csvdir
// reader tells the header row from a report's preamble lines.
func (m *headerMatcher) score(header []string) int {
	n := 0
	for i := range m.names {
		for _, h := range header {
			if m.matches(i, NormaliseHeader(h)) {
				n++
				break
			}
		}
	}
	return n
}

// HeaderError is a header row that lacks required columns. Error names
// the first missing column as before ("missing required column ..."),
// then the headers found and the closest match of each missing one.
type HeaderError struct {
	Missing []string // required contract columns that matched no header
	Found   []string // the header cells, values that look like data hidden
	// Suggested maps every contract column that matched no header to the
	// closest unused header, when one is close at all.
	Suggested map[string]string
}

func (e *HeaderError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "missing required column %q", e.Missing[0])
	if len(e.Missing) > 1 {
		fmt.Fprintf(&b, " (and %s)", quoteAll(e.Missing[1:]))
	}
	fmt.Fprintf(&b, "; headers found: %s", quoteAll(e.Found))
	for _, c := range e.Missing {
		if h, ok := e.Suggested[c]; ok {
			fmt.Fprintf(&b, "; closest to %s: %q", c, h)
		} else {
			fmt.Fprintf(&b, "; nothing close to %s", c)
		}
	}
	b.WriteString("; map them under sources.<name>.columns")
	return b.String()
}

func quoteAll(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = strconv.Quote(v)
	}
	return strings.Join(q, ", ")
}

// shownHeaders is the header as an error may show it. A file with no
// header row at all would put its first data row here, so a cell that
// looks like a value rather than a name (four digits or more: an
// identifier, a date) is hidden: no personal identifier in messages.
func shownHeaders(header []string) []string {
	out := make([]string, len(header))
	for i, h := range header {
		digits := 0
		for _, r := range h {
			if r >= '0' && r <= '9' {
				digits++
			}
		}
		h = strings.TrimPrefix(strings.TrimSpace(h), "\uFEFF")
		if digits >= 4 || len(h) > 60 {
			h = "(a value, not shown)"
		}
		out[i] = h
	}
	return out
}

// suggest pairs each contract column that matched nothing with the unused
// header closest to it, best pairs first, so that "Date of Session" goes
// to session_date before session can take it.
func (m *headerMatcher) suggest(header []string, idx []int) map[string]string {
	used := map[int]bool{}
	for _, j := range idx {
		if j >= 0 {
			used[j] = true
		}
	}
	shown := shownHeaders(header)
	type pair struct {
		col, h int
		score  float64
	}
	var pairs []pair
	for i, j := range idx {
		if j >= 0 {
			continue
		}
		for h := range header {
			if used[h] || shown[h] != strings.TrimPrefix(strings.TrimSpace(header[h]), "\uFEFF") {
				continue
			}
			if s := similarity(m.names[i], NormaliseHeader(header[h])); s > 0 {
				pairs = append(pairs, pair{i, h, s})
			}
		}
	}
	slices.SortStableFunc(pairs, func(a, b pair) int {
		switch {
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		return 0
	})
	out := map[string]string{}
	for _, p := range pairs {
		if _, done := out[m.names[p.col]]; done || used[p.h] {
			continue
		}
		out[m.names[p.col]] = shown[p.h]
		used[p.h] = true
	}
	return out
}

// similarity scores a normalised header against a contract column by
// their words: a word the same counts 1, one the prefix of the other
// (sch, school; mins, minutes) 0.7, and the sum is divided by the longer
// list's length. 0 means nothing in common.
func similarity(col, header string) float64 {
	cw, hw := strings.Split(col, "_"), strings.Split(header, "_")
	if header == "" {
		return 0
	}
	var sum float64
	for _, c := range cw {
		best := 0.0
		for _, h := range hw {
			switch {
			case c == h:
				best = 1
			case len(c) >= 3 && len(h) >= 3 && (strings.HasPrefix(c, h) || strings.HasPrefix(h, c)):
				best = max(best, 0.7)
			}
		}
		sum += best
	}
	return sum / float64(max(len(cw), len(hw)))
}
