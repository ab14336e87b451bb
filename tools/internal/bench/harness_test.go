package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/debug"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// harnessTokens is the output length of every harness request.
const harnessTokens = 64

// zeroDelayServer streams harnessTokens chunks as fast as it can, recording
// for each request how long after its arrival the first chunk was written,
// so the client's own share of TTFT can be separated.
func zeroDelayServer(gap time.Duration) (*httptest.Server, *emitLog) {
	log := &emitLog{}
	_ = log
	var payloads [harnessTokens]string
	for i := range payloads {
		finish := "null"
		if i == harnessTokens-1 {
			finish = `"length"`
		}
		payloads[i] = fmt.Sprintf("data: {\"id\":\"x\",\"object\":\"text_completion\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"text\":\"t \",\"finish_reason\":%s}]}\n\n", finish)
	}
	usage := "data: {\"id\":\"x\",\"object\":\"text_completion\",\"created\":1,\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":8,\"completion_tokens\":%d,\"total_tokens\":%d}}\n\ndata: [DONE]\n\n"
	var count atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		// Spread the streams' token ticks evenly over the gap, as requests
		// admitted at different times would be, instead of all in phase.
		phase := time.Duration(count.Add(1)*37%100) * gap / 100
		n := harnessTokens
		if gap > 0 {
			var req struct {
				MaxTokens int `json:"max_tokens"`
			}
			if json.NewDecoder(r.Body).Decode(&req) == nil && req.MaxTokens > 0 && req.MaxTokens < n {
				n = req.MaxTokens
			}
		}
		w.Header().Set("Content-Type", "text/event-stream")
		fl := w.(http.Flusher)
		for i, p := range payloads[harnessTokens-n:] {
			if i == 1 {
				time.Sleep(phase)
			}
			if i > 0 && gap > 0 {
				time.Sleep(gap)
			}
			_, _ = w.Write([]byte(p))
			fl.Flush()
			if i == 0 {
				log.add(time.Since(start))
			}
		}
		fmt.Fprintf(w, usage, n, n+8)
	}))
	return srv, log
}

type emitLog struct {
	mu    sync.Mutex
	first []time.Duration
}

func (l *emitLog) add(d time.Duration) {
	l.mu.Lock()
	l.first = append(l.first, d)
	l.mu.Unlock()
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}

// BenchmarkHarness measures Forge's client against an in-process streaming
// server on 127.0.0.1 (make bench-harness) at 64, 256 and 1024 streams, in
// two modes. "throughput": the server answers with zero delay, so the
// client and server saturate the CPU; it reports sustained requests/s and
// tokens/s and CPU seconds per 1k tokens (client and server together, an
// upper bound for the client). "latency": the first chunk is immediate and
// the next ones 100 ms apart, so all streams are in flight at once without
// saturating the CPU (10 tokens/s per stream, lengths 8 to 24 tokens so
// that streams do not finish in lockstep); it reports the client-added TTFT (TTFT plus send
// overhead when the server answers at once: an upper bound, since it holds
// the server's own handling) at p50 and p99 after the first round of
// connections, and heap+stack bytes per in-flight stream at the peak.
// Each iteration runs 4 × streams requests.
func BenchmarkHarness(b *testing.B) {
	for _, mode := range []struct {
		name string
		gap  time.Duration
	}{{"throughput", 0}, {"latency", 100 * time.Millisecond}} {
		for _, conc := range []int{64, 256, 1024} {
			b.Run(fmt.Sprintf("%s/streams=%d", mode.name, conc), func(b *testing.B) { harness(b, conc, mode.gap) })
		}
	}
}

func harness(b *testing.B, conc int, gap time.Duration) {
	defer debug.SetGCPercent(debug.SetGCPercent(GCPercent))
	{
		{
			srv, _ := zeroDelayServer(gap)
			defer srv.Close()
			c := NewClient(ClientConfig{BaseURL: srv.URL, Model: "m", API: "completions", MaxConns: conc})
			n := 4 * conc
			if gap > 0 {
				n = 3 * conc
			}
			var added []float64
			var tokens, reqs int64
			var peak atomic.Uint64
			var elapsed time.Duration
			cpu0 := cpuSeconds()
			runtime.GC()
			var ms0 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			base := ms0.HeapInuse + ms0.StackInuse
			for i := 0; i < b.N; i++ {
				stop := make(chan struct{})
				go func() {
					var m runtime.MemStats
					t := time.NewTicker(100 * time.Millisecond)
					defer t.Stop()
					for {
						select {
						case <-stop:
							return
						case <-t.C:
							runtime.ReadMemStats(&m)
							if v := m.HeapInuse + m.StackInuse; v > peak.Load() {
								peak.Store(v)
							}
						}
					}
				}()
				var mu sync.Mutex
				var clientTTFT []float64
				spec := LevelSpec{Level: Level{Kind: "concurrency", Value: float64(conc)}, RunID: "harness", Prompts: make([]Prompt, n)}
				for j := range spec.Prompts {
					spec.Prompts[j] = Prompt{Index: j, Text: "hello", MaxTokens: harnessTokens}
					if gap > 0 {
						spec.Prompts[j].MaxTokens = 8 + (j*7)%17
					}
				}
				t0 := time.Now()
				lr, err := RunLevel(context.Background(), c, spec, func(r Record) error {
					if r.Status != "ok" {
						return fmt.Errorf("request failed: %s", r.Error)
					}
					mu.Lock()
					if r.RequestIndex >= conc { // past the first round of connection set-up
						clientTTFT = append(clientTTFT, *r.TTFTMs+r.SendOverheadMs)
					}
					mu.Unlock()
					atomic.AddInt64(&tokens, int64(r.OutputTokens))
					return nil
				})
				elapsed += time.Since(t0)
				close(stop)
				if err != nil {
					b.Fatal(err)
				}
				reqs += int64(lr.Tally.Records)
				added = append(added, clientTTFT...)
			}
			if gap == 0 {
				b.ReportMetric(float64(reqs)/elapsed.Seconds(), "req/s")
				b.ReportMetric(float64(tokens)/elapsed.Seconds(), "tok/s")
				b.ReportMetric((cpuSeconds()-cpu0)/float64(tokens)*1000, "cpu-s/1k-tok")
				return
			}
			sort.Float64s(added)
			b.ReportMetric(Percentile(added, 50)*1000, "added-ttft-p50-µs")
			b.ReportMetric(Percentile(added, 99)*1000, "added-ttft-p99-µs")
			if p := peak.Load(); p > base {
				b.ReportMetric(float64(p-base)/float64(conc), "B/stream")
			}
		}
	}
}
