// Package models turns feature tables into scores: the Arrow→matrix
// conversion, the logistic model trained with golearn's liblinear, its
// reasons and its saved artifact. golearn types appear in this package only,
// and within it only in liblinear.go.
package models
