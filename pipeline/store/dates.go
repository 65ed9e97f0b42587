package store

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
)

// dateSpan is the earliest and latest non-null value of one date32 column
// of a delivery. ScanSince reads it to leave out a delivery that holds
// nothing on or after a day without opening its file.
//
// In state.json a delivery's spans are an object keyed by column name:
//
//	"dates": {"session_date": {"min": "2025-09-01", "max": "2026-07-17"}}
//
// The days are yyyy-mm-dd so that an engineer reading the file can check
// them against the extract. A delivery with no rows, a column whose every
// value is null and state written before spans were recorded have no span,
// and a delivery without a span of the column asked for is always read.
type dateSpan struct {
	Min, Max arrow.Date32
}

type dateSpanJSON struct {
	Min string `json:"min"`
	Max string `json:"max"`
}

// The days a span may hold: those yyyy-mm-dd can write (years 0 to 9999).
// A span reaching outside is not recorded, so its delivery is always read.
var (
	firstSpanDay = arrow.Date32FromTime(time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC))
	lastSpanDay  = arrow.Date32FromTime(time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC))
)

func (s dateSpan) writable() bool {
	return s.Min >= firstSpanDay && s.Max <= lastSpanDay && s.Min <= s.Max
}

func (s dateSpan) MarshalJSON() ([]byte, error) {
	return json.Marshal(dateSpanJSON{Min: s.Min.FormattedString(), Max: s.Max.FormattedString()})
}

func (s *dateSpan) UnmarshalJSON(b []byte) error {
	var j dateSpanJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	lo, err := time.Parse(time.DateOnly, j.Min)
	if err != nil {
		return fmt.Errorf("date span min: %w", err)
	}
	hi, err := time.Parse(time.DateOnly, j.Max)
	if err != nil {
		return fmt.Errorf("date span max: %w", err)
	}
	if hi.Before(lo) {
		return fmt.Errorf("date span %s to %s ends before it starts", j.Min, j.Max)
	}
	s.Min, s.Max = arrow.Date32FromTime(lo), arrow.Date32FromTime(hi)
	return nil
}

// dateSpans gathers the spans of every date32 column of a delivery's
// records, by column name.
type dateSpans map[string]dateSpan

// add widens the spans by rec's non-null dates.
func (ds dateSpans) add(rec arrow.Record) {
	for i, f := range rec.Schema().Fields() {
		col, ok := rec.Column(i).(*array.Date32)
		if !ok || col.Len() == col.NullN() {
			continue
		}
		vals := col.Date32Values()
		var lo, hi arrow.Date32
		if col.NullN() == 0 {
			lo, hi = slices.Min(vals), slices.Max(vals)
		} else {
			seen := false
			for j, v := range vals {
				switch {
				case col.IsNull(j):
				case !seen:
					lo, hi, seen = v, v, true
				default:
					lo, hi = min(lo, v), max(hi, v)
				}
			}
		}
		if cur, ok := ds[f.Name]; ok {
			lo, hi = min(lo, cur.Min), max(hi, cur.Max)
		}
		ds[f.Name] = dateSpan{Min: lo, Max: hi}
	}
}

// recorded is the spans as state.json keeps them: nil when there are none,
// and without any span yyyy-mm-dd cannot write.
func (ds dateSpans) recorded() map[string]dateSpan {
	var out map[string]dateSpan
	for name, s := range ds {
		if !s.writable() {
			continue
		}
		if out == nil {
			out = map[string]dateSpan{}
		}
		out[name] = s
	}
	return out
}
