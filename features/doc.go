// Package features turns the store into one row per household as of a date:
// it links people to the household they lived in on that date, runs the
// signal builders (attendance, ...), aggregates children to households and
// derives the outcome labels. Every feature uses data dated before the
// as-of date only; labels use the horizon after it.
package features
