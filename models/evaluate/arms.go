package evaluate

import (
	"fmt"
	"math"
)

// Z95 is the standard normal quantile for two-sided 95% intervals.
const Z95 = 1.959963984540054

// Interval is a confidence interval.
type Interval struct {
	Low  float64 `json:"low"`
	High float64 `json:"high"`
}

// Contains reports whether v lies within the interval, ends included.
func (iv Interval) Contains(v float64) bool { return v >= iv.Low && v <= iv.High }

// Wilson is the Wilson score interval for events out of n at normal
// quantile z. It is used rather than the Wald interval because the arms of
// a capacity-margin lottery are small and their rates far from one half,
// where Wald's interval is too narrow and can leave [0, 1].
func Wilson(events, n int, z float64) (Interval, error) {
	if n <= 0 || events < 0 || events > n {
		return Interval{}, fmt.Errorf("evaluate: wilson: %d events out of %d", events, n)
	}
	p := float64(events) / float64(n)
	nf := float64(n)
	z2 := z * z
	den := 1 + z2/nf
	centre := (p + z2/(2*nf)) / den
	half := z / den * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf))
	return Interval{Low: math.Max(0, centre-half), High: math.Min(1, centre+half)}, nil
}

// Arm is one arm's outcomes.
type Arm struct {
	N      int      `json:"n"`
	Events int      `json:"events"`
	Rate   float64  `json:"rate"`
	CI     Interval `json:"ci"`
}

// ArmComparison is the offered arm against the not-offered arm of the
// lottery: the outcome rate of each, and the difference offered minus not
// offered, so an offer that prevents outcomes shows as a negative
// difference.
type ArmComparison struct {
	Offered    Arm      `json:"offered"`
	NotOffered Arm      `json:"not_offered"`
	Difference float64  `json:"difference"`
	DiffCI     Interval `json:"difference_ci"`
	Z          float64  `json:"z"`
}

// CompareArms estimates the difference in outcome rates between the arms
// with Newcombe's hybrid score interval (Newcombe 1998, method 10), built
// from each arm's Wilson interval: it keeps its coverage for small arms and
// rare outcomes, where a Wald interval for a difference does not, and needs
// no resampling, so the figures are the same on every run.
func CompareArms(offeredEvents, offeredN, notEvents, notN int, z float64) (ArmComparison, error) {
	if z <= 0 {
		return ArmComparison{}, fmt.Errorf("evaluate: compare arms: z must be positive, got %g", z)
	}
	w1, err := Wilson(offeredEvents, offeredN, z)
	if err != nil {
		return ArmComparison{}, fmt.Errorf("evaluate: offered arm: %w", err)
	}
	w2, err := Wilson(notEvents, notN, z)
	if err != nil {
		return ArmComparison{}, fmt.Errorf("evaluate: not-offered arm: %w", err)
	}
	p1 := float64(offeredEvents) / float64(offeredN)
	p2 := float64(notEvents) / float64(notN)
	d := p1 - p2
	return ArmComparison{
		Offered:    Arm{N: offeredN, Events: offeredEvents, Rate: p1, CI: w1},
		NotOffered: Arm{N: notN, Events: notEvents, Rate: p2, CI: w2},
		Difference: d,
		DiffCI: Interval{
			Low:  d - math.Sqrt(sq(p1-w1.Low)+sq(w2.High-p2)),
			High: d + math.Sqrt(sq(w1.High-p1)+sq(p2-w2.Low)),
		},
		Z: z,
	}, nil
}

func sq(x float64) float64 { return x * x }

// Outcome is one household of the lottery: its arm and whether the outcome
// followed within the horizon.
type Outcome struct {
	Offered bool
	Event   bool
}

// CompareOutcomes counts outcomes by arm and compares the arms; both arms
// need at least one household.
func CompareOutcomes(rows []Outcome, z float64) (ArmComparison, error) {
	var n1, x1, n2, x2 int
	for _, r := range rows {
		if r.Offered {
			n1++
			if r.Event {
				x1++
			}
		} else {
			n2++
			if r.Event {
				x2++
			}
		}
	}
	return CompareArms(x1, n1, x2, n2, z)
}
