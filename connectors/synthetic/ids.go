package synthetic

import (
	"fmt"
	"strconv"

	"earlyhelp/connectors"
)

// appendID appends a council reference: a letter and at least seven digits
// (P0000001, H0000123, R0000001).
func appendID(b []byte, letter byte, n int) []byte {
	b = append(b, letter)
	var tmp [20]byte
	s := strconv.AppendInt(tmp[:0], int64(n), 10)
	for i := len(s); i < 7; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// The scrambles below are affine bijections on a range of integers (the
// multiplier is coprime to the modulus), so sequential indexes give unique,
// random-looking codes without a set of used values.

// lsoaCode gives the i-th LSOA of the council a code in England's range
// (E01000001…E01035000); i < 35,000.
func lsoaCode(i int) string {
	return fmt.Sprintf("E01%06d", (i*12347+1531)%35000+1)
}

// schoolURN gives the i-th school a six-digit URN; i < 50,000.
func schoolURN(i int) int { return 100000 + (i*7817+2221)%50000 }

// uprn gives the i-th address a 12-digit UPRN.
func uprn(i int) int64 { return 100_000_000_000 + (int64(i)*6364136223+4231)%100_000_000_000 }

// upn builds a UPN (domain-data §1.7): check letter, LA code of the issuing
// school, its establishment number, two-digit year of issue and a serial.
func upn(la, estab, year, serial int) (string, error) {
	if la < 100 || la > 999 || estab < 1000 || estab > 9999 || serial < 0 || serial > 999 {
		return "", fmt.Errorf("upn: la %d, establishment %d or serial %d out of range", la, estab, serial)
	}
	rest := fmt.Sprintf("%03d%04d%02d%03d", la, estab, year%100, serial)
	c, ok := connectors.UPNCheckLetter(rest)
	if !ok {
		return "", fmt.Errorf("upn: no check letter for %q", rest)
	}
	return string(c) + rest, nil
}

// nhsNumbers hands out distinct NHS numbers in the 999 test range (never
// issued to real patients) with valid mod-11 check digits, skipping the
// first nine digits whose check would be 10. The range holds about 909,000
// numbers; beyond that it continues into 998…, 997…
type nhsNumbers struct{ n int }

func (a *nhsNumbers) next() int64 {
	var digits [9]byte
	for {
		block, j := a.n/1_000_000, a.n%1_000_000
		a.n++
		first9 := (999-block)*1_000_000 + (j*386429+123457)%1_000_000
		strconv.AppendInt(digits[:0], int64(first9), 10)
		if c, ok := connectors.NHSCheckDigit(string(digits[:])); ok {
			return int64(first9)*10 + int64(c-'0')
		}
	}
}

// assignIdentifiers gives everyone an NHS number and every child of school
// age at any point of the window a UPN issued by their first (primary)
// school in the year they started reception.
func (w *world) assignIdentifiers() error {
	var nhs nhsNumbers
	for i := range w.persons {
		w.persons[i].nhs = nhs.next()
	}
	firstAY, lastAY := w.first.academicYear(), w.last.academicYear()
	serials := make(map[[2]int]int)
	for ci := range w.children {
		c := &w.children[ci]
		h := &w.households[c.hh]
		l := w.lsoas[h.addr[0].lsoa]
		c.primary, c.secondary = l.primary, l.secondary
		if c.reception > lastAY || c.reception+ncLast < firstAY {
			continue
		}
		key := [2]int{c.primary, c.reception}
		serial := serials[key]
		serials[key]++
		s := w.schools[c.primary]
		u, err := upn(s.la, s.estab, c.reception, serial)
		if err != nil {
			return fmt.Errorf("child %d: %w", ci, err)
		}
		w.persons[c.person].upn = u
	}
	return nil
}
