package contract

// Column names of the CONTRACTS §2 extracts, as councils send them and as
// the store keeps them. A name shared by several sources (person_id,
// nhs_number, case_closed_date, …) is one constant: it means the same
// thing wherever it appears.
const (
	// persons
	ColPersonID    = "person_id"
	ColUPN         = "upn"
	ColNHSNumber   = "nhs_number"
	ColDateOfBirth = "date_of_birth"
	ColSex         = "sex"
	ColEthnicity   = "ethnicity"
	// ColSENStatus is optional and read for the equality analysis only
	// (eqia.md): never a feature.
	ColSENStatus = "sen_status"

	// households
	ColHouseholdID = "household_id"
	ColRole        = "role"
	ColUPRN        = "uprn"
	ColLSOACode    = "lsoa_code"
	ColLocality    = "locality"
	ColFromDate    = "from_date"
	ColToDate      = "to_date"

	// deprivation
	ColIMDDecile   = "imd_decile"
	ColIDACIDecile = "idaci_decile"
	ColVintage     = "vintage"

	// attendance_sessions
	ColSchoolURN      = "school_urn"
	ColSessionDate    = "session_date"
	ColSession        = "session"
	ColAttendanceCode = "attendance_code"
	ColMinutesLate    = "minutes_late"
	ColMarkUpdatedAt  = "mark_updated_at"
	// ColCategory is derived at ingestion, not sent: the mark's
	// statistical category (AttendanceCategory).
	ColCategory = "category"

	// csc_referrals
	ColReferralID     = "referral_id"
	ColReferralDate   = "referral_date"
	ColReferralSource = "referral_source"
	ColOutcome        = "outcome"
	ColCaseClosedDate = "case_closed_date"

	// hv_contacts
	ColContactID        = "contact_id"
	ColContactType      = "contact_type"
	ColAppointmentDate  = "appointment_date"
	ColAttendanceStatus = "attendance_status"
	ColDAEnquiry        = "da_enquiry"
	ColDADisclosed      = "da_disclosed"

	// hv_assessments
	ColInstrument      = "instrument"
	ColSubject         = "subject"
	ColScoreTotal      = "score_total"
	ColASQDomainsBelow = "asq_domains_below"

	// homelessness_cases
	ColCaseRef                 = "case_ref"
	ColApproachDate            = "approach_date"
	ColLeadPersonID            = "lead_person_id"
	ColUPRNAtApproach          = "uprn_at_approach"
	ColDutyOwed                = "duty_owed"
	ColReasonLossOfSettledHome = "reason_loss_of_settled_home"
	ColMainDutyDecision        = "main_duty_decision"

	// temporary_accommodation
	ColPlacementID    = "placement_id"
	ColPlacementStart = "placement_start"
	ColPlacementEnd   = "placement_end"
	ColTAType         = "ta_type"
	ColOutOfArea      = "out_of_area"

	// rent_accounts
	ColTenancyRef   = "tenancy_ref"
	ColSnapshotDate = "snapshot_date"
	ColBalance      = "balance"
	ColWeeklyRent   = "weekly_rent"
	ColArrearsStage = "arrears_stage"

	// early_help_episodes
	ColEpisodeID = "episode_id"
	ColStartDate = "start_date"
	ColEndDate   = "end_date"

	// objections
	ColReceivedDate  = "received_date"
	ColWithdrawnDate = "withdrawn_date"
)

// Pseudonym namespaces. A value is pseudonymised under its namespace, so
// the same digits as a UPRN and as a case reference give different
// pseudonyms, while lead_person_id and person_id share one. Each is the
// name of the column that first carries the identifier, and must stay so:
// changing one changes every pseudonym in every store.
const (
	NSPerson    = ColPersonID
	NSHousehold = ColHouseholdID
	NSUPN       = ColUPN
	NSNHS       = ColNHSNumber
	NSUPRN      = ColUPRN
	NSCaseRef   = ColCaseRef
	NSTenancy   = ColTenancyRef
	// The source systems' own record ids: not identifiers of a person, but
	// a council officer can look a family up by them, so they leave the
	// connectors as pseudonyms too (joins, such as an assessment to its
	// contact, still match).
	NSContact   = ColContactID
	NSReferral  = ColReferralID
	NSEpisode   = ColEpisodeID
	NSPlacement = ColPlacementID
)

// Namespaces lists every pseudonym namespace.
func Namespaces() []string {
	return []string{
		NSPerson, NSHousehold, NSUPN, NSNHS, NSUPRN, NSCaseRef, NSTenancy,
		NSContact, NSReferral, NSEpisode, NSPlacement,
	}
}

// Columns lists every column name above, once each (the literals test
// reads it, and checks it against the constants).
func Columns() []string {
	return []string{
		ColPersonID, ColUPN, ColNHSNumber, ColDateOfBirth, ColSex, ColEthnicity, ColSENStatus,
		ColHouseholdID, ColRole, ColUPRN, ColLSOACode, ColLocality, ColFromDate, ColToDate,
		ColIMDDecile, ColIDACIDecile, ColVintage,
		ColSchoolURN, ColSessionDate, ColSession, ColAttendanceCode, ColMinutesLate, ColMarkUpdatedAt, ColCategory,
		ColReferralID, ColReferralDate, ColReferralSource, ColOutcome, ColCaseClosedDate,
		ColContactID, ColContactType, ColAppointmentDate, ColAttendanceStatus, ColDAEnquiry, ColDADisclosed,
		ColInstrument, ColSubject, ColScoreTotal, ColASQDomainsBelow,
		ColCaseRef, ColApproachDate, ColLeadPersonID, ColUPRNAtApproach, ColDutyOwed, ColReasonLossOfSettledHome, ColMainDutyDecision,
		ColPlacementID, ColPlacementStart, ColPlacementEnd, ColTAType, ColOutOfArea,
		ColTenancyRef, ColSnapshotDate, ColBalance, ColWeeklyRent, ColArrearsStage,
		ColEpisodeID, ColStartDate, ColEndDate,
		ColReceivedDate, ColWithdrawnDate,
	}
}
