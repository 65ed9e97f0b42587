package models

import (
	"context"
	"errors"
	"math"
)

// fitBounded fits an L2-penalised logistic regression whose weights on the
// columns marked in nonNeg may not go below zero:
//
//	minimise Σ_i ℓ(y_i, b + Σ_j β_j z_ij) + (λ/2) Σ_j β_j²,  β_j ≥ 0 where nonNeg[j]
//
// with ℓ the log-loss and the intercept b unpenalised. z is column-major
// (z[j][i]), already standardised. It is Newton's method on the log-loss
// (iteratively reweighted least squares), each step's weighted least
// squares solved by cyclic coordinate descent, where a bound is a clip: the
// approach glmnet takes, and exact for a convex loss with box constraints.
// A step that does not lower the objective is halved.
func fitBounded(ctx context.Context, z [][]float64, y []float64, lambda float64, nonNeg []bool) (coefs []float64, intercept float64, err error) {
	const (
		maxNewton = 50
		maxPasses = 200
		tol       = 1e-7 // on the largest weight change, in log-odds per sd
	)
	d, n := len(z), len(y)
	if n == 0 {
		return nil, 0, errors.New("no rows")
	}
	beta := make([]float64, d)
	// Start from the base rate, so the first step is a small one.
	pos := 0.0
	for _, v := range y {
		pos += v
	}
	b := math.Log((pos + 0.5) / (float64(n) - pos + 0.5))
	eta := make([]float64, n)
	for i := range eta {
		eta[i] = b
	}
	w, res := make([]float64, n), make([]float64, n)
	a := make([]float64, d)
	obj := objective(eta, y, beta, lambda)
	oldBeta := make([]float64, d)
	for range maxNewton {
		if err := ctx.Err(); err != nil {
			return nil, 0, err
		}
		// The quadratic model of the log-loss at eta: weights p(1−p) and
		// the working residual (y−p)/w.
		for i, e := range eta {
			p := sigmoid(e)
			w[i] = max(p*(1-p), 1e-6)
			res[i] = (y[i] - p) / w[i]
		}
		for j, col := range z {
			s := 0.0
			for i, v := range col {
				s += w[i] * v * v
			}
			a[j] = s
		}
		var a0 float64
		for _, v := range w {
			a0 += v
		}
		copy(oldBeta, beta)
		oldB := b
		for range maxPasses {
			move := 0.0
			// The intercept, then each weight in turn.
			s := 0.0
			for i, r := range res {
				s += w[i] * r
			}
			if delta := s / a0; delta != 0 {
				b += delta
				for i := range res {
					res[i] -= delta
				}
				move = max(move, math.Abs(delta))
			}
			for j, col := range z {
				if a[j] == 0 {
					continue
				}
				s := 0.0
				for i, v := range col {
					s += w[i] * v * res[i]
				}
				nb := (s + a[j]*beta[j]) / (a[j] + lambda)
				if nonNeg[j] && nb < 0 {
					nb = 0
				}
				delta := nb - beta[j]
				if delta == 0 {
					continue
				}
				beta[j] = nb
				for i, v := range col {
					res[i] -= delta * v
				}
				move = max(move, math.Abs(delta))
			}
			if move < tol {
				break
			}
		}
		// Take the step, halving it while it does not lower the objective.
		// The feasible set is convex, so every point between the old
		// weights and the new is feasible too.
		var next float64
		for half := 0; ; half++ {
			linear(eta, z, beta, b)
			next = objective(eta, y, beta, lambda)
			if next <= obj+1e-12*math.Abs(obj) || half == 30 {
				break
			}
			for j := range beta {
				beta[j] = (beta[j] + oldBeta[j]) / 2
			}
			b = (b + oldB) / 2
		}
		change := math.Abs(b - oldB)
		for j := range beta {
			change = max(change, math.Abs(beta[j]-oldBeta[j]))
		}
		obj = next
		if change < tol {
			break
		}
	}
	for _, v := range beta {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, 0, errors.New("the fit did not converge")
		}
	}
	return beta, b, nil
}

// linear sets eta to b + Σ_j beta_j z_j.
func linear(eta []float64, z [][]float64, beta []float64, b float64) {
	for i := range eta {
		eta[i] = b
	}
	for j, col := range z {
		if beta[j] == 0 {
			continue
		}
		for i, v := range col {
			eta[i] += beta[j] * v
		}
	}
}

// logLoss is −[t·log σ(f) + (1−t)·log(1−σ(f))] for log-odds f and target
// t, written to stay finite for any f.
func logLoss(f, t float64) float64 {
	return math.Log1p(math.Exp(-math.Abs(f))) + math.Max(f, 0) - t*f
}

// objective is the log-loss at eta plus the penalty.
func objective(eta, y, beta []float64, lambda float64) float64 {
	s := 0.0
	for i, e := range eta {
		s += logLoss(e, y[i])
	}
	for _, v := range beta {
		s += lambda / 2 * v * v
	}
	return s
}
