package twin

import (
	"time"

	"github.com/forge-bench/forge/tools/internal/bench"
)

// epoch anchors virtual time so predicted summaries are byte-stable.
var epoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// PredictLevel runs one level of a sweep through a fresh engine in virtual
// time, with the client behaviour of forge bench: closed loop keeps
// Level.Value requests in flight, a new one arriving as one finishes; open
// loop follows the same gamma schedule as the live client (same seed),
// capped by maxConcurrency. Nothing sleeps; the result is deterministic.
func PredictLevel(cfg Config, lvl bench.Level, prompts []bench.Prompt, burstiness float64, maxConcurrency int, seed uint64) bench.LevelRun {
	eng := NewEngine(cfg)
	lr := bench.LevelRun{Level: lvl, NumPrompts: len(prompts)}
	sent := map[*Seq]float64{}
	index := map[*Seq]bench.Prompt{}
	next := 0
	inFlight := 0
	add := func(at float64) {
		p := prompts[next]
		next++
		s := eng.Add(p.PromptTokens, p.MaxTokens)
		s.Arrival = at
		sent[s], index[s] = at, p
		inFlight++
	}
	var sentAtFinish float64
	var due func(i int) float64
	limit := len(prompts)
	if lvl.Kind == "rate" {
		pacer := bench.NewGammaPacer(len(prompts), lvl.Value, max(burstiness, 1e-9), seed)
		due = func(i int) float64 { return pacer.Due(i).Seconds() }
		if maxConcurrency > 0 {
			limit = maxConcurrency
		}
	} else {
		limit = int(lvl.Value)
		due = func(int) float64 { return 0 }
	}
	// A closed-loop client sends its next request when the last token of
	// the previous one reaches it: just after the engine has started the
	// following step, so the request joins one step later (as live).
	// The clients' first requests all arrive at the start (the live runner
	// coalesces arrivals after waking so that they start together).
	ready, deferred := 0, 0
	var readyAt float64
	if lvl.Kind != "rate" {
		for i := 0; i < min(limit, len(prompts)); i++ {
			add(0)
		}
	}
	for next < len(prompts) || inFlight > 0 || deferred > 0 || ready > 0 {
		if eng.Idle() && ready == 0 {
			ready, readyAt, deferred = deferred, sentAtFinish, 0
		}
		for ; ready > 0 && next < len(prompts); ready-- {
			add(readyAt)
		}
		ready = 0
		for lvl.Kind == "rate" && next < len(prompts) && inFlight < limit && due(next) <= eng.Now() {
			add(max(due(next), 0))
		}
		if eng.Idle() {
			if next < len(prompts) {
				eng.AdvanceTo(due(next))
				continue
			}
			break
		}
		if dur, events := eng.Step(); dur == 0 && len(events) == 0 {
			break // nothing can be scheduled (cannot happen for admissible requests)
		} else {
			ready, readyAt, deferred = deferred, sentAtFinish, 0
			for _, ev := range events {
				if ev.Done {
					inFlight--
					lr.Records = append(lr.Records, record(ev.Seq, sent[ev.Seq], index[ev.Seq], lvl))
					if lvl.Kind != "rate" {
						deferred++
						sentAtFinish = eng.Now()
					}
				}
			}
		}
	}
	lr.Start = epoch
	if len(lr.Records) > 0 {
		first, last := lr.Records[0].ActualSendS, 0.0
		for _, r := range lr.Records {
			first = min(first, r.ActualSendS)
			last = max(last, r.ActualSendS+*r.E2ELMs/1e3)
		}
		lr.Start = epoch.Add(seconds(first))
		lr.End = epoch.Add(seconds(last))
	}
	return lr
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// record turns a finished sequence into the record forge bench would write.
func record(s *Seq, sentAt float64, p bench.Prompt, lvl bench.Level) bench.Record {
	tl := bench.Timeline{Handed: epoch.Add(seconds(sentAt)), Sent: epoch.Add(seconds(sentAt)), Status: "ok", FinishReason: "length",
		Usage: &bench.Usage{PromptTokens: s.Prompt, CompletionTokens: s.generated}}
	for _, t := range s.Tokens {
		tl.Content = append(tl.Content, seconds(t-sentAt))
	}
	tl.LastChoice = tl.Content[len(tl.Content)-1]
	r := bench.Measure(tl, s.Prompt, bench.Counter{Source: "estimate"})
	r.RunID, r.Level, r.RequestIndex, r.ActualSendS, r.DoneS = "", lvl, p.Index, sentAt, s.Tokens[len(s.Tokens)-1]
	if lvl.Kind == "rate" {
		r.ScheduledSendS = &sentAt
	}
	return r
}
