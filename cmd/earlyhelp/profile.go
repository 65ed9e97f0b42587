package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"runtime/metrics"
	"runtime/pprof"
	"sync"
	"time"

	"earlyhelp/pipeline/atomicfile"
)

// profiled adds --cpuprofile and --memprofile, for the commands that run
// the pipeline and call profile: a flag taken and then ignored would leave
// an engineer profiling nothing.
func (c *commonFlags) profiled(fs *flag.FlagSet) {
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile (go tool pprof) of the command to this file")
	fs.StringVar(&c.memProfile, "memprofile", "", "write a heap profile (go tool pprof) taken at the command's peak of live heap to this file")
}

// profile starts the profiles asked for; stop ends them and writes them.
func (c *commonFlags) profile() (stop func(), err error) {
	stops := []func(){}
	stop = func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	if c.cpuProfile != "" {
		f, err := os.Create(c.cpuProfile)
		if err != nil {
			return nil, fmt.Errorf("--cpuprofile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, fmt.Errorf("--cpuprofile: %w", err)
		}
		stops = append(stops, func() {
			pprof.StopCPUProfile()
			f.Close()
		})
	}
	if c.memProfile != "" {
		// Fail now on a folder that is not there, not after an hour's run.
		f, err := os.Create(c.memProfile)
		if err != nil {
			return nil, fmt.Errorf("--memprofile: %w", err)
		}
		f.Close()
		p := startPeakProfile(time.Second)
		path := c.memProfile
		stops = append(stops, func() {
			if err := p.stop(path); err != nil {
				fmt.Fprintf(os.Stderr, "--memprofile: %v\n", err)
			}
		})
	}
	return stop, nil
}

// peakProfile keeps the heap profile of the moment the live heap was
// largest. A profile written at the end shows what was still held then,
// which after a run is almost nothing; the question a memory target asks
// is what was held at the peak (the backtest's snapshots and training
// sets, say). The live heap is sampled every interval and a profile taken
// whenever it passes its previous peak by a tenth. The heap profile's
// in-use figures are those of the latest garbage collection, which at a
// large heap runs often.
type peakProfile struct {
	done chan struct{}
	wg   sync.WaitGroup

	mu   sync.Mutex
	peak uint64
	prof []byte
}

func startPeakProfile(interval time.Duration) *peakProfile {
	p := &peakProfile{done: make(chan struct{})}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			p.sample()
			select {
			case <-p.done:
				return
			case <-t.C:
			}
		}
	}()
	return p
}

// liveHeap is the bytes of heap objects, live or not yet swept.
func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

func (p *peakProfile) sample() {
	h := liveHeap()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.prof != nil && h < p.peak+p.peak/10 {
		return
	}
	var b bytes.Buffer
	if err := pprof.Lookup("heap").WriteTo(&b, 0); err != nil {
		return
	}
	p.peak, p.prof = max(p.peak, h), b.Bytes()
}

// stop ends the sampling, takes a last sample and writes the peak's
// profile to path.
func (p *peakProfile) stop(path string) error {
	close(p.done)
	p.wg.Wait()
	p.sample()
	p.mu.Lock()
	defer p.mu.Unlock()
	return atomicfile.WriteFile(path, p.prof, 0o640)
}
