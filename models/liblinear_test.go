package models

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestOrient(t *testing.T) {
	tests := []struct {
		name          string
		w             []float64
		first, second int
		want          []float64
		wantErr       string
	}{
		{"first label 1", []float64{0.5, -2}, 1, 0, []float64{0.5, -2}, ""},
		{"first label 0 negates", []float64{0.5, -2}, 0, 1, []float64{-0.5, 2}, ""},
		{"17th digit rounded as %.16g", []float64{0.12345678901234567}, 1, 0, []float64{0.1234567890123457}, ""},
		{"odd labels", []float64{1}, 1, -1, nil, "want 0 and 1"},
		{"NaN weight", []float64{1, math.NaN()}, 1, 0, nil, "weight 1 is NaN"},
		{"infinite weight", []float64{math.Inf(-1)}, 0, 1, nil, "weight 0 is -Inf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := orient(tt.w, tt.first, tt.second)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v; want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v; want %v", got, tt.want)
			}
		})
	}
}

// TestTrainLR calls liblinear through the cgo declarations. liblinear
// must find the signs of a known relation whichever label it meets first
// (its weights are negated when that is 0), and the two fits must agree: a
// struct declared unlike the C library's would scramble the problem or the
// weights read back.
func TestTrainLR(t *testing.T) {
	// y = 1 is likelier with x0 and unlikelier with x1; x2 is noise; the
	// last column is the intercept's constant 1.
	rng := rand.New(rand.NewPCG(5, 6))
	const rows = 2000
	x := make([][]float64, rows)
	y := make([]float64, rows)
	for i := range x {
		x[i] = []float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64(), 1}
		if rng.Float64() < 1/(1+math.Exp(1-2*x[i][0]+1.5*x[i][1])) {
			y[i] = 1
		}
	}
	// startingWith lists the rows with the first one labelled l moved to
	// the front, so liblinear meets l first.
	startingWith := func(l float64) []int {
		order := make([]int, rows)
		for i := range order {
			order[i] = i
		}
		j := slices.Index(y, l)
		order[0], order[j] = order[j], order[0]
		return order
	}
	fit := func(t *testing.T, order []int, l1 bool) []float64 {
		t.Helper()
		p := newLRProblem(rows, 4)
		for _, i := range order {
			p.add(x[i], y[i])
		}
		w, err := trainLR(p, 1, 0.0001, l1)
		if err != nil {
			t.Fatal(err)
		}
		if len(w) != 4 {
			t.Fatalf("got %d weights; want 4", len(w))
		}
		for i, v := range w {
			if r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 16, 64), 64); r != v {
				t.Errorf("weight %d = %v: more than 16 significant digits", i, v)
			}
		}
		return w
	}
	for _, tt := range []struct {
		name string
		l1   bool
	}{{"l2", false}, {"l1", true}} {
		t.Run(tt.name, func(t *testing.T) {
			zero, one := fit(t, startingWith(0), tt.l1), fit(t, startingWith(1), tt.l1)
			for _, w := range [][]float64{zero, one} {
				if w[0] < 1 || w[1] > -0.75 || w[3] > -0.5 || math.Abs(w[2]) > 0.2 {
					t.Errorf("weights %v; want about 2, -1.5, 0 and -1", w)
				}
			}
			for i := range zero {
				if math.Abs(zero[i]-one[i]) > 1e-3 {
					t.Errorf("weight %d: %g meeting 0 first, %g meeting 1 first", i, zero[i], one[i])
				}
			}
		})
	}
}

// TestTrainLRRejectsEmpty: an empty problem is an error, not a call into C.
func TestTrainLRRejectsEmpty(t *testing.T) {
	for _, tt := range []struct {
		name       string
		rows, cols int
	}{{"no rows", 0, 3}, {"no columns", 2, 0}} {
		t.Run(tt.name, func(t *testing.T) {
			p := newLRProblem(tt.rows, tt.cols)
			for range tt.rows {
				p.add(make([]float64, tt.cols), 1)
			}
			if _, err := trainLR(p, 1, 0.01, false); err == nil {
				t.Error("got no error; want one")
			}
		})
	}
}
