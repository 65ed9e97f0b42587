package synthetic

import (
	"errors"
	"fmt"
	"time"
)

// Defect profiles.
const (
	DefectsNone      = "none"
	DefectsLight     = "light"
	DefectsRealistic = "realistic" // reference §8's received layer (issue 3)
	DefectsHostile   = "hostile"   // defects that break whole files (issue 23, hostile.go)
)

// Profiles of the council's population.
const (
	ProfileNational   = "national"    // a national-average local authority
	ProfileInnerUrban = "inner_urban" // a diverse, deprived inner-urban borough
)

// Config describes the council to generate. Zero values take the defaults.
type Config struct {
	Out      string    // folder to write into
	Children int       // default 20000
	Seed     uint64    // default 1
	Weeks    int       // default 104
	End      time.Time // last day covered; default 2026-07-19 (fixed, so output is reproducible)
	Defects  string    // "none" (default), "light", "realistic" or "hostile"
	Profile  string    // "national" (default) or "inner_urban"
	World    string    // how need shows and referrals follow it (worlds.go); default "school"
	// Vocabulary is how the received layer spells codes, dates and
	// amounts: "project" (CONTRACTS §2's own) or "reference" (what council
	// systems send, domain-data; reference_vocab.go). Default: reference
	// under the realistic profile, else project.
	Vocabulary string
	// Bias lists observation-bias specs (README: the --bias grammar), e.g.
	// "lateness_underrecorded:ethnicity5=Asian:0.5".
	Bias []string
}

// Defaults of Config.
const (
	DefaultChildren = 20000
	DefaultSeed     = 1
	DefaultWeeks    = 104
)

// DefaultEnd is the last day covered when Config.End is zero.
var DefaultEnd = time.Date(2026, time.July, 19, 0, 0, 0, 0, time.UTC)

// Limits of Config.
const (
	MinChildren = 10
	MaxChildren = 5_000_000
	MaxWeeks    = 520
)

// withDefaults fills the zero fields.
func (c Config) withDefaults() Config {
	if c.Children == 0 {
		c.Children = DefaultChildren
	}
	if c.Seed == 0 {
		c.Seed = DefaultSeed
	}
	if c.Weeks == 0 {
		c.Weeks = DefaultWeeks
	}
	if c.End.IsZero() {
		c.End = DefaultEnd
	}
	if c.Defects == "" {
		c.Defects = DefectsNone
	}
	if c.Profile == "" {
		c.Profile = ProfileNational
	}
	if c.World == "" {
		c.World = WorldSchool
	}
	c.Vocabulary = c.defaultVocabulary()
	return c
}

// Validate reports every problem with the Config (after defaults are applied).
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if c.Out == "" {
		errs = append(errs, errors.New("out: folder is required"))
	}
	if c.Children < MinChildren || c.Children > MaxChildren {
		errs = append(errs, fmt.Errorf("children: %d is outside %d..%d", c.Children, MinChildren, MaxChildren))
	}
	if c.Weeks < 1 || c.Weeks > MaxWeeks {
		errs = append(errs, fmt.Errorf("weeks: %d is outside 1..%d", c.Weeks, MaxWeeks))
	}
	// UPNs carry a two-digit year of issue and the calendar knows English
	// bank holidays of this century only.
	if y := c.End.Year(); y < 2000 || y > 2099 {
		errs = append(errs, fmt.Errorf("end: %s is outside the years 2000..2099", c.End.Format(time.DateOnly)))
	}
	if _, err := lookupWorld(c.World); err != nil {
		errs = append(errs, err)
	}
	if _, err := lookupProfile(c.Profile); err != nil {
		errs = append(errs, err)
	}
	if err := c.checkVocabulary(); err != nil {
		errs = append(errs, err)
	}
	for _, s := range c.Bias {
		if _, err := parseBias(s); err != nil {
			errs = append(errs, err)
		}
	}
	switch c.Defects {
	case DefectsNone, DefectsLight, DefectsRealistic, DefectsHostile:
	default:
		errs = append(errs, fmt.Errorf("defects: unknown profile %q (known: %s, %s, %s, %s)", c.Defects, DefectsNone, DefectsLight, DefectsRealistic, DefectsHostile))
	}
	return errors.Join(errs...)
}

// Summary describes what Generate wrote.
type Summary struct {
	Children   int
	Households int // distinct household ids
	Persons    int // distinct persons (children and adults)
	// Rows holds the data rows (header excluded, defects and amended marks
	// included) written per source name.
	Rows map[string]int64
	// Files are the paths written, relative to Config.Out, slash-separated
	// and sorted.
	Files     []string
	Referrals int
	// OracleAUC is the AUC of truth's p_referral_26w against the realised
	// label over household-weeks whose horizon ends inside the window; 0 if
	// the window is too short to compute it.
	OracleAUC float64
}
