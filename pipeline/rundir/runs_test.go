package rundir

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// writeRun makes data_dir/runs/<id> with the given manifest (none when
// empty) and, when withList, a list CSV and list state.
func writeRun(t *testing.T, dataDir, id, manifest string, withList bool) Run {
	t.Helper()
	r := ForID(dataDir, id)
	if err := os.MkdirAll(r.ListDir(), 0o750); err != nil {
		t.Fatal(err)
	}
	if manifest != "" {
		if err := os.WriteFile(r.ManifestPath(), []byte(manifest), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	if withList {
		for _, p := range []string{r.ListCSV(), r.ListStateJSON()} {
			if err := os.WriteFile(p, []byte("x"), 0o640); err != nil {
				t.Fatal(err)
			}
		}
	}
	return r
}

func TestLatest(t *testing.T) {
	const ok = `{"status":"succeeded","as_of":"2026-01-05","list":{}}`
	for _, tc := range []struct {
		name string
		runs []struct {
			id, manifest string
			list         bool
		}
		want string // run id, or "" for ErrNoRun
	}{
		{name: "no runs folder", want: ""},
		{name: "newest succeeded with a list", want: "20260105T060000Z", runs: []struct {
			id, manifest string
			list         bool
		}{
			{"20251229T060000Z", ok, true},
			{"20260105T060000Z", ok, true},
			{"20260106T060000Z", `{"status":"failed"}`, true},
			{"20260107T060000Z", `{not json`, true},
			{"20260108T060000Z", ok, false},
			{"20260109T060000Z", "", true},
		}},
		{name: "none succeeded", want: "", runs: []struct {
			id, manifest string
			list         bool
		}{{"20260105T060000Z", `{"status":"running"}`, true}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dataDir := t.TempDir()
			for _, r := range tc.runs {
				writeRun(t, dataDir, r.id, r.manifest, r.list)
			}
			got, err := Latest(dataDir)
			switch {
			case tc.want == "" && !errors.Is(err, ErrNoRun):
				t.Fatalf("got %v, %v; want ErrNoRun", got, err)
			case tc.want != "" && err != nil:
				t.Fatal(err)
			case tc.want != "" && got.ID() != tc.want:
				t.Fatalf("got %s; want %s", got.ID(), tc.want)
			}
		})
	}
}

func TestPrevious(t *testing.T) {
	asOf := time.Date(2026, 1, 12, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		others  map[string]string // id -> manifest; "" means none
		noState map[string]bool   // runs without a list state
		want    string            // "" for ErrNoRun
		wantErr bool
	}{
		{name: "the last week's list", want: "20260105T060000Z", others: map[string]string{
			"20251229T060000Z": `{"status":"succeeded","as_of":"2025-12-29","list":{}}`,
			"20260105T060000Z": `{"status":"succeeded","as_of":"2026-01-05","list":{}}`,
		}},
		{name: "a later re-run of an earlier date counts", want: "20260113T060000Z", others: map[string]string{
			"20260105T060000Z": `{"status":"succeeded","as_of":"2026-01-05","list":{}}`,
			"20260113T060000Z": `{"status":"succeeded","as_of":"2026-01-05","list":{}}`,
		}},
		{name: "same date, failed, no list, no state, no manifest are passed over", want: "20251229T060000Z",
			others: map[string]string{
				"20251229T060000Z": `{"status":"succeeded","as_of":"2025-12-29","list":{}}`,
				"20260101T060000Z": `{"status":"succeeded","as_of":"2026-01-01","list":{}}`,
				"20260105T060000Z": `{"status":"failed","as_of":"2026-01-05","list":{}}`,
				"20260106T060000Z": `{"status":"succeeded","as_of":"2026-01-06","list":null}`,
				"20260107T060000Z": `{"status":"succeeded","as_of":"2026-01-12","list":{}}`,
				"20260108T060000Z": "",
			}, noState: map[string]bool{"20260101T060000Z": true}},
		{name: "an undecodable manifest is an error", wantErr: true, others: map[string]string{
			"20260105T060000Z": `{"status":`,
		}},
		{name: "none", others: map[string]string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dataDir := t.TempDir()
			cur := writeRun(t, dataDir, "20260112T060000Z", `{"status":"running","as_of":"2026-01-12"}`, true)
			for id, m := range tc.others {
				r := writeRun(t, dataDir, id, m, true)
				if tc.noState[id] {
					if err := os.Remove(r.ListStateJSON()); err != nil {
						t.Fatal(err)
					}
				}
			}
			got, err := Previous(cur, asOf)
			switch {
			case tc.wantErr:
				if err == nil || errors.Is(err, ErrNoRun) {
					t.Fatalf("got %v, %v; want a decoding error", got, err)
				}
			case tc.want == "":
				if !errors.Is(err, ErrNoRun) {
					t.Fatalf("got %v, %v; want ErrNoRun", got, err)
				}
			case err != nil:
				t.Fatal(err)
			case got.ID() != tc.want:
				t.Fatalf("got %s; want %s", got.ID(), tc.want)
			}
		})
	}
}

func TestAllOldestFirstFoldersOnly(t *testing.T) {
	dataDir := t.TempDir()
	for _, id := range []string{"20260105T060000Z", "20251229T060000Z"} {
		writeRun(t, dataDir, id, "", false)
	}
	if err := os.WriteFile(filepath.Join(RunsDir(dataDir), "stray.txt"), nil, 0o640); err != nil {
		t.Fatal(err)
	}
	runs, err := All(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range runs {
		ids = append(ids, r.ID())
	}
	if len(ids) != 2 || ids[0] != "20251229T060000Z" || ids[1] != "20260105T060000Z" {
		t.Fatalf("got %v; want the two run folders, oldest first", ids)
	}
}
