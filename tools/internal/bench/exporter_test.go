package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrapeExporter reads h's exposition as Prometheus would, with expfmt's
// text parser.
func scrapeExporter(t *testing.T, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("scrape: HTTP %d: %s", rec.Code, rec.Body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	return fams
}

// sample returns the value of the one series of family name whose labels
// include want; the test fails when there is none or more than one.
func sample(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	t.Helper()
	f, ok := fams[name]
	if !ok {
		t.Fatalf("no family %s", name)
	}
	var found []float64
	for _, m := range f.GetMetric() {
		got := map[string]string{}
		for _, lp := range m.GetLabel() {
			got[lp.GetName()] = lp.GetValue()
		}
		match := true
		for k, v := range want {
			if got[k] != v {
				match = false
			}
		}
		if !match {
			continue
		}
		switch f.GetType() {
		case dto.MetricType_COUNTER:
			found = append(found, m.GetCounter().GetValue())
		case dto.MetricType_GAUGE:
			found = append(found, m.GetGauge().GetValue())
		default:
			t.Fatalf("%s: unexpected type %v", name, f.GetType())
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s%v: %d matching series, want 1", name, want, len(found))
	}
	return found[0]
}

// exporterServer streams max_tokens tokens per request, with usage. The
// first request whose prompt is failPrompt gets a 503; prompts whose
// max_tokens is even wait slowTTFT before their first token, so that some
// requests meet a TTFT SLO and some do not.
func exporterServer(t *testing.T, failPrompt string, slowTTFT time.Duration) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var failed atomic.Bool
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/completions" {
			http.NotFound(w, r)
			return
		}
		requests.Add(1)
		var req struct {
			Prompt    string `json:"prompt"`
			MaxTokens int    `json:"max_tokens"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		if req.Prompt == failPrompt && failed.CompareAndSwap(false, true) {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `{"error":{"message":"overloaded","type":"ServiceUnavailable","code":503}}`)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		fl := w.(http.Flusher)
		if req.MaxTokens%2 == 0 {
			time.Sleep(slowTTFT)
		}
		for i := 0; i < req.MaxTokens; i++ {
			finish := "null"
			if i == req.MaxTokens-1 {
				finish = `"length"`
			}
			fmt.Fprintf(w, "data: {\"id\":\"x\",\"object\":\"text_completion\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"text\":\"t%d \",\"finish_reason\":%s}]}\n\n", i, finish)
			fl.Flush()
		}
		fmt.Fprintf(w, "data: {\"id\":\"x\",\"object\":\"text_completion\",\"created\":1,\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":%d,\"total_tokens\":%d}}\n\ndata: [DONE]\n\n", req.MaxTokens, req.MaxTokens+5)
	}))
	t.Cleanup(srv.Close)
	return srv, &requests
}

// TestExporterRun runs a two-level sweep with warmup and one failure and
// checks every family against the records the run wrote.
func TestExporterRun(t *testing.T) {
	const slo = 200.0 // ms; slow requests take at least twice that to their first token
	ps := prompts(8, 0)
	for i := range ps {
		ps[i].MaxTokens = 2 + i
	}
	srv, requests := exporterServer(t, ps[3].Text, 2*time.Duration(slo)*time.Millisecond)
	levels := []Level{{Kind: "concurrency", Value: 1, Index: 0}, {Kind: "concurrency", Value: 3, Index: 1}}
	cfg := baseConfig(t, srv.URL, "completions", levels...)
	cfg.Prompts, cfg.NoScrape = ps, true
	cfg.Warmup = []Prompt{{Index: 0, Text: "warm a", MaxTokens: 3}, {Index: 1, Text: "warm b", MaxTokens: 3}}
	cfg.SLO = SLO{"ttft_ms": slo, "e2el_ms": 60_000}
	cfg.Exporter = NewExporter()
	if _, err := Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	var recs []Record
	for _, l := range levels {
		recs = append(recs, readRecords(t, filepath.Join(cfg.Out, LevelName(l)+".jsonl"))...)
	}
	measured := len(levels) * len(ps)
	if len(recs) != measured {
		t.Fatalf("%d records, want %d", len(recs), measured)
	}
	if got := requests.Load(); got != int64(measured+len(levels)*len(cfg.Warmup)) {
		t.Fatalf("server saw %d requests, want %d measured and %d warmup", got, measured, len(levels)*len(cfg.Warmup))
	}
	// The hand computation from the records.
	var ok, httpFailed, promptToks, outputToks, good int
	for _, r := range recs {
		switch {
		case r.Status == "ok":
			ok++
			promptToks += r.PromptTokens
			outputToks += r.OutputTokens
			if *r.TTFTMs <= slo && *r.E2ELMs <= 60_000 {
				good++
			}
		case r.HTTPStatus == http.StatusServiceUnavailable:
			httpFailed++
			if r.OutputTokens != 0 {
				t.Errorf("failed record has %d output tokens", r.OutputTokens)
			}
		default:
			t.Errorf("unexpected failure: %+v", r)
		}
	}
	if httpFailed != 1 {
		t.Fatalf("%d records with HTTP 503, want 1", httpFailed)
	}
	if good == 0 || good == ok {
		t.Fatalf("%d of %d completed requests meet the SLO: the test wants some of each", good, ok)
	}

	fams := scrapeExporter(t, cfg.Exporter.Handler())
	completed := sample(t, fams, "forge_bench_requests_completed_total", nil)
	failed503 := sample(t, fams, "forge_bench_requests_failed_total", map[string]string{"reason": "http_503"})
	var failedAll float64
	for _, m := range fams["forge_bench_requests_failed_total"].GetMetric() {
		failedAll += m.GetCounter().GetValue()
	}
	sloMet := sample(t, fams, "forge_bench_requests_slo_met_total", nil)
	checks := []struct {
		name      string
		got, want float64
	}{
		{"completed + failed", completed + failedAll, float64(measured)},
		{"completed", completed, float64(ok)},
		{`failed{reason="http_503"}`, failed503, 1},
		{`failed{reason="error"}`, sample(t, fams, "forge_bench_requests_failed_total", map[string]string{"reason": "error"}), 0},
		{`failed{reason="timeout"}`, sample(t, fams, "forge_bench_requests_failed_total", map[string]string{"reason": "timeout"}), 0},
		{`failed{reason="cancelled"}`, sample(t, fams, "forge_bench_requests_failed_total", map[string]string{"reason": "cancelled"}), 0},
		{"in flight after Run", sample(t, fams, "forge_bench_requests_in_flight", nil), 0},
		{"prompt tokens", sample(t, fams, "forge_bench_prompt_tokens_total", nil), float64(promptToks)},
		{"output tokens", sample(t, fams, "forge_bench_output_tokens_total", nil), float64(outputToks)},
		{"slo met", sloMet, float64(good)},
		{"level", sample(t, fams, "forge_bench_level", map[string]string{"kind": "concurrency"}), 3},
		{"level index", sample(t, fams, "forge_bench_level_index", nil), 1},
		{"info", sample(t, fams, "forge_bench_info", map[string]string{"experiment": "scripted", "run_id": "test-run", "model": "m", "api": "completions"}), 1},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %g, want %g", c.name, c.got, c.want)
		}
	}
	if sloMet > completed {
		t.Errorf("slo met %g > completed %g", sloMet, completed)
	}
	if n := len(fams["forge_bench_level"].GetMetric()); n != 1 {
		t.Errorf("forge_bench_level has %d series, want 1", n)
	}
	if tps := sample(t, fams, "forge_bench_output_tokens_per_second", nil); tps <= 0 {
		t.Errorf("output tokens/s = %g after a level with output", tps)
	}
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total"} {
		if _, ok := fams[name]; !ok {
			t.Errorf("no %s: Go and process collectors missing", name)
		}
	}
}

// TestExporterInFlight scrapes while the server holds every request: the
// in-flight gauge equals the level's concurrency, and drops to 0 after.
func TestExporterInFlight(t *testing.T) {
	const conc, n = 3, 6
	release := make(chan struct{})
	var releaseOnce sync.Once
	unblock := func() { releaseOnce.Do(func() { close(release) }) }
	var arrived atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: {\"id\":\"x\",\"object\":\"text_completion\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"text\":\"t \",\"finish_reason\":\"length\"}]}\n\n")
		fmt.Fprint(w, "data: {\"id\":\"x\",\"object\":\"text_completion\",\"created\":1,\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":1,\"total_tokens\":6}}\n\ndata: [DONE]\n\n")
	}))
	defer srv.Close()
	defer unblock() // before Close, which waits for the handlers
	e := NewExporter()
	c := NewClient(ClientConfig{BaseURL: srv.URL, Model: "m", API: "completions", Timeout: 30 * time.Second})
	spec := LevelSpec{Level: Level{Kind: "concurrency", Value: conc}, RunID: "inflight", Prompts: prompts(n, 1), Exporter: e}
	type result struct {
		lr  LevelRun
		err error
	}
	done := make(chan result, 1)
	go func() {
		lr, err := RunLevel(context.Background(), c, spec, func(Record) error { return nil })
		done <- result{lr, err}
	}()
	inFlight := func() float64 {
		return sample(t, scrapeExporter(t, e.Handler()), "forge_bench_requests_in_flight", nil)
	}
	deadline := time.Now().Add(20 * time.Second)
	for arrived.Load() < conc || inFlight() < conc {
		if time.Now().After(deadline) {
			unblock()
			t.Fatalf("in flight %g, server holds %d, after 20 s; want %d", inFlight(), arrived.Load(), conc)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got := inFlight(); got != conc {
		t.Errorf("in flight = %g while the server holds every request, want %d", got, conc)
	}
	if got := sample(t, scrapeExporter(t, e.Handler()), "forge_bench_requests_completed_total", nil); got != 0 {
		t.Errorf("completed = %g before any request finished", got)
	}
	unblock()
	res := <-done
	if res.err != nil {
		t.Fatal(res.err)
	}
	fams := scrapeExporter(t, e.Handler())
	if got := sample(t, fams, "forge_bench_requests_in_flight", nil); got != 0 {
		t.Errorf("in flight after the level = %g", got)
	}
	if got := sample(t, fams, "forge_bench_requests_completed_total", nil); got != n || res.lr.Tally.Records != n {
		t.Errorf("completed = %g, records %d, want %d", got, res.lr.Tally.Records, n)
	}
}

// TestExporterLabels checks the label handling: a second run replaces the
// info series, a new level replaces the level series, and failure reasons
// stay bounded.
func TestExporterLabels(t *testing.T) {
	e := NewExporter()
	e.start(Config{Experiment: "a", RunID: "r1", Client: ClientConfig{Model: "m", API: "chat"}}, 1)
	e.start(Config{Experiment: "b", RunID: "r2", Client: ClientConfig{Model: "m", API: "chat"}}, 1)
	e.startLevel(Level{Kind: "concurrency", Value: 4, Index: 0})
	e.startLevel(Level{Kind: "rate", Value: 2.5, Index: 1})
	fams := scrapeExporter(t, e.Handler())
	if n := len(fams["forge_bench_info"].GetMetric()); n != 1 {
		t.Errorf("forge_bench_info has %d series after a second run, want 1", n)
	}
	if got := sample(t, fams, "forge_bench_info", map[string]string{"experiment": "b", "run_id": "r2"}); got != 1 {
		t.Errorf("info = %g", got)
	}
	if n := len(fams["forge_bench_level"].GetMetric()); n != 1 {
		t.Errorf("forge_bench_level has %d series, want 1", n)
	}
	if got := sample(t, fams, "forge_bench_level", map[string]string{"kind": "rate"}); got != 2.5 {
		t.Errorf("level = %g, want 2.5", got)
	}
	if got := sample(t, fams, "forge_bench_output_tokens_per_second", nil); got != 0 {
		t.Errorf("output tokens/s = %g before any token", got)
	}
	for _, tt := range []struct {
		r    Record
		want string
	}{
		{Record{Status: "error", HTTPStatus: 503}, "http_503"},
		{Record{Status: "error", HTTPStatus: 429}, "http_429"},
		{Record{Status: "error", HTTPStatus: 200}, "error"},
		{Record{Status: "error"}, "error"},
		{Record{Status: "timeout"}, "timeout"},
		{Record{Status: "cancelled"}, "cancelled"},
	} {
		if got := failureReason(tt.r); got != tt.want {
			t.Errorf("failureReason(%+v) = %q, want %q", tt.r, got, tt.want)
		}
	}
}

// TestExporterNil: a nil exporter records nothing and does not panic.
func TestExporterNil(t *testing.T) {
	var e *Exporter
	e.start(Config{}, 1)
	e.startLevel(Level{Kind: "concurrency", Value: 1})
	e.sending()
	e.sent()
	e.record(Record{Status: "ok"})
	e.endLevel(time.Now())
	if fams := scrapeExporter(t, e.Handler()); len(fams) != 0 {
		t.Errorf("nil exporter serves %d families", len(fams))
	}
}

func TestServeMetrics(t *testing.T) {
	e := NewExporter()
	get := func(url string) (int, string, error) {
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(url)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), err
	}
	t.Run("stop", func(t *testing.T) {
		bound, stop, err := ServeMetrics(context.Background(), "127.0.0.1:0", e)
		if err != nil {
			t.Fatal(err)
		}
		defer stop()
		if _, port, _ := net.SplitHostPort(bound); port == "" || port == "0" {
			t.Fatalf("bound address %q has no port", bound)
		}
		code, body, err := get("http://" + bound + "/metrics")
		if err != nil || code != http.StatusOK || !strings.Contains(body, "forge_bench_requests_in_flight 0") {
			t.Fatalf("/metrics: %d %v\n%s", code, err, body)
		}
		code, body, err = get("http://" + bound + "/")
		if err != nil || code != http.StatusOK || !strings.Contains(body, "/metrics") {
			t.Errorf("/: %d %v %q", code, err, body)
		}
		if code, _, _ := get("http://" + bound + "/other"); code != http.StatusNotFound {
			t.Errorf("/other: %d, want 404", code)
		}
		stop()
		stop() // idempotent
		if _, _, err := get("http://" + bound + "/metrics"); err == nil {
			t.Error("still serving after stop")
		}
	})
	t.Run("context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		bound, stop, err := ServeMetrics(ctx, "127.0.0.1:0", e)
		if err != nil {
			t.Fatal(err)
		}
		defer stop()
		if _, _, err := get("http://" + bound + "/metrics"); err != nil {
			t.Fatal(err)
		}
		cancel()
		deadline := time.Now().Add(10 * time.Second)
		for {
			if _, _, err := get("http://" + bound + "/metrics"); err != nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("still serving 10 s after the context ended")
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
	t.Run("bad address", func(t *testing.T) {
		busy, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer busy.Close()
		for _, addr := range []string{"nonsense", "127.0.0.1:99999", "127.0.0.1:-1", busy.Addr().String()} {
			bound, stop, err := ServeMetrics(context.Background(), addr, e)
			if err == nil {
				stop()
				t.Errorf("ServeMetrics(%q) = %q, want an error", addr, bound)
			}
		}
	})
}
