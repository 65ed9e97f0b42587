package connectors

import "time"

// BankHolidaysVersion names the table below, as VocabularyVersion names the
// code tables: bump it when a year is added or a date announced late (a
// royal occasion, a moved May holiday) is put in, so a quarantine of
// bank-holiday sessions can be traced to the table that flagged them.
const BankHolidaysVersion = "2025-12-govuk-england-wales-1"

// bankHolidayDates are England and Wales bank holidays as GOV.UK publishes
// them (www.gov.uk/bank-holidays), substitute days and the one-off royal
// holidays included, for the years schools' registers are read for. A
// session before the first year or after the last is not checked against
// it: a date outside the table is not known to be a holiday, and guessing
// one would quarantine a real register. The school calendar of synthetic
// councils derives the same dates by rule (a test compares the two).
var bankHolidayDates = [...]string{
	// 2018
	"2018-01-01", "2018-03-30", "2018-04-02", "2018-05-07", "2018-05-28", "2018-08-27", "2018-12-25", "2018-12-26",
	// 2019
	"2019-01-01", "2019-04-19", "2019-04-22", "2019-05-06", "2019-05-27", "2019-08-26", "2019-12-25", "2019-12-26",
	// 2020: the early May holiday moved to Friday 8 May (VE Day).
	"2020-01-01", "2020-04-10", "2020-04-13", "2020-05-08", "2020-05-25", "2020-08-31", "2020-12-25", "2020-12-28",
	// 2021
	"2021-01-01", "2021-04-02", "2021-04-05", "2021-05-03", "2021-05-31", "2021-08-30", "2021-12-27", "2021-12-28",
	// 2022: the spring holiday moved to 2 June, the Platinum Jubilee on 3
	// June, the State Funeral of Queen Elizabeth II on 19 September.
	"2022-01-03", "2022-04-15", "2022-04-18", "2022-05-02", "2022-06-02", "2022-06-03", "2022-08-29", "2022-09-19",
	"2022-12-26", "2022-12-27",
	// 2023: the Coronation of King Charles III on 8 May.
	"2023-01-02", "2023-04-07", "2023-04-10", "2023-05-01", "2023-05-08", "2023-05-29", "2023-08-28", "2023-12-25",
	"2023-12-26",
	// 2024
	"2024-01-01", "2024-03-29", "2024-04-01", "2024-05-06", "2024-05-27", "2024-08-26", "2024-12-25", "2024-12-26",
	// 2025
	"2025-01-01", "2025-04-18", "2025-04-21", "2025-05-05", "2025-05-26", "2025-08-25", "2025-12-25", "2025-12-26",
	// 2026
	"2026-01-01", "2026-04-03", "2026-04-06", "2026-05-04", "2026-05-25", "2026-08-31", "2026-12-25", "2026-12-28",
	// 2027
	"2027-01-01", "2027-03-26", "2027-03-29", "2027-05-03", "2027-05-31", "2027-08-30", "2027-12-27", "2027-12-28",
}

// bankHolidays is the table as a bit per day from the first of January of
// its first year: the row loop asks about every attendance mark, and a
// bit test costs less than a map lookup or a search.
var bankHolidays = func() (t struct {
	first, last int32 // days since 1970-01-01: the table's span
	bits        []uint64
}) {
	days := make([]int32, len(bankHolidayDates))
	for i, s := range bankHolidayDates {
		d, err := ParseDays(s)
		if err != nil {
			panic("bank holiday table: " + s + ": " + err.Error()) // a typo in the table above
		}
		days[i] = d
	}
	y0, _ := ParseDays(bankHolidayDates[0][:4] + "-01-01")
	y1, _ := ParseDays(bankHolidayDates[len(bankHolidayDates)-1][:4] + "-12-31")
	t.first, t.last = y0, y1
	t.bits = make([]uint64, (y1-y0)/64+1)
	for _, d := range days {
		i := d - y0
		t.bits[i/64] |= 1 << (i % 64)
	}
	return t
}()

// IsBankHoliday reports whether a date (days since 1970-01-01, an Arrow
// date32) is an England and Wales bank holiday in the table. Dates outside
// the table's years are not.
func IsBankHoliday(days int32) bool {
	if days < bankHolidays.first || days > bankHolidays.last {
		return false
	}
	i := days - bankHolidays.first
	return bankHolidays.bits[i/64]&(1<<(i%64)) != 0
}

// BankHolidaySpan returns the first and last day the table covers.
func BankHolidaySpan() (first, last time.Time) {
	day := func(d int32) time.Time { return time.Unix(int64(d)*86400, 0).UTC() }
	return day(bankHolidays.first), day(bankHolidays.last)
}
