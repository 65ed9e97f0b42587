package synthetic

import (
	"math"
	"math/rand/v2"

	"earlyhelp/connectors"
	"earlyhelp/pipeline/contract"
)

const (
	hvContactsFile    = "incoming/hv_contacts/hv_contacts.csv"
	hvAssessmentsFile = "incoming/hv_assessments/hv_assessments.csv"
)

// Health-visiting model (domain-data §2). Each child under five gets the
// mandated reviews in their windows; a missed appointment is rebooked one to
// three weeks later, up to three times. Was-not-brought rises with need, and
// maternal mood scores with need and a recent mental-health crisis, so both
// run ahead of the lagged referral hazard. Targeted contacts follow need and
// recent domestic abuse; visibility bias scales how many are recorded.
const (
	hvWNB          = 0.06 // P(was not brought) at average need
	hvWNBNeed      = 0.5  // log-odds per unit of need
	hvTargeted     = 0.0025
	hvTargetedNeed = 0.8
	hvRecent       = 26 // weeks a crisis stays "recent" for screening
	hvMaxTries     = 3
)

// Contact types in schedule order, then the unscheduled ones.
const (
	hvAntenatal = iota
	hvNewBirth
	hvSixEight
	hvTwelveMonth
	hvTwoYear
	hvTargetedType
	hvDone // no more mandated contacts
)

var hvTypeNames = [...]string{contract.ContactAntenatal, contract.ContactNewBirth, contract.ContactSixEightWeek, contract.ContactTwelveMonth, contract.ContactTwoTwoHalfYear, contract.ContactTargeted}

// hvWindows gives, per mandated contact, days from birth: the share seen on
// time, the on-time window and the late window (§2.1–2.2 coverage).
var hvWindows = [5]struct {
	onTime       float64
	lo, hi, late int
}{
	{0.55, -84, -28, -28}, // antenatal: offered to about half of mothers
	{0.985, 10, 14, 28},
	{0.88, 42, 56, 80},
	{0.8, 274, 365, 456},
	{0.82, 730, 912, 1000},
}

type hvChild struct {
	next  int8 // contact type due
	tries int8
	date  day // its appointment, noDay when none is due
}

type healthVisiting struct {
	g        *generator
	need     *needState
	r        *rand.Rand
	contacts *csvFile
	assess   *csvFile
	kids     []hvChild
	vis      []float64 // per child: visibility factor (ethnicity part)
	n        int
	buf, id  []byte
}

func (g *generator) newHV(need *needState) (*healthVisiting, error) {
	c, err := g.out.create(hvContactsFile, 0o644, false, g.columns(connectors.HVContacts)...)
	if err != nil {
		return nil, err
	}
	a, err := g.out.create(hvAssessmentsFile, 0o644, false, g.columns(connectors.HVAssessments)...)
	if err != nil {
		return nil, err
	}
	w := g.w
	s := &healthVisiting{
		g: g, need: need, contacts: c, assess: a,
		r:    newRand(g.cfg.Seed, streamHV),
		kids: make([]hvChild, len(w.children)),
		vis:  make([]float64, len(w.children)),
	}
	for ci := range w.children {
		k := &s.kids[ci]
		k.date, k.next = noDay, hvDone
		dob := w.persons[w.children[ci].person].dob
		if dob+5*366 < w.first || dob-84 > w.last {
			continue
		}
		// The first contact whose appointment falls in the window.
		for typ := hvAntenatal; typ < hvTargetedType; typ++ {
			if d, ok := s.plan(typ, dob); ok && d >= w.first {
				k.next, k.date = int8(typ), d
				break
			}
		}
	}
	return s, nil
}

// plan draws the appointment of a mandated contact (false: not offered).
func (s *healthVisiting) plan(typ int, dob day) (day, bool) {
	win := hvWindows[typ]
	if typ == hvAntenatal {
		if s.r.Float64() >= win.onTime {
			return 0, false
		}
		return dob + day(win.lo+s.r.IntN(win.hi-win.lo+1)), true
	}
	if s.r.Float64() < win.onTime {
		return dob + day(win.lo+s.r.IntN(win.hi-win.lo+1)), true
	}
	return dob + day(win.hi+1+s.r.IntN(win.late-win.hi)), true
}

func (s *healthVisiting) week(t int, ws, we day) {
	w := s.g.w
	for ci := range w.children {
		c := &w.children[ci]
		k := &s.kids[ci]
		dob := w.persons[c.person].dob
		if k.date <= we {
			s.mandated(ci, t, dob)
		}
		if dob > we || c.ageBand(ws) > 1 {
			continue
		}
		// Targeted contacts for children under five.
		h := c.householdAt(ws)
		x := w.wp.hvNeed * (s.need.z(h, t) - w.meanNeed)
		lam := hvTargeted * math.Exp(hvTargetedNeed*x)
		if s.recent(h, t, shockAbuse, 8) || s.recent(h, t, shockMental, 8) {
			lam *= 4
		}
		lam *= s.g.bias.factor(BiasVisibility, int(w.persons[c.person].eth), w.lsoas[w.households[h].lsoaAt(ws)].imd)
		if s.r.Float64() < lam {
			s.contact(ci, h, t, hvTargetedType, max(ws, dob)+day(s.r.IntN(int(we-max(ws, dob))+1)))
		}
	}
}

// recent reports whether household h had a crisis of kind within weeks.
func (s *healthVisiting) recent(h, t, kind, weeks int) bool {
	return int(s.need.shock[h]) == kind && t-int(s.need.shockWeek[h]) < weeks
}

// mandated writes child ci's due contact and books the next one.
func (s *healthVisiting) mandated(ci, t int, dob day) {
	w := s.g.w
	k := &s.kids[ci]
	c := &w.children[ci]
	h := c.hh
	if k.date >= dob {
		h = c.householdAt(k.date)
	}
	if k.next == hvAntenatal && w.mother[h] < 0 {
		k.next, k.tries = hvNewBirth, 0
		k.date, _ = s.plan(hvNewBirth, dob)
		return
	}
	attended := s.contact(ci, h, t, int(k.next), k.date)
	if !attended && k.tries+1 < hvMaxTries {
		k.tries++
		k.date += day(7 + s.r.IntN(15))
		return
	}
	prev := k.date
	k.tries, k.date = 0, noDay
	for typ := int(k.next) + 1; typ < hvTargetedType; typ++ {
		if d, ok := s.plan(typ, dob); ok {
			// Rebooking can push a review past the next one's window.
			k.next, k.date = int8(typ), max(d, prev+day(7+s.r.IntN(8)))
			break
		}
	}
	if k.date > w.last {
		k.date, k.next = noDay, hvDone
	}
}

// contact writes one appointment of child ci (antenatal: of the mother)
// and, when attended, its screening; it reports whether it was attended.
func (s *healthVisiting) contact(ci, h, t, typ int, d day) bool {
	w := s.g.w
	r := s.r
	subject := w.children[ci].person
	if typ == hvAntenatal {
		subject = w.mother[h]
	}
	x := w.wp.hvNeed * (s.need.z(h, t) - w.meanNeed)
	pWNB := logistic(logit(hvWNB) + hvWNBNeed*x)
	status := "5"
	switch u := r.Float64(); {
	case u < pWNB:
		status = "3"
	case u < pWNB+0.03:
		status = "2"
	case u < pWNB+0.06:
		status = "4"
	case u < pWNB+0.07:
		status = "7"
	case u < pWNB+0.1:
		status = "6"
	}
	attended := status == "5" || status == "6"
	s.n++
	s.id = appendRef(s.id[:0], "HV", s.n, 7)
	b := append(s.buf[:0], s.id...)
	b = append(b, ',')
	b = appendNHS(b, w.persons[subject].nhs)
	b = append(b, ',')
	b = append(b, hvTypeNames[typ]...)
	b = append(b, ',')
	b = appendISO(b, d)
	b = append(b, ',')
	b = append(b, status...)
	b = append(b, ',')
	if attended && typ != hvTwelveMonth && typ != hvTwoYear {
		asked := r.Float64() < 0.7
		b = appendBool(b, asked)
		b = append(b, ',')
		if asked {
			p := 0.018 * math.Exp(0.5*x)
			if s.recent(h, t, shockAbuse, hvRecent) {
				p = 0.25
			}
			b = appendBool(b, r.Float64() < p)
		}
	} else {
		b = append(b, ',')
	}
	s.buf = append(b, '\n')
	s.contacts.end(s.buf)
	s.g.links.add(connectors.HVContacts, s.id, subject, h)
	if attended {
		s.screen(ci, h, t, typ, x)
	}
	return attended
}

// screen writes the assessments of an attended contact: Whooley at the new
// birth visit and EPDS at 6–8 weeks for the mother, ASQ-3 for the child at
// the 12-month and 2–2½-year reviews.
func (s *healthVisiting) screen(ci, h, t, typ int, x float64) {
	w := s.g.w
	r := s.r
	mood := 0.0
	if s.recent(h, t, shockMental, hvRecent) {
		mood = 1.5
	}
	b := append(s.buf[:0], s.id...)
	switch {
	case (typ == hvNewBirth || typ == hvSixEight) && w.mother[h] >= 0:
		b = append(b, ',')
		b = appendNHS(b, w.persons[w.mother[h]].nhs)
		if typ == hvNewBirth {
			score := 0
			if r.Float64() < logistic(logit(0.12)+0.6*x+mood) {
				score = 1 + r.IntN(2)
			}
			b = append(b, ",WHOOLEY,mother,"...)
			b = appendInt(b, score)
			b = append(b, ",,"...)
			if score > 0 {
				b = append(b, "further_assessment"...)
			}
			break
		}
		v := 0.45*x + 0.8*mood + r.NormFloat64()
		score := min(30, max(0, int(math.Round(5.0+4.8*v))))
		b = append(b, ",EPDS,mother,"...)
		b = appendInt(b, score)
		b = append(b, ",,"...)
		switch {
		case score >= 13:
			b = append(b, "referred_perinatal_mental_health"...)
		case score >= 10:
			b = append(b, "review"...)
		}
	case (typ == hvTwelveMonth || typ == hvTwoYear) && r.Float64() < 0.9:
		below := 0
		for dom := range 5 {
			p := logit(0.04) + 0.4*x
			if dom == 0 && w.persons[w.children[ci].person].sex == 'M' {
				p += 0.4 // boys lower on communication (§2.3)
			}
			if r.Float64() < logistic(p) {
				below++
			}
		}
		b = append(b, ',')
		b = appendNHS(b, w.persons[w.children[ci].person].nhs)
		b = append(b, ",ASQ3,child,,"...)
		b = appendInt(b, below)
		b = append(b, ',')
		if below > 0 {
			b = append(b, "refer_further"...)
		}
	default:
		return
	}
	s.buf = append(b, '\n')
	s.assess.end(s.buf)
}

func (s *healthVisiting) finish() {
	s.g.rows[connectors.HVContacts] = s.contacts.rows
	s.g.rows[connectors.HVAssessments] = s.assess.rows
}

func logistic(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
func logit(p float64) float64    { return math.Log(p / (1 - p)) }
