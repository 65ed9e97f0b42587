package synthetic

import (
	"math"
	"math/rand/v2"
)

// Random streams, one per purpose, so that changing how one part draws (or
// switching defects on) leaves every other part's output unchanged.
const (
	streamWorld uint64 = iota + 1
	streamNeed
	streamAttendance
	streamReferrals
	streamDefects
	streamKey
	streamHV
	streamHousing
	streamRent
	streamEarlyHelp
	streamObjections
	streamBias
	streamFamily
	streamSEN
	streamHidden
)

func newRand(seed, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, stream*0x9e3779b97f4a7c15))
}

// gamma draws Gamma(shape, 1) by Marsaglia and Tsang's method.
func gamma(r *rand.Rand, shape float64) float64 {
	if shape < 1 {
		return gamma(r, shape+1) * math.Pow(r.Float64(), 1/shape)
	}
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := r.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := r.Float64()
		if u < 1-0.0331*x*x*x*x || math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}

func beta(r *rand.Rand, a, b float64) float64 {
	x := gamma(r, a)
	return x / (x + gamma(r, b))
}

// geometric draws 1, 2, … with the given mean, redrawing above max.
func geometric(r *rand.Rand, mean float64, max int) int {
	q := math.Log(1 - 1/mean)
	for {
		k := 1 + int(math.Log(1-r.Float64())/q)
		if k <= max {
			return k
		}
	}
}

// pick returns the index of a weight, drawn in proportion to the weights.
func pick(u float64, cum []float64) int {
	for i, c := range cum {
		if u < c {
			return i
		}
	}
	return len(cum) - 1
}

// cumulative normalises weights into a cumulative distribution.
func cumulative(w []float64) []float64 {
	sum := 0.0
	for _, v := range w {
		sum += v
	}
	out := make([]float64, len(w))
	acc := 0.0
	for i, v := range w {
		acc += v / sum
		out[i] = acc
	}
	out[len(out)-1] = 1
	return out
}
