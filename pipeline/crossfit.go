package pipeline

import (
	"context"
	"runtime"
	"runtime/pprof"
	"sync"

	"github.com/apache/arrow/go/v15/arrow"
)

// foldGroup is one test group of a fold: the rows its models train and
// calibrate on and the rows they score, built once by whichever model
// reaches it first and released when the last is done with it.
type foldGroup struct {
	once sync.Once
	ts   *trainingSet
	test arrow.Record
	err  error

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

// prepare builds the group's rows once; every caller gets the first
// build's error.
func (g *foldGroup) prepare(build func() (*trainingSet, arrow.Record, error)) error {
	g.once.Do(func() { g.ts, g.test, g.err = build() })
	return g.err
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
// units stay in order within its lane. That order matters: liblinear's L1
// solver draws from the C library's process-wide rand(), so an L1 model
// depends on the L1 fits run before it, and a serial backtest's models are
// reproduced only if each candidate fits in the same order.
func (r *run) eachModel(ctx context.Context, names []string, lane func(ctx context.Context, m int, turn func(func() error) error) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	slots := make(chan struct{}, r.workers())
	turn := func(work func() error) error {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		defer func() { <-slots }()
		return work()
	}
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
