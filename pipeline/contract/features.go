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

	// Housing (homelessness_cases, temporary_accommodation, rent_accounts).
	FeatApproaches12m   = "homeless_approaches_12m"
	FeatOpenDuty        = "homeless_duty_open" // a prevention or relief duty open on the date
	FeatWeeksInTA       = "weeks_in_temporary_accommodation"
	FeatOutOfArea       = "ta_out_of_area"
	FeatArrearsWeeks    = "rent_arrears_weeks" // latest balance over weekly rent
	FeatArrearsStage    = "rent_arrears_stage" // 0 none … 8 evicted (ArrearsStages)
	FeatArrearsRising8w = "rent_arrears_rising_8w"
)
