package contract

// Feature columns of the household table (features.parquet, CONTRACTS §4),
// by the family that computes them. The families name them too, each for
// its own; the rules baseline and the pipeline read them by these names
// without importing a family.
const (
	// Core columns, computed from the roster.
	FeatChildren        = "children"
	FeatAreaDeprivation = "area_deprivation" // 11 − IMD decile: 10 = most deprived

	// Household columns, from the roster beside the core ones.
	FeatYoungestAge      = "youngest_child_age"
	FeatUnderFive        = "children_under_5"
	FeatPriorReferrals   = "prior_closed_referrals_12m"    // children's referrals closed in the year before the date
	FeatPriorEarlyHelp   = "prior_early_help_episodes_12m" // the household's episodes ended in the year before the date
	FeatHouseholdMoves12 = "household_moves_12m"           // a child's moves into a household in the last year
	// Recency features sum a family of events in the year before the date,
	// each weighed by how recent it was (features.Recency: halved every 8
	// weeks).
	FeatReferralsRecent = "referrals_recent" // children's referrals, whatever their outcome

	// Attendance (attendance_sessions).
	FeatAbsenceRate4w       = "absence_rate_4w"
	FeatAbsenceRate13w      = "absence_rate_13w"
	FeatAbsenceRate52w      = "absence_rate_52w"
	FeatUnauthorisedRate13w = "unauthorised_rate_13w"
	FeatAbsenceChange4w     = "absence_change_4w" // last 4 weeks against the 9 before
	FeatLateBeforeClose13w  = "late_before_close_13w"
	FeatLateAfterClose13w   = "late_after_close_13w"
	FeatPersistentAbsence   = "persistent_absence_children"
	FeatSevereAbsence       = "severe_absence_children"  // 50% or more over the last year
	FeatAbsenceChange6w     = "absence_change_6w"        // last 6 weeks against the 13 before
	FeatMondayFriday13w     = "monday_friday_excess_13w" // Mon/Fri absence rate minus midweek
	FeatIllness13w          = "illness_rate_13w"         // I
	FeatNoReason13w         = "no_reason_rate_13w"       // N and O: unexplained
	FeatHoliday52w          = "holiday_sessions_52w"     // G: term-time holiday
	FeatNoMark13w           = "sessions_without_mark_13w"
	// Pooled over the household's children: lateness and the unauthorised
	// share of absence move with a family's circumstances whatever each
	// child's own level of absence, which varies from child to child.
	FeatLateRate52w      = "late_rate_52w"                     // late marks (L, U) per possible session
	FeatUnauthShare52w   = "unauthorised_share_52w"            // of absences other than illness
	FeatAbsenceChange13w = "absence_change_13w"                // last 13 weeks against the 39 before
	FeatPersistentOnset  = "persistent_absence_onset_children" // persistently absent over 13 weeks, not over the 39 before

	// Health visiting (hv_contacts, hv_assessments).
	FeatWasNotBrought12m = "hv_was_not_brought_12m" // contacts missed (NHS status 3 or 7) in the last year
	FeatTargeted12m      = "hv_targeted_contacts_12m"
	FeatLowMood12m       = "hv_low_mood_12m"          // EPDS ≥ 13 or a positive Whooley
	FeatASQBelow12m      = "hv_asq_domains_below_12m" // most ASQ-3 domains below cut-off
	FeatDADisclosed12m   = "hv_domestic_abuse_disclosed_12m"
	// FeatMandatedMissed12m counts mandated reviews (new birth, 6–8 weeks,
	// 12 months, 2–2½ years) whose window closed in the last year without
	// an attended contact of that type, over the household's children.
	FeatMandatedMissed12m = "hv_mandated_reviews_missed_12m"
	// FeatLateNewBirth counts children under one whose new-birth visit
	// came after day 14 (the national measure, C3).
	FeatLateNewBirth = "hv_late_new_birth_visit"
	// Over two years, since a family is screened at a birth and at the
	// reviews after it, and a score says more than its threshold does.
	FeatEPDSLatest24m       = "hv_epds_latest_24m"   // the latest EPDS total (0 when none)
	FeatEPDSScreened24m     = "hv_epds_screened_24m" // 1 when there is one
	FeatWasNotBroughtRecent = "hv_was_not_brought_recent"
	FeatTargetedRecent      = "hv_targeted_contacts_recent"
	FeatLowMoodRecent       = "hv_low_mood_recent"
	FeatDADisclosedRecent   = "hv_domestic_abuse_disclosed_recent"

	// Housing (homelessness_cases, temporary_accommodation, rent_accounts).
	FeatApproaches12m   = "homeless_approaches_12m"
	FeatOpenDuty        = "homeless_duty_open" // a prevention or relief duty open on the date
	FeatWeeksInTA       = "weeks_in_temporary_accommodation"
	FeatOutOfArea       = "ta_out_of_area"
	FeatArrearsWeeks    = "rent_arrears_weeks" // latest balance over weekly rent
	FeatArrearsStage    = "rent_arrears_stage" // 0 none … 8 evicted (ArrearsStages)
	FeatArrearsRising8w = "rent_arrears_rising_8w"
	// Weeks in which nothing was paid: the balance rose by the week's rent.
	FeatRentUnpaid13w       = "rent_weeks_unpaid_13w"
	FeatApproachRecent      = "homeless_approach_recent"
	FeatArrearsActionRecent = "rent_arrears_action_recent" // the current arrears stage's action, when taken
)

// needSignals are the feature columns whose larger values, other things
// equal, can only mean more need by what the reference knows of them
// (domain-data §7.2: absence, lateness, missed health visits, low mood,
// disclosures, developmental concerns, arrears, homelessness, moves and
// referrals all rise with a family's need). Left out are the family's
// make-up (children, ages), illness and holiday, which are not need, and
// whether a screen was done, which only says how to read its score.
var needSignals = map[string]bool{
	FeatAreaDeprivation: true, FeatPriorReferrals: true, FeatPriorEarlyHelp: true, FeatHouseholdMoves12: true,
	FeatReferralsRecent: true,

	FeatAbsenceRate4w: true, FeatAbsenceRate13w: true, FeatAbsenceRate52w: true, FeatUnauthorisedRate13w: true,
	FeatAbsenceChange4w: true, FeatLateBeforeClose13w: true, FeatLateAfterClose13w: true, FeatPersistentAbsence: true,
	FeatSevereAbsence: true, FeatAbsenceChange6w: true, FeatMondayFriday13w: true, FeatNoReason13w: true,
	FeatLateRate52w: true, FeatUnauthShare52w: true, FeatAbsenceChange13w: true, FeatPersistentOnset: true,

	FeatWasNotBrought12m: true, FeatTargeted12m: true, FeatLowMood12m: true, FeatASQBelow12m: true,
	FeatDADisclosed12m: true, FeatMandatedMissed12m: true, FeatLateNewBirth: true, FeatEPDSLatest24m: true,
	FeatWasNotBroughtRecent: true,
	FeatTargetedRecent:      true, FeatLowMoodRecent: true, FeatDADisclosedRecent: true,

	FeatApproaches12m: true, FeatOpenDuty: true, FeatWeeksInTA: true, FeatOutOfArea: true, FeatArrearsWeeks: true,
	FeatArrearsStage: true, FeatArrearsRising8w: true, FeatRentUnpaid13w: true,
	FeatApproachRecent: true, FeatArrearsActionRecent: true,
}

// RaisesNeed reports whether a feature column is a need signal: one whose
// weight a model should never make negative.
func RaisesNeed(feature string) bool { return needSignals[feature] }
