package decisions

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func open(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// t0 is the tests' reference time.
func t0() time.Time { return time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) }

// decision is a valid decision: a not_appropriate one carries a category.
func decision(household, kind string, at time.Time) Decision {
	d := Decision{Household: household, Kind: kind, Navigator: "nav.one", Locality: "north", At: at}
	if kind == NotAppropriate {
		d.ReasonCategory = NoConcern
	}
	return d
}

func TestRecordLatestHistory(t *testing.T) {
	ctx := context.Background()
	s := open(t, filepath.Join(t.TempDir(), "decisions.db"))
	// Recorded out of time order, and two at one instant, to show that
	// History and Latest order by At and then by recording order.
	in := []Decision{
		decision("h1", UnableToContact, t0()),
		decision("h1", OfferAccepted, t0().Add(48*time.Hour)),
		decision("h1", OfferMade, t0().Add(24*time.Hour)),
		decision("h2", NotAppropriate, t0().Add(time.Hour)),
		decision("h2", AlreadySupported, t0().Add(time.Hour)),
		// A zone other than UTC, and a fraction: stored as UTC, and a
		// fraction must not upset the text ordering.
		decision("h3", OfferMade, t0().In(time.FixedZone("X", 3600)).Add(500*time.Millisecond)),
		decision("h3", OfferDeclined, t0().Add(time.Second)),
	}
	var ids []int64
	for _, d := range in {
		got, err := s.Record(ctx, d)
		if err != nil {
			t.Fatalf("Record: %v", err)
		}
		if got.ID == 0 {
			t.Fatalf("Record returned ID 0")
		}
		if got.At.Location() != time.UTC {
			t.Errorf("Record returned At in %v, want UTC", got.At.Location())
		}
		ids = append(ids, got.ID)
	}

	latest, err := s.Latest(ctx)
	if err != nil {
		t.Fatalf("Latest: %v", err)
	}
	want := map[string]Latest{
		"h1": {OfferAccepted, t0().Add(48 * time.Hour)},
		"h2": {AlreadySupported, t0().Add(time.Hour)},
		"h3": {OfferDeclined, t0().Add(time.Second)},
	}
	if len(latest) != len(want) {
		t.Errorf("Latest has %d households, want %d", len(latest), len(want))
	}
	for h, w := range want {
		g := latest[h]
		if g.Kind != w.Kind || !g.At.Equal(w.At) {
			t.Errorf("Latest[%s] = %v, want %v", h, g, w)
		}
	}

	tests := []struct {
		household string
		wantIDs   []int64
	}{
		{"h1", []int64{ids[1], ids[2], ids[0]}},
		{"h2", []int64{ids[4], ids[3]}},
		{"h3", []int64{ids[6], ids[5]}},
		{"nobody", nil},
	}
	for _, tt := range tests {
		hist, err := s.History(ctx, tt.household)
		if err != nil {
			t.Fatalf("History(%s): %v", tt.household, err)
		}
		var got []int64
		for _, d := range hist {
			got = append(got, d.ID)
			if d.Household != tt.household {
				t.Errorf("History(%s) returned a decision about %s", tt.household, d.Household)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.wantIDs) {
			t.Errorf("History(%s) ids = %v, want %v", tt.household, got, tt.wantIDs)
		}
	}

	hist, err := s.History(ctx, "h3")
	if err != nil {
		t.Fatal(err)
	}
	if w := t0().Add(500 * time.Millisecond); !hist[1].At.Equal(w) || hist[1].At.Location() != time.UTC {
		t.Errorf("History At = %v, want %v in UTC", hist[1].At, w)
	}

	counts, err := s.Counts(ctx)
	if err != nil {
		t.Fatalf("Counts: %v", err)
	}
	wantCounts := map[string]int64{OfferMade: 2, OfferAccepted: 1, OfferDeclined: 1, NotAppropriate: 1, AlreadySupported: 1, UnableToContact: 1}
	if fmt.Sprint(counts) != fmt.Sprint(wantCounts) {
		t.Errorf("Counts = %v, want %v", counts, wantCounts)
	}
}

func TestCountsHasEveryKind(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "decisions.db"))
	counts, err := s.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range Kinds() {
		if n, ok := counts[k]; !ok || n != 0 {
			t.Errorf("Counts[%s] = %d, %v; want 0, true", k, n, ok)
		}
	}
}

func TestRecordInvalid(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "decisions.db"))
	ok := decision("hh-secret-ref", OfferMade, t0())
	tests := []struct {
		name    string
		edit    func(d *Decision)
		wantErr string
	}{
		{"unknown kind", func(d *Decision) { d.Kind = "offer_maybe" }, "unknown kind"},
		{"empty kind", func(d *Decision) { d.Kind = "" }, "unknown kind"},
		{"empty household", func(d *Decision) { d.Household = "" }, "household is empty"},
		{"empty navigator", func(d *Decision) { d.Navigator = "" }, "navigator is empty"},
		{"long note", func(d *Decision) { d.Note = strings.Repeat("x", MaxNoteBytes+1) }, "note is 2001 bytes"},
		{"zero time", func(d *Decision) { d.At = time.Time{} }, "not set"},
		{"far future", func(d *Decision) { d.At = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, "outside"},
		{"not appropriate without a category", func(d *Decision) { d.Kind = NotAppropriate }, "needs a reason category"},
		{"not appropriate, unknown category", func(d *Decision) { d.Kind, d.ReasonCategory = NotAppropriate, "bored" }, `unknown reason category "bored"`},
		{"category on another kind", func(d *Decision) { d.ReasonCategory = FamilyMoved }, "for not_appropriate only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := ok
			tt.edit(&d)
			_, err := s.Record(context.Background(), d)
			if err == nil {
				t.Fatal("Record succeeded")
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not mention %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "hh-secret-ref") {
				t.Errorf("error %q quotes the household", err)
			}
		})
	}
	// A note of exactly the limit is fine.
	d := ok
	d.Note = strings.Repeat("x", MaxNoteBytes)
	if _, err := s.Record(context.Background(), d); err != nil {
		t.Errorf("Record with a %d-byte note: %v", MaxNoteBytes, err)
	}
}

func TestSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "decisions.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	want := Decision{Household: "h1", Kind: NotAppropriate, ReasonCategory: AlreadyKnownElsewhere, Note: "already open to social care", Navigator: "nav.one", Locality: "south", Group: "Asian", At: t0()}
	rec, err := s.Record(ctx, want)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("file mode %o, want 600", mode)
	}

	s = open(t, path)
	hist, err := s.History(ctx, "h1")
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 1 || hist[0] != rec {
		t.Fatalf("after reopen History = %+v, want [%+v]", hist, rec)
	}
}

func TestMigrationsIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "decisions.db")
	for i := 0; i < 3; i++ {
		s, err := Open(path)
		if err != nil {
			t.Fatalf("Open #%d: %v", i+1, err)
		}
		var n, max int
		if err := s.db.QueryRow(`SELECT COUNT(*), MAX(version) FROM schema_migrations`).Scan(&n, &max); err != nil {
			t.Fatal(err)
		}
		if n != len(migrations()) || max != len(migrations()) {
			t.Errorf("Open #%d: %d migrations recorded up to %d, want %d", i+1, n, max, len(migrations()))
		}
		if _, err := s.Record(context.Background(), decision("h1", OfferMade, t0())); err != nil {
			t.Errorf("Open #%d: Record: %v", i+1, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFutureSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "decisions.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	future := len(migrations()) + 1
	if _, err := s.db.Exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, future, "2030-01-01T00:00:00Z"); err != nil {
		t.Fatal(err)
	}
	s.Close()

	_, err = Open(path)
	if err == nil {
		t.Fatal("Open of a newer schema succeeded")
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("schema version %d is newer", future)) {
		t.Errorf("error %q does not explain the version", err)
	}
}

func TestAppendOnly(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "decisions.db"))
	if _, err := s.Record(context.Background(), decision("h1", OfferMade, t0())); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{`UPDATE decisions SET kind = 'offer_declined'`, `DELETE FROM decisions`} {
		if _, err := s.db.Exec(stmt); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v, want append-only refusal", stmt, err)
		}
	}
}

func TestOverrides(t *testing.T) {
	ctx := context.Background()
	s := open(t, filepath.Join(t.TempDir(), "decisions.db"))
	rows := []struct {
		locality, group, kind string
	}{
		{"north", "White", NotAppropriate},
		{"north", "White", OfferMade},
		{"north", "Asian", NotAppropriate},
		{"north", "Asian", NotAppropriate},
		{"south", "Asian", OfferAccepted},
		{"south", "", NotAppropriate},
		{"south", "", UnableToContact},
		{"south", "White", OfferMade},
	}
	for i, r := range rows {
		d := decision(fmt.Sprintf("h%d", i), r.kind, t0())
		d.Navigator, d.Locality, d.Group = "nav", r.locality, r.group
		if _, err := s.Record(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Overrides(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []Override{
		{"group", "", 2, 1, 0.5},
		{"group", "Asian", 3, 2, 2.0 / 3},
		{"group", "White", 3, 1, 1.0 / 3},
		{"locality", "north", 4, 3, 0.75},
		{"locality", "south", 4, 1, 0.25},
	}
	if len(got) != len(want) {
		t.Fatalf("Overrides = %+v, want %+v", got, want)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.By != w.By || g.Key != w.Key || g.Total != w.Total || g.NotAppropriate != w.NotAppropriate || math.Abs(g.Share-w.Share) > 1e-12 {
			t.Errorf("Overrides[%d] = %+v, want %+v", i, g, w)
		}
	}
}

func TestOverridesEmpty(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "decisions.db"))
	got, err := s.Overrides(context.Background())
	if err != nil || len(got) != 0 {
		t.Errorf("Overrides on an empty store = %v, %v; want none", got, err)
	}
}

func TestConcurrentRecord(t *testing.T) {
	ctx := context.Background()
	s := open(t, filepath.Join(t.TempDir(), "decisions.db"))
	const workers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				d := decision(fmt.Sprintf("w%d-h%d", w, i), OfferMade, t0().Add(time.Duration(i)*time.Second))
				if _, err := s.Record(ctx, d); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Record: %v", err)
	}
	latest, err := s.Latest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(latest) != workers*each {
		t.Errorf("%d households recorded, want %d", len(latest), workers*each)
	}
	counts, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if counts[OfferMade] != workers*each {
		t.Errorf("Counts[offer_made] = %d, want %d", counts[OfferMade], workers*each)
	}
}

func TestOpenOddPath(t *testing.T) {
	// '?' and '#' would start a URI's query or fragment if not escaped.
	path := filepath.Join(t.TempDir(), "odd ?dir#", "decisions 1%.db")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	s := open(t, path)
	if _, err := s.Record(context.Background(), decision("h1", OfferMade, t0())); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database not at %s: %v", path, err)
	}
}

func TestKindsIsACopy(t *testing.T) {
	k := Kinds()
	k[0] = "changed"
	if Kinds()[0] != OfferMade {
		t.Error("changing Kinds()'s result changed the next call's")
	}
}
