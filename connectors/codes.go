package connectors

import (
	"strings"
	"time"

	"earlyhelp/pipeline/contract"
)

// Statistical categories of an attendance mark: the vocabulary's, named
// here too because the checks and their tests read them as connectors'.
const (
	CategoryPresent    = contract.CategoryPresent
	CategoryAEA        = contract.CategoryAEA
	CategoryAuth       = contract.CategoryAuth
	CategoryUnauth     = contract.CategoryUnauth
	CategoryNotCounted = contract.CategoryNotCounted
	CategoryMissing    = contract.CategoryMissing
)

// codeSet2024Days is the first day of the 2024 code set (contract).
const codeSet2024Days = contract.CodeSet2024Days

// CodeSet2024Start is the first session date read with the 2024 code set.
func CodeSet2024Start() time.Time { return contract.CodeSet2024Start() }

// AttendanceCategory reads an attendance mark as recorded for a session on
// sessionDate; the code table is contract's (contract.AttendanceCategory).
func AttendanceCategory(code string, sessionDate time.Time) (canonical, category string, ok bool) {
	return contract.AttendanceCategory(code, sessionDate)
}

// AttendanceCategoryDays is AttendanceCategory for a session date given as
// days since 1970-01-01 (an Arrow date32).
func AttendanceCategoryDays(code string, sessionDays int32) (canonical, category string, ok bool) {
	return contract.AttendanceCategoryDays(code, sessionDays)
}

// EthnicityCode returns the ONS 2021 19-category code (domain-data §4.1), or
// NOT_STATED, that s spells in any classification the vocabulary reads
// (ONS, DfE main and extended codes, NHS letters), ignoring case and
// surrounding blanks. Free text and DfE WROM (Gypsy or Roma) are not
// mapped.
func EthnicityCode(s string) (string, bool) {
	c, reason := checkEthnicity(strings.TrimSpace(s))
	return c, reason == ""
}
