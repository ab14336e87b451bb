package bench

import (
	"context"
	"fmt"
	"math"
	"time"
)

// Search is a bounded search for the highest load at which every p99 SLO
// holds, the question users of every load tester ask (GuideLLM #197,
// AIPerf #987, inference-perf #169) and a fixed sweep answers only to the
// nearest level it happened to include. It grows the load by doubling
// from Start until a probe fails or Max passes, then bisects between the
// highest passing and the lowest failing load until they are Step apart.
// Each probe is a whole level (the sweep's prompts, warmup and files), so
// every probe is recorded and priced like any level.
type Search struct {
	Kind      string        `json:"kind"`       // "concurrency" (closed loop) or "rate" (open loop, requests/s)
	Start     float64       `json:"start"`      // the first probe
	Max       float64       `json:"max"`        // no probe above this
	Step      float64       `json:"step"`       // resolution: stop when pass and fail are this close (concurrency: whole requests)
	MaxProbes int           `json:"max_probes"` // at most this many probes
	Budget    time.Duration `json:"-"`          // no new probe after this long (0: none)
}

// SearchResult is what a search found. Found is the highest load probed
// that met the SLO and Above the lowest that did not; either is nil when no
// probe gave one. Stopped says why the search ended before the two were
// Step apart ("" when it resolved, or when Max itself met the SLO).
type SearchResult struct {
	Found   *float64 `json:"found"`
	Above   *float64 `json:"above"`
	Probes  int      `json:"probes"`
	Stopped string   `json:"stopped,omitempty"`
}

// Statement is the result in one sentence.
func (r SearchResult) Statement(s Search) string {
	unit := map[string]string{"concurrency": "concurrency", "rate": "request rate"}[s.Kind]
	var out string
	switch {
	case r.Found == nil && r.Above != nil:
		out = fmt.Sprintf("no %s tried meets the SLO: even %g fails it", unit, *r.Above)
	case r.Found == nil:
		out = fmt.Sprintf("no %s was probed", unit)
	case r.Above == nil:
		out = fmt.Sprintf("the highest %s meeting the SLO is at least %g, the search's max (raise max to look further)", unit, *r.Found)
	default:
		out = fmt.Sprintf("the highest %s meeting the SLO is %g; %g fails it", unit, *r.Found, *r.Above)
	}
	if r.Stopped != "" {
		out += " (" + r.Stopped + ": not resolved to the step)"
	}
	return fmt.Sprintf("find-max after %d probe(s): %s", r.Probes, out)
}

// Check says what is wrong with a search's settings, or nil.
func (s Search) Check() error {
	switch {
	case s.Kind != "concurrency" && s.Kind != "rate":
		return fmt.Errorf("search kind %q: use concurrency or rate", s.Kind)
	case !(s.Start > 0) || math.IsInf(s.Start, 0):
		return fmt.Errorf("search start %g must be a positive number", s.Start)
	case !(s.Max >= s.Start) || math.IsInf(s.Max, 0):
		return fmt.Errorf("search max %g must be at least its start %g", s.Max, s.Start)
	case !(s.Step > 0):
		return fmt.Errorf("search step %g must be positive", s.Step)
	case s.Kind == "concurrency" && (s.Start != math.Trunc(s.Start) || s.Max != math.Trunc(s.Max)):
		return fmt.Errorf("a concurrency search takes whole numbers (start %g, max %g)", s.Start, s.Max)
	case s.MaxProbes < 1 || s.MaxProbes > 64:
		return fmt.Errorf("search max_probes %d must be between 1 and 64", s.MaxProbes)
	}
	return nil
}

// MeetsSLO says whether a level can be sold under its SLO: it completed,
// nothing failed (a service that drops requests does not meet an SLO
// whatever its latency), and every p99 threshold held. A level without an
// SLO meets none when searching (there is nothing to find), and any when
// pricing (cost decides that for itself).
func MeetsSLO(s Summary) bool {
	if s.Completed == 0 || s.Failed > 0 || s.Incomplete {
		return false
	}
	return s.Goodput.SLOMet == nil || *s.Goodput.SLOMet
}

// Probe runs one level and returns its summary.
type Probe func(ctx context.Context, lvl Level) (Summary, error)

// FindMax runs the search, probing levels with consecutive indexes from
// first. It returns every probe's summary in probe order; an error from a
// probe ends the search with what was measured so far.
func FindMax(ctx context.Context, s Search, first int, probe Probe) (SearchResult, []Summary, error) {
	var res SearchResult
	var sums []Summary
	if err := s.Check(); err != nil {
		return res, nil, err
	}
	start := time.Now()
	step := s.Step
	if s.Kind == "concurrency" {
		step = max(math.Round(step), 1)
	}
	try := func(v float64) (bool, error) {
		sum, err := probe(ctx, Level{Kind: s.Kind, Value: v, Index: first + res.Probes})
		res.Probes++
		if err != nil {
			return false, err
		}
		sums = append(sums, sum)
		ok := MeetsSLO(sum)
		if ok {
			res.Found = &v
		} else {
			res.Above = &v
		}
		return ok, nil
	}
	stop := func() bool {
		switch {
		case ctx.Err() != nil:
			res.Stopped = "interrupted"
		case res.Probes >= s.MaxProbes:
			res.Stopped = fmt.Sprintf("%d probes, the most allowed", s.MaxProbes)
		case s.Budget > 0 && time.Since(start) >= s.Budget:
			res.Stopped = fmt.Sprintf("the time budget of %s was spent", s.Budget)
		default:
			return false
		}
		return true
	}
	// Grow: double from Start until a probe fails or Max has passed.
	for v := s.Start; ; v = min(2*v, s.Max) {
		if stop() {
			return res, sums, nil
		}
		ok, err := try(v)
		if err != nil {
			return res, sums, err
		}
		if !ok || v >= s.Max {
			break
		}
	}
	// Bisect between the highest pass (0 when none) and the lowest fail.
	for res.Above != nil {
		lo := 0.0
		if res.Found != nil {
			lo = *res.Found
		}
		hi := *res.Above
		if hi-lo <= step {
			break
		}
		mid := (lo + hi) / 2
		if s.Kind == "concurrency" {
			mid = math.Floor(mid)
		}
		if mid <= lo || mid >= hi {
			break
		}
		if stop() {
			break
		}
		if _, err := try(mid); err != nil {
			return res, sums, err
		}
	}
	return res, sums, nil
}

// SearchOver is the search a command line asks for: from the first of its
// levels to the last (--concurrency 1,64 or --rate 0.5,32), to step (0: 1
// request for concurrency, a quarter of the start for rate), with at most
// probes probes. A search needs an SLO: without one every load passes and
// there is nothing to find.
func SearchOver(levels []Level, step float64, probes int, slo SLO) (Search, error) {
	if len(slo) == 0 {
		return Search{}, fmt.Errorf("find-max needs an SLO (--slo ttft_p99_ms=…,tpot_p99_ms=…, or the plan's slo block)")
	}
	if len(levels) < 2 {
		return Search{}, fmt.Errorf("find-max searches between two loads: give the start and the max, e.g. --concurrency 1,64 or --rate 0.5,32")
	}
	s := Search{Kind: levels[0].Kind, Start: levels[0].Value, Max: levels[len(levels)-1].Value, Step: step, MaxProbes: probes}
	if s.Step == 0 {
		s.Step = map[string]float64{"concurrency": 1, "rate": s.Start / 4}[s.Kind]
	}
	return s, s.Check()
}
