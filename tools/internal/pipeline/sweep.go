package pipeline

import (
	"context"
	"fmt"
	"sync"

	"github.com/forge-bench/forge/tools/internal/bench"
	"github.com/forge-bench/forge/tools/internal/engine"
	"github.com/forge-bench/forge/tools/internal/plan"
	"github.com/forge-bench/forge/tools/internal/rundir"
	"github.com/forge-bench/forge/tools/internal/vllmbench"
)

// sweep runs a run's levels one at a time, recording each level's state
// as it ends, with vLLM's own client after each level in a parity run.
type sweep struct {
	o    Options
	p    *plan.Plan
	d    rundir.Dir
	eng  *engine.Engine
	cfg  bench.Config
	st   *rundir.State
	save func()

	parity          *parityRun
	parityErr       error
	counts, timings []vllmbench.Row

	sums     []bench.Summary
	benchErr error
}

// run sweeps the levels in todo. It stops sending when ctx ends (the first
// Ctrl-C: in-flight requests finish) or the engine dies (in-flight
// requests fail at once, the dead port refuses them), and returns the
// engine's cause of death, "" when it lived.
func (sw *sweep) run(ctx context.Context, todo []plan.Level) string {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	died := ""
	cause := func() string { mu.Lock(); defer mu.Unlock(); return died }
	quit := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		interrupted := ctx.Done()
		for {
			select {
			case <-sw.eng.Died():
				mu.Lock()
				died = "the engine died during the sweep: " + sw.eng.Cause()
				mu.Unlock()
				fmt.Fprintf(sw.o.Stderr, "run %s: %s; stopping the sweep\n", sw.d.ID(), died)
				cancel()
				return
			case <-interrupted:
				interrupted = nil
				n := "requests"
				if sw.o.InFlight != nil {
					n = fmt.Sprintf("%d", sw.o.InFlight())
				}
				fmt.Fprintf(sw.o.Stderr, "stopping: %s in flight; Ctrl-C again to abort\n", n)
			case <-quit:
				return
			}
		}
	}()
	defer func() { close(quit); <-watched }()

	for _, l := range todo {
		if sctx.Err() != nil {
			break
		}
		lvl := bench.Level{Kind: l.Kind, Value: l.Value, Index: l.Index}
		one := sw.cfg
		one.Levels = []bench.Level{lvl}
		sums, err := bench.Run(sctx, one)
		sw.sums = append(sw.sums, sums...)
		sw.record(lvl, sums, cause() != "", sctx.Err() != nil)
		if err != nil {
			// A level cut short by Ctrl-C or the engine's death (its
			// warmup fails, say) is that, not a bench failure.
			if sctx.Err() == nil {
				sw.benchErr = err
			}
			break
		}
		if sctx.Err() != nil || len(sums) == 0 {
			break
		}
		if sw.parity != nil {
			if err := sw.parity.level(sctx, sw.o.Out, lvl, sw.d.ID(), sums[0].Provenance); err != nil {
				// Forge's own sweep goes on; the cross-check stops here.
				sw.parityErr = err
				sw.parity.log.Close()
				sw.parity = nil
			}
		}
	}
	if sw.parity != nil {
		if sctx.Err() == nil && sw.benchErr == nil {
			sw.counts, sw.timings, sw.parityErr = sw.parity.finish(sw.o.Out)
		} else {
			sw.parity.log.Close()
			sw.parity = nil
		}
	}
	return cause()
}

// record sets a level's state from its summary: failed when the engine
// died during it, incomplete when the user stopped it, else complete (a
// level cut by the plan's max_duration_s ran as planned).
func (sw *sweep) record(lvl bench.Level, sums []bench.Summary, died, stopped bool) {
	name := bench.LevelName(lvl)
	for i := range sw.st.Levels {
		l := &sw.st.Levels[i]
		if l.Name != name {
			continue
		}
		l.State = rundir.Complete
		if len(sums) == 0 {
			l.State = "missing"
		} else {
			l.Completed, l.Failed = sums[0].Completed, sums[0].Failed
		}
		switch {
		case died:
			l.State = rundir.Failed
		case stopped && (len(sums) == 0 || sums[0].Incomplete):
			l.State = rundir.Incomplete
		}
		sw.save()
		if sw.o.LevelDone != nil {
			sw.o.LevelDone(*l)
		}
	}
}
