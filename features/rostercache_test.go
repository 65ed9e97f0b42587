package features_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/features"
	ft "earlyhelp/features/featurestest"
	"earlyhelp/pipeline/cachefile"
)

// fullRoster is randomRoster with every roster source: NHS numbers, social
// care referrals, objections, early help episodes and two IoD vintages.
func fullRoster(mem memory.Allocator, seed uint64) ft.Tables {
	rng := rand.New(rand.NewPCG(seed, 7))
	tb := randomRoster(mem, rng)
	var persons []ft.Person
	var refs []ft.Referral
	var objs []ft.Objection
	var eps []ft.Episode
	day := func(y int) string {
		return time.Date(y, time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
	}
	ethnic := []string{"WBRI", "BAFR", "", "MWBC"}
	for i := range 60 {
		id := fmt.Sprintf("extra%02d", i)
		persons = append(persons, ft.Person{ID: id, UPN: "u" + id, DOB: day(2012), Ethnicity: ethnic[i%len(ethnic)], NHS: "n" + id})
		refs = append(refs, ft.Referral{ID: fmt.Sprint("r", i), Person: id, Date: day(2018 + i%5), Outcome: []string{"nfa", "assessment", "cp_plan"}[i%3]})
		if i%7 == 0 {
			objs = append(objs, ft.Objection{Person: id, Received: day(2019), Withdrawn: []string{"", day(2021)}[i%2]})
		}
		if i%5 == 0 {
			eps = append(eps, ft.Episode{ID: fmt.Sprint("e", i), Household: fmt.Sprintf("h%02d", i), Start: day(2019)})
		}
	}
	tb["persons"] = append(tb["persons"], ft.Persons(mem, persons...))
	tb["csc_referrals"] = []arrow.Record{ft.Referrals(mem, refs...)}
	tb["objections"] = []arrow.Record{ft.Objections(mem, objs...)}
	tb["early_help_episodes"] = []arrow.Record{ft.Episodes(mem, eps...)}
	tb["deprivation"] = append(tb["deprivation"], ft.Deprivation(mem,
		ft.Area{LSOA: "E01000001", IMDDecile: 4, Vintage: "IoD2019"}, ft.Area{LSOA: "E01000002", IMDDecile: 9, Vintage: "IoD2019"}))
	return tb
}

// TestRosterCache: a roster read from the store's cache is the roster
// read from the store, and links the same households; it is read from the
// store instead, and kept again, when a roster source has a new delivery,
// another IoD vintage is asked for or the file is damaged, and a cache
// that cannot be written is reported, not fatal.
func TestRosterCache(t *testing.T) {
	ctx := context.Background()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	tb := fullRoster(mem, 1)
	defer tb.Release()
	dir := t.TempDir()
	ct := ft.CachedTables{SinceTables: &ft.SinceTables{Tables: tb}, Dir: dir}
	path := filepath.Join(dir, "roster.bin")

	same := func(t *testing.T, got *features.Roster, tb ft.Tables, vintage string) {
		t.Helper()
		want, err := features.LoadRosterVintage(ctx, mem, tb, vintage)
		if err != nil {
			t.Fatal(err)
		}
		if g, w := features.Dump(got), features.Dump(want); g != w {
			t.Fatalf("the roster differs from the one read from the store:\n got %.600s\nwant %.600s", g, w)
		}
		for day := time.Date(2014, 6, 1, 0, 0, 0, 0, time.UTC); day.Year() < 2026; day = day.AddDate(0, 0, 97) {
			if g, w := got.Link(day), want.Link(day); !reflect.DeepEqual(g.Households, w.Households) {
				t.Fatalf("%s: the households linked differ", day.Format(time.DateOnly))
			}
		}
	}
	load := func(t *testing.T, tables ft.CachedTables, vintage string, wantCached bool) *features.Roster {
		t.Helper()
		r, read, err := features.LoadRosterCached(ctx, mem, tables, tables, vintage)
		if err != nil {
			t.Fatal(err)
		}
		if read.Cached != wantCached || read.KeepErr != nil {
			t.Fatalf("read %+v; want cached %v and kept", read, wantCached)
		}
		return r
	}

	t.Run("kept, then read", func(t *testing.T) {
		same(t, load(t, ct, "", false), tb, "")
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("no cache kept: %v", err)
		}
		r := load(t, ct, "", true)
		same(t, r, tb, "")
		if len(features.Dump(r)) < 10000 {
			t.Fatal("the roster is nearly empty: the test proves little")
		}
	})
	t.Run("another vintage", func(t *testing.T) {
		r := load(t, ct, "IoD2019", false)
		if r.IoDVintage() != "IoD2019" {
			t.Fatalf("vintage %q", r.IoDVintage())
		}
		same(t, r, tb, "IoD2019")
		same(t, load(t, ct, "", false), tb, "")
	})
	for _, src := range []string{"persons", "households", "deprivation", "csc_referrals", "objections", "early_help_episodes"} {
		t.Run("new delivery of "+src, func(t *testing.T) {
			grown := ft.Tables{}
			for k, v := range tb {
				grown[k] = v
			}
			var extra arrow.Record
			switch src {
			case "persons":
				extra = ft.Persons(mem, ft.Person{ID: "extra01", UPN: "uextra01", DOB: "2013-02-03", NHS: "changed"})
			case "households":
				extra = ft.Households(mem, ft.Spell{Household: "h01", Person: "extra02", Role: "child", LSOA: "E01000001", From: "2015-01-01"})
			case "deprivation":
				extra = ft.Deprivation(mem, ft.Area{LSOA: "E01000003", IMDDecile: 3})
			case "csc_referrals":
				extra = ft.Referrals(mem, ft.Referral{ID: "r1", Person: "extra01", Date: "2020-01-01", Outcome: "cp_plan"})
			case "objections":
				extra = ft.Objections(mem, ft.Objection{Person: "extra03", Received: "2020-01-01"})
			case "early_help_episodes":
				extra = ft.Episodes(mem, ft.Episode{ID: "e99", Household: "h03", Start: "2020-01-01"})
			}
			defer extra.Release()
			grown[src] = append(append([]arrow.Record(nil), tb[src]...), extra)
			gt := ft.CachedTables{SinceTables: &ft.SinceTables{Tables: grown}, Dir: dir}
			r := load(t, gt, "", false)
			same(t, r, grown, "")
			if features.Dump(r) == features.Dump(load(t, ct, "", false)) {
				t.Fatal("the new delivery changed nothing: the test proves little")
			}
		})
	}
	t.Run("damaged", func(t *testing.T) {
		if _, _, err := features.LoadRosterCached(ctx, mem, ct, ct, ""); err != nil { // kept, or read
			t.Fatal(err)
		}
		good, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		bad := bytes.Clone(good)
		bad[len(bad)/2] ^= 0x20
		if err := os.WriteFile(path, bad, 0o600); err != nil {
			t.Fatal(err)
		}
		r, read, err := features.LoadRosterCached(ctx, mem, ct, ct, "")
		if err != nil || read.Cached || read.CacheErr == nil {
			t.Fatalf("read %+v, err %v; want the store read and the cache's error", read, err)
		}
		same(t, r, tb, "")
		load(t, ct, "", true) // kept again
	})
	t.Run("unwritable", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "a-file")
		if err := os.WriteFile(file, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		ut := ft.CachedTables{SinceTables: &ft.SinceTables{Tables: tb}, Dir: file}
		r, read, err := features.LoadRosterCached(ctx, mem, ut, ut, "")
		if err != nil || read.Cached || read.KeepErr == nil {
			t.Fatalf("read %+v, err %v; want the roster and the keeping's error", read, err)
		}
		same(t, r, tb, "")
	})
}

// FuzzRosterCache: whatever bytes a roster cache holds, decoding it is an
// error or a roster that can be linked on any date, never a panic. The
// checksum is left out, so that what passes it can be anything the format
// can say.
func FuzzRosterCache(f *testing.F) {
	mem := memory.NewGoAllocator()
	tb := fullRoster(mem, 2)
	defer tb.Release()
	dir := f.TempDir()
	ct := ft.CachedTables{SinceTables: &ft.SinceTables{Tables: tb}, Dir: dir}
	if _, _, err := features.LoadRosterCached(context.Background(), mem, ct, ct, ""); err != nil {
		f.Fatal(err)
	}
	good, err := os.ReadFile(filepath.Join(dir, "roster.bin"))
	if err != nil {
		f.Fatal(err)
	}
	body := good[:len(good)-4]
	f.Add(body)
	f.Add(body[:len(body)/3])
	f.Add([]byte(features.RosterMagic))
	f.Fuzz(func(t *testing.T, b []byte) {
		d := cachefile.NewDecoder(bytes.NewReader(b), int64(len(b)))
		if d.Header(features.RosterMagic, features.RosterFormat) != nil {
			return
		}
		r, err := features.DecodeRoster(d)
		if err != nil {
			return
		}
		for _, day := range []time.Time{time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2023, 5, 5, 0, 0, 0, 0, time.UTC)} {
			l := r.Link(day)
			for i := range l.Households {
				l.IMDDecile(&l.Households[i])
			}
		}
	})
}
