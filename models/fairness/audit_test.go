package fairness

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

// synthetic makes n children with deprivation- and ethnicity-dependent need,
// a noisy score and a label, for the bootstrap and benchmark.
func synthetic(n int, seed uint64) []Row {
	rng := rand.New(rand.NewPCG(seed, 1))
	rows := make([]Row, n)
	for i := range rows {
		r := Row{ID: fmt.Sprintf("p%06d", i), Label: -1, Selected: -1}
		if rng.IntN(20) > 0 {
			r.Ethnicity = ethnicity19[rng.IntN(len(ethnicity19))]
			if rng.IntN(2) == 0 {
				r.Ethnicity = "WHITE_BRITISH"
			}
		}
		if rng.IntN(50) > 0 {
			r.IMDDecile = 1 + rng.IntN(10)
		}
		risk := 0.05 + 0.03*float64(10-r.IMDDecile)/2
		r.Score = min(1, max(0, risk+rng.NormFloat64()*0.05))
		r.Score = float64(int(r.Score*1000)) / 1000 // coarse scores, so ties happen
		if rng.IntN(10) > 0 {
			r.Label = 0
			if rng.Float64() < risk {
				r.Label = 1
			}
		}
		rows[i] = r
	}
	return rows
}

// families is synthetic's rows grouped into households of one to four
// children on one date, who share the household's score and area and
// mostly its ethnicity, each with an outcome of their own.
func families(n int, seed uint64) []Row {
	rows := synthetic(n, seed)
	rng := rand.New(rand.NewPCG(seed, 9))
	for i := 0; i < len(rows); {
		size := 1 + rng.IntN(4)
		for j := i + 1; j < min(i+size, len(rows)); j++ {
			rows[j].Score, rows[j].IMDDecile = rows[i].Score, rows[i].IMDDecile
			if rng.IntN(5) > 0 {
				rows[j].Ethnicity = rows[i].Ethnicity
			}
		}
		for j := i; j < min(i+size, len(rows)); j++ {
			rows[j].HouseholdID = rows[i].ID
		}
		i += size
	}
	return rows
}

// laidOut audits rows with cfg's decisions and no bootstrap, and returns
// the result with the table and group assignment the bootstrap lays out.
func laidOut(tb testing.TB, rows []Row, cfg Config) (*Result, *table, [][]int32) {
	tb.Helper()
	cfg.Bootstrap = 0
	res, err := Audit(rows, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	t := newTable(rows, cfg.CalibrationBins)
	t.house = householdUnits(rows).house
	return res, t, assign(rows, cfg.Attributes)
}

func TestBootstrapReproducible(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Capacities = []int{100}
	cfg.Bootstrap = 200
	run := func(workers int) *Result {
		cfg.Workers = workers
		res, err := Audit(synthetic(2000, 3), cfg)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	a, b := run(1), run(7)
	if !reflect.DeepEqual(a.Calibration, b.Calibration) || !reflect.DeepEqual(a.Summaries, b.Summaries) {
		t.Fatal("bootstrap intervals depend on the number of workers")
	}
	c := a.Calibration[0]
	if c.AUCLo == nil || !(*c.AUCLo <= *c.AUC && *c.AUC <= *c.AUCHi) {
		t.Errorf("overall AUC %v not inside its bootstrap interval [%v, %v]", deref(c.AUC), deref(c.AUCLo), deref(c.AUCHi))
	}
	cfg.Seed++
	if d := run(4); reflect.DeepEqual(a.Calibration, d.Calibration) {
		t.Error("a different seed gave identical intervals")
	}
}

func TestWrite(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Capacities = []int{50}
	cfg.CapacityFractions = []float64{0.29}
	cfg.Thresholds = []float64{0.2}
	cfg.Bootstrap = 20
	res, err := Audit(synthetic(500, 5), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Decisions[1].K != 145 {
		t.Errorf("rank_pct=0.29 of 500: got K=%d; want 145", res.Decisions[1].K)
	}
	dir := t.TempDir()
	if err := res.Write(dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"audit.json", "group_metrics.csv", "disparities.csv", "summary.csv", "topk_curve.csv",
		"calibration_bins.csv", "calibration_summary.csv", "publishable/group_metrics.csv", "intersections/group_metrics.csv"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: missing or empty (%v)", f, err)
		}
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp"))
	if len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

func TestAuditRejects(t *testing.T) {
	good := func() []Row {
		return []Row{{ID: "a", Score: 0.5, Label: 1, Selected: -1}, {ID: "b", Score: 0.2, Label: 0, Selected: -1}}
	}
	cases := []struct {
		name string
		edit func([]Row, *Config)
	}{
		{"nan score", func(r []Row, _ *Config) { r[0].Score = nanF() }},
		{"duplicate id", func(r []Row, _ *Config) { r[1].ID = "a" }},
		{"partial selected", func(r []Row, _ *Config) { r[0].Selected = 1 }},
		{"unknown ethnicity code", func(r []Row, _ *Config) { r[0].Ethnicity = "WBRI" }},
		{"bad reference", func(_ []Row, c *Config) { c.Reference = map[string]string{"ethnicity5": "Martian"} }},
		{"zero tau", func(_ []Row, c *Config) { c.TauDen = 0 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rows, cfg := good(), DefaultConfig()
			cfg.Bootstrap = 0
			tc.edit(rows, &cfg)
			if _, err := Audit(rows, cfg); err == nil {
				t.Error("got nil error; want one")
			}
		})
	}
}

func nanF() float64 { z := 0.0; return z / z }

func BenchmarkAudit(b *testing.B) {
	rows := synthetic(40000, 11)
	cfg := DefaultConfig()
	cfg.Capacities = []int{60, 400}
	cfg.Bootstrap = 1000
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Audit(rows, cfg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBootstrap times the resampling alone on a council-sized audit:
// ns/row is wall time per child per resample per stratification (overall
// and each attribute), the figure that scales to B = 1000 at 300,000
// children; cpu_ns/row is the process's CPU time for the same, the figure
// to compare while other work shares the machine. "children" has a
// household per child; "families" has one to four children a household,
// as a council has, whose rows the bootstrap reads as one run.
func BenchmarkBootstrap(b *testing.B) {
	shapes := []struct {
		name string
		rows func(int, uint64) []Row
	}{{"children", synthetic}, {"families", families}}
	for _, n := range []int{40000, 1000000} {
		for _, shape := range shapes {
			b.Run(fmt.Sprintf("%s/rows=%d", shape.name, n), func(b *testing.B) {
				benchBootstrap(b, shape.rows(n, 11))
			})
		}
	}
}

func benchBootstrap(b *testing.B, rows []Row) {
	n := len(rows)
	cfg := DefaultConfig()
	cfg.CapacityFractions = []float64{0.1}
	res, t, gidx := laidOut(b, rows, cfg)
	cfg.Bootstrap = 32 // enough resamples that laying out the rows is a small share
	b.ResetTimer()
	cpu0 := cpuTime(b)
	for i := 0; i < b.N; i++ {
		bootstrap(res, t, gidx, res.Decisions, &cfg)
	}
	passes := float64(b.N) * float64(cfg.Bootstrap) * float64(n) * float64(1+len(cfg.Attributes))
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/passes, "ns/row")
	b.ReportMetric(float64((cpuTime(b)-cpu0).Nanoseconds())/passes, "cpu_ns/row")
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestReadCSVSeekerOrStream: a file that can seek is counted first to size
// the rows; read as a plain stream it must give the same rows.
func TestReadCSVSeekerOrStream(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "*", "input.csv"))
	if len(paths) == 0 {
		t.Fatal("no testdata/*/input.csv")
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		sized, err := ReadCSV(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		streamed, err := ReadCSV(struct{ io.Reader }{bytes.NewReader(b)})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(sized, streamed) {
			t.Errorf("%s: rows differ between a seekable and a streamed read", p)
		}
		if lines := bytes.Count(b, []byte{'\n'}); cap(sized) != lines {
			t.Errorf("%s: rows sized for %d; want the file's %d lines", p, cap(sized), lines)
		}
	}
}

// TestReadCSVEqualityColumns: scored_children.csv's age_band, sex and
// sen_status land in the row's own fields, not in Extra (a map per row),
// and a file without them reads as not recorded.
func TestReadCSVEqualityColumns(t *testing.T) {
	with := "as_of,model,person_id,household_id,score,selected,label,ethnicity5,ethnicity,imd_decile,age_band,sex,sen_status\n" +
		"2025-09-01,m,p1,h1,0.5,1,0,White,WHITE_BRITISH,3,11-15,M,sen_support\n"
	rows, err := ReadCSV(strings.NewReader(with))
	if err != nil {
		t.Fatal(err)
	}
	if r := rows[0]; r.AgeBand != "11-15" || r.Sex != "M" || r.SENStatus != "sen_support" || len(r.Extra) != 0 {
		t.Errorf("read %+v; want age band, sex and SEN status in their fields and no Extra", r)
	}
	without := "as_of,model,person_id,household_id,score,selected,label,ethnicity5,ethnicity,imd_decile\n" +
		"2025-09-01,m,p1,h1,0.5,1,0,White,WHITE_BRITISH,3\n"
	if rows, err = ReadCSV(strings.NewReader(without)); err != nil {
		t.Fatal(err)
	}
	if r := rows[0]; r.AgeBand != "" || r.Sex != "" || r.SENStatus != "" {
		t.Errorf("read %+v from a file without the columns", r)
	}
}

// TestReadCSVLinesAsCSV: rows split at their commas read as encoding/csv
// reads them: every testdata input, and a file with blank lines, an extra
// column, a last line without its newline, and a quoted line part-way
// (from which csv reads the rest), read against the same file with its
// first row's first field quoted, which csv reads whole. A row short of
// fields is an error either way.
func TestReadCSVLinesAsCSV(t *testing.T) {
	inputs := map[string]string{}
	paths, _ := filepath.Glob(filepath.Join("testdata", "*", "input.csv"))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		inputs[p] = string(b)
	}
	if len(inputs) == 0 {
		t.Fatal("no testdata/*/input.csv")
	}
	inputs["mixed"] = "as_of,model,person_id,household_id,score,selected,label,ethnicity5,ethnicity,imd_decile,note\n" +
		"2025-09-01,m,p1,h1,0.5,1,0,White,WHITE_BRITISH,3, spaced \n\n" +
		"2025-09-01,m,p2,h2,0.25,0,1,Asian,ASIAN_INDIAN,,x\n" +
		"2025-09-01,m,p3,h3,0.125,0,,\"Mixed\",MIXED_OTHER,1,\"a, b\"\n" +
		"2025-09-01,m,p4,h4,0.0625,1,1,Black,BLACK_AFRICAN,10,y"
	for name, in := range inputs {
		head, body, _ := strings.Cut(in, "\n")
		quoted := head + "\n\"" + body // the first field of the first row quoted
		if strings.HasPrefix(body, "\n") {
			t.Fatalf("%s: a blank first row", name)
		}
		split, err := ReadCSV(strings.NewReader(in))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		i := strings.IndexByte(quoted[len(head)+2:], ',')
		quoted = quoted[:len(head)+2+i] + "\"" + quoted[len(head)+2+i:]
		whole, err := ReadCSV(strings.NewReader(quoted))
		if err != nil {
			t.Fatalf("%s quoted: %v", name, err)
		}
		if len(split) == 0 || !reflect.DeepEqual(split, whole) {
			t.Errorf("%s: rows split at commas\n%+v\ndiffer from csv's\n%+v", name, split, whole)
		}
	}
	short := "as_of,model,person_id,household_id,score,selected,label\n2025-09-01,m,p1,h1,0.5,1\n"
	if _, err := ReadCSV(strings.NewReader(short)); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("a row short of fields: %v; want an error at line 2", err)
	}
}
