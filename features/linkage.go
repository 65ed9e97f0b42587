package features

import (
	"context"
	"fmt"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/memory"

	"earlyhelp/pipeline/contract"
)

// Linkage measures how much of each source the roster can place: for every
// record dated in the year before an as-of date, whether the person it is
// about (by NHS number, lead person, or the case a placement belongs to) is
// in a household on that date. A falling rate is the first sign of a broken
// extract or a drifting person index, and missed links are not random
// (domain-data §5.2), so engineers watch it per source.
type Linkage struct {
	bySource map[string][]linked
}

// linked is one record: the person it names (-1 if unknown to the
// register) and its date.
type linked struct {
	person int32
	day    Day
}

// linkedSources says, per source, which column names the person and how.
var linkedSources = []struct {
	source, dateCol, keyCol string
	by                      string // "nhs", "person" or "case"
}{
	{contract.HVContacts, contract.ColAppointmentDate, contract.ColNHSNumber, "nhs"},
	{contract.HVAssessments, "", contract.ColNHSNumber, "nhs"},
	{contract.HomelessnessCases, contract.ColApproachDate, contract.ColLeadPersonID, "person"},
	{contract.RentAccounts, contract.ColSnapshotDate, contract.ColLeadPersonID, "person"},
	{contract.TemporaryAccom, contract.ColPlacementStart, contract.ColCaseRef, "case"},
	{contract.CSCReferrals, contract.ColReferralDate, contract.ColPersonID, "person"},
}

// LoadLinkage reads the identifying columns of the linked sources, for
// Rates as of dates whose 52 weeks begin on or after since: whole
// deliveries of a dated source with nothing from since on may be left out
// (every linked source's date is a required column, so none is undated).
// Sources with nothing stored are left out, and so are those measured
// already (a key of measured), unless another source needs them.
func LoadLinkage(ctx context.Context, mem memory.Allocator, t Tables, r *Roster, since Day, measured map[string]float64) (*Linkage, error) {
	lk := &Linkage{bySource: map[string][]linked{}}
	caseLead := map[string]linked{} // homelessness case → its lead person and approach
	for _, src := range linkedSources {
		if _, ok := measured[src.source]; ok && src.source != contract.HomelessnessCases {
			continue // placements need the cases' leads
		}
		var recs []linked
		scan := func(fn func(arrow.Record) error) error {
			// Homelessness cases are read whole: a placement of the year
			// may belong to a case approached long before.
			if src.dateCol == "" || src.source == contract.HomelessnessCases {
				return t.Scan(ctx, mem, src.source, fn)
			}
			return ScanSince(ctx, mem, t, src.source, src.dateCol, since, fn)
		}
		err := scan(func(rec arrow.Record) error {
			var g Getter
			key := g.Str(rec, src.keyCol)
			var date interface {
				Value(int) arrow.Date32
				IsValid(int) bool
			}
			if src.dateCol != "" {
				date = g.Date(rec, src.dateCol)
			}
			var caseRef interface{ Value(int) string }
			if src.source == contract.HomelessnessCases {
				// A placement names its case, not a person: remember
				// whose each case is.
				caseRef = g.Str(rec, contract.ColCaseRef)
			}
			if g.Err != nil {
				return g.Err
			}
			for i := 0; i < int(rec.NumRows()); i++ {
				l := linked{person: -1, day: openEnded}
				if date != nil && date.IsValid(i) {
					l.day = Day(date.Value(i))
				}
				k := key.Value(i)
				switch src.by {
				case "nhs":
					if p, ok := r.byNHS[k]; ok {
						l.person = p
					}
				case "person":
					if p, ok := r.byID[k]; ok {
						l.person = p
					}
				case "case":
					if c, ok := caseLead[k]; ok {
						l.person = c.person
					}
				}
				recs = append(recs, l)
				if caseRef != nil {
					caseLead[caseRef.Value(i)] = l
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", src.source, err)
		}
		if len(recs) > 0 {
			lk.bySource[src.source] = recs
		}
	}
	return lk, nil
}

// Rates returns, per source, the share of its records of the 52 weeks
// before the link's date (all records for an undated source) whose person
// is in a household on that date.
func (lk *Linkage) Rates(l *Link) map[string]float64 {
	placed := l.Placed()
	w := Before(l.AsOf, 52)
	out := map[string]float64{}
	for src, recs := range lk.bySource {
		var seen, found int
		for _, r := range recs {
			if r.day != openEnded && !w.Contains(r.day) {
				continue
			}
			seen++
			if r.person >= 0 && placed[r.person] {
				found++
			}
		}
		if seen > 0 {
			out[src] = float64(found) / float64(seen)
		}
	}
	return out
}

// Placed marks, by person number, everyone in one of the link's
// households on its date: whom a source's record can be matched to.
func (l *Link) Placed() []bool {
	placed := make([]bool, l.roster.People())
	for i := range l.Households {
		for _, p := range l.Households[i].members {
			placed[p] = true
		}
	}
	return placed
}
