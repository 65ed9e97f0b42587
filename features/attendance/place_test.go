package attendance

import (
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"earlyhelp/features"
)

// TestPlaceAllOnWorkers: the grid, stamps and older versions that entries
// placed on several goroutines make are those one goroutine makes, with
// amendments that win, lose and tie on their stamps, spread over chunks.
func TestPlaceAllOnWorkers(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	const pupils, days = 37, 20
	var chunks [][]entry
	var part []entry
	for range 20000 {
		e := entry{pupil: int32(rng.IntN(pupils)), day: features.Day(rng.IntN(days)), pm: rng.IntN(2) == 1,
			mark: uint8(1 + rng.IntN(int(markMissing)))}
		if rng.IntN(3) > 0 {
			e.stamp = uint32(1 + rng.IntN(50)) // few values: equal stamps happen
		}
		part = append(part, e)
		if len(part) == 1000 {
			chunks, part = append(chunks, part), nil
		}
	}
	chunks = append(chunks, part)
	grid := func(workers int) *Index {
		idx := &Index{start: 0, days: days, marks: make([]uint8, pupils*days*2),
			older: map[int][]version{}, stamps: map[int]uint32{}}
		idx.placeAll(chunks, workers)
		return idx
	}
	want := grid(1)
	if len(want.older) == 0 || len(want.stamps) == 0 {
		t.Fatalf("%d slots with older versions, %d stamped: the test places no amendments", len(want.older), len(want.stamps))
	}
	for _, workers := range []int{2, 3, 8} {
		got := grid(workers)
		if !slices.Equal(got.marks, want.marks) {
			t.Errorf("%d workers: the grid differs from one worker's", workers)
		}
		if !maps.Equal(got.stamps, want.stamps) {
			t.Errorf("%d workers: %d stamps; one worker has %d, or they differ", workers, len(got.stamps), len(want.stamps))
		}
		if !maps.EqualFunc(got.older, want.older, slices.Equal[[]version]) {
			t.Errorf("%d workers: older versions differ from one worker's", workers)
		}
	}
}
