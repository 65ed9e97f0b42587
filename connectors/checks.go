package connectors

import (
	"strings"
	"time"

	"earlyhelp/pipeline"
	"earlyhelp/pipeline/contract"
)

// This file holds the checks of CONTRACTS §2 that the row loop applies:
// the accepted codes of each column and the checks across the columns of
// one row.

// cellCheck returns the value check of a column, nil when any text goes.
func cellCheck(source string, c Column) func(string) (string, string) {
	switch c.Pseudonym {
	case NSUPN:
		return checkUPN
	case NSNHS:
		return checkNHS
	case NSUPRN:
		return checkUPRN
	}
	switch c.Name {
	case contract.ColSex:
		return oneOf("M", "F")
	case contract.ColEthnicity:
		return checkEthnicity
	case contract.ColSENStatus:
		return senStatuses.check
	case contract.ColRole:
		return oneOf(contract.Roles()...)
	case contract.ColLSOACode:
		return checkLSOA
	case contract.ColVintage:
		return oneOf("IoD2019", "IoD2025")
	case contract.ColSession:
		return oneOf(contract.SessionAM, contract.SessionPM)
	case contract.ColOutcome:
		if source == CSCReferrals {
			return oneOf(contract.CSCOutcomes()...)
		}
	case contract.ColContactType:
		return contactTypes.check
	case contract.ColAttendanceStatus:
		return attendanceStatuses.check
	case contract.ColDAEnquiry:
		return daEnquiry.check
	case contract.ColInstrument:
		return instruments.check
	case contract.ColSubject:
		return subjects.check
	case contract.ColDutyOwed:
		return oneOf(contract.DutiesOwed()...)
	case contract.ColArrearsStage:
		return oneOf(contract.ArrearsStages()...)
	}
	return nil
}

// oneOf accepts the listed codes in any case and stores them as listed.
func oneOf(codes ...string) func(string) (string, string) {
	return func(v string) (string, string) {
		for _, c := range codes {
			if v == c || strings.EqualFold(v, c) {
				return c, ""
			}
		}
		return "", pipeline.ReasonBadCode
	}
}

func checkUPN(v string) (string, string) {
	if CheckUPN(v) != nil {
		return "", pipeline.ReasonBadUPNCheck
	}
	return v, ""
}

// readsNull is what a column check returns for a value that is a
// system's way of saying "unknown": the cell is a null, not a bad one.
const readsNull = "\x00null"

func checkNHS(v string) (string, string) {
	if len(v) == 10 && strings.Count(v, v[:1]) == len(v) {
		// 0000000000, 1111111111 and 9999999999 (which passes mod 11) are
		// the dummies systems use for "unknown" (domain-data §2.4).
		return "", readsNull
	}
	if CheckNHS(v) != nil {
		return "", pipeline.ReasonBadNHSCheck
	}
	return v, ""
}

func checkUPRN(v string) (string, string) {
	if v == "0" || v == "-1" {
		// Placeholders for "no address" (domain-data §8.4).
		return "", readsNull
	}
	if !CheckUPRN(v) {
		return "", pipeline.ReasonBadCode
	}
	return v, ""
}

// checkLSOA accepts an English LSOA code: E01 and six digits.
func checkLSOA(v string) (string, string) {
	if len(v) != 9 || !strings.EqualFold(v[:3], "E01") {
		return "", pipeline.ReasonBadCode
	}
	for i := 3; i < 9; i++ {
		if v[i] < '0' || v[i] > '9' {
			return "", pipeline.ReasonBadCode
		}
	}
	if v[0] == 'e' {
		return strings.ToUpper(v), ""
	}
	return v, ""
}

// isUPNPlaceholder reports the "UPN unknown" codes UN1-UN10 that social
// care systems put in the UPN column; they mean no UPN, not a bad one.
func isUPNPlaceholder(v string) bool {
	if len(v) < 3 || len(v) > 4 || v[:2] != "UN" {
		return false
	}
	switch v[2:] {
	case "1", "2", "3", "4", "5", "6", "7", "8", "9", "10":
		return true
	}
	return false
}

// notBefore checks that an optional end date is on or after a start date.
func notBefore(end, start int, column string) rowCheck {
	return func(v []value) (string, string) {
		if !v[end].null && !v[start].null && v[end].n < v[start].n {
			return pipeline.ReasonOutOfRange, column
		}
		return "", ""
	}
}

// attendanceCheck refuses weekend sessions, reads the code by the code set
// of the session's date, and fills the derived category. A session on a
// bank holiday (bankholidays.go) is refused as out of range too, unless
// the school marked it # (planned closure), which is outside possible
// sessions: schools do not meet on bank holidays, so any other mark there
// is a register keyed against the wrong day and would count a possible
// session that never was.
func attendanceCheck(date, code, category int) rowCheck {
	return func(v []value) (string, string) {
		days := int32(v[date].n)
		if wd := Weekday(days); wd == time.Saturday || wd == time.Sunday {
			return pipeline.ReasonOutOfRange, contract.ColSessionDate
		}
		c, cat, ok := AttendanceCategoryDays(v[code].s, days)
		if IsBankHoliday(days) && c != "#" {
			return pipeline.ReasonOutOfRange, contract.ColSessionDate
		}
		if !ok {
			return pipeline.ReasonBadCode, contract.ColAttendanceCode
		}
		v[code].s = c
		v[category] = value{s: cat}
		return "", ""
	}
}

// negate turns a balance shown as negative = arrears into the stored
// convention. Zero stays +0 so stored values compare cleanly.
func negate(field int) rowCheck {
	return func(v []value) (string, string) {
		if !v[field].null && v[field].f != 0 {
			v[field].f = -v[field].f
		}
		return "", ""
	}
}

// scoreRange checks a total against its instrument's range (scoreRanges).
func scoreRange(instrument, score int) rowCheck {
	return func(v []value) (string, string) {
		r, ok := scoreRanges[v[instrument].s]
		if ok && !v[score].null && (v[score].n < r[0] || v[score].n > r[1]) {
			return pipeline.ReasonOutOfRange, contract.ColScoreTotal
		}
		return "", ""
	}
}
