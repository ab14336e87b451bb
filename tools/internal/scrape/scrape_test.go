package scrape

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// t0 is the before scrape's time in the fixture tests.
var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func load(t testing.TB, name string, at time.Time) Snapshot {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := Parse(f, at)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return s
}

func mustParse(t testing.TB, text string, at time.Time) Snapshot {
	t.Helper()
	s, err := Parse(strings.NewReader(text), at)
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, text)
	}
	return s
}

func approx(a, b float64) bool {
	return a == b || math.Abs(a-b) <= 1e-9*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

func TestCanonical(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"vllm:gpu_cache_usage_perc", "vllm:kv_cache_usage_perc"},
		{"vllm:time_per_output_token_seconds", "vllm:inter_token_latency_seconds"},
		{"vllm:time_per_output_token_seconds_bucket", "vllm:inter_token_latency_seconds_bucket"},
		{"vllm:time_per_output_token_seconds_sum", "vllm:inter_token_latency_seconds_sum"},
		{"vllm:time_per_output_token_seconds_count", "vllm:inter_token_latency_seconds_count"},
		{"vllm:time_per_output_token_seconds_created", "vllm:inter_token_latency_seconds_created"},
		{"vllm:gpu_prefix_cache_queries", "vllm:prefix_cache_queries"},
		{"vllm:gpu_prefix_cache_queries_total", "vllm:prefix_cache_queries_total"},
		{"vllm:gpu_prefix_cache_hits_total", "vllm:prefix_cache_hits_total"},
		// Unchanged: current names, the per-request TPOT (not a rename),
		// V0-only metrics with no successor, other servers' metrics.
		{"vllm:kv_cache_usage_perc", "vllm:kv_cache_usage_perc"},
		{"vllm:inter_token_latency_seconds", "vllm:inter_token_latency_seconds"},
		{"vllm:request_time_per_output_token_seconds", "vllm:request_time_per_output_token_seconds"},
		{"vllm:gpu_prefix_cache_hit_rate", "vllm:gpu_prefix_cache_hit_rate"},
		{"vllm:cpu_cache_usage_perc", "vllm:cpu_cache_usage_perc"},
		{"process_cpu_seconds_total", "process_cpu_seconds_total"},
		{"", ""},
	} {
		if got := Canonical(tc.in); got != tc.want {
			t.Errorf("Canonical(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseFixtures(t *testing.T) {
	for _, tc := range []struct {
		file    string
		present []string // canonical keys that must be there
		absent  []string // keys that must not be
		renamed string   // a family whose Name must have been rewritten
	}{
		{
			file: "vllm-0.11-after.txt",
			present: []string{"vllm:inter_token_latency_seconds", "vllm:kv_cache_usage_perc",
				"vllm:request_success_total", "vllm:prompt_tokens_created", "python_gc_objects_collected_total",
				"process_resident_memory_bytes", "vllm:cache_config_info"},
			// 0.11 also emits the deprecated name from the same
			// observations; the current family wins.
			absent: []string{"vllm:time_per_output_token_seconds", "vllm:time_per_output_token_seconds_created"},
		},
		{
			file: "vllm-0.6-old-names.txt",
			present: []string{"vllm:kv_cache_usage_perc", "vllm:inter_token_latency_seconds",
				"vllm:num_requests_swapped", "vllm:gpu_prefix_cache_hit_rate"},
			absent:  []string{"vllm:gpu_cache_usage_perc", "vllm:time_per_output_token_seconds"},
			renamed: "vllm:inter_token_latency_seconds",
		},
	} {
		t.Run(tc.file, func(t *testing.T) {
			s := load(t, tc.file, t0)
			if !s.At.Equal(t0) {
				t.Errorf("At = %v, want %v", s.At, t0)
			}
			for _, k := range tc.present {
				if _, ok := s.Families[k]; !ok {
					t.Errorf("family %s missing", k)
				}
			}
			for _, k := range tc.absent {
				if _, ok := s.Families[k]; ok {
					t.Errorf("family %s present", k)
				}
			}
			for k, mf := range s.Families {
				if mf.GetName() != k {
					t.Errorf("family keyed %s is named %s", k, mf.GetName())
				}
			}
			if tc.renamed != "" && s.Families[tc.renamed].GetType() != dto.MetricType_HISTOGRAM {
				t.Errorf("%s: type %v", tc.renamed, s.Families[tc.renamed].GetType())
			}
		})
	}
}

func TestFetch(t *testing.T) {
	fixture, err := os.ReadFile(filepath.Join("testdata", "vllm-0.11-before.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var gotAccept string
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		gotAccept = r.Header.Get("Accept")
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		w.Write(fixture)
	})
	mux.HandleFunc("/500", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "engine dead", http.StatusInternalServerError)
	})
	mux.HandleFunc("/garbage", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<html><body>not metrics {{</body></html>\n")
	})
	mux.HandleFunc("/empty", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) {
		// Valid text (comments) that only the size limit rejects.
		w.Write([]byte(strings.Repeat("# padding\n", MaxBodyBytes/10+1)))
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Fatalf("test server on %s, want 127.0.0.1", srv.URL)
	}
	closed := httptest.NewServer(mux)
	closed.Close()

	for _, tc := range []struct {
		name, url string
		timeout   time.Duration
		wantErr   string // substring; "" means success
		wantIs    error
	}{
		{name: "200", url: srv.URL + "/ok"},
		{name: "500", url: srv.URL + "/500", wantErr: "500 Internal Server Error"},
		{name: "garbage", url: srv.URL + "/garbage", wantErr: "parsing metrics"},
		{name: "empty", url: srv.URL + "/empty", wantErr: "no metric families"},
		{name: "oversized", url: srv.URL + "/huge", wantErr: "exceeds"},
		{name: "timeout", url: srv.URL + "/slow", timeout: 50 * time.Millisecond, wantIs: context.DeadlineExceeded},
		{name: "refused", url: closed.URL + "/ok", wantErr: "connect"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			before := time.Now()
			s, err := Fetch(ctx, srv.Client(), tc.url)
			if tc.wantErr == "" && tc.wantIs == nil {
				if err != nil {
					t.Fatal(err)
				}
				if len(s.Families) < 30 || s.At.Before(before) || s.At.After(time.Now()) {
					t.Errorf("snapshot: %d families at %v", len(s.Families), s.At)
				}
				if !strings.HasPrefix(gotAccept, "text/plain;version=0.0.4") {
					t.Errorf("Accept = %q", gotAccept)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.url) || strings.Count(err.Error(), tc.url) != 1 {
				t.Errorf("error does not name the URL once: %v", err)
			}
			if tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %q, want it to contain %q", err, tc.wantErr)
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("error %v is not %v", err, tc.wantIs)
			}
		})
	}
}
