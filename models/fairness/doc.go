// Package fairness computes the fairness audit of reference/fairness-audit.md
// §4: per-group metrics for ethnicity and deprivation, disparities against a
// reference group with exact tolerance verdicts, top-K curves, calibration by
// group, a seeded stratified bootstrap, and statistical disclosure control
// for the publishable tier. It reads one row per scored child and writes the
// §4.10 files; it never sees a raw identifier.
package fairness
