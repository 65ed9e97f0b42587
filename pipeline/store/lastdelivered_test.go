package store

import (
	"strings"
	"testing"
	"time"

	"earlyhelp/pipeline"
)

// TestLastDelivered: the newest load of each source, read back by a store
// opened afresh (a restarted serve), and nothing for a source never loaded.
// The load time counts, not the file's modification time.
func TestLastDelivered(t *testing.T) {
	dir := t.TempDir()
	monday := time.Date(2026, 7, 13, 2, 0, 0, 0, time.UTC)
	now := monday
	st, err := Open(dir, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	deliver := func(source, name string, at time.Time) {
		t.Helper()
		now = at
		// An old modification time: a file copied with its times kept.
		ref := pipeline.FileRef{Name: name, SHA256: strings.Repeat(name[:1], 64), Size: 1, ModTime: monday.AddDate(-1, 0, 0)}
		d, err := st.NewDelivery(source, ref)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Commit(0, 0); err != nil {
			t.Fatal(err)
		}
		if err := st.Settle(); err != nil {
			t.Fatal(err)
		}
	}
	deliver("hv_contacts", "a.csv", monday)
	deliver("hv_contacts", "b.csv", monday.AddDate(0, 0, 7))
	deliver("persons", "c.csv", monday.AddDate(0, 0, 1))

	reopened, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		source string
		want   time.Time
		ok     bool
	}{
		{"hv_contacts", monday.AddDate(0, 0, 7), true},
		{"persons", monday.AddDate(0, 0, 1), true},
		{"rent_accounts", time.Time{}, false},
	}
	for _, tc := range tests {
		got, ok := reopened.LastDelivered(tc.source)
		if ok != tc.ok || !got.Equal(tc.want) {
			t.Errorf("LastDelivered(%s) = %s, %v; want %s, %v", tc.source, got, ok, tc.want, tc.ok)
		}
	}
}
