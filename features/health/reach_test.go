package health_test

import (
	"context"
	"maps"
	"testing"

	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/features"
	"earlyhelp/features/health"
)

// TestHealthNeitherBoundsNorMeasures: health visiting gives the documented
// empty answers of features.Builder. Its contacts (2023 to 2025 here) do
// not bound the period a snapshot can be built for, and its sources' link
// match rates are the roster Linkage's: the same with the builder as
// without it, with no entry of its own.
func TestHealthNeitherBoundsNorMeasures(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	tb := oneFamily(mem, nil, nil)
	defer tb.Release()
	ctx := context.Background()
	with := features.NewSet(tb, features.Options{}, health.New(tb, mem))
	without := features.NewSet(tb, features.Options{})
	from, to, err := with.DataSpan(ctx, mem)
	if err != nil || !from.IsZero() || !to.IsZero() {
		t.Errorf("DataSpan = %v, %v, %v; want no bound and no error", from, to, err)
	}
	got, err := with.LinkMatch(ctx, mem, familyAsOf)
	if err != nil {
		t.Fatal(err)
	}
	want, err := without.LinkMatch(ctx, mem, familyAsOf)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got[health.Contacts]; !ok || !maps.Equal(got, want) {
		t.Errorf("link match with the builder %v; without %v; want the same, %s among them", got, want, health.Contacts)
	}
}
