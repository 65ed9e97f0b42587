package models

/*
#include <stdlib.h>
*/
import "C"

import (
	"bufio"
	"fmt"
	"io"
	"log"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"github.com/sjwhitworth/golearn/base"
	"github.com/sjwhitworth/golearn/linear_models"
)

// lrProblem is liblinear's input, built row by row in liblinear's own
// sparse layout (golearn's NewProblem would first need a dense [][]float64
// copy and then allocates two nodes per cell): each row's non-zero values
// as (1-based column, value) nodes in column order, then a terminator. Zero
// values are skipped, exactly as NewProblem skips them, which is exact for
// a linear model.
type lrProblem struct {
	nodes  []featureNode
	starts []int     // each row's first node
	y      []float64 // 0/1 labels
	cols   int       // columns per row; the caller supplies any intercept column
}

// featureNode mirrors liblinear's struct feature_node.
type featureNode struct {
	index int32
	_     int32
	value float64
}

func newLRProblem(rows, cols int) *lrProblem {
	return &lrProblem{
		nodes:  make([]featureNode, 0, rows*(cols+1)),
		starts: make([]int, 0, rows),
		y:      make([]float64, 0, rows),
		cols:   cols,
	}
}

// add appends one row of cols values and its label.
func (p *lrProblem) add(row []float64, label float64) {
	p.starts = append(p.starts, len(p.nodes))
	for j, v := range row {
		if v != 0 {
			p.nodes = append(p.nodes, featureNode{index: int32(j + 1), value: v})
		}
	}
	p.nodes = append(p.nodes, featureNode{index: -1})
	p.y = append(p.y, label)
}

// trainLR fits liblinear's L2- (or L1-) regularised logistic regression on
// p. It returns one weight per column of p, oriented so that w·x is the
// log-odds of label 1. This is the only function that touches golearn.
//
// trainLR may run concurrently with itself: liblinear's training keeps no
// state between calls except the C library's rand(), which train seeds and
// holds for each L1 fit, and the two calls into golearn that touch
// process-wide state are guarded by golearnMu.
func trainLR(p *lrProblem, c, eps float64, l1 bool) (w []float64, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("liblinear panicked: %v", r)
		}
	}()
	rows := len(p.starts)
	if rows == 0 || p.cols == 0 {
		return nil, fmt.Errorf("liblinear: %d rows of %d columns", rows, p.cols)
	}
	quietGolearn()

	// Bias is -1 (none), as golearn's NewProblem(x, y, 0) sets it: with a
	// bias golearn would write a node with index 0 after every feature,
	// which liblinear reads as w[-1], out of bounds. The caller appends a
	// constant 1.0 column instead. n is one more than the columns, as
	// NewProblem declares it.
	x := make([]*featureNode, rows)
	for i, s := range p.starts {
		x[i] = &p.nodes[s]
	}
	var prob linear_models.Problem
	if unsafe.Sizeof(prob) != unsafe.Sizeof(cProblem{}) {
		return nil, fmt.Errorf("golearn Problem is %d bytes, want %d", unsafe.Sizeof(prob), unsafe.Sizeof(cProblem{}))
	}
	// C reads y, x and the nodes x points into; all are Go memory, which
	// the runtime's cgo check requires pinned.
	var pin runtime.Pinner
	defer pin.Unpin()
	pin.Pin(&p.nodes[0])
	pin.Pin(&x[0])
	pin.Pin(&p.y[0])
	*(*cProblem)(unsafe.Pointer(&prob)) = cProblem{
		l: int32(rows), n: int32(p.cols + 1), bias: -1,
		y: unsafe.Pointer(&p.y[0]), x: unsafe.Pointer(&x[0]),
	}
	solver := linear_models.L2R_LR
	if l1 {
		solver = linear_models.L1R_LR
	}
	model := train(&prob, linear_models.NewParameter(solver, c, eps), l1)
	runtime.KeepAlive(p)
	runtime.KeepAlive(x)

	// golearn exposes the weights only through liblinear's model file.
	dir, err := os.MkdirTemp("", "earlyhelp-liblinear-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "model.txt")
	if err := export(model, path); err != nil {
		return nil, fmt.Errorf("liblinear export: %w", err)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	w, err = parseModel(f)
	if err != nil {
		return nil, fmt.Errorf("liblinear model file: %w", err)
	}
	// golearn declares one more feature than x has columns, so liblinear
	// returns a trailing weight for a feature no row ever uses (always 0).
	if len(w) < p.cols {
		return nil, fmt.Errorf("liblinear model file: %d weights for %d columns", len(w), p.cols)
	}
	return w[:p.cols], nil
}

// l1Seed starts the C library's rand() afresh for every L1 fit.
const l1Seed = 1

// randMu holds rand() for one L1 fit from its seed to its model.
var randMu sync.Mutex

// train runs liblinear. Its L1 solver shuffles coordinates with the C
// library's process-wide rand(), so unseeded an L1 model depended on every
// L1 fit the process had run before: a scheduler that had run a backtest
// retrained a different model from the same rows than a fresh process.
// Each L1 fit now seeds rand() and holds it until done, so its model is a
// function of its rows and settings alone. L2's solver draws nothing.
func train(prob *linear_models.Problem, param *linear_models.Parameter, l1 bool) *linear_models.Model {
	if l1 {
		randMu.Lock()
		defer randMu.Unlock()
		C.srand(l1Seed)
	}
	return linear_models.Train(prob, param)
}

// golearnMu guards the two process-wide things a liblinear fit touches
// besides rand(): golearn's package logger, and the C locale, which
// liblinear's save_model switches to "C" and back around its writes
// (setlocale is not safe to call from two threads at once). It is package
// state because what it guards is: no caller could hold the lock for us.
var golearnMu sync.Mutex

// quietGolearn sends golearn's package logger, through which liblinear
// reports every solver iteration (to stdout by default; a pipeline's stdout
// is for its own structured logs), to io.Discard.
func quietGolearn() {
	golearnMu.Lock()
	defer golearnMu.Unlock()
	if base.Logger.Writer() != io.Discard {
		base.SetLogger(log.New(io.Discard, "", 0))
	}
}

// export writes liblinear's model file, one fit at a time.
func export(m *linear_models.Model, path string) error {
	golearnMu.Lock()
	defer golearnMu.Unlock()
	return linear_models.Export(m, path)
}

// cProblem mirrors liblinear's struct problem, which is the only field of
// golearn's Problem.
type cProblem struct {
	l, n int32
	y    unsafe.Pointer
	x    unsafe.Pointer
	bias float64
}

// parseModel reads a two-class liblinear model file ("solver_type",
// "nr_class", "label", "nr_feature", "bias", then "w" and one weight per
// line) and returns the weights as log-odds of label 1. liblinear's weights
// give the decision value of the first label it met in the training data, so
// they are negated when that label is 0.
func parseModel(r io.Reader) ([]float64, error) {
	var labels []string
	var w []float64
	nrFeature, bias, inWeights := -1, -1.0, false
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		if inWeights {
			v, err := strconv.ParseFloat(fields[0], 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("weight %d: bad value %q", len(w), fields[0])
			}
			w = append(w, v)
			continue
		}
		var err error
		switch fields[0] {
		case "solver_type":
			if len(fields) != 2 || (fields[1] != "L2R_LR" && fields[1] != "L1R_LR") {
				return nil, fmt.Errorf("solver %v, want L2R_LR or L1R_LR", fields[1:])
			}
		case "nr_class":
			if len(fields) != 2 || fields[1] != "2" {
				return nil, fmt.Errorf("%v classes, want 2", fields[1:])
			}
		case "label":
			labels = fields[1:]
		case "nr_feature":
			if len(fields) == 2 {
				nrFeature, err = strconv.Atoi(fields[1])
			}
		case "bias":
			if len(fields) == 2 {
				bias, err = strconv.ParseFloat(fields[1], 64)
			}
		case "w":
			inWeights = true
		default:
			return nil, fmt.Errorf("unknown header %q", fields[0])
		}
		if err != nil {
			return nil, fmt.Errorf("header %q: %w", fields[0], err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	want := nrFeature
	if bias >= 0 {
		want++ // liblinear stores its own bias weight last
	}
	switch {
	case !inWeights:
		return nil, fmt.Errorf("no weights")
	case nrFeature < 0 || len(w) != want:
		return nil, fmt.Errorf("%d weights for nr_feature %d and bias %g", len(w), nrFeature, bias)
	case len(labels) != 2:
		return nil, fmt.Errorf("labels %v, want two", labels)
	case labels[0] == "0" && labels[1] == "1":
		for i := range w {
			w[i] = -w[i]
		}
	case labels[0] != "1" || labels[1] != "0":
		return nil, fmt.Errorf("labels %v, want 0 and 1", labels)
	}
	return w, nil
}
