package pipeline

import (
	"cmp"
	"context"
	"errors"
	"fmt"

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
	quit := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		interrupted := ctx.Done()
		for {
			select {
			case <-sw.eng.Died():
				cancel()
				fmt.Fprintf(sw.o.Stderr, "run %s: the engine died: %s; stopping the sweep\n", sw.d.ID(), sw.eng.Cause())
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

	last := -1 // index in st.Levels of the last level run
	if s := sw.cfg.Search; s != nil {
		// find-max: each probe is a level, added to the state as it starts.
		res, _, err := bench.FindMax(sctx, *s, 0, func(ctx context.Context, lvl bench.Level) (bench.Summary, error) {
			sw.st.Levels = append(sw.st.Levels, rundir.Level{Name: bench.LevelName(lvl), State: "missing", Prompts: len(sw.cfg.Prompts)})
			sw.save()
			var sums []bench.Summary
			if last, sums = sw.level(ctx, lvl); len(sums) == 0 || sw.benchErr != nil || ctx.Err() != nil {
				return bench.Summary{}, cmp.Or(sw.benchErr, ctx.Err(), errors.New("the level left no summary"))
			}
			return sums[0], nil
		})
		if err == nil {
			fmt.Fprintf(sw.o.Stderr, "run %s: %s\n", sw.d.ID(), res.Statement(*s))
		}
	}
	for _, l := range todo {
		if sctx.Err() != nil {
			break
		}
		var sums []bench.Summary
		if last, sums = sw.level(sctx, bench.Level{Kind: l.Kind, Value: l.Value, Index: l.Index}); len(sums) == 0 || sw.benchErr != nil || sctx.Err() != nil {
			break
		}
	}
	close(quit)
	<-watched
	if sw.parity != nil {
		if sctx.Err() == nil && sw.benchErr == nil {
			sw.counts, sw.timings, sw.parityErr = sw.parity.finish(sw.o.Out)
		} else {
			sw.parity.log.Close()
			sw.parity = nil
		}
	}
	if !sw.dead() {
		return ""
	}
	// The engine's exit can be noticed a moment after the level it killed
	// returned (its requests fail within milliseconds): a level that ended
	// with failures as the engine died is not a complete level.
	if last >= 0 {
		if l := &sw.st.Levels[last]; l.State == rundir.Complete && l.Failed > 0 {
			l.State = rundir.Failed
			sw.save()
		}
	}
	return "the engine died during the sweep: " + sw.eng.Cause()
}

// level runs one level (with vLLM's client after it in a parity run) and
// records its state; it returns the level's index in the state and its
// summary, none when it was cut before one was written.
func (sw *sweep) level(ctx context.Context, lvl bench.Level) (int, []bench.Summary) {
	one := sw.cfg
	one.Levels, one.Search = []bench.Level{lvl}, nil
	sums, err := bench.Run(ctx, one)
	sw.sums = append(sw.sums, sums...)
	last := sw.record(lvl, sums, err, sw.dead(), ctx.Err() != nil)
	if err != nil {
		// A level cut short by Ctrl-C or the engine's death (its warmup
		// fails, say) is that, not a bench failure.
		if ctx.Err() == nil {
			sw.benchErr = err
		}
		return last, sums
	}
	if ctx.Err() != nil || len(sums) == 0 || sw.parity == nil {
		return last, sums
	}
	if err := sw.parity.level(ctx, sw.o.Out, lvl, sw.d.ID(), sums[0].Provenance); err != nil {
		// Forge's own sweep goes on; the cross-check stops here.
		sw.parityErr = err
		sw.parity.log.Close()
		sw.parity = nil
	}
	return last, sums
}

// dead says whether the engine has died (without waiting).
func (sw *sweep) dead() bool {
	select {
	case <-sw.eng.Died():
		return true
	default:
		return false
	}
}

// record sets a level's state from its summary and returns its index in
// the state: failed when the engine died during it or its files could not
// be written, incomplete when the user stopped it, else complete (a level
// cut by the plan's max_duration_s ran as planned).
func (sw *sweep) record(lvl bench.Level, sums []bench.Summary, err error, died, stopped bool) int {
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
		case err != nil:
			l.State = rundir.Failed
		}
		sw.save()
		if sw.o.LevelDone != nil {
			sw.o.LevelDone(*l)
		}
		return i
	}
	return -1
}
