package contract_test

import (
	"testing"
	"time"

	"earlyhelp/pipeline/contract"
)

func TestEthnicGroup5(t *testing.T) {
	tests := []struct {
		code, group string
		ok          bool
	}{
		{contract.EthAsianChinese, contract.GroupAsian, true},
		{contract.EthBlackOther, contract.GroupBlack, true},
		{contract.EthMixedWhiteAsian, contract.GroupMixed, true}, // Mixed, though it names White
		{contract.EthWhiteRoma, contract.GroupWhite, true},
		{contract.EthOtherArab, contract.GroupOther, true},
		{contract.EthOtherAny, contract.GroupOther, true},
		{contract.EthNotStated, "", false},
		{"", "", false},
		{"WBRI", "", false}, // a DfE code: connectors map it first
		{"ASIAN_", "", false},
	}
	for _, tt := range tests {
		g, ok := contract.EthnicGroup5(tt.code)
		if g != tt.group || ok != tt.ok {
			t.Errorf("EthnicGroup5(%q) = %q, %v; want %q, %v", tt.code, g, ok, tt.group, tt.ok)
		}
	}
	if n := len(contract.Ethnicity19()); n != 19 {
		t.Errorf("Ethnicity19 has %d codes", n)
	}
	per := map[string]int{}
	for _, c := range contract.Ethnicity19() {
		g, ok := contract.EthnicGroup5(c)
		if !ok {
			t.Errorf("%s has no group", c)
		}
		per[g]++
	}
	// ONS 2021: 5 Asian, 3 Black, 4 Mixed, 5 White, 2 Other.
	want := map[string]int{contract.GroupAsian: 5, contract.GroupBlack: 3, contract.GroupMixed: 4, contract.GroupWhite: 5, contract.GroupOther: 2}
	for g, n := range want {
		if per[g] != n {
			t.Errorf("group %s has %d codes, want %d", g, per[g], n)
		}
	}
	// A caller changing its copy must not change the next caller's.
	a := contract.Ethnicity19()
	a[0] = "changed"
	if contract.Ethnicity19()[0] != contract.EthAsianBangladeshi {
		t.Error("Ethnicity19 shares its table with callers")
	}
}

func TestAttendanceCategory(t *testing.T) {
	before := contract.CodeSet2024Start().AddDate(0, 0, -1)
	after := contract.CodeSet2024Start()
	tests := []struct {
		code      string
		on        time.Time
		canonical string
		category  string
		ok        bool
	}{
		{"L", after, contract.CodeLate, contract.CategoryPresent, true},
		{" i ", after, contract.CodeIllness, contract.CategoryAuth, true},
		{"[U]", after, contract.CodeLateAfterClose, contract.CategoryUnauth, true},
		{"G", after, contract.CodeHoliday, contract.CategoryUnauth, true},
		{"a", after, "Y2", contract.CategoryNotCounted, true}, // substitute, not the letter A
		{"H", before, "H", contract.CategoryAuth, true},
		{"H", after, "", "", false},  // withdrawn in 2024
		{"K", before, "", "", false}, // new in 2024
		{"-", after, "-", contract.CategoryMissing, true},
		{"WHAT", after, "", "", false},
	}
	for _, tt := range tests {
		c, cat, ok := contract.AttendanceCategory(tt.code, tt.on)
		if c != tt.canonical || cat != tt.category || ok != tt.ok {
			t.Errorf("AttendanceCategory(%q, %s) = %q, %q, %v; want %q, %q, %v",
				tt.code, tt.on.Format(time.DateOnly), c, cat, ok, tt.canonical, tt.category, tt.ok)
		}
	}
	// The date form and the days form agree on the first day of the set.
	if days := int32(contract.CodeSet2024Start().Unix() / 86400); days != contract.CodeSet2024Days {
		t.Errorf("CodeSet2024Start is day %d, CodeSet2024Days %d", days, contract.CodeSet2024Days)
	}
}

func TestHVStatuses(t *testing.T) {
	for _, s := range contract.AttendanceStatuses() {
		wnb, att := contract.WasNotBrought(s), contract.Attended(s)
		if wnb && att {
			t.Errorf("status %s is both attended and was not brought", s)
		}
		wantWNB := s == "3" || s == "7"
		wantAtt := s == "5" || s == "6"
		if wnb != wantWNB || att != wantAtt {
			t.Errorf("status %s: was not brought %v, attended %v", s, wnb, att)
		}
	}
}

func TestListsHoldNoDuplicates(t *testing.T) {
	lists := map[string][]string{
		"Sources": contract.Sources(), "Namespaces": contract.Namespaces(), "Roles": contract.Roles(),
		"CSCOutcomes": contract.CSCOutcomes(), "ContactTypes": contract.ContactTypes(),
		"AttendanceStatuses": contract.AttendanceStatuses(), "Instruments": contract.Instruments(),
		"DutiesOwed": contract.DutiesOwed(), "ArrearsStages": contract.ArrearsStages(),
	}
	for name, l := range lists {
		seen := map[string]bool{}
		for _, v := range l {
			if seen[v] {
				t.Errorf("%s lists %q twice", name, v)
			}
			seen[v] = true
		}
	}
	if n := len(contract.Sources()); n != 12 {
		t.Errorf("%d sources, CONTRACTS §2 has 12", n)
	}
	// The housing features number stages by their index: 3 is the notice
	// seeking possession the rules baseline counts as a crisis.
	if s := contract.ArrearsStages(); s[0] != "none" || s[3] != "nosp_served" || s[8] != "evicted" {
		t.Errorf("arrears stages out of order: %v", s)
	}
}
