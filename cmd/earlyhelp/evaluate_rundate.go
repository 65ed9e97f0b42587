package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/apache/arrow/go/v15/parquet/file"
	"github.com/apache/arrow/go/v15/parquet/pqarrow"

	"earlyhelp/features"
	"earlyhelp/models"
	"earlyhelp/models/evaluate"
	"earlyhelp/pipeline"
	"earlyhelp/pipeline/contract"
	"earlyhelp/pipeline/rundir"
	"earlyhelp/pipeline/store"
	"earlyhelp/pipeline/train"
)

// ceilingLambda is the light L2 penalty on the ceiling's standardised
// weights. The ceiling is cross-fitted over the backtest's own groups of
// households (train.CrossFitGroup).
const ceilingLambda = 1.0

// runDateFigures holds the run's own scores, on every household it scored,
// against the truth's week before the run date: the model, the need, the
// true probability and the features' ceiling (the run's features fitted
// to the true probability, cross-fitted), each in expectation over the
// true probabilities, since no outcome after the run date is known.
func runDateFigures(ctx context.Context, runDir, truthDir string, st *store.Store, k int) (*evaluate.RunDate, error) {
	run := rundir.Open(runDir)
	fr, err := readRunFeatures(ctx, run.FeaturesParquet())
	if err != nil {
		return nil, fmt.Errorf("features.parquet: %w", err)
	}
	scores, err := readRunScores(ctx, run.ScoresParquet())
	if err != nil {
		return nil, fmt.Errorf("scores.parquet: %w", err)
	}
	n := len(fr.households)
	hh := make([]oracleHousehold, n)
	byRef := map[string][]int{}
	model := make([]float64, n)
	group := make([]int, n)
	deprived := make([]bool, n)
	for i, ps := range fr.households {
		s, ok := scores[ps]
		if !ok {
			return nil, errors.New("a household of features.parquet has no score")
		}
		model[i] = s
		ref, err := st.Reidentify(contract.NSHousehold, ps)
		if err != nil {
			return nil, fmt.Errorf("a household of the run cannot be re-identified: %w", err)
		}
		byRef[ref] = append(byRef[ref], i)
		hh[i] = oracleHousehold{pseudonym: ps, lastDay: fr.asOf.AddDate(0, 0, -1)}
		group[i] = train.CrossFitGroup(ps)
		// area_deprivation is 11 − the IMD decile.
		deprived[i] = fr.deprivation != nil && fr.deprivation[i] >= 9
	}
	if err := readTruth(filepath.Join(truthDir, "household_weeks.csv"), hh, byRef); err != nil {
		return nil, err
	}
	need, trueP := make([]float64, n), make([]float64, n)
	for i, h := range hh {
		if !h.found {
			return nil, fmt.Errorf("the truth has no week holding %s for every household: is %s this council's?", h.lastDay.Format(time.DateOnly), truthDir)
		}
		need[i], trueP[i] = h.Need, h.TrueP
	}
	ceiling, err := models.CrossFitProbabilities(ctx, fr.cols, trueP, group, train.CrossFitGroups, ceilingLambda)
	if err != nil {
		return nil, err
	}
	return evaluate.ComputeRunDate(fr.asOf.Format(time.DateOnly), k, map[string][]float64{
		evaluate.RankerModel: model, evaluate.RankerNeed: need, evaluate.RankerTrueP: trueP, evaluate.RankerCeiling: ceiling,
	}, trueP, deprived), nil
}

// runFeatures is a run's feature table, by column.
type runFeatures struct {
	asOf        time.Time
	households  []string
	cols        [][]float64 // every numeric feature, cols[j][i]
	deprivation []float64   // the area_deprivation column (nil without one)
}

func readRunFeatures(ctx context.Context, path string) (*runFeatures, error) {
	out := &runFeatures{}
	var names []string
	err := eachParquetRecord(ctx, path, func(rec arrow.Record) error {
		if names == nil {
			names = models.FeatureColumns(rec)
			out.cols = make([][]float64, len(names))
		}
		hh, err := pipeline.StringColumn(rec, pipeline.ColHousehold)
		if err != nil {
			return err
		}
		for i := 0; i < hh.Len(); i++ {
			out.households = append(out.households, hh.Value(i))
		}
		cols, err := models.Columns(rec, names)
		if err != nil {
			return err
		}
		for j, c := range cols {
			out.cols[j] = append(out.cols[j], c...)
			if names[j] == contract.FeatAreaDeprivation {
				out.deprivation = out.cols[j]
			}
		}
		if out.asOf.IsZero() && rec.NumRows() > 0 {
			var g features.Getter
			d := g.Date(rec, pipeline.ColAsOf)
			if g.Err != nil {
				return g.Err
			}
			out.asOf = d.Value(0).ToTime()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(out.households) == 0 {
		return nil, errors.New("no households")
	}
	return out, nil
}

// readRunScores maps each scored household's pseudonym to its score.
func readRunScores(ctx context.Context, path string) (map[string]float64, error) {
	out := map[string]float64{}
	err := eachParquetRecord(ctx, path, func(rec arrow.Record) error {
		var g features.Getter
		hh, sc := g.Str(rec, pipeline.ColHousehold), g.Float64(rec, "score")
		if g.Err != nil {
			return g.Err
		}
		for i := 0; i < hh.Len(); i++ {
			out[hh.Value(i)] = sc.Value(i)
		}
		return nil
	})
	return out, err
}

// eachParquetRecord calls fn with each record of a Parquet file.
func eachParquetRecord(ctx context.Context, path string, fn func(arrow.Record) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	pf, err := file.NewParquetReader(f)
	if err != nil {
		return err
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 1 << 14}, memory.DefaultAllocator)
	if err != nil {
		return err
	}
	tbl, err := fr.ReadTable(ctx)
	if err != nil {
		return err
	}
	defer tbl.Release()
	tr := array.NewTableReader(tbl, 1<<14)
	defer tr.Release()
	for tr.Next() {
		if err := fn(tr.Record()); err != nil {
			return err
		}
	}
	return tr.Err()
}

// printRunDate prints the run date's figures and the model's and the
// ceiling's ratios to the need.
func printRunDate(w io.Writer, rd *evaluate.RunDate) {
	fmt.Fprintf(w, "on the run date (%s, %d households, K=%d), expected against the true probabilities:\n", rd.AsOf, rd.Households, rd.K)
	fmt.Fprintf(w, "  %-17s %7s %7s %12s\n", "ranker", "AUC", "P@K", "AUC IMD 1-2")
	for _, n := range []string{evaluate.RankerModel, evaluate.RankerCeiling, evaluate.RankerNeed, evaluate.RankerTrueP} {
		m := rd.Rankers[n]
		fmt.Fprintf(w, "  %-17s %7s %7s %12s\n", n, f3(m.AUC), f3(m.PrecisionAtK), f3(m.AUCDeprived))
	}
	for _, n := range []string{evaluate.RankerModel, evaluate.RankerCeiling} {
		r := rd.RatioToNeed[n]
		if r == nil {
			continue
		}
		fmt.Fprintf(w, "  %s as a share of the need:", n)
		for _, k := range []string{"auc", "auc_imd_deciles_1_2", "precision_at_k"} {
			if v := r[k]; v != nil {
				fmt.Fprintf(w, " %s %.2f", k, *v)
			}
		}
		fmt.Fprintln(w)
	}
}
