package fairness

import "math"

// Reasons a value is null (§4 design principle: undefined is explicit).
const (
	ReasonZeroDenominator = "zero_denominator"
	ReasonZeroCount       = "zero_count"
	ReasonRefZero         = "ref_zero"
	ReasonBothZero        = "both_zero"
	ReasonUndefined       = "undefined_metric"
	ReasonSingleClass     = "single_class"
	ReasonNoReference     = "no_reference"
)

// Reliability flags of §4.4.
const (
	RelOK   = "ok"
	RelU    = "u"
	RelLowN = "low_n"
)

// Rate is a proportion kept as its integer numerator and denominator, so
// verdicts can cross-multiply exactly; Value, Lo and Hi are nil when the
// denominator is 0.
type Rate struct {
	Num int64 `json:"num"`
	Den int64 `json:"den"`
	// Households is how many distinct households the denominator's
	// child-dates come from: the unit a verdict needs enough of.
	Households int64    `json:"households"`
	Value      *float64 `json:"value"`
	Lo         *float64 `json:"lo"`
	Hi         *float64 `json:"hi"`
	Rel        string   `json:"reliability"`
	Reason     string   `json:"reason,omitempty"`
}

func ptr(v float64) *float64 { return &v }

// newRate builds x/n with its Wilson interval and reliability flag.
func newRate(x, n int64, z float64) Rate {
	r := Rate{Num: x, Den: n, Rel: reliability(n)}
	if n == 0 {
		r.Reason = ReasonZeroDenominator
		return r
	}
	lo, hi := wilson(x, n, z)
	r.Value, r.Lo, r.Hi = ptr(float64(x)/float64(n)), ptr(lo), ptr(hi)
	return r
}

func reliability(den int64) string {
	switch {
	case den >= 30:
		return RelOK
	case den >= 10:
		return RelU
	}
	return RelLowN
}

// wilson is the Wilson score interval of §4.5. The clamp only removes
// rounding noise at x = 0 and x = n, where the exact bounds are 0 and 1.
func wilson(x, n int64, z float64) (lo, hi float64) {
	nf := float64(n)
	p := float64(x) / nf
	z2 := z * z
	den := 1 + z2/nf
	centre := (p + z2/(2*nf)) / den
	half := z * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf)) / den
	lo, hi = centre-half, centre+half
	if x == 0 {
		lo = 0
	}
	if x == n {
		hi = 1
	}
	return lo, hi
}

// katz is the log-method interval for the ratio (x1/n1)/(x2/n2) (§4.5). With
// haldane it adds 0.5 to each cell of the 2×2 table instead of failing on a
// zero count.
func katz(x1, n1, x2, n2 int64, z float64, haldane bool) (lo, hi float64, ok bool) {
	a, b, c, d := float64(x1), float64(n1), float64(x2), float64(n2)
	if x1 == 0 || x2 == 0 {
		if !haldane {
			return 0, 0, false
		}
		a, b, c, d = a+0.5, b+1, c+0.5, d+1
	}
	if b == 0 || d == 0 {
		return 0, 0, false
	}
	lr := math.Log((a / b) / (c / d))
	se := math.Sqrt(1/a - 1/b + 1/c - 1/d)
	return math.Exp(lr - z*se), math.Exp(lr + z*se), true
}

// newcombe is the hybrid score interval (method 10) for p1 − p2 built from
// the two Wilson intervals (§4.5).
func newcombe(g, ref Rate) (lo, hi float64) {
	p1, l1, u1 := *g.Value, *g.Lo, *g.Hi
	p2, l2, u2 := *ref.Value, *ref.Lo, *ref.Hi
	d := p1 - p2
	return d - math.Sqrt((p1-l1)*(p1-l1)+(u2-p2)*(u2-p2)),
		d + math.Sqrt((u1-p1)*(u1-p1)+(p2-l2)*(p2-l2))
}
