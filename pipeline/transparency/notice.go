package transparency

import (
	"bytes"
	"fmt"

	"earlyhelp/pipeline/contract"
)

// privacyNotice drafts the plain-English text a council adapts for its
// privacy notice.
func (r *run) privacyNotice() []byte {
	var b bytes.Buffer
	s := r.in.Settings
	council := r.council()
	fmt.Fprintf(&b, "# How %s uses information to offer early help (draft privacy notice)\n\n", council)
	fmt.Fprintf(&b, "*A draft for the council to adapt; drafted from run %s on %s.*\n\n", r.man.RunID, r.written)
	b.WriteString("## What we do\n\n")
	fmt.Fprintf(&b, "Every week we look at information we already hold to find families who might welcome help early, before problems grow. "+
		"A computer program puts together a short list of up to %d families. A member of our family hub team reads it and decides whether to get in touch. "+
		"The program never decides anything about you: a person always does, and you do not have to accept any help we offer.\n\n", s.Capacity)
	b.WriteString("## What information we use\n\n")
	var used []string
	for _, src := range s.Sources {
		if d := plainSource[src.Name]; d != "" {
			used = append(used, d)
		}
	}
	for _, u := range used {
		fmt.Fprintf(&b, "- %s\n", u)
	}
	if s.UseDeprivation {
		b.WriteString("\nHow deprived the area you live in is counts towards the list, as well as your family's own records.")
	}
	b.WriteString("\nWe do not use your ethnic group, your sex or a child's special educational needs to decide who is on the list; we use them only to check that the list treats every group fairly.\n\n")
	b.WriteString("## Why we are allowed to\n\n")
	b.WriteString("We do this as part of our public task of helping children and families (UK GDPR Article 6(1)(e)). For health information we rely on the substantial public interest in safeguarding children and people at risk (Article 9(2)(g) and the Data Protection Act 2018, Schedule 1, paragraph 18).\n\n")
	b.WriteString("## Who sees it\n\n")
	b.WriteString("Names, addresses and reference numbers are replaced by codes before the program uses them. Only the family hub staff who work in your area see the list, and only the families on it are named. Staff need their own account, and every time someone opens a family's page it is recorded. Auditors check the program's fairness without seeing any family.\n\n")
	b.WriteString("## How long we keep it\n\n")
	rt := s.Retention
	fmt.Fprintf(&b, "Each week's list and its working files are kept for %d weeks; records of who looked at a family's page for %d weeks.\n\n", rt.RunsWeeks, rt.AccessLogWeeks)
	b.WriteString("## Your right to object\n\n")
	contact := r.gov(func(g *Governance) string { return g.Contact })
	if contact == "" {
		contact = "[" + ToComplete + ": the team's email address or phone number]"
	}
	fmt.Fprintf(&b, "You can ask us not to include your family, at any time and without giving a reason. Contact %s. Once your objection is recorded, no one in your household is looked at by the program until you withdraw it.\n\n", contact)
	b.WriteString("## Seeing your own information\n\n")
	fmt.Fprintf(&b, "You can ask for a copy of what the program has recorded about your household: every week you were on the list, why, and what our staff decided. Contact %s. We will reply within one month.\n\n", contact)
	b.WriteString("## Complaints\n\n")
	fmt.Fprintf(&b, "If you are unhappy with how we use your information, contact our Data Protection Officer: **%s**. You can also complain to the Information Commissioner's Office (ico.org.uk, 0303 123 1113).\n", ToComplete)
	return b.Bytes()
}

// plainSource says in plain English what each source is.
var plainSource = map[string]string{
	contract.Persons:            "Basic details about you and your children: date of birth, and the reference numbers schools and the NHS use.",
	contract.Households:         "Who lives with whom, and the area you live in.",
	contract.Deprivation:        "Published figures on how deprived each small area is.",
	contract.AttendanceSessions: "Your children's school attendance and lateness.",
	contract.HVContacts:         "Health visitor appointments, and whether they were kept.",
	contract.HVAssessments:      "Health visitor checks of a baby's development and a parent's mood.",
	contract.HomelessnessCases:  "Whether you have asked the council for help with homelessness.",
	contract.TemporaryAccom:     "Any temporary accommodation the council has provided.",
	contract.RentAccounts:       "Council or housing association rent arrears.",
	contract.CSCReferrals:       "Past referrals to children's social care.",
	contract.EarlyHelpEpisodes:  "Early help your family has already had.",
	contract.Objections:         "Whether anyone in your household has asked us not to include them.",
}
