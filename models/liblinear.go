package models

// This file calls liblinear's C API through cgo, with liblinear's own
// struct declarations below, rather than through golearn's Go wrapper.
// golearn's wrapper cannot be used as it stands: its NewProblem stores Go
// pointers inside Go memory and its Train hands that to C, which the Go
// runtime's cgo check rejects ("argument of cgo function has Go pointer to
// unpinned Go pointer"), and golearn keeps the allocations it would need
// pinned in unexported fields. Reaching into them was the unsafe overlay
// this replaces. golearn also offers the weights only through liblinear's
// model file, and NewProblem would first need a dense [][]float64 copy of
// the design matrix. The C code itself is still golearn's: the blank import
// of linear_models links the liblinear sources golearn vendors and compiles,
// so there is one liblinear in the binary and its symbols resolve at link
// time.
//
// The declarations are copied from the linear.h that the golearn version in
// go.mod vendors. The C compiler lays them out, so nothing here depends on
// guessing sizes or offsets; a golearn upgrade that changes linear.h means
// copying it again (TestTrainLR checks that a fit recovers a known
// relation, which a declaration unlike the library's would scramble).

/*
#include <stdlib.h>

struct feature_node { int index; double value; };
struct problem { int l, n; double *y; struct feature_node **x; double bias; };
struct parameter {
	int solver_type;
	double eps;
	double C;
	int nr_weight;
	int *weight_label;
	double *weight;
	double p;
};
struct model {
	struct parameter param;
	int nr_class;
	int nr_feature;
	double *w;
	int *label;
	double bias;
};
enum { L2R_LR = 0, L1R_LR = 6 };

struct model *train(const struct problem *prob, const struct parameter *param);
void free_and_destroy_model(struct model **model_ptr_ptr);
void set_print_string_function(void (*print_func)(const char *));

static void earlyhelp_liblinear_quiet(const char *s) { (void)s; }

// earlyhelp_liblinear_hush sends liblinear's solver progress, which it
// prints to stdout by default, nowhere.
static void earlyhelp_liblinear_hush(void) {
	set_print_string_function(&earlyhelp_liblinear_quiet);
}

// earlyhelp_liblinear_train builds liblinear's problem and parameter on the
// C stack, so Go passes only the row pointers, the labels and scalars.
// bias is -1 (none): see trainLR.
static struct model *earlyhelp_liblinear_train(int l, int n, double *y,
		struct feature_node **x, int solver, double c, double eps) {
	struct problem prob = { l, n, y, x, -1 };
	struct parameter param = { solver, eps, c, 0, NULL, NULL, 0 };
	return train(&prob, &param);
}

// earlyhelp_liblinear_result copies a two-class model's weights (at most
// len of them) into w and its two labels into labels, and returns how many
// weights the model has, or -1 if it is not a two-class model with one
// weight vector.
static int earlyhelp_liblinear_result(const struct model *m, double *w, int len, int *labels) {
	if (m->nr_class != 2 || m->label == NULL || m->w == NULL || m->bias >= 0) return -1;
	labels[0] = m->label[0];
	labels[1] = m->label[1];
	for (int i = 0; i < m->nr_feature && i < len; i++) w[i] = m->w[i];
	return m->nr_feature;
}
*/
import "C"

import (
	"fmt"
	"math"
	"runtime"
	"strconv"
	"sync"

	// liblinear's C code, compiled by golearn, which this file calls.
	_ "github.com/sjwhitworth/golearn/linear_models"
)

// lrProblem is liblinear's input, built row by row in liblinear's own
// sparse layout (golearn's NewProblem would first need a dense [][]float64
// copy and then allocates two nodes per cell): each row's non-zero values
// as (1-based column, value) nodes in column order, then a terminator. Zero
// values are skipped, exactly as NewProblem skips them, which is exact for
// a linear model. The nodes are liblinear's own struct feature_node, so C
// reads them where they are, without a copy or a layout of our own.
type lrProblem struct {
	nodes  []C.struct_feature_node
	starts []int      // each row's first node
	y      []C.double // 0/1 labels
	cols   int        // columns per row; the caller supplies any intercept column
}

func newLRProblem(rows, cols int) *lrProblem {
	return &lrProblem{
		nodes:  make([]C.struct_feature_node, 0, rows*(cols+1)),
		starts: make([]int, 0, rows),
		y:      make([]C.double, 0, rows),
		cols:   cols,
	}
}

// add appends one row of cols values and its label.
func (p *lrProblem) add(row []float64, label float64) {
	p.starts = append(p.starts, len(p.nodes))
	for j, v := range row {
		if v != 0 {
			p.nodes = append(p.nodes, C.struct_feature_node{index: C.int(j + 1), value: C.double(v)})
		}
	}
	p.nodes = append(p.nodes, C.struct_feature_node{index: -1})
	p.y = append(p.y, C.double(label))
}

// trainLR fits liblinear's L2- (or L1-) regularised logistic regression on
// p. It returns one weight per column of p, oriented so that w·x is the
// log-odds of label 1. This is the only function that calls liblinear.
//
// trainLR may run concurrently with itself: liblinear's training keeps no
// state between calls except its print function, which the first fit sets
// to a silent one (hush) before any fit reads it, and the C library's
// rand(), which train seeds and holds for each L1 fit. Nothing else in the
// process sets the print function: golearn's own liblinear wrapper, whose
// Train would, is not called anywhere (TestImportDirection keeps golearn
// inside models). Without golearn's wrapper, a fit no longer touches
// golearn's package logger, nor the C locale that liblinear's save_model
// switched, so those need no lock.
func trainLR(p *lrProblem, c, eps float64, l1 bool) (w []float64, err error) {
	rows := len(p.starts)
	if rows == 0 || p.cols == 0 {
		return nil, fmt.Errorf("liblinear: %d rows of %d columns", rows, p.cols)
	}
	// liblinear counts rows, columns and node indices in C ints.
	if rows > math.MaxInt32 || p.cols >= math.MaxInt32 {
		return nil, fmt.Errorf("liblinear: %d rows of %d columns is more than it can index", rows, p.cols)
	}
	hush.Do(func() { C.earlyhelp_liblinear_hush() })

	x := make([]*C.struct_feature_node, rows)
	for i, s := range p.starts {
		x[i] = &p.nodes[s]
	}
	// C reads x, whose pointers lead into the nodes: the runtime's cgo
	// check requires the memory those pointers reach to be pinned. x and y
	// themselves are passed as arguments, which Go allows as they are.
	var pin runtime.Pinner
	defer pin.Unpin()
	pin.Pin(&p.nodes[0])

	solver := C.int(C.L2R_LR)
	if l1 {
		solver = C.L1R_LR
	}
	// Bias is -1 (none), as golearn's NewProblem(x, y, 0) sets it: with a
	// bias golearn would write a node with index 0 after every feature,
	// which liblinear reads as w[-1], out of bounds. The caller appends a
	// constant 1.0 column instead. n is one more than the columns, as
	// NewProblem declares it, so liblinear returns a trailing weight for a
	// feature no row uses (always 0); it is kept so models stay identical to
	// those fitted through golearn.
	model := train(C.int(rows), C.int(p.cols+1), &p.y[0], &x[0], solver, C.double(c), C.double(eps), l1)
	if model == nil {
		return nil, fmt.Errorf("liblinear: no model")
	}
	defer C.free_and_destroy_model(&model)
	runtime.KeepAlive(x)

	raw := make([]C.double, p.cols+1)
	var labels [2]C.int
	n := int(C.earlyhelp_liblinear_result(model, &raw[0], C.int(len(raw)), &labels[0]))
	if n < 0 {
		return nil, fmt.Errorf("liblinear: not a two-class model without bias")
	}
	if n != len(raw) {
		return nil, fmt.Errorf("liblinear: %d weights for %d columns", n, p.cols)
	}
	w = make([]float64, p.cols)
	for i := range w {
		w[i] = float64(raw[i])
	}
	return orient(w, int(labels[0]), int(labels[1]))
}

// hush silences liblinear once per process.
var hush sync.Once

// l1Seed starts the C library's rand() afresh for every L1 fit.
const l1Seed = 1

// randMu holds rand() for one L1 fit from its seed to its model. It is
// package state because what it guards is: no caller could hold the lock
// for us.
var randMu sync.Mutex

// train runs liblinear. Its L1 solver shuffles coordinates with the C
// library's process-wide rand(), so unseeded an L1 model depended on every
// L1 fit the process had run before: a scheduler that had run a backtest
// retrained a different model from the same rows than a fresh process.
// Each L1 fit now seeds rand() and holds it until done, so its model is a
// function of its rows and settings alone. L2's solver draws nothing.
func train(l, n C.int, y *C.double, x **C.struct_feature_node, solver C.int, c, eps C.double, l1 bool) *C.struct_model {
	if l1 {
		randMu.Lock()
		defer randMu.Unlock()
		C.srand(l1Seed)
	}
	return C.earlyhelp_liblinear_train(l, n, y, x, solver, c, eps)
}

// orient turns liblinear's weights into log-odds of label 1. liblinear's
// weights give the decision value of the first label it met in the
// training data, so they are negated when that label is 0.
//
// Each weight is also rounded to 16 significant digits. Until liblinear was
// called directly, its weights reached Go through its model file, which
// save_model writes with "%.16g"; every saved model, backtest and golden
// output was fitted that way, and rounding the same way (both round to
// nearest, ties to even) keeps them bit-identical.
func orient(w []float64, first, second int) ([]float64, error) {
	var sign float64
	switch {
	case first == 1 && second == 0:
		sign = 1
	case first == 0 && second == 1:
		sign = -1
	default:
		return nil, fmt.Errorf("liblinear: labels %d and %d, want 0 and 1", first, second)
	}
	out := make([]float64, len(w))
	for i, v := range w {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("liblinear: weight %d is %g", i, v)
		}
		r, err := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 16, 64), 64)
		if err != nil {
			return nil, fmt.Errorf("liblinear: weight %d: %w", i, err)
		}
		out[i] = sign * r
	}
	return out, nil
}
