package models

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
	"unsafe"

	"github.com/sjwhitworth/golearn/base"
	"github.com/sjwhitworth/golearn/linear_models"
)

// trainLR fits liblinear's L2- (or L1-) regularised logistic regression on x (rows of
// features, the caller supplies any intercept column) and 0/1 labels y. It
// returns one weight per column of x, oriented so that w·x is the log-odds of
// label 1. This is the only function that touches golearn.
//
// trainLR sets golearn's package logger and so must not run concurrently with
// other golearn calls.
func trainLR(x [][]float64, y []float64, c, eps float64, l1 bool) (w []float64, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("liblinear panicked: %v", r)
		}
	}()
	// liblinear reports every solver iteration through golearn's package
	// logger, which writes to stdout; a pipeline's stdout is for its own
	// structured logs.
	base.SetLogger(log.New(io.Discard, "", 0))

	// Bias is 0 on purpose: with bias > 0 golearn's NewProblem writes a node
	// with index 0 after every feature, which liblinear reads as w[-1], out of
	// bounds. The caller appends a constant 1.0 column instead. Zero values
	// are skipped (sparse nodes), which is exact for a linear model.
	prob := linear_models.NewProblem(x, y, 0)
	var pin runtime.Pinner
	defer pin.Unpin()
	if err := pinProblem(&pin, prob, len(x), len(x[0])); err != nil {
		return nil, err
	}
	solver := linear_models.L2R_LR
	if l1 {
		solver = linear_models.L1R_LR
	}
	model := linear_models.Train(prob, linear_models.NewParameter(solver, c, eps))
	runtime.KeepAlive(prob)

	// golearn exposes the weights only through liblinear's model file.
	dir, err := os.MkdirTemp("", "earlyhelp-liblinear-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "model.txt")
	if err := linear_models.Export(model, path); err != nil {
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
	if len(w) < len(x[0]) {
		return nil, fmt.Errorf("liblinear model file: %d weights for %d columns", len(w), len(x[0]))
	}
	return w[:len(x[0])], nil
}

// cProblem mirrors liblinear's struct problem, which is the only field of
// golearn's Problem.
type cProblem struct {
	l, n int32
	y    unsafe.Pointer
	x    unsafe.Pointer
	bias float64
}

// pinProblem pins the Go memory golearn's Problem points at. golearn builds
// the problem in Go memory and hands C a Go pointer to it that holds further
// Go pointers; since Go 1.21 the runtime's cgo check panics on that ("Go
// pointer to unpinned Go pointer") unless they are pinned. The layout check
// guards against a golearn version whose Problem looks different.
func pinProblem(pin *runtime.Pinner, prob *linear_models.Problem, rows, cols int) error {
	if unsafe.Sizeof(*prob) != unsafe.Sizeof(cProblem{}) {
		return fmt.Errorf("golearn Problem is %d bytes, want %d", unsafe.Sizeof(*prob), unsafe.Sizeof(cProblem{}))
	}
	cp := (*cProblem)(unsafe.Pointer(prob))
	if int(cp.l) != rows || int(cp.n) != cols+1 || cp.bias != -1 || cp.y == nil || cp.x == nil {
		return fmt.Errorf("golearn Problem layout is not liblinear's struct problem")
	}
	pin.Pin(cp.y)
	pin.Pin(cp.x)
	return nil
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
