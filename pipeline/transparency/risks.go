package transparency

import "strings"

// Risk is one risk of the DPIA and the record, with the tests and metrics
// of this project that show the mitigation holds. Each name is checked to
// exist (TestRisksNameRealEvidence): a mitigation nobody can check is not
// one.
type Risk struct {
	Name        string
	Description string
	Mitigation  string
	// Tests are Go test functions of this module; Metrics are Prometheus
	// metric names without the earlyhelp_ prefix.
	Tests   []string
	Metrics []string
}

// Risks is the risks table.
func Risks() []Risk {
	return []Risk{
		{Name: "Automation bias", Description: "navigators treat the list as a verdict and contact families, or decline to, because of a score.",
			Mitigation: "the list gives reasons, a likelihood in words and a contact-safety instruction, not an instruction to act; every decision is recorded and audited against the list's mix, and overrides are shown to auditors",
			Tests:      []string{"TestDecisionsAuditShowsAPlantedDisparity", "TestListIsSafeToHandOver"}, Metrics: []string{"decisions_total"}},
		{Name: "Discrimination by ethnicity", Description: "the list finds families of one ethnic group less well, or selects them more, than others with the same need.",
			Mitigation: "ethnicity is never a feature; the fairness audit compares selection and recall by ethnicity and deprivation every run and flags differences outside tolerance",
			Tests:      []string{"TestNoFeatureFromEthnicity", "TestBiasShowsInAudit"}, Metrics: []string{"fairness_ratio", "fairness_outside_tolerance"}},
		{Name: "Discrimination by sex, age or disability", Description: "the list's recall differs by the child's sex, age or SEN status.",
			Mitigation: "sex and SEN status are never features; eqia.md tabulates selection and recall by age band, sex and SEN status",
			Tests:      []string{"TestTransparencySENStatusIsNotAFeature", "TestTransparencyOnASyntheticCouncil"}},
		{Name: "Recording bias", Description: "services record some families' difficulties more than others', so the score follows visibility, not need.",
			Mitigation: "the audit's recall by group is the check; a planted recording bias is shown to move it",
			Tests:      []string{"TestBiasShowsInAudit"}, Metrics: []string{"fairness_outside_tolerance"}},
		{Name: "Objections ignored", Description: "a family that objected to profiling is scored or listed.",
			Mitigation: "objections fail safe: a row whose person can be identified is honoured whatever else is wrong with it; unmatched objections are counted",
			Tests:      []string{"TestObjectionsFailSafe"}, Metrics: []string{"objections_unmatched"}},
		{Name: "Re-identification", Description: "identifiers leak into the store, logs, metrics or files other than the list.",
			Mitigation: "identifiers are pseudonymised at ingestion; only the list re-identifies, through an owner-only lookup",
			Tests:      []string{"TestNoRawIdentifiersDownstream", "TestSourceRecordIDsArePseudonymised"}},
		{Name: "Poor data quality", Description: "bad extracts (wrong codes, impossible dates, broken check digits) distort the scores.",
			Mitigation: "every row is validated and quarantined with a reason; unreadable optional cells are counted; a source over tolerance stops the run",
			Tests:      []string{"TestRealisticDefectsQuarantined", "TestCellPolicy"}, Metrics: []string{"rows_quarantined_total", "cells_nulled_total"}},
		{Name: "Drift and staleness", Description: "the population or the recording changes, and the model no longer fits.",
			Mitigation: "feature drift (PSI) against the training snapshots and the model's backtest AUC are exported every run",
			Metrics:    []string{"feature_psi", "model_auc"}},
		{Name: "Leakage from the future", Description: "features use records dated after the as-of date, so the backtest overstates the model.",
			Mitigation: "features are built from data before each date only, and a test checks later rows change nothing",
			Tests:      []string{"TestFeaturesIgnoreLaterRows"}},
		{Name: "Unsafe contact", Description: "a navigator's contact puts a family member at risk (domestic abuse, a possession claim).",
			Mitigation: "a contact-safety instruction comes first on the list and the family page for every such fact of the last 12 months",
			Tests:      []string{"TestListIsSafeToHandOver"}},
	}
}

// evidence names a risk's tests and metrics.
func (k Risk) evidence() string {
	var parts []string
	if len(k.Tests) > 0 {
		parts = append(parts, "tests "+strings.Join(k.Tests, ", "))
	}
	for _, m := range k.Metrics {
		parts = append(parts, "metric earlyhelp_"+m)
	}
	return strings.Join(parts, "; ")
}
