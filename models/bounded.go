package models

import (
	"context"
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
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
//
// Each Newton step first gathers the weighted least squares' sufficient
// statistics (the weighted Gram matrix of the columns, and their weighted
// products with the working response: glmnet's "covariance updates"), in
// one pass over the rows. Coordinate descent then costs O(d²) a sweep
// instead of O(d·n): correlated need signals take hundreds of sweeps to
// settle, and at 200,000 rows the per-row sweeps were most of a cold run.
func fitBounded(ctx context.Context, z [][]float64, y []float64, lambda float64, nonNeg []bool) (coefs []float64, intercept float64, err error) {
	coefs, intercept, _, err = fitBoundedFrom(ctx, z, y, lambda, nonNeg, nil, 0)
	return coefs, intercept, err
}

// fitBoundedFrom is fitBounded starting from the weights start and
// intercept b0 (nil: from the base rate). The objective is strictly
// convex, so any start reaches the same optimum; one near it, such as the
// fit of a neighbouring fold, gets there in fewer Newton steps, each a
// pass over every row. A start weight below a bound starts at the bound.
// It also returns how many Newton steps it took.
func fitBoundedFrom(ctx context.Context, z [][]float64, y []float64, lambda float64, nonNeg []bool, start []float64, b0 float64) (coefs []float64, intercept float64, steps int, err error) {
	const (
		maxNewton = 50
		maxPasses = 10000
		tol       = 1e-7 // on the largest weight change, in log-odds per sd
	)
	d, n := len(z), len(y)
	if n == 0 {
		return nil, 0, 0, errors.New("no rows")
	}
	beta := make([]float64, d)
	// Start from the base rate, so the first step is a small one.
	pos := 0.0
	for _, v := range y {
		pos += v
	}
	b := math.Log((pos + 0.5) / (float64(n) - pos + 0.5))
	eta := make([]float64, n)
	if start != nil {
		if len(start) != d {
			return nil, 0, 0, fmt.Errorf("a start of %d weights for %d columns", len(start), d)
		}
		copy(beta, start)
		for j := range beta {
			if nonNeg[j] && beta[j] < 0 || math.IsNaN(beta[j]) || math.IsInf(beta[j], 0) {
				beta[j] = 0
			}
		}
		if !math.IsNaN(b0) && !math.IsInf(b0, 0) {
			b = b0
		}
	}
	linear(eta, z, beta, b)
	w, u := make([]float64, n), make([]float64, n)
	st := newWLS(d)
	s := make([]float64, d)
	obj := objective(eta, y, beta, lambda)
	oldBeta := make([]float64, d)
	for range maxNewton {
		if err := ctx.Err(); err != nil {
			return nil, 0, steps, err
		}
		steps++
		// The quadratic model of the log-loss at eta: weights p(1−p) and
		// the working response eta + (y−p)/w.
		for i, e := range eta {
			p := sigmoid(e)
			w[i] = max(p*(1-p), 1e-6)
			u[i] = e + (y[i]-p)/w[i]
		}
		st.gather(z, w, u)
		copy(oldBeta, beta)
		oldB := b
		// s_j is Σ_i w_i z_ij r_i and s0 is Σ_i w_i r_i, for the residual
		// r = u − b − zβ, kept up to date as the weights move.
		s0 := st.q0 - st.a0*b
		for j := range s {
			s[j] = st.q[j] - st.c[j]*b
			s0 -= st.c[j] * beta[j]
		}
		for k, bk := range beta {
			if bk == 0 {
				continue
			}
			for j := range s {
				s[j] -= st.g[j*d+k] * bk
			}
		}
		for range maxPasses {
			move := 0.0
			// The intercept, then each weight in turn.
			if delta := s0 / st.a0; delta != 0 {
				b += delta
				s0 = 0
				for j := range s {
					s[j] -= st.c[j] * delta
				}
				move = max(move, math.Abs(delta))
			}
			for j := range beta {
				ajj := st.g[j*d+j]
				if ajj == 0 {
					continue
				}
				nb := (s[j] + ajj*beta[j]) / (ajj + lambda)
				if nonNeg[j] && nb < 0 {
					nb = 0
				}
				delta := nb - beta[j]
				if delta == 0 {
					continue
				}
				beta[j] = nb
				row := st.g[j*d : (j+1)*d]
				for k := range s {
					s[k] -= row[k] * delta
				}
				s0 -= st.c[j] * delta
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
			return nil, 0, steps, errors.New("the fit did not converge")
		}
	}
	return beta, b, steps, nil
}

// wls holds a weighted least-squares problem's sufficient statistics over
// the columns z_j with row weights w and response u: the Gram matrix
// g[j·d+k] = Σ w z_j z_k, the column sums c_j = Σ w z_j, the products
// q_j = Σ w z_j u, and a0 = Σ w, q0 = Σ w u.
type wls struct {
	d      int
	g      []float64
	c, q   []float64
	a0, q0 float64
	wz     []float64 // one column's w·z_j over a block of rows, reused
}

// wlsBlock is how many rows gather takes at a time: the block's stretch
// of every column, and one column's weighted copy, stay in the core's
// cache while every pair of columns is multiplied.
const wlsBlock = 1024

func newWLS(d int) *wls {
	return &wls{d: d, g: make([]float64, d*d), c: make([]float64, d), q: make([]float64, d), wz: make([]float64, wlsBlock)}
}

// gather computes the statistics in one pass over the rows, a block at a
// time.
func (st *wls) gather(z [][]float64, w, u []float64) {
	d := st.d
	clear(st.g)
	clear(st.c)
	clear(st.q)
	st.a0, st.q0 = 0, 0
	for i, wi := range w {
		st.a0 += wi
		st.q0 += wi * u[i]
	}
	for lo := 0; lo < len(w); lo += wlsBlock {
		hi := min(lo+wlsBlock, len(w))
		wb, ub := w[lo:hi], u[lo:hi]
		for j, col := range z {
			wz := st.wz[:hi-lo]
			for t, v := range col[lo:hi] {
				wz[t] = wb[t] * v
			}
			st.c[j] += floats.Sum(wz)
			st.q[j] += floats.Dot(wz, ub)
			for k := 0; k <= j; k++ {
				st.g[j*d+k] += floats.Dot(wz, z[k][lo:hi])
			}
		}
	}
	for j := range d {
		for k := 0; k < j; k++ {
			st.g[k*d+j] = st.g[j*d+k]
		}
	}
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
