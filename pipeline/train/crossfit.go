package train

import (
	"context"
	"earlyhelp/pipeline"
	"errors"
	"fmt"
	"runtime"
	"runtime/pprof"
	"sync"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
)

// foldGroup is one test group of a fold: the rows its models train and
// calibrate on and the rows they score, built once by whichever model
// reaches it first and released when the last is done with it.
type foldGroup struct {
	built once
	ts    *trainingSet
	test  arrow.Record

	mu       sync.Mutex
	users    int           // models yet to finish with the group
	released chan struct{} // closed once the group's rows are released
}

func newFoldGroup(users int) *foldGroup {
	g := &foldGroup{users: users, released: make(chan struct{})}
	if users == 0 {
		close(g.released)
	}
	return g
}

// prepare builds the group's rows once, in a turn of its own; every
// caller gets the first build's error.
func (g *foldGroup) prepare(ctx context.Context, turn func(func() error) error, build func() (*trainingSet, arrow.Record, error)) error {
	return g.built.do(ctx, turn, func() (err error) {
		g.ts, g.test, err = build()
		return err
	})
}

// once runs a piece of shared work for whichever model's lane asks first,
// in a turn of its own. A lane that asks while it runs waits without
// holding a turn: when a lane waited inside its turn, a fold's snapshot
// or a group's rows were built on one core while the other sat idle
// behind the wait, as the lanes all reach a group at about the same time.
type once struct {
	mu      sync.Mutex
	started bool
	done    chan struct{}
	err     error
}

// do runs work in a turn if no lane has started it, and returns its
// error once it has run.
func (o *once) do(ctx context.Context, turn func(func() error) error, work func() error) error {
	o.mu.Lock()
	if o.done == nil {
		o.done = make(chan struct{})
	}
	first, done := !o.started, o.done
	o.started = true
	o.mu.Unlock()
	if first {
		o.err = turn(work)
		close(done)
		return o.err
	}
	select {
	case <-done:
		return o.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// done says one model has finished with the group; the last releases it.
func (g *foldGroup) done() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.users == 0 {
		return
	}
	if g.users--; g.users == 0 {
		g.drop()
	}
}

// drop releases the group's rows; done calls it, and the fold after a
// failure, when some models never finished.
func (g *foldGroup) drop() {
	if g.ts != nil {
		g.ts.release()
	}
	if g.test != nil {
		g.test.Release()
		g.test = nil
	}
	select {
	case <-g.released:
	default:
		close(g.released)
	}
}

// workers is how many models may train at once.
func (r *run) workers() int {
	if r.opts.Workers > 0 {
		return r.opts.Workers
	}
	return runtime.GOMAXPROCS(0)
}

// eachModel runs lane(ctx, m, turn) for every model m (named by names) in
// its own goroutine, labelled with the model's name for CPU profiles,
// and returns the first error, cancelling the others' ctx. A lane calls
// turn around each unit of heavy work, which waits for one of the workers
// to be free; so at most workers units run at once, while each model's
// units stay in order within its lane. (The order once decided liblinear's
// L1 models, which drew on the process's rand(); each L1 fit now seeds it,
// so a model depends only on its own rows.)
func (r *run) eachModel(ctx context.Context, names []string, lane func(ctx context.Context, m int, turn func(func() error) error) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	turn := turns(ctx, r.workers())
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for m, name := range names {
		wg.Go(func() {
			var err error
			pprof.Do(ctx, pprof.Labels("model", name), func(ctx context.Context) { err = lane(ctx, m, turn) })
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				cancel()
			}
		})
	}
	wg.Wait()
	return firstErr
}

// turns returns the turn eachModel hands its lanes: it runs work once one
// of workers slots is free, or returns ctx's error first.
func turns(ctx context.Context, workers int) func(work func() error) error {
	slots := make(chan struct{}, workers)
	return func(work func() error) error {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		defer func() { <-slots }()
		return work()
	}
}

// foldRun is one backtest date while its models train, set up by the
// first model to reach it.
type foldRun struct {
	d     time.Time
	setup once
	fr    *pipeline.FoldResult
	fs    *pipeline.FoldScores
	s     *pipeline.Snapshot
	train []time.Time // foldTraining's dates
	// byGroup lists the test rows of each group; groups holds each group's
	// shared rows, first is the first group with households.
	byGroup [][]int
	groups  []*foldGroup
	first   int
	// firstSet describes the first group's training set, which the fold
	// reports.
	firstSet struct {
		rows, pos int
		train     []time.Time
		cal       time.Time
	}
}

// backtestModels are the candidates and the rules baseline, if any.
func (r *run) backtestModels() []pipeline.Candidate {
	models := append(append([]pipeline.Candidate{}, r.opts.Candidates...), r.opts.Comparisons...)
	if r.opts.Rules != nil {
		models = append(models, pipeline.Candidate{Name: pipeline.BaselineRules})
	}
	return models
}

// setup builds the fold's test table and splits it into groups.
func (r *run) setupFold(ctx context.Context, fo *foldRun, start time.Time, models []pipeline.Candidate) error {
	fo.train = r.foldTraining(fo.d, start)
	fo.fr = &pipeline.FoldResult{AsOf: fo.d.Format(time.DateOnly), Groups: CrossFitGroups, Models: map[string]pipeline.EvalMetrics{}}
	s, err := r.SnapshotAt(ctx, fo.d)
	if err != nil {
		return err
	}
	fo.s = s
	hh, err := pipeline.StringColumn(s.Table.Record, pipeline.ColHousehold)
	if err != nil {
		return err
	}
	n := hh.Len()
	if n == 0 {
		return errors.New("no households to test")
	}
	fo.fs = &pipeline.FoldScores{AsOf: fo.d, Table: s.Table, Scores: map[string][]float64{}, Labels: s.Labels,
		K: min(r.opts.Capacity, n), Rows: make([]int, n)}
	fo.byGroup = make([][]int, CrossFitGroups)
	for i := range fo.fs.Rows {
		fo.fs.Rows[i] = i
		g := CrossFitGroup(hh.Value(i))
		fo.byGroup[g] = append(fo.byGroup[g], i)
	}
	fo.fr.TestHouseholds, fo.fr.K = n, fo.fs.K
	for _, c := range models {
		fo.fs.Scores[c.Name] = make([]float64, n)
	}
	fo.groups = make([]*foldGroup, CrossFitGroups)
	fo.first = -1
	for g := range fo.groups {
		users := len(models)
		if len(fo.byGroup[g]) == 0 {
			users = 0
		} else if fo.first < 0 {
			fo.first = g
		}
		fo.groups[g] = newFoldGroup(users)
	}
	return nil
}

// buildGroup gathers group g's rows: the next group along calibrates, the
// other three train, and g is scored.
func (r *run) buildGroup(ctx context.Context, fo *foldRun, g int) func() (*trainingSet, arrow.Record, error) {
	return func() (*trainingSet, arrow.Record, error) {
		ts, err := r.trainingSet(ctx, fo.train, g, (g+1)%CrossFitGroups)
		if err != nil {
			return nil, nil, err
		}
		test, _, err := r.filter(ctx, fo.s, func(h string) bool { return CrossFitGroup(h) == g }, false)
		if err != nil {
			ts.release()
			return nil, nil, err
		}
		if g == fo.first {
			fo.firstSet.rows, fo.firstSet.pos, fo.firstSet.train, fo.firstSet.cal = ts.rows, ts.pos, ts.train, ts.cal
		}
		return ts, test, nil
	}
}

// runFolds trains and tests every model on every date. Each model works
// through the dates and their groups in order in its own goroutine (see
// eachModel), so no model waits for another between dates; the rows of a
// group are built once and shared, and a model may run at most two groups
// ahead of the slowest, which bounds the rows held at once.
func (r *run) runFolds(ctx context.Context, dates []time.Time, start time.Time) ([]*pipeline.FoldResult, []*pipeline.FoldScores, error) {
	models := r.backtestModels()
	names := make([]string, len(models))
	for m, c := range models {
		names[m] = c.Name
	}
	fos := make([]*foldRun, len(dates))
	for f, d := range dates {
		fos[f] = &foldRun{d: d}
	}
	defer func() {
		for _, fo := range fos {
			for _, grp := range fo.groups {
				grp.mu.Lock()
				grp.drop()
				grp.mu.Unlock()
			}
		}
	}()
	err := r.eachModel(ctx, names, func(ctx context.Context, m int, turn func(func() error) error) error {
		c := models[m]
		var passed []*foldGroup // the groups this model has finished, in order
		// The model's fit on the group before starts the next: neighbouring
		// groups share two of their three training groups, and neighbouring
		// dates most of their training dates, so it is near the next
		// optimum. The lane's order is fixed, so the start is too.
		var prev pipeline.Model
		for _, fo := range fos {
			err := fo.setup.do(ctx, turn, func() error { return r.setupFold(ctx, fo, start, models) })
			if err != nil {
				return fmt.Errorf("fold %s: %w", fo.d.Format(time.DateOnly), err)
			}
			for g, grp := range fo.groups {
				if len(fo.byGroup[g]) == 0 {
					continue
				}
				if k := len(passed); k >= 2 {
					select {
					case <-passed[k-2].released:
					case <-ctx.Done():
						return ctx.Err()
					}
				}
				if err := grp.prepare(ctx, turn, r.buildGroup(ctx, fo, g)); err != nil {
					return fmt.Errorf("fold %s: %w", fo.d.Format(time.DateOnly), err)
				}
				err := turn(func() error {
					ft, err := r.fitOn(ctx, c, grp.ts, prev)
					if err != nil {
						return err
					}
					prev = ft.raw
					sc, err := ft.model.Score(ctx, grp.test)
					if err != nil {
						return fmt.Errorf("%s scores: %w", c.Name, err)
					}
					for j, i := range fo.byGroup[g] {
						fo.fs.Scores[c.Name][i] = sc[j]
					}
					return nil
				})
				if err != nil {
					return fmt.Errorf("fold %s: %w", fo.d.Format(time.DateOnly), err)
				}
				grp.done()
				passed = append(passed, grp)
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	frs := make([]*pipeline.FoldResult, len(fos))
	fss := make([]*pipeline.FoldScores, len(fos))
	// Each fold's books are its own: kept one fold after another, they
	// were five seconds of one core at 300,000 children, the other idle.
	r.parallel(len(fos), func(f int) {
		fo := fos[f]
		fr, fs := fo.fr, fo.fs
		fr.TrainingRows, fr.TrainingPos = fo.firstSet.rows, fo.firstSet.pos
		baseRate := float64(fo.firstSet.pos) / float64(max(1, fo.firstSet.rows))
		for _, t := range fo.firstSet.train {
			fr.TrainingDates = append(fr.TrainingDates, t.Format(time.DateOnly))
		}
		if !fo.firstSet.cal.IsZero() {
			fr.CalibrationAsOf = fo.firstSet.cal.Format(time.DateOnly)
		}
		for _, c := range models {
			fr.Models[c.Name] = r.opts.Evaluate(fs.Scores[c.Name], fs.Labels, fs.K)
		}
		random := randomScores(fo.s.Table.Record, baseRate)
		fs.Scores[pipeline.BaselineRandom] = random
		fr.Models[pipeline.BaselineRandom] = expectedRandom(r.opts.Evaluate(random, fs.Labels, fs.K))
		if dep := r.deprivedRows(fo.s.Table.Record, fs.Rows); dep != nil {
			fr.DeprivedAUC = map[string]float64{}
			labels := make([]bool, len(dep))
			for j, i := range dep {
				labels[j] = fs.Labels[i]
			}
			for name, sc := range fs.Scores {
				sub := make([]float64, len(dep))
				for j, i := range dep {
					sub[j] = sc[i]
				}
				fr.DeprivedAUC[name] = r.opts.Evaluate(sub, labels, 0).AUC
			}
			fr.DeprivedAUC[pipeline.BaselineRandom] = 0.5
		}
		frs[f], fss[f] = fr, fs
	})
	return frs, fss, nil
}

// parallel runs do(0), …, do(n-1) on the stage's workers and waits.
func (r *run) parallel(n int, do func(i int)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(r.workers(), n) {
		wg.Go(func() {
			for i := range next {
				do(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// deprivedRows are the positions, among a fold's test rows, of households
// in IMD deciles 1 and 2; nil when the table does not say.
func (r *run) deprivedRows(rec arrow.Record, rows []int) []int {
	if r.opts.DeprivedFeature == "" {
		return nil
	}
	col, ok := pipeline.FloatColumns(rec)[r.opts.DeprivedFeature]
	if !ok {
		return nil
	}
	var out []int
	for j, i := range rows {
		if col[i] >= 9 {
			out = append(out, j)
		}
	}
	return out
}
