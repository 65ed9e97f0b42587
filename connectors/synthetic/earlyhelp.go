package synthetic

import (
	"math"
	"math/rand/v2"
	"slices"

	"earlyhelp/connectors"
)

const (
	earlyHelpFile  = "incoming/early_help_episodes/early_help_episodes.csv"
	objectionsFile = "incoming/objections/objections.csv"
)

// Early-help model: a household's episode opens after a referral with
// outcome early_help (step-down from children's social care) or directly,
// from schools and health visitors, at a hazard rising with need. Episodes
// run 12–40 weeks; a household has one at a time.
const (
	earlyHelpPerYear = 0.012 // direct episodes per family a year at average need
	earlyHelpNeed    = 0.7
	objectionShare   = 0.005 // households with an objection (about 0.5%)
)

type earlyHelp struct {
	g      *generator
	need   *needState
	r      *rand.Rand
	f      *csvFile
	n      int
	openTo []day // per household: end of the open episode
	buf    []byte
}

func (g *generator) newEarlyHelp(need *needState) (*earlyHelp, error) {
	f, err := g.out.create(earlyHelpFile, 0o644, false, g.columns(connectors.EarlyHelpEpisodes)...)
	if err != nil {
		return nil, err
	}
	e := &earlyHelp{g: g, need: need, f: f, r: newRand(g.cfg.Seed, streamEarlyHelp), openTo: make([]day, len(g.w.households))}
	for i := range e.openTo {
		e.openTo[i] = math.MinInt32
	}
	return e, nil
}

func (e *earlyHelp) week(t int, ws, we day) {
	w := e.g.w
	base := earlyHelpPerYear / 52
	for h := range w.households {
		if e.g.kids[h] == 0 || e.openTo[h] >= ws {
			continue
		}
		if e.r.Float64() < base*math.Exp(earlyHelpNeed*(e.need.z(h, t)-w.meanNeed)) {
			e.open(h, ws+day(e.r.IntN(int(we-ws)+1)))
		}
	}
}

// open starts an episode of household h on day d unless one is open.
func (e *earlyHelp) open(h int, d day) {
	if e.openTo[h] >= d {
		return
	}
	end := d + day(7*(12+e.r.IntN(29)))
	e.openTo[h] = end
	e.n++
	b := appendRef(e.buf[:0], "EH", e.n, 5)
	b = append(b, ',')
	b = appendID(b, 'H', h+1)
	b = append(b, ',')
	b = appendISO(b, d)
	b = append(b, ',')
	if end <= e.g.w.last {
		b = appendISO(b, end)
	}
	e.buf = append(b, '\n')
	e.f.end(e.buf)
}

func (e *earlyHelp) finish() { e.g.rows[connectors.EarlyHelpEpisodes] = e.f.rows }

// writeObjections picks about 0.5% of households; an adult member living
// there at End objects on a day of the window, and a few withdraw later.
// Rows are in received order, as a register lists them.
func (g *generator) writeObjections() error {
	f, err := g.out.create(objectionsFile, 0o644, false, g.columns(connectors.Objections)...)
	if err != nil {
		return err
	}
	w := g.w
	r := newRand(g.cfg.Seed, streamObjections)
	type objection struct {
		person        int
		received, wdn day
	}
	var obs []objection
	span := int(w.last-w.first) + 1
	for h := range w.households {
		if r.Float64() >= objectionShare {
			continue
		}
		var adults []int
		for _, m := range w.households[h].members {
			if w.persons[m.person].child < 0 && m.to == noDay {
				adults = append(adults, m.person)
			}
		}
		if len(adults) == 0 {
			continue
		}
		o := objection{person: adults[r.IntN(len(adults))], received: w.first + day(r.IntN(span)), wdn: noDay}
		if r.Float64() < 0.1 {
			o.wdn = o.received + day(7+r.IntN(120))
		}
		obs = append(obs, o)
	}
	slices.SortStableFunc(obs, func(a, b objection) int { return int(a.received) - int(b.received) })
	var b []byte
	for _, o := range obs {
		b = appendID(b[:0], 'P', o.person+1)
		b = append(b, ',')
		b = appendISO(b, o.received)
		b = append(b, ',')
		if o.wdn <= w.last {
			b = appendISO(b, o.wdn)
		}
		f.end(append(b, '\n'))
	}
	g.rows[connectors.Objections] = f.rows
	return nil
}
