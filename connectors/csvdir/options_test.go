package csvdir

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/connectors"
)

// readConfig runs a source with a full Config over a folder.
func readConfig(t *testing.T, source string, cfg Config) *fakeSink {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	spec, err := connectors.Lookup(source)
	if err != nil {
		t.Fatal(err)
	}
	p, err := connectors.NewPseudonymiser(testKey)
	if err != nil {
		t.Fatal(err)
	}
	src, err := New(cfg, spec, p)
	if err != nil {
		t.Fatal(err)
	}
	sink := newFakeSink()
	if err := src.Read(context.Background(), mem, sink); err != nil {
		t.Fatal(err)
	}
	return sink
}

func TestBalanceSign(t *testing.T) {
	const dir = "testdata/rent_accounts"
	pos := readConfig(t, connectors.RentAccounts, Config{Path: dir})
	neg := readConfig(t, connectors.RentAccounts, Config{Path: dir, BalanceSign: connectors.BalanceNegativeArrears})
	if len(pos.rows) == 0 || len(pos.rows) != len(neg.rows) || len(pos.rejects) != len(neg.rejects) {
		t.Fatalf("rows %d/%d, rejects %d/%d; want the same non-zero counts", len(pos.rows), len(neg.rows), len(pos.rejects), len(neg.rejects))
	}
	for i := range pos.rows {
		p, n := pos.rows[i]["balance"], neg.rows[i]["balance"]
		want := "-" + p
		if strings.HasPrefix(p, "-") {
			want = strings.TrimPrefix(p, "-")
		}
		if p == "0" {
			want = "0"
		}
		if n != want {
			t.Errorf("row %d balance: got %s; want %s (source shows %s)", i, n, want, p)
		}
		if pos.rows[i]["weekly_rent"] != neg.rows[i]["weekly_rent"] {
			t.Errorf("row %d weekly_rent changed: %s -> %s", i, pos.rows[i]["weekly_rent"], neg.rows[i]["weekly_rent"])
		}
	}
}

func TestEncoding(t *testing.T) {
	const header = "household_id,person_id,role,uprn,lsoa_code,locality,from_date,to_date\n"
	utf8Row := "H1,P1,child,,E01000001,Café,2020-01-01,\n"
	cp1252Row := "H2,P2,child,,E01000001,Caf\xe9,2020-01-01,\n"
	tests := []struct {
		name     string
		encoding string
		body     string
		want     []string // localities in row order
	}{
		{"auto utf-8", "", header + utf8Row, []string{"Café"}},
		{"auto mixed reads windows-1252", EncodingAuto, header + utf8Row + cp1252Row, []string{"CafÃ©", "Café"}},
		{"forced utf-8", EncodingUTF8, header + utf8Row + cp1252Row, []string{"Café", "Caf\uFFFD"}},
		{"forced windows-1252", EncodingWindows1252, "\xEF\xBB\xBF" + header + utf8Row, []string{"CafÃ©"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "households.csv"), []byte(tc.body), 0o600); err != nil {
				t.Fatal(err)
			}
			sink := readConfig(t, connectors.Households, Config{Path: dir, Encoding: tc.encoding})
			if len(sink.rejects) > 0 {
				t.Fatalf("rejects: %+v", sink.rejects)
			}
			var got []string
			for _, r := range sink.rows {
				got = append(got, r["locality"])
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("localities: got %q; want %q", got, tc.want)
			}
		})
	}
}

func TestNewValidatesOptions(t *testing.T) {
	p, _ := connectors.NewPseudonymiser(testKey)
	rent, _ := connectors.Lookup(connectors.RentAccounts)
	persons, _ := connectors.Lookup(connectors.Persons)
	tests := []struct {
		name string
		cfg  Config
		spec connectors.Spec
		want string
	}{
		{"unknown encoding", Config{Path: "x", Encoding: "latin1"}, rent, `encoding "latin1"`},
		{"unknown balance sign", Config{Path: "x", BalanceSign: "credit"}, rent, `balance_sign "credit"`},
		{"balance sign on persons", Config{Path: "x", BalanceSign: connectors.BalanceNegativeArrears}, persons, "applies to rent_accounts only"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg, tc.spec, p)
			// The caller names the source (sources.<name> in the config's
			// error): the connector's own message must not name it again.
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "csvdir: ") || strings.Contains(err.Error(), tc.spec.Name) {
				t.Errorf("New: got %v; want a csvdir error containing %q and not naming the source", err, tc.want)
			}
		})
	}
}
