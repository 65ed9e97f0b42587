package connectors

import (
	"errors"
	"testing"
)

func TestCheckUPN(t *testing.T) {
	// Vectors from domain-data §1.7.
	tests := []struct {
		name string
		upn  string
		want error
	}{
		{"valid", "B801200005001", nil},
		{"wrong check letter", "A801200005001", ErrUPNCheck},
		{"valid 2", "G938201500123", nil},
		{"valid 3", "R201200400017", nil},
		{"temporary", "A80120000501A", nil},
		{"too short", "B80120000500", ErrUPNFormat},
		{"letter I", "B80120000501I", ErrUPNFormat},
		{"letter mid", "B8012000A5001", ErrUPNFormat},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := CheckUPN(tc.upn); !errors.Is(got, tc.want) {
				t.Errorf("CheckUPN(%q) = %v; want %v", tc.upn, got, tc.want)
			}
		})
	}
}

func TestCheckNHS(t *testing.T) {
	tests := []struct {
		name string
		nhs  string
		want error
	}{
		{"valid", "9434765919", nil},
		{"transposed", "9434765991", ErrNHSCheck},
		{"nine digits", "943476591", ErrNHSFormat},
		{"letters", "94347659A9", ErrNHSFormat},
		{"formatted then normalised", NormaliseNHS("943 476 5919"), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := CheckNHS(tc.nhs); !errors.Is(got, tc.want) {
				t.Errorf("CheckNHS(%q) = %v; want %v", tc.nhs, got, tc.want)
			}
		})
	}
}

func TestNamesMatchSpecs(t *testing.T) {
	specs := Specs()
	if len(Names()) != len(specs) {
		t.Errorf("Names lists %d sources; Specs has %d", len(Names()), len(specs))
	}
	for _, n := range Names() {
		if _, ok := specs[n]; !ok {
			t.Errorf("source %s has no spec", n)
		}
	}
}
