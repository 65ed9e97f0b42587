package models

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
)

// TestFitBoundedOptimal checks fitBounded's answer against the optimality
// conditions of the bounded problem itself, on columns as correlated as a
// family's need signals: the gradient of the penalised log-loss is zero in
// the intercept and every weight off its bound, and no weight held at zero
// could lower it by rising. Coordinate descent on the Gram matrix must
// reach the same point per-row sweeps did.
func TestFitBoundedOptimal(t *testing.T) {
	const n, d = 4000, 12
	rng := rand.New(rand.NewPCG(7, 8))
	factor := make([]float64, n)
	for i := range factor {
		factor[i] = rng.NormFloat64()
	}
	z := make([][]float64, d)
	for j := range z {
		z[j] = make([]float64, n)
		for i := range z[j] {
			z[j][i] = 0.95*factor[i] + 0.31*rng.NormFloat64()
		}
	}
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
