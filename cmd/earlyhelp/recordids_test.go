package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/pipeline/store"
)

// TestSourceRecordIDsArePseudonymised: the source systems' own record ids
// (a council officer can look a family up by them) are stored as
// pseudonyms, like every other identifier.
func TestSourceRecordIDsArePseudonymised(t *testing.T) {
	smallDemo(t)
	st, err := store.Open(filepath.Join(demoDir, "var"), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ source, column, file string }{
		{"hv_contacts", "contact_id", "hv_contacts"},
		{"csc_referrals", "referral_id", "csc_referrals"},
		{"temporary_accommodation", "placement_id", "temporary_accommodation"},
		{"early_help_episodes", "episode_id", "early_help_episodes"},
	} {
		raw := map[string]bool{}
		files, _ := filepath.Glob(filepath.Join(demoDir, "incoming", tc.file, "*.csv"))
		for _, f := range files {
			for _, r := range readCSVRows(t, f) {
				raw[r[tc.column]] = true
			}
		}
		if len(raw) == 0 {
			t.Fatalf("%s: no %s in the extracts", tc.source, tc.column)
		}
		n := 0
		err := st.Scan(context.Background(), memory.DefaultAllocator, tc.source, func(rec arrow.Record) error {
			i := rec.Schema().FieldIndices(tc.column)
			if len(i) == 0 {
				t.Fatalf("%s: no %s column in the store", tc.source, tc.column)
			}
			col := rec.Column(i[0]).(*array.String)
			for k := 0; k < col.Len(); k++ {
				n++
				if raw[col.Value(k)] {
					t.Errorf("%s.%s holds a raw id", tc.source, tc.column)
					return nil
				}
			}
			return nil
		})
		if err != nil || n == 0 {
			t.Errorf("%s: scanned %d rows: %v", tc.source, n, err)
		}
	}
}
