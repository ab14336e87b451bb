package bench

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/forge-bench/forge/tools/internal/buildinfo"
)

// Exporter holds forge bench's live metrics on its own registry, so that a
// Prometheus can scrape the load generator next to the serving engine. Only
// measured requests are counted: warmup requests never reach it. A nil
// *Exporter is valid and records nothing, so callers without
// --metrics-addr are unchanged.
type Exporter struct {
	reg          *prometheus.Registry
	info         *prometheus.GaugeVec
	level        *prometheus.GaugeVec
	levelIndex   prometheus.Gauge
	inFlight     prometheus.Gauge
	completed    prometheus.Counter
	failed       *prometheus.CounterVec
	promptTokens prometheus.Counter
	outputTokens prometheus.Counter
	sloMet       prometheus.Counter

	mu          sync.Mutex
	scratch     []float64 // for the per-request ITL p99, under mu
	slo         SLO
	scale       float64
	firstSend   time.Time // the current level's first measured send (zero: none yet)
	levelEnd    time.Time // set when the level has finished (zero: running)
	levelTokens int       // the current level's output tokens (completed requests)
}

// failureReasons are the record statuses other than "ok"; each has a
// series from the start so that the failed family is never empty.
var failureReasons = []string{"error", "timeout", "cancelled"}

// NewExporter builds an Exporter with its metric families, the Go runtime
// collector and the process collector on a fresh registry.
func NewExporter() *Exporter {
	e := &Exporter{
		reg: prometheus.NewRegistry(),
		info: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "forge_bench_info",
			Help: "Always 1: the run being measured (experiment, run id, model, API) and the Forge version measuring it.",
		}, []string{"experiment", "run_id", "model", "api", "forge_version"}),
		level: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "forge_bench_level",
			Help: "Load of the level being measured: concurrency (requests kept in flight) or rate (requests/s), by kind.",
		}, []string{"kind"}),
		levelIndex: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "forge_bench_level_index",
			Help: "Index in the sweep of the level being measured (0 first).",
		}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "forge_bench_requests_in_flight",
			Help: "Measured requests sent and not yet finished (warmup excluded).",
		}),
		completed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "forge_bench_requests_completed_total",
			Help: "Measured requests finished with status ok (warmup excluded).",
		}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "forge_bench_requests_failed_total",
			Help: "Measured requests that failed (warmup excluded), by reason: http_<code> for an HTTP status of 400 or more, else the record's status (error, timeout, cancelled).",
		}, []string{"reason"}),
		promptTokens: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "forge_bench_prompt_tokens_total",
			Help: "Prompt tokens of measured requests finished with status ok (as in the summaries' total_input_tokens).",
		}),
		outputTokens: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "forge_bench_output_tokens_total",
			Help: "Output tokens of measured requests finished with status ok (as in the summaries' total_output_tokens).",
		}),
		sloMet: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "forge_bench_requests_slo_met_total",
			Help: "Measured requests finished with status ok that meet every per-request SLO threshold (ttft_ms, tpot_ms, itl_ms, e2el_ms); all of them when no SLO is set. Its rate is the goodput.",
		}),
	}
	throughput := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "forge_bench_output_tokens_per_second",
		Help: "Output tokens of the current level's completed measured requests divided by the seconds since its first measured send (until the level ends); 0 before the first token.",
	}, e.throughput)
	for _, r := range failureReasons {
		e.failed.WithLabelValues(r)
	}
	e.reg.MustRegister(e.info, e.level, e.levelIndex, e.inFlight, e.completed, e.failed,
		e.promptTokens, e.outputTokens, e.sloMet, throughput,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return e
}

// Handler serves the registry in the Prometheus text format.
func (e *Exporter) Handler() http.Handler {
	if e == nil {
		return promhttp.HandlerFor(prometheus.NewRegistry(), promhttp.HandlerOpts{})
	}
	return promhttp.HandlerFor(e.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError, Registry: e.reg})
}

// ServeMetrics listens on addr (host:port; port 0 allowed) and serves
// e.Handler() at /metrics, and a short text page at /, until stop is called
// or ctx ends. It returns the bound address. stop waits for the server to
// close and may be called more than once.
func ServeMetrics(ctx context.Context, addr string, e *Exporter) (bound string, stop func(), err error) {
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return "", nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", e.Handler())
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "forge %s: load-generator metrics at /metrics (Prometheus text)\n", buildinfo.Version)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(l) // http.ErrServerClosed once stopped
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if srv.Shutdown(sctx) != nil {
				_ = srv.Close()
			}
			<-served
		})
	}
	go func() {
		select {
		case <-ctx.Done():
			stop()
		case <-served:
		}
	}()
	return l.Addr().String(), stop, nil
}

// start sets forge_bench_info for a run (replacing any earlier run's) and
// the SLO that forge_bench_requests_slo_met_total applies, in modelled time
// (scale: the server's time scale, 1 for a real engine) as the summary does.
func (e *Exporter) start(cfg Config, scale float64) {
	if e == nil {
		return
	}
	e.info.Reset()
	e.info.WithLabelValues(cfg.Experiment, cfg.RunID, cfg.Client.Model, cfg.Client.API, buildinfo.Version).Set(1)
	e.mu.Lock()
	e.slo, e.scale = cfg.SLO, scale
	e.mu.Unlock()
}

// startLevel marks the start of a level's measured requests (after its
// warmup): the level gauges and a fresh throughput.
func (e *Exporter) startLevel(l Level) {
	if e == nil {
		return
	}
	e.level.Reset()
	e.level.WithLabelValues(l.Kind).Set(l.Value)
	e.levelIndex.Set(float64(l.Index))
	e.mu.Lock()
	e.firstSend, e.levelEnd, e.levelTokens = time.Time{}, time.Time{}, 0
	e.mu.Unlock()
}

// endLevel freezes the level's throughput at its last completion, so that
// it does not decay while the next level warms up or the exporter lingers.
func (e *Exporter) endLevel(end time.Time) {
	if e == nil {
		return
	}
	e.mu.Lock()
	e.levelEnd = end
	e.mu.Unlock()
}

// sending counts a measured request in flight; call it right before
// Client.Do and sent right after it returns.
func (e *Exporter) sending() {
	if e == nil {
		return
	}
	e.mu.Lock()
	if e.firstSend.IsZero() {
		e.firstSend = time.Now()
	}
	e.mu.Unlock()
	e.inFlight.Inc()
}

func (e *Exporter) sent() {
	if e == nil {
		return
	}
	e.inFlight.Dec()
}

// record counts one finished measured request. Tokens are counted for
// completed (ok) requests only, as the summaries count them
// (total_input_tokens, total_output_tokens, output_throughput): the live
// figures then converge to the summary's, and a failed stream's partial
// output, often without the server's usage, is not mixed in.
func (e *Exporter) record(r Record) {
	if e == nil {
		return
	}
	if r.Status != "ok" {
		e.failed.WithLabelValues(failureReason(r)).Inc()
		return
	}
	e.completed.Inc()
	e.promptTokens.Add(float64(r.PromptTokens))
	e.outputTokens.Add(float64(r.OutputTokens))
	e.mu.Lock()
	e.levelTokens += r.OutputTokens
	ok := meets(requestOf(r, &e.scratch), e.slo, e.scale)
	e.mu.Unlock()
	if ok {
		e.sloMet.Inc()
	}
}

// throughput is forge_bench_output_tokens_per_second, computed at scrape time.
func (e *Exporter) throughput() float64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.firstSend.IsZero() || e.levelTokens == 0 {
		return 0
	}
	until := e.levelEnd
	if until.IsZero() {
		until = time.Now()
	}
	el := until.Sub(e.firstSend).Seconds()
	if el <= 0 {
		return 0
	}
	return float64(e.levelTokens) / el
}

// failureReason is a failed record's reason label, of bounded cardinality:
// http_<code> for an HTTP error status, else the record's status.
func failureReason(r Record) string {
	if r.HTTPStatus >= 400 {
		return "http_" + strconv.Itoa(r.HTTPStatus)
	}
	return r.Status
}
