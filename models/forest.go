package models

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/sjwhitworth/golearn/base"
	"github.com/sjwhitworth/golearn/ensemble"
	"github.com/sjwhitworth/golearn/trees"

	"earlyhelp/pipeline"
)

const forestKind = "forest"

var (
	_ pipeline.Trainer = ForestTrainer{}
	_ pipeline.Model   = (*Forest)(nil)
)

// ForestTrainer fits golearn's random forest (bagged ID3 trees on random
// feature subsets). The outcome is rare (a few per cent), and golearn grows
// every tree to purity on a bootstrap of all rows, which is slow and leaves
// almost every leaf negative; so the forest trains on every positive
// household and NegativesPerPositive times as many negatives drawn at
// random (a balanced forest). Its vote fractions are then a ranking, not a
// probability: calibrate them on a later date.
//
// golearn draws its bootstraps and feature subsets from the global random
// source in one goroutine per tree, so two fits on the same data can give
// slightly different forests.
type ForestTrainer struct {
	Trees                int    // default 60
	Features             int    // features per tree; default √(features), at least 3
	NegativesPerPositive int    // default 3
	Seed                 uint64 // for the negative sample
}

// Fit trains the forest and turns golearn's trees into flat nodes, which
// score a household without building golearn instances.
func (t ForestTrainer) Fit(ctx context.Context, feats arrow.Record, labels []bool) (m pipeline.Model, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("forest: golearn panicked: %v", r)
		}
	}()
	f, err := t.fit(ctx, feats, labels)
	if err != nil {
		return nil, fmt.Errorf("forest: %w", err)
	}
	return f, nil
}

func (t ForestTrainer) fit(ctx context.Context, feats arrow.Record, labels []bool) (*Forest, error) {
	rows := int(feats.NumRows())
	if len(labels) != rows {
		return nil, fmt.Errorf("%d labels for %d rows", len(labels), rows)
	}
	names := FeatureColumns(feats)
	if len(names) == 0 {
		return nil, errors.New("no feature columns")
	}
	x, err := Matrix(feats, names)
	if err != nil {
		return nil, err
	}
	var pos, neg []int
	for i, l := range labels {
		if l {
			pos = append(pos, i)
		} else {
			neg = append(neg, i)
		}
	}
	if len(pos) == 0 || len(neg) == 0 {
		return nil, fmt.Errorf("%d of %d rows positive: need both classes", len(pos), rows)
	}
	ratio := cmp.Or(t.NegativesPerPositive, 3)
	rng := rand.New(rand.NewPCG(t.Seed, 0x5eed))
	rng.Shuffle(len(neg), func(i, j int) { neg[i], neg[j] = neg[j], neg[i] })
	sample := append(pos, neg[:min(len(neg), ratio*len(pos))]...)
	sort.Ints(sample)

	// golearn's instances are built once, in bulk: attributes first, then
	// every cell with Set.
	inst := base.NewDenseInstances()
	specs := make([]base.AttributeSpec, len(names))
	for j, n := range names {
		specs[j] = inst.AddAttribute(base.NewFloatAttribute(n))
	}
	class := base.NewCategoricalAttribute()
	class.SetName("outcome")
	classSpec := inst.AddAttribute(class)
	if err := inst.AddClassAttribute(class); err != nil {
		return nil, err
	}
	if err := inst.Extend(len(sample)); err != nil {
		return nil, err
	}
	yes, no := class.GetSysValFromString("1"), class.GetSysValFromString("0")
	for r, i := range sample {
		for j := range names {
			inst.Set(specs[j], r, base.PackFloatToBytes(x[i][j]))
		}
		if labels[i] {
			inst.Set(classSpec, r, yes)
		} else {
			inst.Set(classSpec, r, no)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	k := t.Features
	if k == 0 {
		k = max(3, int(math.Round(math.Sqrt(float64(len(names))))))
	}
	k = min(k, len(names))
	rf := ensemble.NewRandomForest(cmp.Or(t.Trees, 60), k)
	if err := rf.Fit(inst); err != nil {
		return nil, err
	}
	f := &Forest{features: names}
	index := make(map[string]int, len(names))
	for j, n := range names {
		index[n] = j
	}
	for _, c := range rf.Model.Models {
		id3, ok := c.(*trees.ID3DecisionTree)
		if !ok || id3.Root == nil {
			return nil, fmt.Errorf("golearn returned a %T, not a fitted ID3 tree", c)
		}
		var tr tree
		if _, err := tr.add(id3.Root, index); err != nil {
			return nil, err
		}
		f.trees = append(f.trees, tr)
	}
	return f, nil
}

// node is one node of a flat tree: a leaf votes; a split sends a value
// above Threshold to High, otherwise to Low (golearn's rule).
type node struct {
	Feature   int     `json:"f"` // -1 for a leaf
	Threshold float64 `json:"t,omitempty"`
	Low       int     `json:"lo,omitempty"`
	High      int     `json:"hi,omitempty"`
	Vote      bool    `json:"v,omitempty"` // a leaf's class is the outcome
}

type tree struct {
	Nodes []node `json:"nodes"`
}

// add flattens a golearn node and returns its index.
func (t *tree) add(n *trees.DecisionTreeNode, index map[string]int) (int, error) {
	at := len(t.Nodes)
	t.Nodes = append(t.Nodes, node{Feature: -1, Vote: n.Class == "1"})
	if n.Children == nil || n.SplitRule == nil || n.SplitRule.SplitAttr == nil {
		return at, nil
	}
	if _, ok := n.SplitRule.SplitAttr.(*base.FloatAttribute); !ok {
		return 0, fmt.Errorf("split on a non-numeric attribute %q", n.SplitRule.SplitAttr.GetName())
	}
	j, ok := index[n.SplitRule.SplitAttr.GetName()]
	if !ok {
		return 0, fmt.Errorf("split on unknown feature %q", n.SplitRule.SplitAttr.GetName())
	}
	lo, hi := n.Children["0"], n.Children["1"]
	// golearn falls back to the other child when a side has no rows.
	if lo == nil {
		lo = hi
	}
	if hi == nil {
		hi = lo
	}
	if lo == nil {
		return at, nil
	}
	l, err := t.add(lo, index)
	if err != nil {
		return 0, err
	}
	h, err := t.add(hi, index)
	if err != nil {
		return 0, err
	}
	t.Nodes[at] = node{Feature: j, Threshold: n.SplitRule.SplitVal, Low: l, High: h}
	return at, nil
}

// walk follows row x to a leaf, calling visit for each split's feature.
func (t *tree) walk(x []float64, visit func(feature int)) bool {
	i := 0
	for {
		n := &t.Nodes[i]
		if n.Feature < 0 {
			return n.Vote
		}
		if visit != nil {
			visit(n.Feature)
		}
		if x[n.Feature] > n.Threshold {
			i = n.High
		} else {
			i = n.Low
		}
	}
}

// Forest is a fitted random forest; its score is the fraction of trees
// voting for the outcome.
type Forest struct {
	features []string
	trees    []tree
}

// Score returns each row's vote fraction.
func (f *Forest) Score(ctx context.Context, feats arrow.Record) ([]float64, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("forest: %w", err)
	}
	x, err := Matrix(feats, f.features)
	if err != nil {
		return nil, fmt.Errorf("forest: %w", err)
	}
	out := make([]float64, len(x))
	for i, row := range x {
		votes := 0
		for k := range f.trees {
			if f.trees[k].walk(row, nil) {
				votes++
			}
		}
		out[i] = float64(votes) / float64(len(f.trees))
	}
	return out, nil
}

// Explain names the features most used on the paths of the trees that
// voted for the outcome; Contribution is the share of those trees whose
// path tested the feature.
func (f *Forest) Explain(feats arrow.Record, row int, n int) []pipeline.Reason {
	if row < 0 || row >= int(feats.NumRows()) {
		return nil
	}
	one := feats.NewSlice(int64(row), int64(row+1))
	defer one.Release()
	x, err := Matrix(one, f.features)
	if err != nil || len(x) != 1 {
		return nil
	}
	used := make([]int, len(f.features))
	yes := 0
	for k := range f.trees {
		seen := map[int]bool{}
		if f.trees[k].walk(x[0], func(j int) { seen[j] = true }) {
			yes++
			for j := range seen {
				used[j]++
			}
		}
	}
	if yes == 0 {
		return nil
	}
	var out []pipeline.Reason
	for j, u := range used {
		if u > 0 {
			out = append(out, pipeline.Reason{Feature: f.features[j], Value: x[0][j], Contribution: float64(u) / float64(yes)})
		}
	}
	sort.SliceStable(out, func(a, b int) bool {
		if out[a].Contribution != out[b].Contribution {
			return out[a].Contribution > out[b].Contribution
		}
		return out[a].Feature < out[b].Feature
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// Features names the forest's inputs.
func (f *Forest) Features() []string { return append([]string(nil), f.features...) }

// Coefficients is nil: a forest has no weight per feature.
func (f *Forest) Coefficients() map[string]float64 { return nil }

// Trees is the number of trees.
func (f *Forest) Trees() int { return len(f.trees) }

type forestArtifact struct {
	Kind     string   `json:"kind"`
	Features []string `json:"features"`
	Trees    []tree   `json:"trees"`
}

// MarshalJSON saves the flat trees.
func (f *Forest) MarshalJSON() ([]byte, error) {
	return json.Marshal(forestArtifact{Kind: forestKind, Features: f.features, Trees: f.trees})
}

// UnmarshalJSON reads a saved forest and checks every node points inside
// its tree and at a known feature.
func (f *Forest) UnmarshalJSON(b []byte) error {
	var a forestArtifact
	if err := json.Unmarshal(b, &a); err != nil {
		return fmt.Errorf("forest artifact: %w", err)
	}
	if a.Kind != forestKind || len(a.Trees) == 0 || len(a.Features) == 0 {
		return fmt.Errorf("forest artifact: kind %q with %d trees and %d features", a.Kind, len(a.Trees), len(a.Features))
	}
	for k, t := range a.Trees {
		if len(t.Nodes) == 0 {
			return fmt.Errorf("forest artifact: tree %d is empty", k)
		}
		for i, n := range t.Nodes {
			if n.Feature >= len(a.Features) || (n.Feature >= 0 && (n.Low <= i || n.High <= i || n.Low >= len(t.Nodes) || n.High >= len(t.Nodes))) {
				return fmt.Errorf("forest artifact: tree %d node %d is malformed", k, i)
			}
		}
	}
	*f = Forest{features: a.Features, trees: a.Trees}
	return nil
}

// ID names the forest by its content.
func (f *Forest) ID() string {
	return contentID(forestKind+"-"+strconv.Itoa(len(f.trees))+"-", f, 12)
}
