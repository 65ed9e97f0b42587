// Package models turns feature tables into scores: the Arrow→matrix
// conversion, the logistic and random-forest models with their reasons,
// calibration, and the logistic model's saved artifact.
//
// golearn appears in two files, and nowhere else in the module
// (TestImportDirection keeps it inside models):
//   - forest.go fits ForestTrainer's random forest with golearn's base,
//     ensemble and trees packages, then copies the trees into its own flat
//     nodes, so scoring a household builds no golearn instances.
//   - liblinear.go trains the logistic model (L2 or L1) with liblinear, the
//     C library golearn vendors and compiles in linear_models. It imports
//     linear_models only to link that C code and calls liblinear's C API
//     through cgo itself, because golearn's Go wrapper passes unpinned Go
//     pointers to C, which the Go runtime rejects.
//
// Scoring, reasons, calibration and artifacts are plain Go.
package models
