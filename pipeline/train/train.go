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

// keepRows copies the rows of cs that rows lists (rows[k] for cs[k], see
// keptRows), in order, into b and returns the new array. Without nulls
// the kept values go in as one slice, which costs far less than
// appending them one by one.
func keepRows[T any](b appender[T], cs []arrow.Array, rows [][]int32, n int, value func(k, i int) T) arrow.Array {
	defer b.Release()
	b.Reserve(n)
	nulls := 0
	for _, c := range cs {
		nulls += c.NullN()
	}
	if nulls == 0 {
		vals := make([]T, 0, n)
		for k, idx := range rows {
			for _, i := range idx {
				vals = append(vals, value(k, int(i)))
			}
		}
		b.AppendValues(vals, nil)
		return b.NewArray()
	}
	for k, idx := range rows {
		for _, i := range idx {
			if cs[k].IsNull(int(i)) {
				b.AppendNull()
			} else {
				b.Append(value(k, int(i)))
			}
		}
	}
	return b.NewArray()
}

// keptRows lists, record by record, the rows keeps marks (n of them in
// all), in order. Every column of a set copies the same rows, so they are
// found once, and a column copies its kept values only: a fold's training
// set keeps about a tenth of its dates' rows and its calibration set a
// twentieth or less, where each column used to copy every row and move
// its end on at the kept ones. At a tenth a column's values are still
// read from nearly every cache line, so gathering a 300,000-child fold's
// set took about three quarters of the time (BenchmarkGather), not a
// tenth. The pass over the marks has no branch on keep, which a
// household's cross-fit group makes as good as random.
func keptRows(keeps [][]bool, n int) [][]int32 {
	all := make([]int32, n+1) // the slot after the last kept row takes the next row's index
	out := make([][]int32, len(keeps))
	j := 0
	for k, keep := range keeps {
		lo := j
		for i, kept := range keep {
			all[j] = int32(i)
			d := 0
			if kept {
				d = 1
			}
			j += d
		}
		out[k] = all[lo:j:j]
	}
	return out
}

// keepFixed is keepRows for fixed-width columns without nulls, given the
// rows kept (keptRows): each kept value is copied straight into the new
// array's buffer, with no call per value.
func keepFixed[T arrow.FixedWidthType](mem memory.Allocator, cs []arrow.Array, rows [][]int32, n int) arrow.Array {
	width := cs[0].DataType().(arrow.FixedWidthDataType).Bytes()
	buf := memory.NewResizableBuffer(mem)
	defer buf.Release()
	buf.Resize((n + 1) * width) // a slot more: an empty buffer has no first element to cast from
	out := arrow.GetData[T](buf.Bytes())
	j := 0
	for k, idx := range rows {
		vals := arrow.GetValues[T](cs[k].Data(), 1)
		o := out[j : j+len(idx)]
		for t, i := range idx {
			o[t] = vals[i]
		}
		j += len(idx)
	}
	buf.ResizeNoShrink(n * width)
	data := array.NewData(cs[0].DataType(), n, []*memory.Buffer{nil, buf}, nil, 0, 0)
	defer data.Release()
	return array.MakeFromData(data)
}

// keepStrings is keepFixed for string columns without nulls: the kept
// values' bytes are counted first and copied into buffers of exactly that
// size. Through a builder, every value became a Go string in a slice
// beside it and the data buffer grew by doubling: at 300,000 children the
// household column's copies were two of the backtest's 25 GB of
// allocations, and the slice of strings was memory the collector had to
// scan.
func keepStrings(mem memory.Allocator, cs []*array.String, rows [][]int32, n int) arrow.Array {
	size := 0
	for k, idx := range rows {
		offs := cs[k].ValueOffsets()
		for _, i := range idx {
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
	for k, idx := range rows {
		offs, vals := cs[k].ValueOffsets(), cs[k].ValueBytes()
		base := offs[0]
		for _, i := range idx {
			out[j] = at
			at += int32(copy(data[at:], vals[offs[i]-base:offs[i+1]-base]))
			j++
		}
	}
	out[j] = at
	d := array.NewData(cs[0].DataType(), n, []*memory.Buffer{nil, offBuf, dataBuf}, nil, 0, 0)
	defer d.Release()
	return array.MakeFromData(d)
}

// typed is cs as arrays of one concrete type, which their data type
// decides; asserted once, not once a value.
func typed[T arrow.Array](cs []arrow.Array) []T {
	out := make([]T, len(cs))
	for k, c := range cs {
		out[k] = c.(T)
	}
	return out
}

// filterRecord keeps the rows of rec that keep marks. A feature table is
// strings, dates and float64s; copying those directly is much cheaper than
// Arrow's general selection kernels on tables this narrow.
func filterRecord(mem memory.Allocator, rec arrow.Record, keep []bool, n int) (arrow.Record, error) {
	return gather(mem, []arrow.Record{rec}, [][]bool{keep}, n)
}

// gather stacks the rows of recs, which share a schema, that keeps marks
// (keeps[k] for recs[k]) into one record: filterRecord of each followed
// by their concatenation, without the records between. A training set is
// gathered from every training date's rows at once.
func gather(mem memory.Allocator, recs []arrow.Record, keeps [][]bool, n int) (arrow.Record, error) {
	if len(recs) == 0 || len(keeps) != len(recs) {
		return nil, fmt.Errorf("gather: %d marks for %d feature tables", len(keeps), len(recs))
	}
	// The callers count the rows they keep from what they keep beside
	// them (labels, weights); a count that disagrees would misalign those,
	// and would overrun keepFixed's buffer.
	kept := 0
	schema := recs[0].Schema()
	for k, keep := range keeps {
		if len(keep) != int(recs[k].NumRows()) {
			return nil, fmt.Errorf("filter: %d marks for %d rows", len(keep), recs[k].NumRows())
		}
		if !recs[k].Schema().Equal(schema) {
			return nil, fmt.Errorf("feature tables differ in schema")
		}
		for _, k := range keep {
			if k {
				kept++
			}
		}
	}
	if kept != n {
		return nil, fmt.Errorf("filter: %d marks kept; want %d kept", kept, n)
	}
	cols := make([]arrow.Array, schema.NumFields())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	rows := keptRows(keeps, n)
	cs := make([]arrow.Array, len(recs))
	for j, f := range schema.Fields() {
		nulls := 0
		for k, rec := range recs {
			cs[k] = rec.Column(j)
			nulls += cs[k].NullN()
		}
		switch f.Type.ID() {
		case arrow.FLOAT64:
			if nulls == 0 {
				cols[j] = keepFixed[float64](mem, cs, rows, n)
			} else {
				fs := typed[*array.Float64](cs)
				cols[j] = keepRows(array.NewFloat64Builder(mem), cs, rows, n, func(k, i int) float64 { return fs[k].Value(i) })
			}
		case arrow.STRING:
			ss := typed[*array.String](cs)
			if nulls == 0 {
				cols[j] = keepStrings(mem, ss, rows, n)
			} else {
				cols[j] = keepRows(array.NewStringBuilder(mem), cs, rows, n, func(k, i int) string { return ss[k].Value(i) })
			}
		case arrow.DATE32:
			if nulls == 0 {
				cols[j] = keepFixed[arrow.Date32](mem, cs, rows, n)
			} else {
				ds := typed[*array.Date32](cs)
				cols[j] = keepRows(array.NewDate32Builder(mem), cs, rows, n, func(k, i int) arrow.Date32 { return ds[k].Value(i) })
			}
		default:
			return nil, fmt.Errorf("feature table column %s is %s: not a string, date or float64", f.Name, f.Type)
		}
	}
	return array.NewRecord(schema, cols, int64(n)), nil
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
