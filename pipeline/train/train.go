package train

import (
	"context"
	"earlyhelp/pipeline"
	"earlyhelp/pipeline/atomicfile"
	"earlyhelp/pipeline/rundir"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
)

// filter returns the rows of a snapshot whose household keep allows; for
// training, not those whose outcome an early-help offer changed.
func (r *run) filter(ctx context.Context, s *pipeline.Snapshot, keep func(string) bool, training bool) (arrow.Record, []bool, error) {
	hh, err := pipeline.StringColumn(s.Table.Record, pipeline.ColHousehold)
	if err != nil {
		return nil, nil, err
	}
	keepRow := make([]bool, hh.Len())
	var labels []bool
	for i := range keepRow {
		k := (keep == nil || keep(hh.Value(i))) && !(training && s.Intervened != nil && s.Intervened[i])
		keepRow[i] = k
		if k {
			labels = append(labels, s.Labels[i])
		}
	}
	rec, err := filterRecord(r.Mem, s.Table.Record, keepRow, len(labels))
	if err != nil {
		return nil, nil, err
	}
	return rec, labels, nil
}

// appender is an Arrow builder of values of type T.
type appender[T any] interface {
	array.Builder
	Append(T)
	AppendValues([]T, []bool)
}

// keepRows copies the rows of c that keep marks into b and returns the new
// array. Without nulls the kept values go in as one slice, which costs far
// less than appending them one by one.
func keepRows[T any](b appender[T], c arrow.Array, keep []bool, n int, value func(int) T) arrow.Array {
	defer b.Release()
	b.Reserve(n)
	if c.NullN() == 0 {
		vals := make([]T, 0, n)
		for i, k := range keep {
			if k {
				vals = append(vals, value(i))
			}
		}
		b.AppendValues(vals, nil)
		return b.NewArray()
	}
	for i, k := range keep {
		switch {
		case !k:
		case c.IsNull(i):
			b.AppendNull()
		default:
			b.Append(value(i))
		}
	}
	return b.NewArray()
}

// keepFixed is keepRows for a fixed-width column without nulls, written
// straight into the new array's buffer. Every row is copied and only a
// kept one moves the end on, so the loop has no branch on keep, which a
// household's cross-fit group makes as good as random, and no call per
// value. Building training sets this way was the backtest's largest
// shared cost after the fits.
func keepFixed[T arrow.FixedWidthType](mem memory.Allocator, c arrow.Array, keep []bool, n int) arrow.Array {
	vals := arrow.GetValues[T](c.Data(), 1)
	width := c.DataType().(arrow.FixedWidthDataType).Bytes()
	buf := memory.NewResizableBuffer(mem)
	defer buf.Release()
	buf.Resize((n + 1) * width) // the slot after the last kept row takes the next row's copy
	out := arrow.GetData[T](buf.Bytes())
	j := 0
	for i, k := range keep {
		out[j] = vals[i]
		d := 0
		if k {
			d = 1
		}
		j += d
	}
	buf.ResizeNoShrink(j * width)
	data := array.NewData(c.DataType(), j, []*memory.Buffer{nil, buf}, nil, 0, 0)
	defer data.Release()
	return array.MakeFromData(data)
}

// keepStrings is keepFixed for a string column without nulls: the kept
// values' bytes are counted first and copied into buffers of exactly that
// size. Through a builder, every value became a Go string in a slice
// beside it and the data buffer grew by doubling: at 300,000 children the
// household column's copies were two of the backtest's 25 GB of
// allocations, and the slice of strings was memory the collector had to
// scan.
func keepStrings(mem memory.Allocator, c *array.String, keep []bool, n int) arrow.Array {
	offs, vals := c.ValueOffsets(), c.ValueBytes()
	base := offs[0]
	size := 0
	for i, k := range keep {
		if k {
			size += int(offs[i+1] - offs[i])
		}
	}
	offBuf, dataBuf := memory.NewResizableBuffer(mem), memory.NewResizableBuffer(mem)
	defer offBuf.Release()
	defer dataBuf.Release()
	offBuf.Resize((n + 1) * arrow.Int32SizeBytes)
	dataBuf.Resize(size)
	out, data := arrow.Int32Traits.CastFromBytes(offBuf.Bytes()), dataBuf.Bytes()
	j, at := 0, int32(0)
	for i, k := range keep {
		if !k {
			continue
		}
		out[j] = at
		at += int32(copy(data[at:], vals[offs[i]-base:offs[i+1]-base]))
		j++
	}
	out[j] = at
	d := array.NewData(c.DataType(), n, []*memory.Buffer{nil, offBuf, dataBuf}, nil, 0, 0)
	defer d.Release()
	return array.MakeFromData(d)
}

// filterRecord keeps the rows of rec that keep marks. A feature table is
// strings, dates and float64s; copying those directly is much cheaper than
// Arrow's general selection kernels on tables this narrow.
func filterRecord(mem memory.Allocator, rec arrow.Record, keep []bool, n int) (arrow.Record, error) {
	// The callers count the rows they keep from what they keep beside
	// them (labels, weights); a count that disagrees would misalign those,
	// and would overrun keepFixed's buffer.
	kept := 0
	for _, k := range keep {
		if k {
			kept++
		}
	}
	if kept != n || len(keep) != int(rec.NumRows()) {
		return nil, fmt.Errorf("filter: %d of %d marks kept for %d rows; want %d kept", kept, len(keep), rec.NumRows(), n)
	}
	cols := make([]arrow.Array, rec.NumCols())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for j, col := range rec.Columns() {
		switch c := col.(type) {
		case *array.Float64:
			if c.NullN() == 0 {
				cols[j] = keepFixed[float64](mem, c, keep, n)
			} else {
				cols[j] = keepRows(array.NewFloat64Builder(mem), c, keep, n, c.Value)
			}
		case *array.String:
			if c.NullN() == 0 {
				cols[j] = keepStrings(mem, c, keep, n)
			} else {
				cols[j] = keepRows(array.NewStringBuilder(mem), c, keep, n, c.Value)
			}
		case *array.Date32:
			if c.NullN() == 0 {
				cols[j] = keepFixed[arrow.Date32](mem, c, keep, n)
			} else {
				cols[j] = keepRows(array.NewDate32Builder(mem), c, keep, n, c.Value)
			}
		default:
			return nil, fmt.Errorf("feature table column %s is %s: not a string, date or float64",
				rec.Schema().Field(j).Name, col.DataType())
		}
	}
	return array.NewRecord(rec.Schema(), cols, int64(n)), nil
}

// train fits the chosen candidate for this run's date on every household:
// trained on the dates before the latest whose outcomes are known, and
// calibrated on that one.
func (r *run) train(ctx context.Context) error {
	c, err := r.chosen()
	if err != nil {
		return err
	}
	dates := r.foldTraining(r.TrainFor, r.Start)
	if len(dates) == 0 {
		return fmt.Errorf("no training date has %d weeks of history and a full horizon before %s",
			r.opts.MinHistoryWeeks, r.TrainFor.Format(time.DateOnly))
	}
	// A fifth of households calibrates the model the rest train. Every
	// snapshot but the drift reference's is let go once its rows are drawn.
	psi := newest(dates, psiSnapshots)
	r.rows = newSampler(float64(CrossFitGroups-1)/CrossFitGroups, len(dates), func(d time.Time) bool {
		return slices.ContainsFunc(psi, d.Equal)
	})
	defer r.rows.release()
	ft, err := r.fitFor(ctx, c, dates, noGroup, 0)
	if err != nil {
		return err
	}
	r.Model, r.BaseRate = ft.model, float64(ft.pos)/float64(max(1, ft.rows))
	r.TrainDates = ft.train
	r.PSIRef = r.psiReference()
	mm := &pipeline.ModelManifest{Kind: c.Name, TrainingRows: ft.rows, Positives: ft.pos, HorizonWeeks: r.HorizonWeeks}
	for _, d := range ft.train {
		mm.TrainingDates = append(mm.TrainingDates, d.Format(time.DateOnly))
	}
	if !ft.cal.IsZero() && !ft.uncalibrated {
		mm.CalibrationAsOf = ft.cal.Format(time.DateOnly)
	}
	mm.ID, mm.Features = ft.model.ID(), ft.model.Features()
	r.Man.Model = mm
	var b []byte
	switch {
	case r.opts.SaveModel != nil:
		b, err = r.opts.SaveModel(ft.model, pipeline.ModelWindow{Kind: c.Name, TrainingDates: ft.train, CalibrationAsOf: ft.cal, HorizonWeeks: r.HorizonWeeks})
	default:
		if j, ok := ft.model.(json.Marshaler); ok {
			b, err = j.MarshalJSON()
		}
	}
	if err != nil {
		return fmt.Errorf("model artifact: %w", err)
	}
	if b != nil {
		if err := atomicfile.WriteFile(rundir.Open(r.Dir).ModelJSON(), b, 0o640); err != nil {
			return err
		}
		r.Output(rundir.ModelFile)
	}
	if err := r.WriteModelCard(); err != nil {
		return fmt.Errorf("model card: %w", err)
	}
	r.Log.Info().Str("model", mm.ID).Str("kind", c.Name).Int("rows", ft.rows).Int("positives", ft.pos).Msg("model trained")
	return nil
}

// chosen is the candidate the backtest chose, or the only one there is.
func (r *run) chosen() (pipeline.Candidate, error) {
	name := ""
	if r.Backtest != nil {
		name = r.Backtest.Chosen
	}
	for _, c := range r.opts.Candidates {
		if name == "" || c.Name == name {
			return c, nil
		}
	}
	return pipeline.Candidate{}, fmt.Errorf("no candidate model named %q", name)
}
