package models

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
)

// correlated is d columns of n rows, column-major, each load times a factor
// the columns share plus noise times a noise of its own: as correlated as
// a family's need signals.
func correlated(rng *rand.Rand, n, d int, load, noise float64) [][]float64 {
	factor := make([]float64, n)
	for i := range factor {
		factor[i] = rng.NormFloat64()
	}
	z := make([][]float64, d)
	for j := range z {
		z[j] = make([]float64, n)
		for i := range z[j] {
			z[j][i] = load*factor[i] + noise*rng.NormFloat64()
		}
	}
	return z
}

// TestFitBoundedOptimal checks fitBounded's answer against the optimality
// conditions of the bounded problem itself, on columns as correlated as a
// family's need signals: the gradient of the penalised log-loss is zero in
// the intercept and every weight off its bound, and no weight held at zero
// could lower it by rising. Coordinate descent on the Gram matrix must
// reach the same point per-row sweeps did.
func TestFitBoundedOptimal(t *testing.T) {
	const n, d = 4000, 12
	rng := rand.New(rand.NewPCG(7, 8))
	z := correlated(rng, n, d, 0.95, 0.31)
	y := make([]float64, n)
	for i := range y {
		// Two columns pull the odds down: bounded, they must sit at zero.
		l := -2 + 0.6*z[0][i] + 0.4*z[1][i] - 0.8*z[2][i] - 0.5*z[3][i]
		if rng.Float64() < 1/(1+math.Exp(-l)) {
			y[i] = 1
		}
	}
	nonNeg := make([]bool, d)
	for j := range nonNeg {
		nonNeg[j] = j != 4
	}
	for _, lambda := range []float64{0.5, 20} {
		beta, b, err := fitBounded(context.Background(), z, y, lambda, nonNeg)
		if err != nil {
			t.Fatal(err)
		}
		// The gradient of the objective: Σ (p − y) z_j + λ β_j.
		grad := make([]float64, d)
		g0 := 0.0
		for i := range y {
			e := b
			for j := range z {
				e += beta[j] * z[j][i]
			}
			r := sigmoid(e) - y[i]
			g0 += r
			for j := range z {
				grad[j] += r * z[j][i]
			}
		}
		const tol = 1e-3 // against gradients of order n
		if math.Abs(g0) > tol {
			t.Errorf("λ %g: intercept gradient %.2g, want 0", lambda, g0)
		}
		atZero := 0
		for j := range beta {
			g := grad[j] + lambda*beta[j]
			switch {
			case nonNeg[j] && beta[j] < 0:
				t.Errorf("λ %g: weight %d = %g below its bound", lambda, j, beta[j])
			case nonNeg[j] && beta[j] == 0:
				atZero++
				if g < -tol {
					t.Errorf("λ %g: weight %d held at 0 with gradient %.3g: rising would lower the loss", lambda, j, g)
				}
			case math.Abs(g) > tol:
				t.Errorf("λ %g: weight %d = %.4f has gradient %.3g, want 0", lambda, j, beta[j], g)
			}
		}
		if atZero < 2 {
			t.Errorf("λ %g: %d weights at their bound; columns 2 and 3 pull the odds down and should be", lambda, atZero)
		}
	}
}

// TestFitBoundedFromNeighbour: started from the fit on an overlapping set
// of rows, as the backtest's next group or date is, the bounded fit
// reaches the optimum a start from the base rate reaches, in fewer Newton
// steps. A start of the wrong length is refused, and one below a bound is
// moved onto it and still reaches the optimum.
func TestFitBoundedFromNeighbour(t *testing.T) {
	const n, d = 20000, 10
	rng := rand.New(rand.NewPCG(3, 4))
	z := correlated(rng, n, d, 0.9, 0.44)
	y := make([]float64, n)
	for i := range y {
		l := -2.2 + 0.5*z[0][i] + 0.3*z[1][i] - 0.6*z[2][i] + 0.2*z[5][i]
		if rng.Float64() < 1/(1+math.Exp(-l)) {
			y[i] = 1
		}
	}
	nonNeg := make([]bool, d)
	for j := range nonNeg {
		nonNeg[j] = j != 6
	}
	rows := func(lo, hi int) [][]float64 {
		out := make([][]float64, d)
		for j := range z {
			out[j] = z[j][lo:hi]
		}
		return out
	}
	ctx := context.Background()
	const lambda = 2
	before, b1, _, err := fitBoundedFrom(ctx, rows(0, 15000), y[:15000], lambda, nonNeg, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	cold, b2, coldSteps, err := fitBoundedFrom(ctx, rows(5000, n), y[5000:], lambda, nonNeg, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	below := append([]float64(nil), before...)
	below[0] = -1 // under its bound
	for _, c := range []struct {
		name  string
		start []float64
	}{{"the neighbour's fit", before}, {"a start below a bound", below}} {
		warm, bw, warmSteps, err := fitBoundedFrom(ctx, rows(5000, n), y[5000:], lambda, nonNeg, c.start, b1)
		if err != nil {
			t.Fatal(err)
		}
		const tol = 1e-6 // the solver stops on changes under 1e-7
		if math.Abs(bw-b2) > tol {
			t.Errorf("from %s: intercept %.9f; from the base rate %.9f", c.name, bw, b2)
		}
		for j := range cold {
			if math.Abs(warm[j]-cold[j]) > tol {
				t.Errorf("from %s: weight %d = %.9f; from the base rate %.9f", c.name, j, warm[j], cold[j])
			}
		}
		if c.name == "the neighbour's fit" && warmSteps >= coldSteps {
			t.Errorf("from %s: %d Newton steps; from the base rate %d, want fewer", c.name, warmSteps, coldSteps)
		}
		t.Logf("from %s: %d Newton steps; from the base rate %d", c.name, warmSteps, coldSteps)
	}
	if _, _, _, err := fitBoundedFrom(ctx, rows(0, n), y, lambda, nonNeg, before[:d-1], 0); err == nil {
		t.Error("a start of the wrong length: want an error")
	}
}
