package decisions

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
)

// TestMigrateFromVersion1: a file written before reason categories keeps
// its rows, read back with no category, and takes categorised decisions
// after the upgrade.
func TestMigrateFromVersion1(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "decisions.db")
	old, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)`,
		migrations()[0],
		`INSERT INTO schema_migrations (version, applied_at) VALUES (1, '2026-01-01T00:00:00.000000000Z')`,
		`INSERT INTO decisions (household, kind, note, navigator, locality, audit_group, at)
			VALUES ('h1', 'not_appropriate', 'known to the school nurse', 'nav.one', 'north', 'White', '2026-01-02T09:00:00.000000000Z'),
			       ('h1', 'offer_made', '', 'nav.one', 'north', 'White', '2026-01-03T09:00:00.000000000Z')`,
	} {
		if _, err := old.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("building a version 1 file: %v", err)
		}
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	s := open(t, path)
	var version int
	if err := s.db.QueryRow(`SELECT MAX(version) FROM schema_migrations`).Scan(&version); err != nil {
		t.Fatal(err)
	}
	if version != len(migrations()) {
		t.Errorf("schema version %d after Open; want %d", version, len(migrations()))
	}
	hist, err := s.History(ctx, "h1")
	if err != nil {
		t.Fatalf("History: %v", err)
	}
	if len(hist) != 2 {
		t.Fatalf("History has %d decisions; want the 2 recorded before the upgrade", len(hist))
	}
	if old := hist[1]; old.Kind != NotAppropriate || old.ReasonCategory != "" || old.Note != "known to the school nurse" {
		t.Errorf("the old not_appropriate decision reads back as %+v; want it whole, with no category", old)
	}
	d := decision("h1", NotAppropriate, t0())
	d.ReasonCategory = FamilyMoved
	if _, err := s.Record(ctx, d); err != nil {
		t.Fatalf("Record after the upgrade: %v", err)
	}
	got, err := s.OverrideReasons(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []OverrideReason{
		{"group", "", FamilyMoved, 1},
		{"group", "White", "", 1},
		{"locality", "north", "", 1},
		{"locality", "north", FamilyMoved, 1},
	}
	if len(got) != len(want) {
		t.Fatalf("OverrideReasons = %+v; want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("OverrideReasons[%d] = %+v; want %+v", i, got[i], want[i])
		}
	}
	// The upgrade kept the table append-only.
	if _, err := s.db.Exec(`UPDATE decisions SET reason_category = 'other'`); err == nil {
		t.Error("an UPDATE succeeded after the upgrade")
	}
}
