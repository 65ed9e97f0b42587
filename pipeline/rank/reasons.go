package rank

import (
	"cmp"
	"earlyhelp/pipeline"
	"slices"
	"time"
)

// MaxReasons is how many reasons a listed household shows.
const MaxReasons = 3

// ReasonRules choose a listed household's reasons and safety
// instructions.
type ReasonRules struct {
	// MaxAgeWeeks: no signal older than this is a reason (0: 52).
	MaxAgeWeeks int
	// SafetyText is the instruction for each contact-safety kind; a kind
	// missing from it takes DefaultSafetyText's.
	SafetyText map[string]string
}

func (rr ReasonRules) maxAge() time.Duration {
	w := rr.MaxAgeWeeks
	if w <= 0 {
		w = 52
	}
	return time.Duration(w) * 7 * 24 * time.Hour
}

// Recent keeps the signals dated before asOf and within the age limit,
// with text: the only ones that may be reasons.
func (rr ReasonRules) Recent(sigs []pipeline.Signal, asOf time.Time) []pipeline.Signal {
	oldest := asOf.Add(-rr.maxAge())
	var out []pipeline.Signal
	for _, s := range sigs {
		if s.Text != "" && s.Date.Before(asOf) && !s.Date.Before(oldest) {
			// Cleaned here, once, for every use downstream: the list's
			// reasons and each child's signals on the family page.
			s.Text = pipeline.CleanText(s.Text)
			out = append(out, s)
		}
	}
	return out
}

// Choose picks up to MaxReasons of a household's signals: first those
// whose features raised the score most in the model's own reasons
// (contributions, largest first), then the most salient of the rest, and
// the latest first among equals. One reason per fact and person: a
// child's attendance is not given twice. sigs must be Recent's.
func (rr ReasonRules) Choose(model []pipeline.Reason, sigs []pipeline.Signal) []pipeline.Signal {
	weight := map[string]float64{}
	for _, r := range model {
		if r.Contribution > 0 {
			weight[r.Feature] = max(weight[r.Feature], r.Contribution)
		}
	}
	type cand struct {
		s pipeline.Signal
		w float64
	}
	cands := make([]cand, 0, len(sigs))
	for _, s := range sigs {
		w := 0.0
		for _, f := range s.Features {
			w = max(w, weight[f])
		}
		cands = append(cands, cand{s, w})
	}
	slices.SortStableFunc(cands, func(a, b cand) int {
		if c := cmp.Compare(b.w, a.w); c != 0 {
			return c
		}
		if c := cmp.Compare(b.s.Salience, a.s.Salience); c != 0 {
			return c
		}
		return b.s.Date.Compare(a.s.Date)
	})
	seen := map[[2]string]bool{}
	var out []pipeline.Signal
	for _, c := range cands {
		k := [2]string{c.s.Code, c.s.Person}
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, c.s)
		if len(out) == MaxReasons {
			break
		}
	}
	return out
}

// Safety turns a household's contact-safety facts of the last
// SafetyLookbackWeeks before asOf into instructions, one per kind in
// SafetyKinds order, each with the latest date of its kind.
func (rr ReasonRules) Safety(facts []pipeline.SafetyFact, asOf time.Time) ([]pipeline.SafetyFact, []string) {
	oldest := asOf.AddDate(0, 0, -7*pipeline.SafetyLookbackWeeks)
	latest := map[string]pipeline.SafetyFact{}
	for _, f := range facts {
		if !f.Date.Before(asOf) || f.Date.Before(oldest) {
			continue
		}
		if cur, ok := latest[f.Kind]; !ok || f.Date.After(cur.Date) {
			latest[f.Kind] = f
		}
	}
	defaults := pipeline.DefaultSafetyText()
	var kept []pipeline.SafetyFact
	var texts []string
	for _, k := range pipeline.SafetyKinds() {
		f, ok := latest[k]
		if !ok {
			continue
		}
		text := rr.SafetyText[k]
		if text == "" {
			text = defaults[k]
		}
		kept = append(kept, f)
		texts = append(texts, pipeline.CleanText(text))
	}
	return kept, texts
}

// contextOf words the model's reasons that are context, not reasons.
func contextOf(c pipeline.Contexter, model []pipeline.Reason) []string {
	if c == nil {
		return nil
	}
	var out []string
	for _, r := range model {
		if r.Contribution <= 0 {
			continue
		}
		if text, ok := c.Context(r.Feature, r.Value); ok {
			out = append(out, pipeline.CleanText(text))
		}
	}
	return out
}
