package bench

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// LateThreshold is how far behind its schedule an open-loop send may be
// before it counts as late (the client, not the server, shaped the load).
const LateThreshold = time.Millisecond

// LevelSpec says how to run one level.
type LevelSpec struct {
	Level          Level
	RunID          string
	Prompts        []Prompt // measured, in order
	Warmup         []Prompt // sent first, not recorded
	Burstiness     float64  // open loop: gamma shape (1 = Poisson)
	MaxConcurrency int      // open loop: cap on in-flight requests (0 = none)
	MaxDuration    time.Duration
	Seed           uint64
	Counter        Counter
	Exporter       *Exporter    // live metrics of the measured requests (nil: none)
	Flush          func() error // called by the writer when no record waits (nil: none)
}

// Sink receives each record as its request finishes, in completion order,
// from one goroutine that is not a request's. An error from it stops the
// level as a cancelled context would (no new request is sent, those in
// flight finish): records that cannot be kept make further load
// pointless. After its first error a sink is not called again; the records
// are still tallied.
type Sink func(Record) error

// recordQueue is how many finished records may wait for the writer before
// requests block on it: enough for a completion wave of 1,024 streams.
const recordQueue = 4096

// RunLevel runs one level's measured requests (the caller runs Warmup
// first, so it can scrape the server in between): closed loop for a concurrency level and paced by a
// gamma arrival process for a rate level. When ctx is cancelled (first
// Ctrl-C) or MaxDuration passes, no new request is sent, those in flight
// finish, and the run is marked incomplete. Requests are not cancelled by
// ctx: a second Ctrl-C ends the process instead. The first error of sink
// (or of spec.Flush) stops dispatching the same way and is returned.
//
// A request's goroutine only measures its timeline and queues the record;
// one writer goroutine tallies it, feeds the exporter and the sink, and
// calls spec.Flush whenever its queue runs empty, so that records are
// written in batches under load and one by one when load is light, and no
// request waits on another's bookkeeping. The level keeps its tally, not
// its records: memory follows the streams in flight, not the requests.
func RunLevel(ctx context.Context, c *Client, spec LevelSpec, sink Sink) (LevelRun, error) {
	lr := LevelRun{Level: spec.Level, NumPrompts: len(spec.Prompts), Warmup: len(spec.Warmup), Tally: NewTally()}
	stop := ctx
	if spec.MaxDuration > 0 {
		var cancel context.CancelFunc
		stop, cancel = context.WithTimeout(ctx, spec.MaxDuration)
		defer cancel()
	}
	stop, sinkFailed := context.WithCancel(stop)
	defer sinkFailed()
	reqCtx := context.WithoutCancel(ctx)
	var sinkErr error
	queue := make(chan Record, recordQueue)
	written := make(chan struct{})
	go func() {
		defer close(written)
		fail := func(err error) {
			if err != nil && sinkErr == nil {
				sinkErr = err
				sinkFailed()
			}
		}
		for r := range queue {
			lr.Tally.Add(r)
			spec.Exporter.record(r)
			if sinkErr == nil {
				fail(sink(r))
			}
			if len(queue) == 0 && sinkErr == nil && spec.Flush != nil {
				fail(spec.Flush())
			}
		}
	}()
	start := time.Now()
	finish := func(p Prompt, tl Timeline, due *time.Time, ready time.Time) {
		r := Measure(tl, p.PromptTokens, spec.Counter)
		r.RunID, r.Level, r.RequestIndex = spec.RunID, spec.Level, p.Index
		r.PromptHash = promptHash(p.Text)
		r.ActualSendS = tl.Sent.Sub(start).Seconds()
		r.QueueWaitMs = ms(max(tl.Handed.Sub(ready), 0))
		if due != nil {
			r.ScheduledSendS = ptr(due.Sub(start).Seconds())
			r.Late = tl.Sent.Sub(*due) > LateThreshold
		}
		r.DoneS = time.Since(start).Seconds()
		queue <- r
	}
	var wg sync.WaitGroup
	sent := 0
	if spec.Level.Kind == "rate" {
		sent = openLoop(stop, reqCtx, c, spec, start, &wg, finish)
	} else {
		sent = closedLoop(stop, reqCtx, c, spec, finish)
	}
	wg.Wait()
	close(queue)
	<-written
	lr.Start, lr.End = start, start
	if t := lr.Tally; t.Records > 0 {
		lr.Start = start.Add(time.Duration(t.first * float64(time.Second)))
		lr.End = start.Add(time.Duration(t.last * float64(time.Second)))
	}
	lr.Incomplete = sent < len(spec.Prompts)
	return lr, sinkErr
}

// closedLoop keeps Level.Value requests in flight. A request's queue wait is
// the time it was offered to the workers until one took it and sent it.
func closedLoop(stop, reqCtx context.Context, c *Client, spec LevelSpec, finish func(Prompt, Timeline, *time.Time, time.Time)) int {
	type job struct {
		p       Prompt
		offered time.Time
	}
	jobs := make(chan job)
	var wg sync.WaitGroup
	// A select with both a free worker and stop ready picks either, so a
	// worker also checks stop before sending what it was handed: once stop
	// is done, nothing more goes out.
	var dropped atomic.Int64
	// No more workers than work: a typo'd concurrency costs nothing.
	for w := 0; w < min(int(spec.Level.Value), len(spec.Prompts)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				if stop.Err() != nil {
					dropped.Add(1)
					continue
				}
				finish(j.p, do(reqCtx, c, spec.Exporter, j.p), nil, j.offered)
			}
		}()
	}
	handed := 0
dispatch:
	for _, p := range spec.Prompts {
		if stop.Err() != nil {
			break
		}
		select {
		case jobs <- job{p, time.Now()}:
			handed++
		case <-stop.Done():
			break dispatch
		}
	}
	close(jobs)
	wg.Wait()
	return handed - int(dropped.Load())
}

// openLoop sends on the pacer's schedule; with a concurrency cap a due
// request waits for a slot, and that wait shows as queue wait and lateness.
func openLoop(stop, reqCtx context.Context, c *Client, spec LevelSpec, start time.Time, wg *sync.WaitGroup, finish func(Prompt, Timeline, *time.Time, time.Time)) int {
	pacer := NewGammaPacer(len(spec.Prompts), spec.Level.Value, orOne(spec.Burstiness), spec.Seed)
	var slots chan struct{}
	if spec.MaxConcurrency > 0 {
		slots = make(chan struct{}, spec.MaxConcurrency)
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	sent := 0
	for sent < len(spec.Prompts) {
		if stop.Err() != nil {
			return sent
		}
		wait, done := pacer.Pace(time.Since(start), sent)
		if done {
			break
		}
		if wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-stop.Done():
				return sent
			}
		}
		if slots != nil {
			select {
			case slots <- struct{}{}:
			case <-stop.Done():
				return sent
			}
		}
		// Either wait may have ended together with stop (the slot freed
		// by the very request whose record could not be written).
		if stop.Err() != nil {
			if slots != nil {
				<-slots
			}
			return sent
		}
		due := start.Add(pacer.Due(sent))
		p := spec.Prompts[sent]
		wg.Add(1)
		go func() {
			defer wg.Done()
			if slots != nil {
				defer func() { <-slots }()
			}
			finish(p, do(reqCtx, c, spec.Exporter, p), &due, due)
		}()
		sent++
	}
	return sent
}

// do sends one request, counted in flight on e (nil: not counted, as for
// warmup requests) while Client.Do runs.
func do(ctx context.Context, c *Client, e *Exporter, p Prompt) Timeline {
	e.sending()
	defer e.sent()
	inFlight.Add(1)
	defer inFlight.Add(-1)
	return c.Do(ctx, p)
}

// Warmup sends the warmup prompts closed loop and fails the level only
// when every one of them failed (the server is not there, or rejects all).
func Warmup(ctx context.Context, c *Client, spec LevelSpec) error {
	if len(spec.Warmup) == 0 {
		return nil
	}
	conc := int(spec.Level.Value)
	if spec.Level.Kind == "rate" {
		conc = max(spec.MaxConcurrency, 1)
	}
	conc = max(min(conc, len(spec.Warmup)), 1)
	var (
		mu      sync.Mutex
		failed  int
		lastErr string
	)
	// No Exporter: warmup requests are not counted in the live metrics.
	ws := LevelSpec{Level: Level{Kind: "concurrency", Value: float64(conc)}, Prompts: spec.Warmup}
	closedLoop(ctx, context.WithoutCancel(ctx), c, ws, func(p Prompt, tl Timeline, _ *time.Time, _ time.Time) {
		if tl.Status != "ok" || len(tl.Content) == 0 {
			mu.Lock()
			failed++
			lastErr = tl.Reason
			mu.Unlock()
		}
	})
	if failed == len(spec.Warmup) {
		return fmt.Errorf("warmup: all %d requests failed (last: %s)", failed, lastErr)
	}
	return ctx.Err()
}

func orOne(v float64) float64 {
	if v <= 0 {
		return 1
	}
	return v
}

// promptHash identifies a prompt across runs without storing its text.
func promptHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}
