package twin

import (
	"context"
	"sync"
	"time"
)

// Token is one generated token as the live server sees it.
type Token struct {
	N    int  // tokens generated so far, this one included
	Done bool // the request finished with this token
}

// Handle follows one live request.
type Handle struct {
	Seq    *Seq
	Tokens chan Token // buffered for the whole output: the engine never blocks on a slow client
}

// An idle runner woken by a request waits until no further request has
// arrived for CoalesceQuiet (at most CoalesceMax), so that the requests
// sent at the same moment, such as the start of a sweep level, start
// together, however slowly the client sends them.
const (
	CoalesceQuiet = 3 * time.Millisecond
	CoalesceMax   = 50 * time.Millisecond
)

// MaxCatchUp is how far behind its modelled schedule the runner may fall and
// still make the delay up in the following steps (see Run).
const MaxCatchUp = 20 * time.Millisecond

// The wait is modelled time like any other (the windows are divided by the
// time scale): a fixed wall-clock wait before every request that finds the
// engine idle would cost k times more modelled time at time scale k, and a
// time-scaled run would be priced slower than the same run at scale 1.
func (r *Runner) coalesce() {
	quiet := time.Duration(float64(CoalesceQuiet) / r.scale)
	limit := time.After(time.Duration(float64(CoalesceMax) / r.scale))
	for {
		select {
		case <-r.wake:
		case <-time.After(quiet):
			return
		case <-limit:
			return
		}
	}
}

// Runner drives an Engine in real time: each step sleeps for its modelled
// duration divided by the time scale, then hands its tokens to the
// requests. One goroutine owns the schedule; requests join at the next step
// boundary, as in vLLM.
type Runner struct {
	mu      sync.Mutex
	eng     *Engine
	scale   float64
	wake    chan struct{}
	handles map[*Seq]*Handle
}

// NewRunner wraps a fresh engine. scale > 1 runs faster than modelled time.
func NewRunner(cfg Config, scale float64) *Runner {
	if scale <= 0 {
		scale = 1
	}
	return &Runner{eng: NewEngine(cfg), scale: scale, wake: make(chan struct{}, 1), handles: map[*Seq]*Handle{}}
}

// Scale is the time scale (modelled seconds per wall second).
func (r *Runner) Scale() float64 { return r.scale }

// Submit queues a request; the error says why it can never run.
func (r *Runner) Submit(prompt, maxTokens int) (*Handle, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.eng.Admissible(prompt, maxTokens); err != nil {
		return nil, err
	}
	h := &Handle{Seq: r.eng.Add(prompt, maxTokens), Tokens: make(chan Token, maxTokens)}
	r.handles[h.Seq] = h
	select {
	case r.wake <- struct{}{}:
	default:
	}
	return h, nil
}

// Abort drops a request whose client went away.
func (r *Runner) Abort(h *Handle) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.eng.Abort(h.Seq)
	delete(r.handles, h.Seq)
}

// Stats reads the engine's gauges and counters.
func (r *Runner) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.eng.Stats()
}

// Run steps the engine until ctx is done.
func (r *Runner) Run(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	next := time.Now()
	for {
		r.mu.Lock()
		idle := r.eng.Idle()
		r.mu.Unlock()
		if idle {
			select {
			case <-r.wake:
				// Requests sent together (a sweep level starting) arrive
				// within a moment of each other; let them start together,
				// so a live run is reproducible and matches predict.
				r.coalesce()
				next = time.Now()
				continue
			case <-ctx.Done():
				return
			}
		}
		r.mu.Lock()
		dur, events := r.eng.Step()
		r.mu.Unlock()
		if dur == 0 {
			// Nothing fits (waiting requests need blocks): wait for a change.
			select {
			case <-r.wake:
			case <-time.After(time.Millisecond):
			case <-ctx.Done():
				return
			}
			next = time.Now()
			continue
		}
		// Deadline-based, so the modelled clock does not drift behind: a
		// step that starts late because the host scheduled this goroutine
		// late (2 busy cores, -race) is made up by the following steps,
		// up to MaxCatchUp. Further behind than that (a long stall), the
		// schedule restarts from now rather than bursting.
		next = next.Add(time.Duration(dur / r.scale * float64(time.Second)))
		if floor := time.Now().Add(-MaxCatchUp); next.Before(floor) {
			next = floor
		}
		timer.Reset(time.Until(next))
		select {
		case <-timer.C:
		case <-ctx.Done():
			return
		}
		r.mu.Lock()
		for _, ev := range events {
			if h, ok := r.handles[ev.Seq]; ok {
				h.Tokens <- Token{N: ev.Seq.generated, Done: ev.Done}
				if ev.Done {
					delete(r.handles, ev.Seq)
				}
			}
		}
		r.mu.Unlock()
	}
}
