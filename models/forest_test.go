package models_test

import (
	"context"
	"testing"

	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/models"
	"earlyhelp/models/evaluate"
)

func TestForest(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ctx := context.Background()
	train, labels := synthetic(t, mem, 3000, 1, false)
	defer train.Release()
	test, testLabels := synthetic(t, mem, 3000, 2, false)
	defer test.Release()
	m, err := models.ForestTrainer{Trees: 30, Seed: 1}.Fit(ctx, train, labels)
	if err != nil {
		t.Fatal(err)
	}
	f := m.(*models.Forest)
	if f.Trees() != 30 {
		t.Errorf("%d trees; want 30", f.Trees())
	}
	scores, err := f.Score(ctx, test)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range scores {
		if s < 0 || s > 1 {
			t.Fatalf("vote fraction %v outside [0,1]", s)
		}
	}
	// The planted signal is x1 and x2; the true model reaches about 0.8.
	if auc := evaluate.Compute(scores, testLabels, 100).AUC; auc < 0.7 {
		t.Errorf("forest AUC %.3f out of sample; want at least 0.7", auc)
	}
	// Reasons come from the paths of trees voting for the outcome, and the
	// irrelevant x3 should not lead them for the highest-scored household.
	best := 0
	for i, s := range scores {
		if s > scores[best] {
			best = i
		}
	}
	r := f.Explain(test, best, 3)
	if len(r) == 0 || r[0].Feature == "x3" || r[0].Contribution <= 0 || r[0].Contribution > 1 {
		t.Errorf("reasons for the top household: %+v", r)
	}
	// Saved and loaded, it scores identically.
	b, err := f.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := models.Load(b)
	if err != nil {
		t.Fatal(err)
	}
	again, err := loaded.Score(ctx, test)
	if err != nil {
		t.Fatal(err)
	}
	for i := range scores {
		if again[i] != scores[i] {
			t.Fatalf("row %d: %v after loading, %v before", i, again[i], scores[i])
		}
	}
	if _, err := models.Load([]byte(`{"kind":"forest","features":["x1"],"trees":[{"nodes":[{"f":0,"t":1,"lo":0,"hi":0}]}]}`)); err == nil {
		t.Error("a forest whose node points at itself loaded")
	}
}
