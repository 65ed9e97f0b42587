// Package synthetic writes a synthetic council: every source extract of
// CONTRACTS §2 that a real council would send (persons, households,
// deprivation, attendance sessions, health-visiting contacts and
// assessments, homelessness cases, temporary accommodation, rent accounts,
// children's social care referrals, early-help episodes, objections), a demo
// pseudonym key, and a truth/ folder the pipeline never reads (each
// household's latent need and true referral probability, the true person and
// household behind each indirectly identified record, every injected defect)
// so that tests can score what the pipeline recovers. Config.Profile picks
// the population mix (profile.go) and Config.Bias adds observation bias for
// fairness audits (bias.go).
//
// The council is built once (world.go), then simulated week by week
// (dynamics.go); each source has its own writer. Output depends only on the
// Config: one goroutine draws from per-purpose PCG streams, so the same
// Config gives byte-identical files on any machine.
package synthetic
