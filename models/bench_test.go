package models_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/models"
)

// wide draws n households × k features with a few informative ones and a
// 4% outcome, the shape of a borough's household table.
func wide(b *testing.B, mem memory.Allocator, n, k int) (arrow.Record, []bool) {
	return widely(b, mem, n, k, 0)
}

// widely is wide with each feature drawn towards one of four shared
// factors, with correlation rho between features of the same factor, as
// a family's need signals are: the weights of correlated features take a
// coordinate-descent solver many more sweeps to settle.
func widely(b *testing.B, mem memory.Allocator, n, k int, rho float64) (arrow.Record, []bool) {
	rng := rand.New(rand.NewPCG(3, 4))
	factors := make([][]float64, 4)
	for f := range factors {
		factors[f] = make([]float64, n)
		for i := range factors[f] {
			factors[f][i] = rng.NormFloat64()
		}
	}
	load, rest := math.Sqrt(rho), math.Sqrt(1-rho)
	cols := make([]col, 0, k+1)
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("h%07d", i)
	}
	cols = append(cols, col{name: "household_id", vals: ids})
	x := make([][]float64, k)
	for j := range x {
		x[j] = make([]float64, n)
		for i := range x[j] {
			x[j][i] = load*factors[j%4][i] + rest*rng.NormFloat64()
		}
		cols = append(cols, col{name: fmt.Sprintf("f%02d", j), vals: x[j]})
	}
	labels := make([]bool, n)
	for i := range labels {
		l := -3.4 + 0.8*x[0][i] + 0.5*x[1][i] - 0.4*x[2][i]
		labels[i] = rng.Float64() < 1/(1+math.Exp(-l))
	}
	return newRecord(b, mem, cols...), labels
}

// BenchmarkLogisticTrain is issue 5's training target: 100,000 households ×
// 50 features in at most 30 s.
func BenchmarkLogisticTrain(b *testing.B) {
	mem := memory.NewGoAllocator()
	rec, labels := wide(b, mem, 100_000, 50)
	defer rec.Release()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := (models.LogisticTrainer{}).Fit(context.Background(), rec, labels); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/fit")
}

// BenchmarkLogisticKinds times one fit of each logistic candidate on
// 200,000 households × 55 features, the most rows a fit takes
// (maxTrainingRows) and about the feature table's width.
func BenchmarkLogisticKinds(b *testing.B) {
	mem := memory.NewGoAllocator()
	nonNeg := func(f string) bool { return f != "f02" }
	for _, data := range []struct {
		name string
		rho  float64
	}{{"", 0}, {"_correlated", 0.8}} {
		rec, labels := widely(b, mem, 200_000, 55, data.rho)
		for _, tc := range []struct {
			name string
			tr   models.LogisticTrainer
		}{
			{"l1", models.LogisticTrainer{Penalty: models.PenaltyL1}},
			{"ridge", models.LogisticTrainer{CPerRow: 8}},
			{"signed", models.LogisticTrainer{CPerRow: 1000, NonNegative: nonNeg}},
		} {
			b.Run(tc.name+data.name, func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					if _, err := tc.tr.Fit(context.Background(), rec, labels); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/fit")
			})
		}
		rec.Release()
	}
}

// BenchmarkScore is issue 5's scoring target: at least 1 million
// households/s, for the logistic model alone and calibrated.
func BenchmarkScore(b *testing.B) {
	mem := memory.NewGoAllocator()
	rec, labels := wide(b, mem, 100_000, 35)
	defer rec.Release()
	m, err := (models.LogisticTrainer{}).Fit(context.Background(), rec, labels)
	if err != nil {
		b.Fatal(err)
	}
	c, err := models.Calibrate(context.Background(), m, rec, labels, models.Platt)
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		score func() error
	}{
		{"logistic", func() error { _, err := m.Score(context.Background(), rec); return err }},
		{"calibrated", func() error { _, err := c.Score(context.Background(), rec); return err }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if err := tc.score(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(rec.NumRows())*float64(b.N)/b.Elapsed().Seconds(), "households/s")
		})
	}
}
