package review

import (
	"fmt"

	"earlyhelp/pipeline"
)

// chart is the timeline drawn on the family page: weekly attendance as bars
// (the share of possible sessions attended; none where no session was
// possible), a dot over each week that had late arrivals, and a tick under
// each week with a health or housing event. It holds numbers and the run's
// texts; templates/timeline.html draws it, so html/template escapes every
// text from the run (a week's start, an event's text) like any other.
type chart struct {
	W, H   int
	Desc   string
	Grid   []gridLine
	Bars   []bar
	Lates  []lateDot
	Labels []axisLabel
	Marks  []eventMark
}

type gridLine struct {
	X1, X2, Y, TextX, TextY, Pct int
}

type bar struct {
	X, Y, W, H         string
	Colour             string
	Week               string
	Attended, Possible int
	Late               int
}

type lateDot struct {
	X    string
	Y    int
	Late int
	Week string
}

type axisLabel struct {
	X    string
	Y    int
	Text string
}

type eventMark struct {
	X      string
	Y      int
	Colour string
	Date   string
	Text   string
}

// newChart lays out weeks (the last 60 at most) and the events that fall
// in them.
func newChart(weeks []pipeline.TimelineWeek, events []pipeline.TimelineEvent) *chart {
	const (
		w, h        = 640, 220
		left, top   = 44, 16
		plotW       = w - left - 8
		plotH       = 140
		tickY       = top + plotH + 34
		labelY      = top + plotH + 16
		maxWeeks    = 60
		present     = "#00703c"
		absentColor = "#d4351c"
	)
	if len(weeks) > maxWeeks {
		weeks = weeks[len(weeks)-maxWeeks:]
	}
	c := &chart{W: w, H: h, Desc: describe(weeks)}
	for _, pct := range []int{0, 50, 90, 100} {
		y := top + plotH - plotH*pct/100
		c.Grid = append(c.Grid, gridLine{X1: left, X2: left + plotW, Y: y, TextX: left - 4, TextY: y + 4, Pct: pct})
	}
	if len(weeks) == 0 {
		return c
	}
	f := func(v float64) string { return fmt.Sprintf("%.1f", v) }
	slot := float64(plotW) / float64(len(weeks))
	for i, wk := range weeks {
		x := float64(left) + float64(i)*slot
		if wk.Possible > 0 {
			att := float64(wk.Possible-wk.Absent) / float64(wk.Possible)
			bh := att * plotH
			colour := present
			if att < 0.9 {
				colour = absentColor
			}
			c.Bars = append(c.Bars, bar{X: f(x + 1), Y: f(float64(top+plotH) - bh), W: f(slot - 2), H: f(bh), Colour: colour,
				Week: wk.Start, Attended: wk.Possible - wk.Absent, Possible: wk.Possible, Late: wk.Late})
		}
		if wk.Late > 0 {
			c.Lates = append(c.Lates, lateDot{X: f(x + slot/2), Y: top - 6, Late: wk.Late, Week: wk.Start})
		}
		if i%4 == 0 {
			c.Labels = append(c.Labels, axisLabel{X: f(x), Y: labelY, Text: shortDate(wk.Start)})
		}
	}
	for _, e := range events {
		i, ok := weekOf(weeks, e.Date)
		if !ok {
			continue
		}
		colour := "#1d70b8"
		if e.Kind == "housing" {
			colour = "#4c2c92"
		}
		c.Marks = append(c.Marks, eventMark{X: f(float64(left) + float64(i)*slot + slot/2), Y: tickY, Colour: colour, Date: e.Date, Text: e.Text})
	}
	return c
}

// shortDate is a yyyy-mm-dd date's mm-dd for an axis label; anything else
// is shown whole rather than cut where it has no month.
func shortDate(d string) string {
	if len(d) == len("2006-01-02") && d[4] == '-' && d[7] == '-' {
		return d[5:]
	}
	return d
}

// weekOf finds the week a date (yyyy-mm-dd) falls in: the latest week
// starting on or before it.
func weekOf(weeks []pipeline.TimelineWeek, date string) (int, bool) {
	at := -1
	for i, w := range weeks {
		if w.Start <= date {
			at = i
		}
	}
	return at, at >= 0
}

func describe(weeks []pipeline.TimelineWeek) string {
	possible, absent, late := 0, 0, 0
	for _, w := range weeks {
		possible, absent, late = possible+w.Possible, absent+w.Absent, late+w.Late
	}
	if possible == 0 {
		return "No school sessions recorded in these weeks."
	}
	return fmt.Sprintf("Over %d weeks: %d of %d sessions attended (%.0f%%), %d late arrivals.",
		len(weeks), possible-absent, possible, 100*float64(possible-absent)/float64(possible), late)
}
