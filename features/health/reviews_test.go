package health

import (
	"testing"

	"earlyhelp/features"
)

func TestReviews(t *testing.T) {
	born := features.Day(20000)
	held := func(kind string, age features.Day) contact {
		return contact{kind: kind, attended: true, day: born + age}
	}
	tests := []struct {
		name         string
		age          features.Day // on the as-of date
		contacts     []contact
		missed, late int
	}{
		{"a baby of 3 weeks owes nothing yet", 21, nil, 0, 0},
		{"new birth overdue at 5 weeks", 35, nil, 1, 0},
		{"new birth held on day 12, on time", 35, []contact{held("NEW_BIRTH", 12)}, 0, 0},
		{"new birth held on day 20: late", 35, []contact{held("NEW_BIRTH", 20)}, 0, 1},
		{"a missed appointment is not a held review", 35, []contact{{kind: "NEW_BIRTH", wasNotBrought: true, day: born + 12}}, 1, 0},
		{"at 11 weeks both early reviews are due", 77, []contact{held("NEW_BIRTH", 12)}, 1, 0},
		{"a review held after the as-of date does not count", 77, []contact{held("NEW_BIRTH", 12), held("SIX_EIGHT_WEEK", 80)}, 1, 0},
		{"at 3 years only the reviews due in the last year count", 3 * 365, nil, 1, 0},
		{"a late new-birth visit stops counting after the first birthday", 400, []contact{held("NEW_BIRTH", 20), held("SIX_EIGHT_WEEK", 50)}, 0, 0},
	}
	for _, tc := range tests {
		rd := summarise(tc.contacts, born)
		missed, late := rd.count(born + tc.age)
		if missed != tc.missed || late != tc.late {
			t.Errorf("%s: missed %d, late %d; want %d, %d", tc.name, missed, late, tc.missed, tc.late)
		}
	}
}
