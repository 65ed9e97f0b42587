package contract

// Source names of CONTRACTS §2: the configuration's keys under sources:,
// the store's folder names and the quarantine files' names.
const (
	Persons            = "persons"
	Households         = "households"
	Deprivation        = "deprivation"
	AttendanceSessions = "attendance_sessions"
	CSCReferrals       = "csc_referrals"
	HVContacts         = "hv_contacts"
	HVAssessments      = "hv_assessments"
	HomelessnessCases  = "homelessness_cases"
	TemporaryAccom     = "temporary_accommodation"
	RentAccounts       = "rent_accounts"
	EarlyHelpEpisodes  = "early_help_episodes"
	Objections         = "objections"
)

// Sources lists every source in CONTRACTS §2 order. It is a new slice on
// each call so no caller can change another's.
func Sources() []string {
	return []string{
		Persons, Households, Deprivation, AttendanceSessions, HVContacts, HVAssessments,
		HomelessnessCases, TemporaryAccom, RentAccounts, CSCReferrals, EarlyHelpEpisodes, Objections,
	}
}
