package synthetic

import (
	"testing"

	"earlyhelp/connectors"
)

// TestBankHolidaysMatchTable: the calendar's rules give exactly the
// loader's table of England and Wales bank holidays over the years the
// table covers, so a clean council never has a session the loader refuses
// as a bank holiday, and the table has no typo the rules would not make.
func TestBankHolidaysMatchTable(t *testing.T) {
	first, last := connectors.BankHolidaySpan()
	rule := map[day]bool{}
	for y := first.Year(); y <= last.Year(); y++ {
		for _, d := range bankHolidays(y) {
			rule[d] = true
		}
	}
	n := 0
	for d := dayOf(first.Year(), 1, 1); d <= dayOf(last.Year(), 12, 31); d++ {
		in := connectors.IsBankHoliday(int32(d))
		if in != rule[d] {
			t.Errorf("%s: table says %v, calendar rules %v", isoString(d), in, rule[d])
		}
		if in {
			n++
		}
	}
	if n < 80 {
		t.Errorf("only %d bank holidays in %d-%d", n, first.Year(), last.Year())
	}
}
