package fairness

import (
	"crypto/sha256"
	"earlyhelp/pipeline/atomicfile"
	"earlyhelp/pipeline/rundir"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
)

// ManifestName is the audit's record of what it audited, in audit/.
const ManifestName = rundir.AuditManifestFile

// EthnicityClassification names the code list groups are drawn from.
const EthnicityClassification = "ONS Census 2021 ethnic group: 19 categories, 5 high-level groups; NOT_STATED and blank as UNKNOWN"

// Provenance is what the audit cannot see in scored_children.csv: the
// caller's configuration digest, the outcome horizon, the IoD vintage and
// the code version. It is recorded, never used in a computation.
type Provenance struct {
	ConfigSHA256 string `json:"config_sha256"`
	HorizonWeeks int    `json:"horizon_weeks"`
	IoDVintage   string `json:"iod_vintage"`
	CodeVersion  string `json:"code_version"`
}

// Manifest is audit/audit_manifest.json: enough to say what was audited
// and to run the same audit again (`earlyhelp audit --run DIR` reads its
// Settings back), so it holds no timestamp.
type Manifest struct {
	ModelIDs                []string  `json:"model_id"`
	ScoredChildrenSHA256    string    `json:"scored_children_sha256"`
	LabelWindow             [2]string `json:"label_window"` // first and last back-test as_of with outcomes
	EthnicityClassification string    `json:"ethnicity_classification"`
	Provenance
	Rows         int               `json:"rows_labelled"`
	Bootstrap    ManifestBootstrap `json:"bootstrap"`
	Settings     ManifestSettings  `json:"settings"`
	MComparisons []MComparisons    `json:"m_comparisons,omitempty"`
}

// ManifestBootstrap is the resampling that made the intervals.
type ManifestBootstrap struct {
	B         int     `json:"B"`
	Seed      uint64  `json:"seed"`
	CILevel   float64 `json:"ci_level"`
	Resamples string  `json:"resamples"`
}

// ManifestSettings are the Config fields a re-run needs; attributes are
// code, so they are the defaults.
type ManifestSettings struct {
	Reference         map[string]string `json:"reference"`
	MinDenVerdict     int               `json:"min_den_verdict"`
	Capacities        []int             `json:"capacities"`
	CapacityFractions []float64         `json:"capacity_fractions"`
}

// Apply sets cfg's re-run settings from the manifest.
func (m *Manifest) Apply(cfg *Config) {
	cfg.Bootstrap, cfg.Seed, cfg.CILevel = m.Bootstrap.B, m.Bootstrap.Seed, m.Bootstrap.CILevel
	cfg.Reference = map[string]string{}
	for k, v := range m.Settings.Reference {
		cfg.Reference[k] = v
	}
	cfg.MinDenVerdict = m.Settings.MinDenVerdict
	cfg.Capacities = slices.Clone(m.Settings.Capacities)
	cfg.CapacityFractions = slices.Clone(m.Settings.CapacityFractions)
	cfg.Provenance.IoDVintage = m.IoDVintage
	if cfg.Provenance.ConfigSHA256 == "" {
		cfg.Provenance.ConfigSHA256, cfg.Provenance.HorizonWeeks = m.ConfigSHA256, m.HorizonWeeks
	}
}

// ReadManifest reads runDir/audit/audit_manifest.json; ok is false when
// there is none.
func ReadManifest(runDir string) (m *Manifest, ok bool, err error) {
	b, err := os.ReadFile(rundir.Open(runDir).Audit().ManifestJSON())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("audit manifest: %w", err)
	}
	m = &Manifest{}
	if err := json.Unmarshal(b, m); err != nil {
		return nil, false, fmt.Errorf("audit manifest %s: %w", ManifestName, err)
	}
	return m, true, nil
}

// hashFile hashes the file at path on its own goroutine, beside the
// audit's own read of it (a quarter of a gigabyte at 300,000 children);
// the func returned waits for the sum.
func hashFile(path string) func() (string, error) {
	var (
		sum  string
		err  error
		done = make(chan struct{})
	)
	go func() {
		defer close(done)
		sum, err = fileSHA256(path)
	}()
	return func() (string, error) {
		<-done
		return sum, err
	}
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// labelledSummary is what the manifest says of the labelled rows audited.
type labelledSummary struct {
	Rows   int
	Window [2]string // the first and last as_of
	Models map[string]bool
}

// add counts a labelled row of date asOf scored by model.
func (s *labelledSummary) add(asOf, model string) {
	s.Rows++
	if s.Models == nil {
		s.Models = map[string]bool{}
	}
	s.Models[model] = true
	if s.Window[0] == "" || asOf < s.Window[0] {
		s.Window[0] = asOf
	}
	if asOf > s.Window[1] {
		s.Window[1] = asOf
	}
}

// summariseLabelled sums up labelled rows for the manifest.
func summariseLabelled(labelled []Row) labelledSummary {
	var s labelledSummary
	for i := range labelled {
		s.add(labelled[i].AsOf, labelled[i].Model)
	}
	return s
}

// writeManifest records the audit of the labelled rows summed up in lab
// with cfg, of the scored children file whose digest scored gives.
func writeManifest(dir string, scored func() (string, error), lab labelledSummary, cfg *Config, res *Result) error {
	sum, err := scored()
	if err != nil {
		return fmt.Errorf("audit manifest: %w", err)
	}
	m := Manifest{ScoredChildrenSHA256: sum, EthnicityClassification: EthnicityClassification,
		Provenance: cfg.Provenance, Rows: lab.Rows, LabelWindow: lab.Window,
		Bootstrap: ManifestBootstrap{B: cfg.Bootstrap, Seed: cfg.Seed, CILevel: cfg.CILevel,
			Resamples: "households, all their child-dates together, within each group; math/rand/v2 PCG(seed, resample)"},
		Settings: ManifestSettings{Reference: cfg.Reference, MinDenVerdict: cfg.MinDenVerdict,
			Capacities: cfg.Capacities, CapacityFractions: cfg.CapacityFractions}}
	if m.IoDVintage == "" {
		m.IoDVintage = "unknown"
	}
	if m.Settings.Reference == nil {
		m.Settings.Reference = map[string]string{}
	}
	for id := range lab.Models {
		m.ModelIDs = append(m.ModelIDs, id)
	}
	slices.Sort(m.ModelIDs)
	if res != nil {
		m.MComparisons = res.MComparisons
	}
	return atomicfile.Write(rundir.Audit{Dir: dir}.ManifestJSON(), 0o640, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(m)
	})
}
