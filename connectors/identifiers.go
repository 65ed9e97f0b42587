package connectors

import (
	"errors"
	"strings"
	"unicode"
)

// upnAlphabet is the 23 letters a UPN may use (no I, O or S), in the order
// the check-letter arithmetic indexes them (domain-data §1.7).
const upnAlphabet = "ABCDEFGHJKLMNPQRTUVWXYZ"

// Errors from the identifier checks; callers map them to quarantine reasons.
var (
	ErrUPNFormat = errors.New("upn: not 13 characters of the UPN alphabet")
	ErrUPNCheck  = errors.New("upn: check letter does not match")
	ErrNHSFormat = errors.New("nhs number: not 10 digits")
	ErrNHSCheck  = errors.New("nhs number: check digit does not match")
)

// UPNCheckLetter computes the check letter for the 12 characters that follow
// it (positions 2 to 13 of a UPN). ok is false when a character is outside the
// UPN alphabet or a letter stands anywhere but the last position.
func UPNCheckLetter(rest string) (byte, bool) {
	if len(rest) != 12 {
		return 0, false
	}
	sum := 0
	for i := 0; i < 12; i++ {
		c := rest[i]
		var v int
		switch {
		case c >= '0' && c <= '9':
			v = int(c - '0')
		case i == 11:
			v = strings.IndexByte(upnAlphabet, c)
			if v < 0 {
				return 0, false
			}
		default:
			return 0, false
		}
		sum += (i + 2) * v
	}
	return upnAlphabet[sum%23], true
}

// NormaliseUPN upper-cases a UPN and strips the spaces and dashes clerks type
// into it. It does not check it.
func NormaliseUPN(s string) string {
	return strings.ToUpper(stripSeparators(s))
}

// stripSeparators removes every space (tabs, NBSP and the like included) and
// dash that clerks and spreadsheets put into an identifier, in one pass, so
// normalising twice gives what normalising once did (found by fuzzing:
// trimming before removing dashes left "\t" of "…\t-").
func stripSeparators(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '-' || c <= ' ' || c >= 0x80 {
			clean = false
			break
		}
	}
	if clean {
		return s // the usual case, without allocating
	}
	return strings.Map(func(r rune) rune {
		if r == '-' || unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

// CheckUPN verifies a normalised UPN's form and check letter.
func CheckUPN(upn string) error {
	if len(upn) != 13 {
		return ErrUPNFormat
	}
	want, ok := UPNCheckLetter(upn[1:])
	if !ok || strings.IndexByte(upnAlphabet, upn[0]) < 0 {
		return ErrUPNFormat
	}
	if upn[0] != want {
		return ErrUPNCheck
	}
	return nil
}

// NHSCheckDigit computes the mod-11 check digit of the first nine digits of an
// NHS number. ok is false when the result is 10, which no valid number has.
func NHSCheckDigit(first9 string) (byte, bool) {
	if len(first9) != 9 {
		return 0, false
	}
	sum := 0
	for i := 0; i < 9; i++ {
		c := first9[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		sum += int(c-'0') * (10 - i)
	}
	check := 11 - sum%11
	switch check {
	case 11:
		return '0', true
	case 10:
		return 0, false
	}
	return byte('0' + check), true
}

// NormaliseNHS strips the spaces and dashes of a formatted NHS number.
func NormaliseNHS(s string) string {
	return stripSeparators(s)
}

// CheckNHS verifies a normalised NHS number's form and check digit.
func CheckNHS(n string) error {
	if len(n) != 10 {
		return ErrNHSFormat
	}
	for i := 0; i < 10; i++ {
		if n[i] < '0' || n[i] > '9' {
			return ErrNHSFormat
		}
	}
	want, ok := NHSCheckDigit(n[:9])
	if !ok || n[9] != want {
		return ErrNHSCheck
	}
	return nil
}
