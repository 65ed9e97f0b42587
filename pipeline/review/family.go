package review

import (
	"slices"
	"strconv"

	"earlyhelp/pipeline"
)

// What the family page says about a listed household, from its CSV row and
// its families.json entry.

// BandWords is the band with its likelihood in words, "very high — about 1
// in 4": navigators read odds better than scores.
func (f *family) BandWords() string {
	if f.Likelihood == "" || f.Likelihood == "unknown" {
		return f.Band
	}
	return f.Band + " — " + f.Likelihood
}

// ScoreText is the raw score for those who want it: families.json's when the
// run wrote one, else the CSV's text.
func (f *family) ScoreText() string {
	if f.hasDetail {
		return strconv.FormatFloat(f.RawScore, 'f', 3, 64)
	}
	return f.Score
}

// ReasonTexts are the reasons to show: families.json's (each already names
// its child and date), or the CSV's for a run from before them.
func (f *family) ReasonTexts() []string {
	if len(f.Why) == 0 {
		return f.Reasons
	}
	out := make([]string, len(f.Why))
	for i, r := range f.Why {
		out[i] = r.Text
	}
	return out
}

// School names a child's school: its name when the council supplied a
// schools file, else its URN, else "not known".
func School(c pipeline.FamilyChild) string {
	switch {
	case c.SchoolName != "":
		return c.SchoolName
	case c.School != "":
		return "URN " + c.School
	}
	return "not known"
}

// hasChild reports whether ref is one of the family's children, in
// families.json's children or its timeline.
func (f *family) hasChild(ref string) bool {
	if ref == "" {
		return false
	}
	if slices.ContainsFunc(f.Kids, func(c pipeline.FamilyChild) bool { return c.Ref == ref }) {
		return true
	}
	return f.Timeline != nil && slices.ContainsFunc(f.Timeline.Children, func(c pipeline.ChildWeeks) bool { return c.Child == ref })
}

// timelineFor returns the weeks and events of the timeline to draw: the
// household's, or with child set, that child's weeks and own events. A
// child with no weeks of their own (not of school age) has none.
func timelineFor(tl *pipeline.Timeline, child string) ([]pipeline.TimelineWeek, []pipeline.TimelineEvent) {
	if tl == nil {
		return nil, nil
	}
	if child == "" {
		return tl.Weeks, tl.Events
	}
	var weeks []pipeline.TimelineWeek
	for _, c := range tl.Children {
		if c.Child == child {
			weeks = c.Weeks
		}
	}
	var events []pipeline.TimelineEvent
	for _, e := range tl.Events {
		if e.Child == child {
			events = append(events, e)
		}
	}
	return weeks, events
}
