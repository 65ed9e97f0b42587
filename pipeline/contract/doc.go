// Package contract is earlyhelp's shared vocabulary: the names CONTRACTS §2
// gives the source extracts and their columns, the code tables the
// pipeline reads (attendance marks, ethnicity, health visiting, housing,
// children's social care), the pseudonym namespaces and the feature column
// names. Each is defined here once so a vocabulary change is made in one
// place; connectors, features, models and the pipeline all import it.
//
// It is a leaf: it imports only the standard library, and holds names and
// pure lookups, never a stage's logic. A test (literals_test.go) fails if
// any other file of the module spells one of these strings itself.
package contract
