package decisions

import (
	"context"
	"database/sql"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestAllocations(t *testing.T) {
	ctx := context.Background()
	s := open(t, filepath.Join(t.TempDir(), "decisions.db"))
	week1 := []Allocation{
		{RunID: "20261116T060000Z", AsOf: "2026-11-16", Household: "h1", Rank: 58, Arm: ArmOffered, Margin: 3, Seed: 9},
		{RunID: "20261116T060000Z", AsOf: "2026-11-16", Household: "h2", Rank: 59, Arm: ArmNotOffered, Margin: 3, Seed: 9},
	}
	week2 := []Allocation{
		{RunID: "20261123T060000Z", AsOf: "2026-11-23", Household: "h2", Rank: 60, Arm: ArmOffered, Margin: 3, Seed: 9},
		{RunID: "20261123T060000Z", AsOf: "2026-11-23", Household: "h3", Rank: 61, Arm: ArmNotOffered, Margin: 3, Seed: 9},
	}
	// Recorded out of order: Allocations still reads oldest week first.
	if err := s.RecordAllocations(ctx, week2, t0()); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordAllocations(ctx, week1, t0()); err != nil {
		t.Fatal(err)
	}
	all, err := s.Allocations(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range all {
		got = append(got, a.AsOf+" "+a.Household+" "+a.Arm)
		if !a.At.Equal(t0()) || a.Seed != 9 || a.Margin != 3 {
			t.Errorf("allocation %+v lost its stamp, seed or margin", a)
		}
	}
	want := []string{"2026-11-16 h1 offered", "2026-11-16 h2 not_offered", "2026-11-23 h2 offered", "2026-11-23 h3 not_offered"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("allocations %v; want %v", got, want)
	}
	h2, err := s.Allocations(ctx, "h2")
	if err != nil || len(h2) != 2 || h2[0].Arm != ArmNotOffered {
		t.Errorf("h2's allocations %+v, %v; want its two, not_offered first", h2, err)
	}
	first := FirstAllocations(all)
	if len(first) != 3 || first[1].Household != "h2" || first[1].Arm != ArmNotOffered {
		t.Errorf("first allocations %+v; want h2 in its first week's arm", first)
	}

	// A week recorded twice is refused whole, and so is a bad row.
	if err := s.RecordAllocations(ctx, week1, t0()); err == nil {
		t.Error("the same run's draw recorded twice")
	}
	bad := []Allocation{week1[0], {RunID: "r", AsOf: "2026-11-30", Household: "h9", Rank: 1, Arm: "maybe"}}
	bad[0].RunID = "20261130T060000Z"
	if err := s.RecordAllocations(ctx, bad, t0()); err == nil || !strings.Contains(err.Error(), "unknown arm") {
		t.Errorf("bad arm: %v", err)
	}
	if n, _ := s.Allocations(ctx, ""); len(n) != 4 {
		t.Errorf("%d allocations after refused writes; want 4", len(n))
	}
	// Append-only for any client.
	if _, err := s.db.ExecContext(ctx, `UPDATE evaluation_allocations SET arm = 'offered'`); err == nil {
		t.Error("an allocation was updated")
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM evaluation_allocations`); err == nil {
		t.Error("an allocation was deleted")
	}
}

// TestMigrateFromVersion2: a version 2 file keeps its decisions and gains
// the allocations table.
func TestMigrateFromVersion2(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "decisions.db")
	old, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)`,
		migrations()[0], migrations()[1],
		`INSERT INTO schema_migrations (version, applied_at) VALUES (1, '2026-01-01T00:00:00.000000000Z'), (2, '2026-02-01T00:00:00.000000000Z')`,
		`INSERT INTO decisions (household, kind, note, navigator, locality, audit_group, reason_category, at)
			VALUES ('h1', 'offer_made', '', 'nav.one', 'north', '', '', '2026-02-02T09:00:00.000000000Z')`,
	} {
		if _, err := old.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("building a version 2 file: %v", err)
		}
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	s := open(t, path)
	hist, err := s.History(ctx, "h1")
	if err != nil || len(hist) != 1 {
		t.Fatalf("history after the upgrade: %v, %v", hist, err)
	}
	a := Allocation{RunID: "20261116T060000Z", AsOf: "2026-11-16", Household: "h1", Rank: 60, Arm: ArmOffered, Margin: 2, Seed: 1}
	if err := s.RecordAllocations(ctx, []Allocation{a}, t0()); err != nil {
		t.Fatalf("RecordAllocations after the upgrade: %v", err)
	}
}
