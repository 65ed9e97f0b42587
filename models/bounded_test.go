package models_test

import (
	"context"
	"math"
	"testing"

	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/models"
	"earlyhelp/pipeline"
)

// TestLogisticNonNegative: with no feature bounded and almost no penalty,
// the bounded solver finds liblinear's weights (liblinear also penalises
// the intercept, so only a weak penalty makes the two objectives the same);
// a strong penalty shrinks them; with x2, whose true weight is negative,
// bounded, x2's weight is zero and x1 keeps its sign.
func TestLogisticNonNegative(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	train, labels := synthetic(t, mem, 3000, 1, false)
	defer train.Release()
	fit := func(tr models.LogisticTrainer) *models.Logistic {
		t.Helper()
		m, err := tr.Fit(context.Background(), train, labels)
		if err != nil {
			t.Fatal(err)
		}
		return m.(*models.Logistic)
	}
	none := func(string) bool { return false }
	lib := fit(models.LogisticTrainer{CPerRow: 1e6, Eps: 1e-8})
	free := fit(models.LogisticTrainer{CPerRow: 1e6, NonNegative: none})
	for f, want := range lib.Coefficients() {
		if got := free.Coefficients()[f]; math.Abs(got-want) > 1e-3 {
			t.Errorf("%s = %.4f unbounded; liblinear gives %.4f", f, got, want)
		}
	}
	if d := math.Abs(free.Intercept() - lib.Intercept()); d > 1e-3 {
		t.Errorf("intercept %.4f; liblinear gives %.4f", free.Intercept(), lib.Intercept())
	}
	if x1 := fit(models.LogisticTrainer{CPerRow: 3, NonNegative: none}).Coefficients()["x1"]; !(x1 > 0 && x1 < 0.5*free.Coefficients()["x1"]) {
		t.Errorf("x1 %.3f with C per row 3, %.3f almost unpenalised: the penalty should shrink it", x1, free.Coefficients()["x1"])
	}
	for _, cPerRow := range []float64{3, 300} {
		lib := fit(models.LogisticTrainer{CPerRow: cPerRow})

		bounded := fit(models.LogisticTrainer{CPerRow: cPerRow, NonNegative: func(f string) bool { return f == "x2" }})
		c := bounded.Coefficients()
		if c["x2"] != 0 {
			t.Errorf("C per row %g: x2 = %v; bounded at zero, its weight should be 0", cPerRow, c["x2"])
		}
		if lib.Coefficients()["x2"] >= 0 || c["x1"] <= 0.5*lib.Coefficients()["x1"] {
			t.Errorf("C per row %g: x1 %.3f bounded, %.3f free; x2 free %.3f", cPerRow, c["x1"], lib.Coefficients()["x1"], lib.Coefficients()["x2"])
		}
	}
	if _, err := (models.LogisticTrainer{Penalty: models.PenaltyL1, NonNegative: func(string) bool { return true }}).Fit(context.Background(), train, labels); err == nil {
		t.Error("an L1 fit with bounds: want an error")
	}
}

// TestLogisticStartFrom: the bounded fit started from another sample's
// model (the standardisations differ) gives a fresh fit's model to within
// the solver's tolerance; started from nothing, or from a model on other
// features, it is the fresh fit exactly.
func TestLogisticStartFrom(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	a, labelsA := synthetic(t, mem, 3000, 1, false)
	defer a.Release()
	b, labelsB := synthetic(t, mem, 3000, 2, false)
	defer b.Release()
	ctx := context.Background()
	tr := models.LogisticTrainer{CPerRow: 3, NonNegative: func(f string) bool { return f != "x2" }}
	prev, err := tr.Fit(ctx, a, labelsA)
	if err != nil {
		t.Fatal(err)
	}
	cold, err := tr.Fit(ctx, b, labelsB)
	if err != nil {
		t.Fatal(err)
	}
	other, err := models.Without{Trainer: tr, Features: []string{"x3"}}.Fit(ctx, a, labelsA)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		prev  pipeline.Model
		exact bool
	}{{"another sample's model", prev, false}, {"nothing", nil, true}, {"a model on other features", other, true}} {
		got, err := tr.StartFrom(c.prev).Fit(ctx, b, labelsB)
		if err != nil {
			t.Fatal(err)
		}
		g, w := got.(*models.Logistic), cold.(*models.Logistic)
		tol := 1e-6
		if c.exact {
			tol = 0
		}
		if d := math.Abs(g.Intercept() - w.Intercept()); d > tol {
			t.Errorf("from %s: intercept %.9f; a fresh fit gives %.9f", c.name, g.Intercept(), w.Intercept())
		}
		for f, want := range w.Coefficients() {
			if got := g.Coefficients()[f]; math.Abs(got-want) > tol {
				t.Errorf("from %s: %s = %.9f; a fresh fit gives %.9f", c.name, f, got, want)
			}
		}
		// Another path to the optimum ends elsewhere in the last bits: the
		// same bits would mean the start was ignored.
		if !c.exact && g.Coefficients()["x1"] == w.Coefficients()["x1"] && g.Intercept() == w.Intercept() {
			t.Errorf("from %s: the fresh fit's model to the bit; the start was not taken", c.name)
		}
	}
}
