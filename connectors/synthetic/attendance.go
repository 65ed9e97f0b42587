package synthetic

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"earlyhelp/connectors"
	"earlyhelp/pipeline/contract"
)

const attendanceDir = "incoming/attendance_sessions"

// Attendance model (domain-data §1.5–1.6).
const (
	// Each pupil-year draws a propensity from the §1.6 mixture; its odds
	// are then shifted week by week by household need and a sibling-shared
	// effect, and scaled by absenceScale so the council lands near 7%.
	needUnauth    = 0.3 // log-odds shift of the unauthorised share and of lateness
	absenceScale  = 0.85
	maxAbsence    = 0.97
	spellMean     = 4.0  // illness spells last 2–6 sessions
	amendShare    = 0.03 // absence marks first sent as N and amended later
	ncLast        = 11   // year 11; sixth forms are not generated
	ncReception   = 0
	ncLastPrimary = 6 // year 6
)

// codeSetChange is the first day of the 2024 code set.
var codeSetChange = dayOf(2024, 8, 19)

// enrolment is one pupil on a school's roll for an academic year.
type enrolment struct {
	child     int
	secondary bool
	prefix    []byte // "urn,upn,"
}

// pupil is a child's attendance state, kept across weeks.
type pupil struct {
	ay   int     // academic year of odds
	odds float64 // the pupil-year's odds of absence
	week int     // week the per-session probabilities below are for
	// Per session that is not inside an illness spell: start a spell,
	// another absence; the unauthorised share of those; and given present,
	// late or at approved educational activity.
	start, other, unauth, late, aea float64
	ill                             int // sessions left in the illness spell
	// lateKeep is the probability that a late mark (L, U) is recorded as
	// such under --bias lateness_underrecorded (1 without bias).
	lateKeep float64
}

type monthFile struct {
	key int // year*12 + month-1
	f   *csvFile
}

// attendance writes attendance_YYYY-MM.csv files, one per month of sessions.
type attendance struct {
	g      *generator
	need   *needState
	r      *rand.Rand
	tables [2][2]*codeTable // [phase][legacy]
	pupils []pupil
	rollAY int
	roll   []enrolment
	open   []monthFile
	made   int // files created
	// Amended marks wait until the end of the week: a later row in the
	// same month's file.
	pending    []byte
	pendingEnd []int
	pendingF   []*csvFile
	// Light profile: rows until the next defect.
	untilDefect int
}

func (g *generator) newAttendance(need *needState) (*attendance, error) {
	// The folder exists even when the window holds no school day.
	if err := os.MkdirAll(filepath.Join(g.out.root, filepath.FromSlash(attendanceDir)), 0o755); err != nil {
		return nil, fmt.Errorf("attendance: %w", err)
	}
	a := &attendance{
		g: g, need: need,
		r:      newRand(g.cfg.Seed, streamAttendance),
		pupils: make([]pupil, len(g.w.children)),
		rollAY: math.MinInt,
	}
	for ph := range 2 {
		a.tables[ph][0] = newCodeTable(ph, false)
		a.tables[ph][1] = newCodeTable(ph, true)
	}
	for i := range a.pupils {
		a.pupils[i].ay, a.pupils[i].week = math.MinInt, -1
	}
	a.nextDefect()
	return a, nil
}

func (a *attendance) nextDefect() {
	if !a.g.light() {
		a.untilDefect = math.MaxInt
		return
	}
	p := lightBadUPN + lightBadCode + lightBadDate
	a.untilDefect = int(math.Log(1-a.g.rDef.Float64()) / math.Log(1-p))
}

// rollFor returns the pupils on roll in academic year ay, in school then
// UPN order, as a school export would list them.
func (a *attendance) rollFor(ay int) []enrolment {
	if ay == a.rollAY {
		return a.roll
	}
	w := a.g.w
	a.rollAY, a.roll = ay, a.roll[:0]
	for ci := range w.children {
		c := &w.children[ci]
		upn := w.persons[c.person].upn
		nc := ay - c.reception
		if upn == "" || nc < ncReception || nc > ncLast {
			continue
		}
		s := c.primary
		if nc > ncLastPrimary {
			s = c.secondary
		}
		prefix := strconv.AppendInt(nil, int64(w.schools[s].urn), 10)
		prefix = append(prefix, ',')
		prefix = append(prefix, upn...)
		a.roll = append(a.roll, enrolment{child: ci, secondary: nc > ncLastPrimary, prefix: append(prefix, ',')})
	}
	slices.SortFunc(a.roll, func(x, y enrolment) int { return bytes.Compare(x.prefix, y.prefix) })
	return a.roll
}

// fileFor returns the open file of d's month, creating it on first use.
func (a *attendance) fileFor(d day) (*csvFile, error) {
	y, m, _ := d.civil()
	key := y*12 + m - 1
	for _, mf := range a.open {
		if mf.key == key {
			return mf.f, nil
		}
	}
	rel := fmt.Sprintf("%s/attendance_%04d-%02d.csv", attendanceDir, y, m)
	bom := a.g.light() && a.made == 0
	f, err := a.g.out.create(rel, 0o644, bom, a.g.columns(connectors.AttendanceSessions)...)
	if err != nil {
		return nil, err
	}
	if bom {
		a.g.defects.add(rel, 1, contract.ColSchoolURN, defectBOM, true)
	}
	a.made++
	a.open = append(a.open, monthFile{key, f})
	return f, nil
}

// closeBefore closes the files of months before d's.
func (a *attendance) closeBefore(d day) error {
	y, m, _ := d.civil()
	key := y*12 + m - 1
	kept := a.open[:0]
	for _, mf := range a.open {
		if mf.key >= key {
			kept = append(kept, mf)
			continue
		}
		a.g.rows[connectors.AttendanceSessions] += mf.f.rows
		if err := mf.f.close(); err != nil {
			return err
		}
	}
	a.open = kept
	return nil
}

func (a *attendance) finish() error { return a.closeBefore(noDay) }

func (a *attendance) week(t int, ws, we day) error {
	if err := a.closeBefore(ws); err != nil {
		return err
	}
	var am, pm []byte
	for d := ws; d <= we; d++ {
		kind := a.g.cal.kindOf(d)
		if kind == closedDay {
			continue
		}
		f, err := a.fileFor(d)
		if err != nil {
			return err
		}
		am = append(appendISO(am[:0], d), ",AM,"...)
		pm = append(appendISO(pm[:0], d), ",PM,"...)
		legacy := 0
		if d < codeSetChange {
			legacy = 1
		}
		for i := range a.rollFor(d.academicYear()) {
			e := &a.roll[i]
			if kind == insetDay {
				a.write(f, e, am, "#", 0, nil, legacy == 1)
				a.write(f, e, pm, "#", 0, nil, legacy == 1)
				continue
			}
			ph := 0
			if e.secondary {
				ph = 1
			}
			p := &a.pupils[e.child]
			if p.week != t {
				a.weekly(p, e, t, ws, a.tables[ph][0])
			}
			tab := a.tables[ph][legacy]
			a.session(f, e, p, tab, am, false, d)
			a.session(f, e, p, tab, pm, true, d)
		}
	}
	for i, f := range a.pendingF {
		start := 0
		if i > 0 {
			start = a.pendingEnd[i-1]
		}
		f.end(a.pending[start:a.pendingEnd[i]])
	}
	a.pending, a.pendingEnd, a.pendingF = a.pending[:0], a.pendingEnd[:0], a.pendingF[:0]
	return nil
}

// weekly sets a pupil's session probabilities for week t.
func (a *attendance) weekly(p *pupil, e *enrolment, t int, ws day, tab *codeTable) {
	w := a.g.w
	c := &w.children[e.child]
	ay := ws.academicYear()
	if p.ay != ay {
		p.ay = ay
		var p0 float64
		if a.r.Float64() < 0.95 {
			p0 = beta(a.r, 0.70, 13.30)
		} else {
			p0 = beta(a.r, 3, 3)
		}
		p0 = min(p0, maxAbsence)
		p.odds = p0 / (1 - p0) * tab.absencePct / 100 / mixtureMean * ethnicities[w.persons[c.person].eth].absence
	}
	h := c.householdAt(ws)
	z := a.need.z(h, t) - w.meanNeed
	odds := p.odds * math.Exp(w.wp.absenceNeed*z+w.households[h].absence) * a.g.cal.weekMult(ws) * absenceScale
	pr := min(odds/(1+odds), maxAbsence)
	// Illness comes in spells of spellMean sessions. With a per-decision
	// start probability s and other-absence probability o, the long-run
	// shares are s·L/(1+s(L-1)) and o/(1+s(L-1)); solve them for the
	// targets.
	q := pr * tab.illnessFrac
	s := q / (spellMean - q*(spellMean-1))
	p.start = s
	p.other = min((pr-q)*(1+s*(spellMean-1)), 1-s)
	tilt := math.Exp(needUnauth * z)
	p.unauth = tab.unauthPct * tilt / (tab.authPct + tab.unauthPct*tilt)
	p.late = min(tab.lateGiven*tilt, 0.5)
	p.aea = tab.aeaGiven
	p.lateKeep = a.g.bias.factor(BiasLateness, int(w.persons[c.person].eth), w.lsoas[w.households[h].lsoaAt(ws)].imd)
	p.week = t
}

// session draws and writes one mark.
func (a *attendance) session(f *csvFile, e *enrolment, p *pupil, tab *codeTable, date []byte, pm bool, d day) {
	r := a.r
	var code string
	absent := true
	if p.ill > 0 {
		p.ill--
		code = "I"
	} else {
		u := r.Float64()
		switch {
		case u < p.start:
			code = "I"
			p.ill = 1 + r.IntN(5)
		case u < p.start+p.other:
			v := (u - p.start) / p.other
			if v < p.unauth {
				code = tab.unauth[pick(v/p.unauth, tab.unauthCum)]
			} else {
				code = tab.auth[pick((v-p.unauth)/(1-p.unauth), tab.authCum)]
			}
		default:
			absent = false
			v := (u - p.start - p.other) / (1 - p.start - p.other)
			switch {
			case v < p.late:
				code = "L"
			case v < p.late+p.aea:
				code = tab.aea[pick((v-p.late)/p.aea, tab.aeaCum)]
			case pm:
				code = `\`
			default:
				code = "/"
			}
		}
	}
	if (code == "L" || code == "U") && p.lateKeep < 1 && r.Float64() >= p.lateKeep {
		// Under-recorded lateness: the register shows the pupil present.
		code, absent = "/", false
		if pm {
			code = `\`
		}
	}
	minutes := 0
	switch code {
	case "L":
		minutes = geometric(r, 8, 30)
	case "U":
		minutes = 30 + geometric(r, 20, 120)
	}
	if absent && code != "N" && r.Float64() < amendShare {
		a.amend(f, e, date, code, minutes, pm, d)
		return
	}
	a.write(f, e, date, code, minutes, nil, d < codeSetChange)
}

// amend writes the mark as N now, stamped at registration, and queues the
// definitive code with a later mark_updated_at; when that would fall after
// End the extract only has the N.
func (a *attendance) amend(f *csvFile, e *enrolment, date []byte, code string, minutes int, pm bool, d day) {
	stamp := "T09:05:00Z"
	if pm {
		stamp = "T13:35:00Z"
	}
	b := f.row()
	b = append(b, e.prefix...)
	b = append(b, date...)
	b = append(b, "N,,"...)
	b = append(b, date[:10]...)
	b = append(b, stamp...)
	f.end(append(b, '\n'))

	upd := d + 1 + day(a.r.IntN(5))
	hour, minute := 8+a.r.IntN(9), 5*a.r.IntN(12)
	if upd > a.g.w.last {
		return
	}
	b = append(a.pending, e.prefix...)
	b = append(b, date...)
	b = append(b, code...)
	b = append(b, ',')
	if minutes > 0 {
		b = strconv.AppendInt(b, int64(minutes), 10)
	}
	b = append(b, ',')
	b = appendISO(b, upd)
	b = append(b, 'T')
	b = append2(b, hour)
	b = append(b, ':')
	b = append2(b, minute)
	b = append(b, ":00Z\n"...)
	a.pending = b
	a.pendingEnd = append(a.pendingEnd, len(b))
	a.pendingF = append(a.pendingF, f)
}

// write appends one mark, or under the light profile now and then a broken
// one (recorded in truth/defects.csv).
func (a *attendance) write(f *csvFile, e *enrolment, date []byte, code string, minutes int, upd []byte, legacy bool) {
	prefix := e.prefix
	defect, column := "", ""
	if a.untilDefect--; a.untilDefect < 0 {
		a.nextDefect()
		rd := a.g.rDef
		switch u := rd.Float64() * (lightBadUPN + lightBadCode + lightBadDate); {
		case u < lightBadUPN:
			defect, column = defectUPNCheck, contract.ColUPN
			prefix = slices.Clone(prefix)
			i := slices.Index(prefix, ',') + 1
			prefix[i] = wrongCheckLetter(prefix[i], rd)
		case u < lightBadUPN+lightBadCode:
			defect, column = defectCode, contract.ColAttendanceCode
			code = "H" // withdrawn in August 2024
			if legacy {
				code = "?X"
			}
		default:
			defect, column = defectDate, contract.ColSessionDate
			bad := append([]byte(nil), date[:4]...)
			date = append(append(bad, "-02-30"...), date[10:]...)
		}
	}
	b := f.row()
	b = append(b, prefix...)
	b = append(b, date...)
	b = append(b, code...)
	b = append(b, ',')
	if minutes > 0 {
		b = strconv.AppendInt(b, int64(minutes), 10)
	}
	b = append(b, ',')
	b = append(b, upd...)
	row := f.end(append(b, '\n'))
	if defect != "" {
		a.g.defects.add(f.rel, row, column, defect, false)
	}
}

const upnLetters = "ABCDEFGHJKLMNPQRTUVWXYZ"

// wrongCheckLetter returns another letter of the UPN alphabet.
func wrongCheckLetter(c byte, r *rand.Rand) byte {
	i := 0
	for i < len(upnLetters) && upnLetters[i] != c {
		i++
	}
	return upnLetters[(i+1+r.IntN(len(upnLetters)-1))%len(upnLetters)]
}
