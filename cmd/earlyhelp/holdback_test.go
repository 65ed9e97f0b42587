package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"earlyhelp/pipeline/contract"
)

// TestHoldBack: rows dated on or after the cut leave their files for the
// held-back file, the rest stay in order, and a file with no such row is
// not rewritten.
func TestHoldBack(t *testing.T) {
	root := t.TempDir()
	att := filepath.Join(root, "incoming", contract.AttendanceSessions)
	if err := os.MkdirAll(att, 0o750); err != nil {
		t.Fatal(err)
	}
	head := "upn," + contract.ColSessionDate + ",session\n"
	early := head + "A1,2026-06-01,AM\nA1,2026-06-01,PM\n"
	mixed := head + "B1,2026-07-10,AM\nB1,2026-07-13,AM\nB2,2026-07-12,PM\nB2,2026-07-14,PM\n"
	for name, body := range map[string]string{"a.csv": early, "b.csv": mixed} {
		if err := os.WriteFile(filepath.Join(att, name), []byte(body), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := os.Chtimes(filepath.Join(att, "a.csv"), old, old); err != nil {
		t.Fatal(err)
	}
	held := filepath.Join(root, "held")
	n, err := holdBack(root, held, time.Date(2026, 7, 13, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("held back %d rows; want 2", n)
	}
	read := func(p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if got, want := read(filepath.Join(att, "b.csv")), head+"B1,2026-07-10,AM\nB2,2026-07-12,PM\n"; got != want {
		t.Errorf("b.csv kept:\n%s\nwant:\n%s", got, want)
	}
	lastWeek := filepath.Join(held, contract.AttendanceSessions, contract.AttendanceSessions+"_lastweek.csv")
	if got, want := read(lastWeek), head+"B1,2026-07-13,AM\nB2,2026-07-14,PM\n"; got != want {
		t.Errorf("held back:\n%s\nwant:\n%s", got, want)
	}
	if got := read(filepath.Join(att, "a.csv")); got != early {
		t.Errorf("a.csv changed:\n%s", got)
	}
	if st, err := os.Stat(filepath.Join(att, "a.csv")); err != nil || !st.ModTime().Equal(old) {
		t.Errorf("a.csv was rewritten (%v)", err)
	}
	if _, err := os.Stat(filepath.Join(held, contract.RentAccounts)); !os.IsNotExist(err) {
		t.Errorf("a held folder for a source with no files: %v", err)
	}
}
