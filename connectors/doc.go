// Package connectors holds what every connector shares: the canonical
// schemas of the council's sources (CONTRACTS §2) as Arrow schemas, the
// identifier checks and code tables that validate rows, and the keyed
// pseudonymiser that replaces identifiers at the door.
//
// The implementations for one external system each live in the
// sub-packages (csvdir, synthetic, ...).
package connectors
