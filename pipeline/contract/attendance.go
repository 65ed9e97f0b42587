package contract

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
)

// Statistical categories of an attendance mark (domain-data §1.2, §1.3).
const (
	CategoryPresent    = "present"
	CategoryAEA        = "aea" // approved educational activity: counts as attended
	CategoryAuth       = "auth"
	CategoryUnauth     = "unauth"
	CategoryNotCounted = "not_counted" // outside possible sessions
	CategoryMissing    = "missing"     // no mark entered: excluded from possible and flagged
)

// CodeSet2024Days is 2024-08-19 as days since 1970-01-01: marks for
// sessions from that day are read with the 2024 code set (School Attendance
// (Pupil Registration) (England) Regulations 2024), earlier ones with the
// code set they were recorded under.
const CodeSet2024Days = 19954

// CodeSet2024Start is the first session date read with the 2024 code set.
func CodeSet2024Start() time.Time { return time.Date(2024, 8, 19, 0, 0, 0, 0, time.UTC) }

// AttendanceCategory reads an attendance mark as recorded for a session on
// sessionDate (only its calendar date counts). It accepts the code with
// surrounding blanks, lower-case letters, the "[C1]" bracketed form and the
// single-character substitutes some LA systems use for multi-character codes,
// and returns the canonical code and its category. ok is false for a code
// that is not valid on that date, including a 2024 code before 19 August
// 2024 and a withdrawn one (H, J, Y, F, the COVID X01-X09) after it: such
// marks are quarantined, never guessed.
func AttendanceCategory(code string, sessionDate time.Time) (canonical, category string, ok bool) {
	y, m, d := sessionDate.Date()
	days := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
	return AttendanceCategoryDays(code, int32(days))
}

// AttendanceCategoryDays is AttendanceCategory for a session date given as
// days since 1970-01-01 (an Arrow date32).
func AttendanceCategoryDays(code string, sessionDays int32) (canonical, category string, ok bool) {
	c := canonicalCode(code)
	legacy, current := codeCategories(c)
	category = current
	if sessionDays < CodeSet2024Days {
		category = legacy
	}
	if category == "" {
		return "", "", false
	}
	return c, category, true
}

// canonicalCode undoes the ways a mark is written that do not change its
// meaning. The result is only a candidate: codeCategories decides.
func canonicalCode(raw string) string {
	s := strings.TrimSpace(raw)
	if len(s) >= 3 && s[0] == '[' && s[len(s)-1] == ']' {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	if len(s) == 1 {
		// Before upper-casing: "a" is the substitute for Y2, not the letter A.
		if sub := substitute(s[0]); sub != "" {
			return sub
		}
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'a' && c <= 'z' {
			return strings.ToUpper(s) // rare: allocate only then
		}
	}
	return s
}

// substitute decodes the single-character stand-ins that LA systems use
// for codes longer than one character (domain-data §1.2).
func substitute(c byte) string {
	switch c {
	case '<':
		return "C1"
	case '>':
		return "C2"
	case '?':
		return "J1"
	case '$':
		return "Y1"
	case 'a':
		return "Y2"
	case '%':
		return "Y3"
	case '`':
		return "Y4"
	case ':':
		return "Y5"
	case '|':
		return "Y6"
	case '_':
		return "Y7"
	case '+':
		return "X01"
	}
	return ""
}

// codeCategories gives a canonical code's category under the code set in
// force before 19 August 2024 (legacy) and under the 2024 set (current); ""
// means the code is not valid in that set.
func codeCategories(c string) (legacy, current string) {
	switch c {
	case "/", `\`, "L":
		return CategoryPresent, CategoryPresent
	case "V", "P", "W", "B":
		return CategoryAEA, CategoryAEA
	case "K":
		return "", CategoryAEA
	case "J": // interview: approved educational activity until replaced by J1
		return CategoryAEA, ""
	case "M", "S", "C", "T", "R", "I", "E":
		return CategoryAuth, CategoryAuth
	case "C1", "C2", "J1":
		return "", CategoryAuth
	case "H", "F": // agreed (extended) family holiday
		return CategoryAuth, ""
	case "G", "N", "O", "U":
		return CategoryUnauth, CategoryUnauth
	case "D", "X", "Z", "#":
		return CategoryNotCounted, CategoryNotCounted
	case "Q", "Y1", "Y2", "Y3", "Y4", "Y5", "Y6", "Y7":
		return "", CategoryNotCounted
	case "Y", // exceptional circumstances, split into Y1-Y7
		"X01", "X02", "X03", "X04", "X05", "X06", "X07", "X08", "X09": // COVID, 2020-22
		return CategoryNotCounted, ""
	case "-":
		return CategoryMissing, CategoryMissing
	}
	return "", ""
}

// Attendance codes the features count on their own, beyond their
// category (domain-data §1.2): they are named here so the features split
// a category by the same codes the table above classifies.
const (
	CodeLate           = "L" // present, arrived late before the register closed
	CodeLateAfterClose = "U" // unauthorised: arrived after the register closed
	CodeIllness        = "I" // authorised: illness
	CodeHoliday        = "G" // unauthorised: holiday not agreed
	CodeNoReasonYet    = "N" // unauthorised: no reason yet provided
	CodeUnauthOther    = "O" // unauthorised: not covered by another code
)

// Sessions of a day (attendance_sessions.session).
const (
	SessionAM = "AM"
	SessionPM = "PM"
)

// The values the store keeps an attendance mark's session, canonical code
// and category as: each file stores them once, as its dictionary, and a
// byte a mark. Every code codeCategories knows is listed (TestAttendanceCodes).
// Append only: an earlier file's dictionary is its own, so reordering would
// not break it, but it would make two files' bytes differ for no reason.
var (
	sessions   = []string{SessionAM, SessionPM}
	categories = []string{CategoryPresent, CategoryAEA, CategoryAuth, CategoryUnauth, CategoryNotCounted, CategoryMissing}
	codes      = []string{
		"/", `\`, "L", "V", "P", "W", "B", "K", "J",
		"M", "S", "C", "T", "R", "I", "E", "C1", "C2", "J1", "H", "F",
		"G", "N", "O", "U", "D", "X", "Z", "#",
		"Q", "Y1", "Y2", "Y3", "Y4", "Y5", "Y6", "Y7",
		"Y", "X01", "X02", "X03", "X04", "X05", "X06", "X07", "X08", "X09", "-",
	}
)

// Sessions lists the sessions of a day.
func Sessions() []string { return append([]string(nil), sessions...) }

// Categories lists the statistical categories of a mark.
func Categories() []string { return append([]string(nil), categories...) }

// AttendanceCodes lists every canonical attendance code, of either code
// set.
func AttendanceCodes() []string { return append([]string(nil), codes...) }

// CodesKey is the key of a stored field's metadata that makes it a coded
// column: an int8 column whose values are places in the list the key holds
// (as a JSON array of strings). The store keeps an attendance mark's
// session, code and category so, a byte each where text took five to
// fifteen; the list is in each file's schema, so a file read later reads
// with the list it was written with.
const CodesKey = "earlyhelp.codes"

// FormatCodes is a coded field's list as its metadata holds it.
func FormatCodes(words []string) string {
	b, err := json.Marshal(words)
	if err != nil {
		panic(err) // a list of strings always marshals
	}
	return string(b)
}

// ParseCodes reads a coded field's list from its metadata. A list of none,
// of more than an int8 can point at, or naming a value twice is refused.
func ParseCodes(meta string) ([]string, error) {
	var words []string
	if err := json.Unmarshal([]byte(meta), &words); err != nil {
		return nil, fmt.Errorf("%s: %w", CodesKey, err)
	}
	if len(words) == 0 || len(words) > math.MaxInt8 {
		return nil, fmt.Errorf("%s: %d values, want 1 to %d", CodesKey, len(words), math.MaxInt8)
	}
	seen := make(map[string]bool, len(words))
	for _, w := range words {
		if seen[w] {
			return nil, fmt.Errorf("%s: %q listed twice", CodesKey, w)
		}
		seen[w] = true
	}
	return words, nil
}
