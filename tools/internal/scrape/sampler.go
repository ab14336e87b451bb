package scrape

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"
)

// MaxSamples bounds what a Sampler keeps, so a level left running for hours
// cannot grow memory without limit.
const MaxSamples = 10_000

// Sampler scrapes a /metrics endpoint every interval until Stop, so gauges
// (running and waiting requests, KV-cache usage) are seen during a level and
// not only at its edges. It never fails the level: a failed scrape is counted
// and skipped.
//
// It keeps at most MaxSamples snapshots. When full it drops every other one
// and from then on keeps every second tick (then every fourth, …), so the
// samples stay evenly spaced over the whole level at a coarser interval
// instead of stopping early or losing the start.
//
// A sample keeps only what a View reads: the vllm: families without
// prometheus_client's _created timestamps (Fetch and Parse keep everything).
// For one vLLM 0.11 engine that is about 50 KiB per sample, most of it
// histogram buckets (kept so a restart mid-level is seen), so the cap bounds
// memory near 500 MiB; at a 1 s interval it is reached after 2.8 hours.
type Sampler struct {
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once

	// Owned by the sampling goroutine until done is closed.
	max      int // MaxSamples; smaller in tests
	samples  []Snapshot
	ticks    []int // the tick each sample was taken at
	stride   int   // keep ticks that are a multiple of stride
	failures int
}

// StartSampler starts scraping url with client every interval, the first
// scrape one interval from now (the caller takes the before snapshot itself).
// It stops at Stop or when ctx ends. A non-positive interval starts no
// sampling: Stop then returns nothing. A scrape slower than interval makes
// the ticker drop ticks rather than queue them; bound a scrape with
// client.Timeout.
func StartSampler(ctx context.Context, client *http.Client, url string, interval time.Duration) *Sampler {
	return startSampler(ctx, client, url, interval, MaxSamples)
}

func startSampler(ctx context.Context, client *http.Client, url string, interval time.Duration, max int) *Sampler {
	ctx, cancel := context.WithCancel(ctx)
	s := &Sampler{cancel: cancel, done: make(chan struct{}), max: max, stride: 1}
	if interval <= 0 {
		close(s.done)
		return s
	}
	go s.run(ctx, client, url, interval)
	return s
}

func (s *Sampler) run(ctx context.Context, client *http.Client, url string, interval time.Duration) {
	defer close(s.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for tick := 1; ; tick++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if tick%s.stride != 0 {
			continue
		}
		snap, err := Fetch(ctx, client, url)
		switch {
		case ctx.Err() != nil:
			return // cut short by Stop: not a failure
		case err != nil:
			s.failures++
		default:
			s.keep(tick, pruned(snap))
		}
	}
}

// keep appends a sample, halving the kept samples and doubling the stride
// when the cap is reached.
func (s *Sampler) keep(tick int, snap Snapshot) {
	if len(s.samples) >= s.max {
		s.stride *= 2
		n := 0
		for i, t := range s.ticks {
			if t%s.stride == 0 {
				s.samples[n], s.ticks[n] = s.samples[i], t
				n++
			}
		}
		clear(s.samples[n:]) // let the dropped snapshots be collected
		s.samples, s.ticks = s.samples[:n], s.ticks[:n]
		if tick%s.stride != 0 {
			return
		}
	}
	s.samples = append(s.samples, snap)
	s.ticks = append(s.ticks, tick)
}

// pruned drops the families a View ignores.
func pruned(s Snapshot) Snapshot {
	for name := range s.Families {
		if !strings.HasPrefix(name, Prefix) || isCreatedSeries(name, s) {
			delete(s.Families, name)
		}
	}
	return s
}

// Stop ends sampling, waits for an in-flight scrape to be cancelled, and
// returns the samples in time order and how many scrapes failed. Calling it
// again returns the same result.
func (s *Sampler) Stop() (samples []Snapshot, failures int) {
	s.once.Do(func() {
		s.cancel()
		<-s.done
	})
	return s.samples, s.failures
}
