package review

import (
	"fmt"
	"html/template"
	"strings"

	"earlyhelp/pipeline"
)

// timelineSVG draws the household's weekly attendance as bars (the share of
// possible sessions attended; none where no session was possible) with a
// dot over each week that had late arrivals, and a tick under each week
// with a health or housing event. It is built from numbers and dates only,
// so it is safe to mark as trusted HTML.
func timelineSVG(tl *pipeline.Timeline) template.HTML {
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
	weeks := tl.Weeks
	if len(weeks) > maxWeeks {
		weeks = weeks[len(weeks)-maxWeeks:]
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="eh-timeline" viewBox="0 0 %d %d" role="img" aria-labelledby="timeline-title timeline-desc" xmlns="http://www.w3.org/2000/svg">`, w, h)
	b.WriteString(`<title id="timeline-title">Attendance by week</title>`)
	fmt.Fprintf(&b, `<desc id="timeline-desc">%s</desc>`, template.HTMLEscapeString(describe(weeks)))
	for _, pct := range []int{0, 50, 90, 100} {
		y := top + plotH - plotH*pct/100
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="#b1b4b6" stroke-width="1"/>`, left, left+plotW, y, y)
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11" text-anchor="end" fill="#505a5f">%d%%</text>`, left-4, y+4, pct)
	}
	if len(weeks) == 0 {
		b.WriteString(`</svg>`)
		return template.HTML(b.String())
	}
	slot := float64(plotW) / float64(len(weeks))
	index := map[string]int{}
	for i, wk := range weeks {
		index[wk.Start] = i
		x := float64(left) + float64(i)*slot
		if wk.Possible > 0 {
			att := float64(wk.Possible-wk.Absent) / float64(wk.Possible)
			bh := att * plotH
			colour := present
			if att < 0.9 {
				colour = absentColor
			}
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>Week of %s: %d of %d sessions attended, %d late</title></rect>`,
				x+1, float64(top+plotH)-bh, slot-2, bh, colour, wk.Start, wk.Possible-wk.Absent, wk.Possible, wk.Late)
		}
		if wk.Late > 0 {
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%d" r="3" fill="#f47738"><title>%d late in the week of %s</title></circle>`, x+slot/2, top-6, wk.Late, wk.Start)
		}
		if i%4 == 0 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="10" fill="#505a5f">%s</text>`, x, labelY, wk.Start[5:])
		}
	}
	for _, e := range tl.Events {
		i, ok := weekOf(weeks, index, e.Date)
		if !ok {
			continue
		}
		colour := "#1d70b8"
		if e.Kind == "housing" {
			colour = "#4c2c92"
		}
		x := float64(left) + float64(i)*slot + slot/2
		fmt.Fprintf(&b, `<path d="M%.1f %d l-5 10 h10 z" fill="%s"><title>%s: %s</title></path>`, x, tickY, colour,
			template.HTMLEscapeString(e.Date), template.HTMLEscapeString(e.Text))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// weekOf finds the week a date (yyyy-mm-dd) falls in: the latest week
// starting on or before it.
func weekOf(weeks []pipeline.TimelineWeek, _ map[string]int, date string) (int, bool) {
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
