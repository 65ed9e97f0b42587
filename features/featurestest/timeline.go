package featurestest

import (
	"context"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/features"
	"earlyhelp/pipeline"
)

// Timeline builds set as of asOf (yyyy-mm-dd) and returns household's
// timeline events, failing the test for an event of another kind or one
// whose text names any of idents.
func Timeline(t testing.TB, set *features.Set, mem memory.Allocator, asOf, household, kind string, idents []string) []pipeline.TimelineEvent {
	t.Helper()
	table, err := set.Build(context.Background(), mem, Day(asOf).ToTime())
	if err != nil {
		t.Fatal(err)
	}
	defer table.Release()
	ids := table.Record.Column(table.Record.Schema().FieldIndices(pipeline.ColHousehold)[0]).(*array.String)
	row := -1
	for i := 0; i < ids.Len(); i++ {
		if ids.Value(i) == household {
			row = i
		}
	}
	if row < 0 {
		t.Fatalf("household %s not in the table", household)
	}
	evs := set.Timeline(table, row).Events
	for _, e := range evs {
		if e.Kind != kind {
			t.Errorf("event %+v: kind %q; want %q", e, e.Kind, kind)
		}
		for _, id := range idents {
			if strings.Contains(e.Text, id) {
				t.Errorf("event %+v names an identifier", e)
			}
		}
	}
	return evs
}
