package scrape

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// metricsServer serves a gauge that grows with every response (so samples
// differ), a counter with its _created gauge, and a process_* family; or
// just status when it is not 200. served counts requests.
func metricsServer(t *testing.T, status int) (srv *httptest.Server, served *atomic.Int64) {
	t.Helper()
	served = new(atomic.Int64)
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := served.Add(1)
		if status != http.StatusOK {
			w.WriteHeader(status)
			return
		}
		fmt.Fprintf(w, "# TYPE process_open_fds gauge\nprocess_open_fds 9\n"+
			"# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running %d\n"+
			"# TYPE vllm:prompt_tokens_total counter\nvllm:prompt_tokens_total %d\n"+
			"# TYPE vllm:prompt_tokens_created gauge\nvllm:prompt_tokens_created 1.7e9\n", n, 10*n)
	}))
	t.Cleanup(srv.Close)
	return srv, served
}

// waitFor polls until served reaches n; the deadline only guards a hang.
func waitFor(t *testing.T, served *atomic.Int64, n int64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for served.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d scrapes, want %d", served.Load(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestSamplerCollectsAndStops(t *testing.T) {
	srv, served := metricsServer(t, http.StatusOK)
	s := StartSampler(context.Background(), srv.Client(), srv.URL, time.Millisecond)
	waitFor(t, served, 5)
	samples, failures := s.Stop()
	after := served.Load()
	if failures != 0 || len(samples) < 4 || int64(len(samples)) > after {
		t.Fatalf("%d samples, %d failures, %d served", len(samples), failures, after)
	}
	for i, snap := range samples {
		if got := keys(snap.Families); !slices.Equal(got, []string{"vllm:num_requests_running", "vllm:prompt_tokens_total"}) {
			t.Errorf("sample %d keeps %v; want the vllm: families but _created", i, got)
		}
		if i > 0 && snap.At.Before(samples[i-1].At) {
			t.Errorf("sample %d out of time order", i)
		}
	}
	again, f2 := s.Stop()
	if len(again) != len(samples) || f2 != failures {
		t.Errorf("second Stop: %d samples, %d failures", len(again), f2)
	}
	// A scrape in flight at Stop is cancelled on the client's side, but its
	// request may still reach the server after Stop returns: at most that one.
	// After it, nothing more may arrive.
	time.Sleep(20 * time.Millisecond)
	settled := served.Load()
	if settled-after > 1 {
		t.Errorf("%d requests reached the server after Stop; at most the one in flight may", settled-after)
	}
	time.Sleep(20 * time.Millisecond)
	if got := served.Load(); got != settled {
		t.Errorf("%d scrapes after Stop", got-settled)
	}
}

func TestSamplerCountsFailures(t *testing.T) {
	srv, served := metricsServer(t, http.StatusServiceUnavailable)
	s := StartSampler(context.Background(), srv.Client(), srv.URL, time.Millisecond)
	waitFor(t, served, 4)
	samples, failures := s.Stop()
	// The scrape in flight at Stop is cancelled, not counted.
	if n := served.Load(); len(samples) != 0 || int64(failures) < n-1 || int64(failures) > n {
		t.Errorf("%d samples, %d failures, %d served", len(samples), failures, n)
	}
}

func TestSamplerBounded(t *testing.T) {
	srv, served := metricsServer(t, http.StatusOK)
	s := startSampler(context.Background(), srv.Client(), srv.URL, time.Millisecond, 8)
	waitFor(t, served, 20) // 20 scrapes fill 8 slots three times: stride 8
	samples, _ := s.Stop()
	if len(samples) > 8 || len(samples) < 4 || s.stride < 4 {
		t.Fatalf("%d samples at stride %d", len(samples), s.stride)
	}
	for _, tick := range s.ticks {
		if tick%s.stride != 0 {
			t.Errorf("tick %d kept at stride %d: %v", tick, s.stride, s.ticks)
		}
	}
}

func TestSamplerKeepDecimates(t *testing.T) {
	s := &Sampler{max: 4, stride: 1}
	for tick := 1; tick <= 24; tick++ {
		if tick%s.stride == 0 { // as run skips ticks off the stride
			s.keep(tick, Snapshot{})
		}
	}
	// Full at 4, 8 and 16 kept samples: strides 2, 4, 8.
	if want := []int{8, 16, 24}; !slices.Equal(s.ticks, want) || s.stride != 8 || len(s.samples) != 3 {
		t.Errorf("ticks %v stride %d (%d samples), want %v stride 8", s.ticks, s.stride, len(s.samples), want)
	}
}

func TestSamplerEnds(t *testing.T) {
	for _, tc := range []struct {
		name     string
		interval time.Duration
		cancel   bool
	}{
		{"non-positive interval", 0, false},
		{"negative interval", -time.Second, false},
		{"parent context cancelled", time.Hour, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, served := metricsServer(t, http.StatusOK)
			ctx, cancel := context.WithCancel(context.Background())
			s := StartSampler(ctx, srv.Client(), srv.URL, tc.interval)
			if tc.cancel {
				cancel()
				<-s.done
			}
			samples, failures := s.Stop()
			cancel()
			if len(samples) != 0 || failures != 0 || served.Load() != 0 {
				t.Errorf("%d samples, %d failures, %d served", len(samples), failures, served.Load())
			}
		})
	}
}

func TestSamplerThenDiff(t *testing.T) {
	srv, served := metricsServer(t, http.StatusOK)
	ctx := context.Background()
	before, err := Fetch(ctx, srv.Client(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	s := StartSampler(ctx, srv.Client(), srv.URL, time.Millisecond)
	waitFor(t, served, 4)
	samples, _ := s.Stop()
	after, err := Fetch(ctx, srv.Client(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	v := Diff(before, after, samples)
	g := v.Gauges["vllm:num_requests_running"]
	// The server numbers its responses, so the series must rise.
	if len(g) != len(samples)+2 || !slices.IsSorted(g) || g[0] != 1 {
		t.Errorf("gauge series %v for %d samples", g, len(samples))
	}
	if v.IntervalS <= 0 {
		t.Errorf("IntervalS = %v", v.IntervalS)
	}
	if strings.Join(keys(v.Gauges), ",") != "vllm:num_requests_running" {
		t.Errorf("gauges %v", keys(v.Gauges))
	}
	if got, want := v.Counters["vllm:prompt_tokens_total"], 10*(g[len(g)-1]-g[0]); got != want {
		t.Errorf("prompt_tokens_total = %v, want %v", got, want)
	}
}
