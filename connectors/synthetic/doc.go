// Package synthetic writes a synthetic council: the source extracts of
// CONTRACTS §2 that a real council would send (persons, households,
// deprivation, attendance sessions, children's social care referrals), a demo
// pseudonym key, and a truth/ folder the pipeline never reads (each
// household's latent need and true referral probability, every injected
// defect) so that tests can score what the pipeline recovers.
//
// The council is built once (world.go), then simulated week by week
// (dynamics.go); each source has its own writer. Output depends only on the
// Config: one goroutine draws from per-purpose PCG streams, so the same
// Config gives byte-identical files on any machine.
package synthetic
