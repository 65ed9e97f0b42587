package models_test

import (
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"earlyhelp/models"
)

func TestLogisticRoundTrip(t *testing.T) {
	mem := checkedAllocator(t)
	m := fit(t, mem, true)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var back models.Logistic
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}

	test, _ := synthetic(t, mem, 500, 3, true)
	defer test.Release()
	want, err := m.Score(context.Background(), test)
	if err != nil {
		t.Fatal(err)
	}
	got, err := back.Score(context.Background(), test)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Error("loaded model scores differ from the saved one")
	}
	if m.ID() != back.ID() {
		t.Errorf("ID after round trip: got %s; want %s", back.ID(), m.ID())
	}
	if !regexp.MustCompile(`^logistic-[0-9a-f]{12}$`).MatchString(m.ID()) {
		t.Errorf("ID %q: want logistic- and 12 hex digits", m.ID())
	}
}

func TestLogisticUnmarshalErrors(t *testing.T) {
	tests := []struct{ name, json, want string }{
		{"not json", `{`, "unexpected end"},
		{"wrong kind", `{"kind":"tree"}`, `kind "tree"`},
		{"lengths", `{"kind":"logistic","features":["a"],"means":[0],"sds":[1],"coefficients":[]}`, "1 features but 1 means, 1 sds, 0 coefficients"},
		{"zero sd", `{"kind":"logistic","features":["a"],"means":[0],"sds":[0],"coefficients":[1]}`, `feature "a": sd 0`},
		{"duplicate", `{"kind":"logistic","features":["a","a"],"means":[0,0],"sds":[1,1],"coefficients":[1,1]}`, `feature "a" appears twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m models.Logistic
			err := json.Unmarshal([]byte(tt.json), &m)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v; want one containing %q", err, tt.want)
			}
		})
	}
}
