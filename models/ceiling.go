package models

import (
	"context"
	"errors"
	"fmt"
)

// CrossFitProbabilities fits a logistic regression to probabilities
// rather than outcomes and returns each row's log-odds from the fit that
// did not see its group: rows of group g are scored by the fit on every
// other group. It is `earlyhelp evaluate`'s ceiling on a synthetic
// council: the pipeline's features fitted to the truth's own probability,
// with no label noise and no sign bounds, show how much of the latent
// need the features can carry at all, apart from how well the model
// learns it from a few hundred outcomes.
//
// cols are the features by column (cols[j][i]), unstandardised; p the
// probabilities in [0, 1]; group each row's group in 0…groups−1. lambda is
// the L2 penalty on the standardised weights.
func CrossFitProbabilities(ctx context.Context, cols [][]float64, p []float64, group []int, groups int, lambda float64) ([]float64, error) {
	n := len(p)
	if len(group) != n {
		return nil, fmt.Errorf("ceiling: %d groups for %d rows", len(group), n)
	}
	for j, c := range cols {
		if len(c) != n {
			return nil, fmt.Errorf("ceiling: column %d has %d rows; want %d", j, len(c), n)
		}
	}
	for i, v := range p {
		if !(v >= 0 && v <= 1) {
			return nil, fmt.Errorf("ceiling: row %d: probability %v", i, v)
		}
		if group[i] < 0 || group[i] >= groups {
			return nil, fmt.Errorf("ceiling: row %d: group %d outside 0…%d", i, group[i], groups-1)
		}
	}
	out := make([]float64, n)
	free := make([]bool, len(cols))
	for g := range groups {
		var train, test []int
		for i, gi := range group {
			if gi == g {
				test = append(test, i)
			} else {
				train = append(train, i)
			}
		}
		if len(test) == 0 {
			continue
		}
		if len(train) == 0 {
			return nil, errors.New("ceiling: every row is in one group")
		}
		// Standardise on the training rows, as the logistic fit does
		// (moments: a constant column has sd 1, so it stays 0).
		z := make([][]float64, len(cols))
		for j, c := range cols {
			z[j] = make([]float64, len(train))
			for k, i := range train {
				z[j][k] = c[i]
			}
		}
		means, sds := moments(z, len(train))
		for j := range z {
			for k, v := range z[j] {
				z[j][k] = (v - means[j]) / sds[j]
			}
		}
		y := make([]float64, len(train))
		for k, i := range train {
			y[k] = p[i]
		}
		beta, b, err := fitBounded(ctx, z, y, lambda, free)
		if err != nil {
			return nil, fmt.Errorf("ceiling: group %d: %w", g, err)
		}
		for _, i := range test {
			eta := b
			for j, c := range cols {
				eta += beta[j] * (c[i] - means[j]) / sds[j]
			}
			out[i] = eta
		}
	}
	return out, nil
}
