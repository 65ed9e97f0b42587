package contract

// Code tables of CONTRACTS §2 beyond attendance marks and ethnicity: the
// canonical values the store holds in coded columns, which connectors
// check and features read. Spellings an extract may use instead are the
// connectors' business (connectors/vocabulary.go); these are what they
// become.

// Household roles (households.role).
const (
	RoleParent     = "parent"
	RoleCarer      = "carer"
	RoleChild      = "child"
	RoleOtherAdult = "other_adult"
)

// Roles lists the household roles.
func Roles() []string { return []string{RoleParent, RoleCarer, RoleChild, RoleOtherAdult} }

// Outcomes of a children's social care referral (csc_referrals.outcome),
// least to most serious; the label counts assessment and above.
const (
	OutcomeNFA         = "nfa"
	OutcomeEarlyHelp   = "early_help"
	OutcomeAssessment  = "assessment"
	OutcomeCINPlan     = "cin_plan"
	OutcomeCPPlan      = "cp_plan"
	OutcomeLookedAfter = "looked_after"
)

// CSCOutcomes lists the referral outcomes, least to most serious.
func CSCOutcomes() []string {
	return []string{OutcomeNFA, OutcomeEarlyHelp, OutcomeAssessment, OutcomeCINPlan, OutcomeCPPlan, OutcomeLookedAfter}
}

// Health-visiting contact types (hv_contacts.contact_type): CONTRACTS §2's
// seven, then the further reviews and settings the reference lists.
const (
	ContactAntenatal      = "ANTENATAL"
	ContactNewBirth       = "NEW_BIRTH"
	ContactSixEightWeek   = "SIX_EIGHT_WEEK"
	ContactTwelveMonth    = "TWELVE_MONTH"
	ContactTwoTwoHalfYear = "TWO_TWO_HALF_YEAR"
	ContactTargeted       = "TARGETED"
	ContactOther          = "OTHER"
	ContactThreeFourMonth = "THREE_FOUR_MONTH"
	ContactSixMonth       = "SIX_MONTH"
	ContactClinic         = "CLINIC"
	ContactTelephone      = "TELEPHONE"
)

// ContactTypes lists the contact types.
func ContactTypes() []string {
	return []string{
		ContactAntenatal, ContactNewBirth, ContactSixEightWeek, ContactTwelveMonth, ContactTwoTwoHalfYear,
		ContactTargeted, ContactOther, ContactThreeFourMonth, ContactSixMonth, ContactClinic, ContactTelephone,
	}
}

// NHS "attended or did not attend" codes (hv_contacts.attendance_status),
// stored as the code (domain-data §2.3).
const (
	StatusNotApplicable    = "0"
	StatusCancelledPatient = "2" // cancelled by, or on behalf of, the patient
	StatusDNA              = "3" // did not attend, no warning
	StatusCancelledByCare  = "4" // cancelled or postponed by the provider
	StatusAttended         = "5" // attended on time, or seen
	StatusLateSeen         = "6" // arrived late but was seen
	StatusLateNotSeen      = "7" // arrived late and could not be seen
)

// AttendanceStatuses lists the NHS attendance codes.
func AttendanceStatuses() []string {
	return []string{StatusNotApplicable, StatusCancelledPatient, StatusDNA, StatusCancelledByCare,
		StatusAttended, StatusLateSeen, StatusLateNotSeen}
}

// WasNotBrought reports whether a stored attendance_status is a missed
// appointment that children's services count as "was not brought": did
// not attend (3), or came too late to be seen (7).
func WasNotBrought(status string) bool { return status == StatusDNA || status == StatusLateNotSeen }

// Attended reports whether a stored attendance_status is a contact that
// took place: on time (5) or late but seen (6).
func Attended(status string) bool { return status == StatusAttended || status == StatusLateSeen }

// Health-visiting instruments (hv_assessments.instrument).
const (
	InstrumentWhooley = "WHOOLEY"
	InstrumentEPDS    = "EPDS"
	InstrumentASQ3    = "ASQ3"
	InstrumentGAD2    = "GAD2"
	InstrumentASQSE2  = "ASQSE2"
)

// Instruments lists the instruments.
func Instruments() []string {
	return []string{InstrumentWhooley, InstrumentEPDS, InstrumentASQ3, InstrumentGAD2, InstrumentASQSE2}
}

// Duties owed to a homeless household (homelessness_cases.duty_owed).
const (
	DutyPrevention     = "prevention"
	DutyRelief         = "relief"
	DutyNoneAdviceOnly = "none_advice_only"
	DutyIneligible     = "ineligible"
)

// DutiesOwed lists the duties.
func DutiesOwed() []string {
	return []string{DutyPrevention, DutyRelief, DutyNoneAdviceOnly, DutyIneligible}
}

// ArrearsStages lists rent_accounts.arrears_stage's values in order of
// escalation: a stage's index is its number on the 0 (none) … 8 (evicted)
// scale the housing features use.
func ArrearsStages() []string {
	return []string{"none", "letter_1", "letter_2", "nosp_served", "claim_issued",
		"order_suspended", "order_outright", "warrant_applied", "evicted"}
}
