package synthetic

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWorlds checks each world generates a council whose referral rate the
// calibration keeps near the original world's, whose truth still ranks
// outcomes, and whose records differ from the original's: a world that
// changed nothing would let the backtest across worlds pass for one world.
func TestWorlds(t *testing.T) {
	base := Config{Children: 3000, Weeks: 60, Seed: 5}
	dirSchool, school := generate(t, base)
	for _, name := range Worlds[1:] {
		t.Run(name, func(t *testing.T) {
			cfg := base
			cfg.World = name
			dir, s := generate(t, cfg)
			if r := float64(s.Referrals) / float64(school.Referrals); r < 0.7 || r > 1.4 {
				t.Errorf("%d referrals against the school world's %d: calibration should keep the rate", s.Referrals, school.Referrals)
			}
			if s.OracleAUC < 0.6 {
				t.Errorf("truth's AUC %.3f: the true probability should still rank outcomes", s.OracleAUC)
			}
			for _, f := range []string{"incoming/csc_referrals/csc_referrals.csv", householdWeeksFile} {
				a, err := os.ReadFile(filepath.Join(dirSchool, f))
				if err != nil {
					t.Fatal(err)
				}
				b, err := os.ReadFile(filepath.Join(dir, f))
				if err != nil {
					t.Fatal(err)
				}
				if bytes.Equal(a, b) {
					t.Errorf("%s is the same as the school world's", f)
				}
			}
		})
	}
	t.Run("default is school", func(t *testing.T) {
		cfg := Config{Children: 200, Weeks: 8, Seed: 2}
		a, _ := generate(t, cfg)
		cfg.World = WorldSchool
		b, _ := generate(t, cfg)
		for _, f := range []string{householdWeeksFile, "incoming/csc_referrals/csc_referrals.csv"} {
			x, _ := os.ReadFile(filepath.Join(a, f))
			y, _ := os.ReadFile(filepath.Join(b, f))
			if !bytes.Equal(x, y) {
				t.Errorf("%s: the default world is not the school world", f)
			}
		}
	})
	t.Run("unknown", func(t *testing.T) {
		err := Config{Out: t.TempDir(), World: "mars"}.Validate()
		if err == nil || !strings.Contains(err.Error(), `unknown world "mars"`) {
			t.Errorf("Validate(world mars) = %v; want it named as unknown", err)
		}
	})
}
