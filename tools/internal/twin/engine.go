package twin

import "fmt"

// BlockSize is vLLM's default KV block size in tokens.
const BlockSize = 16

// Seq is one request inside the engine.
type Seq struct {
	ID                int
	Prompt, MaxTokens int
	Arrival           float64 // virtual seconds
	Admitted          float64 // first scheduled (virtual seconds)
	kv                int     // tokens whose KV is computed
	generated         int
	blocks            int
	running, done     bool
	admitted          bool
	Preemptions       int
	Tokens            []float64 // virtual time of each generated token
}

// Generated is how many tokens the sequence has produced.
func (s *Seq) Generated() int { return s.generated }

// Done reports whether the sequence finished.
func (s *Seq) Done() bool { return s.done }

// Event is a token made visible at the end of a step.
type Event struct {
	Seq  *Seq
	Done bool
}

// Stats are the engine's gauges and counters, named after vLLM's metrics.
type Stats struct {
	Running, Waiting      int
	KVUsage               float64 // used blocks / total, 0..1
	Preemptions           int64
	PromptTokens          int64 // prompt tokens of requests that produced their first token
	GenerationTokens      int64
	Finished              int64
	Steps                 int64
	BatchedTokensLastStep int
}

// Engine is the scheduler state. It is not safe for concurrent use; the
// live Runner serialises access and predict owns one outright.
type Engine struct {
	cfg     Config
	now     float64
	waiting []*Seq
	running []*Seq
	free    int
	nextID  int
	stats   Stats
}

// NewEngine makes an idle engine with an empty KV cache.
func NewEngine(cfg Config) *Engine {
	return &Engine{cfg: cfg, free: cfg.KVBlocks}
}

// Now is the engine's virtual clock in seconds.
func (e *Engine) Now() float64 { return e.now }

// AdvanceTo moves an idle engine's clock forward (to the next arrival).
func (e *Engine) AdvanceTo(t float64) {
	if t > e.now {
		e.now = t
	}
}

// Admissible says whether a request can ever run: it must fit the context
// and the whole KV cache, as vLLM checks on arrival.
func (e *Engine) Admissible(prompt, maxTokens int) error {
	switch {
	case prompt < 1 || maxTokens < 1:
		return fmt.Errorf("prompt and max_tokens must be positive")
	case prompt+maxTokens > e.cfg.MaxModelLen:
		return fmt.Errorf("this model's maximum context length is %d tokens; the request asks for %d (%d in the prompt, %d to generate)",
			e.cfg.MaxModelLen, prompt+maxTokens, prompt, maxTokens)
	case blocksFor(prompt+maxTokens) > e.cfg.KVBlocks:
		return fmt.Errorf("the request needs %d KV blocks, more than the %d the cache holds", blocksFor(prompt+maxTokens), e.cfg.KVBlocks)
	}
	return nil
}

// Add queues a request arriving now.
func (e *Engine) Add(prompt, maxTokens int) *Seq {
	s := &Seq{ID: e.nextID, Prompt: prompt, MaxTokens: maxTokens, Arrival: e.now}
	e.nextID++
	e.waiting = append(e.waiting, s)
	return s
}

// Abort removes a request (the client went away) and frees its blocks.
func (e *Engine) Abort(s *Seq) {
	if s.done {
		return
	}
	s.done = true
	e.free += s.blocks
	s.blocks = 0
	e.running = remove(e.running, s)
	e.waiting = remove(e.waiting, s)
}

// Idle reports whether nothing is running or waiting.
func (e *Engine) Idle() bool { return len(e.running) == 0 && len(e.waiting) == 0 }

// Stats returns the current gauges and counters.
func (e *Engine) Stats() Stats {
	s := e.stats
	s.Running, s.Waiting = len(e.running), len(e.waiting)
	if e.cfg.KVBlocks > 0 {
		s.KVUsage = float64(e.cfg.KVBlocks-e.free) / float64(e.cfg.KVBlocks)
	}
	return s
}

func blocksFor(tokens int) int { return (tokens + BlockSize - 1) / BlockSize }

func remove(list []*Seq, s *Seq) []*Seq {
	for i, x := range list {
		if x == s {
			return append(list[:i:i], list[i+1:]...)
		}
	}
	return list
}

type scheduled struct {
	s *Seq
	n int
}

// Step runs one scheduler iteration as vLLM V1 does: running requests get
// their tokens first (decodes, then unfinished prefill chunks), then waiting
// requests are admitted in arrival order while max_num_seqs, the token
// budget (max_num_batched_tokens) and free KV blocks allow, a long prompt
// being cut into chunks. When a running request needs a block and none is
// free, the most recently admitted request is preempted: its blocks are
// freed and it goes back to the front of the queue, to be recomputed.
// Step returns the step's duration (0 and no events when idle) and the
// tokens it produced; the clock moves to the end of the step.
func (e *Engine) Step() (float64, []Event) {
	budget := e.cfg.MaxBatchedTokens
	var plan []scheduled
	// Decodes first, then partial prefills, each in admission order.
	for pass := 0; pass < 2; pass++ {
		for i := 0; i < len(e.running) && budget > 0; i++ {
			s := e.running[i]
			rem := s.Prompt + s.generated - s.kv
			if (pass == 0) != (rem == 1) || isScheduled(plan, s) {
				continue
			}
			n := min(rem, budget)
			if !e.reserve(s, n, &plan) {
				continue // s itself was preempted
			}
			plan = append(plan, scheduled{s, n})
			budget -= n
		}
	}
	for len(e.waiting) > 0 && len(e.running) < e.cfg.MaxNumSeqs && budget > 0 {
		s := e.waiting[0]
		n := min(s.Prompt+s.generated-s.kv, budget)
		need := blocksFor(s.kv+n) - s.blocks
		if need > e.free {
			break
		}
		e.free -= need
		s.blocks += need
		e.waiting = e.waiting[1:]
		if !s.admitted {
			s.Admitted, s.admitted = e.now, true
		}
		s.running = true
		e.running = append(e.running, s)
		plan = append(plan, scheduled{s, n})
		budget -= n
	}
	if len(plan) == 0 {
		return 0, nil
	}
	var b Batch
	for _, p := range plan {
		if p.s.Prompt+p.s.generated-p.s.kv == 1 && p.s.generated > 0 {
			b.DecodeCtx = append(b.DecodeCtx, p.s.kv)
		} else {
			b.PrefillLen = append(b.PrefillLen, p.n)
			b.PrefillCtx = append(b.PrefillCtx, p.s.kv)
		}
		if p.s.kv+p.n == p.s.Prompt+p.s.generated {
			b.Logits++
		}
	}
	dur := e.cfg.StepSeconds(b)
	e.now += dur
	e.stats.Steps++
	e.stats.BatchedTokensLastStep = e.cfg.MaxBatchedTokens - budget
	var events []Event
	for _, p := range plan {
		s := p.s
		s.kv += p.n
		if s.kv < s.Prompt+s.generated {
			continue // prefill continues next step
		}
		if s.generated == 0 {
			e.stats.PromptTokens += int64(s.Prompt)
		}
		s.generated++
		s.Tokens = append(s.Tokens, e.now)
		e.stats.GenerationTokens++
		ev := Event{Seq: s}
		if s.generated >= s.MaxTokens {
			s.done, ev.Done = true, true
			e.free += s.blocks
			s.blocks = 0
			e.running = remove(e.running, s)
			e.stats.Finished++
		}
		events = append(events, ev)
	}
	return dur, events
}

func isScheduled(plan []scheduled, s *Seq) bool {
	for _, p := range plan {
		if p.s == s {
			return true
		}
	}
	return false
}

// reserve finds KV blocks for n more tokens of s, preempting the most
// recently admitted other requests (vLLM V1's recompute policy) as needed.
// It returns false when s itself had to be preempted.
func (e *Engine) reserve(s *Seq, n int, plan *[]scheduled) bool {
	need := blocksFor(s.kv+n) - s.blocks
	for need > e.free {
		victim := e.running[len(e.running)-1]
		e.preempt(victim)
		*plan = dropScheduled(*plan, victim)
		if victim == s {
			return false
		}
	}
	e.free -= need
	s.blocks += need
	return true
}

func (e *Engine) preempt(v *Seq) {
	e.running = e.running[:len(e.running)-1]
	e.free += v.blocks
	v.blocks, v.kv, v.running = 0, 0, false
	v.Preemptions++
	e.stats.Preemptions++
	e.waiting = append([]*Seq{v}, e.waiting...)
}

// dropScheduled removes a preempted request from this step's plan (its
// blocks were already returned by preempt).
func dropScheduled(plan []scheduled, v *Seq) []scheduled {
	for i, p := range plan {
		if p.s == v {
			return append(plan[:i:i], plan[i+1:]...)
		}
	}
	return plan
}
