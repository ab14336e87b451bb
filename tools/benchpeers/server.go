package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/valyala/fastjson"
)

// The standalone server streams /v1/completions exactly as vLLM 0.11's
// OpenAI server does (one event per token, the usage event when
// stream_options.include_usage asks, then [DONE]), so that both clients
// parse what they parse against a real vLLM, but it spends no time on a
// model: each request's tokens are due at fixed offsets from its arrival
// (gap apart, the first one gap after it; gap 0: as fast as it can write),
// and it keeps the facts the harness needs to separate the client's share
// of each latency from its own: when the load began and ended, how many
// tokens went out, and how late its own writes were against their due time.

// serverStats is what /stats answers.
type serverStats struct {
	Requests     int64   `json:"requests"`
	Tokens       int64   `json:"tokens"`
	FirstArrival int64   `json:"first_arrival_unix_ns"`
	LastEnd      int64   `json:"last_end_unix_ns"`
	LateP50Ms    float64 `json:"late_p50_ms"`
	LateP99Ms    float64 `json:"late_p99_ms"`
	// The server's own view of each request: arrival to its first write,
	// and between consecutive writes, in ms. A client's figure minus the
	// server's is what the client added (transit on loopback included).
	TTFTP50Ms float64 `json:"ttft_p50_ms"`
	TTFTP99Ms float64 `json:"ttft_p99_ms"`
	ITLP50Ms  float64 `json:"itl_p50_ms"`
	ITLP99Ms  float64 `json:"itl_p99_ms"`
}

type stub struct {
	gap          time.Duration
	requests     atomic.Int64
	tokens       atomic.Int64
	firstArrival atomic.Int64
	lastEnd      atomic.Int64

	mu              sync.Mutex
	late, ttft, itl []float64 // ms; only with gap > 0, bounded
}

// maxLateSamples bounds the lateness kept (the first ones are kept).
const maxLateSamples = 4 << 20

func serve(args []string) error {
	addr, gap := "127.0.0.1:0", time.Duration(0)
	for i := 0; i+1 < len(args); i += 2 {
		switch args[i] {
		case "--addr":
			addr = args[i+1]
		case "--gap":
			d, err := time.ParseDuration(args[i+1])
			if err != nil || d < 0 {
				return fmt.Errorf("--gap %q: want a duration ≥ 0", args[i+1])
			}
			gap = d
		default:
			return fmt.Errorf("serve: unknown flag %s", args[i])
		}
	}
	s := &stub{gap: gap}
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/completions", s.completions)
	mux.HandleFunc("/v1/models", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `{"object":"list","data":[{"id":"m","object":"model","created":1,"owned_by":"vllm","root":"m","parent":null,"max_model_len":131072}]}`)
	})
	mux.HandleFunc("/version", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, `{"version":"0.11.0-benchpeers"}`) })
	mux.HandleFunc("/health", func(w http.ResponseWriter, _ *http.Request) {})
	mux.HandleFunc("/stats", s.stats)
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Println(l.Addr().String()) // the harness reads the port from the first line
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func (s *stub) stats(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	late, ttft, itl := slices.Clone(s.late), slices.Clone(s.ttft), slices.Clone(s.itl)
	if r.URL.Query().Has("reset") {
		s.late, s.ttft, s.itl = s.late[:0], s.ttft[:0], s.itl[:0]
		s.requests.Store(0)
		s.tokens.Store(0)
		s.firstArrival.Store(0)
		s.lastEnd.Store(0)
	}
	s.mu.Unlock()
	st := serverStats{Requests: s.requests.Load(), Tokens: s.tokens.Load(), FirstArrival: s.firstArrival.Load(), LastEnd: s.lastEnd.Load(),
		LateP50Ms: pct(late, 50), LateP99Ms: pct(late, 99), TTFTP50Ms: pct(ttft, 50), TTFTP99Ms: pct(ttft, 99), ITLP50Ms: pct(itl, 50), ITLP99Ms: pct(itl, 99)}
	_ = json.NewEncoder(w).Encode(st)
}

var parsers fastjson.ParserPool

func (s *stub) completions(w http.ResponseWriter, r *http.Request) {
	arrival := time.Now()
	s.firstArrival.CompareAndSwap(0, arrival.UnixNano())
	s.requests.Add(1)
	var body [64 << 10]byte
	n, _ := readFull(r, body[:])
	p := parsers.Get()
	v, err := p.ParseBytes(body[:n])
	maxTokens, prompt, usage := 16, 0, true
	if err == nil {
		if m := v.GetInt("max_tokens"); m > 0 {
			maxTokens = m
		}
		prompt = max(len(v.GetStringBytes("prompt"))/4, 1)
		usage = v.GetBool("stream_options", "include_usage")
	}
	parsers.Put(p)
	id := "cmpl-" + strconv.FormatInt(arrival.UnixNano(), 16)
	created := strconv.FormatInt(arrival.Unix(), 10)
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	fl := w.(http.Flusher)
	head := `data: {"id":"` + id + `","object":"text_completion","created":` + created + `,"model":"m","choices":[{"index":0,"text":" tok","logprobs":null,"finish_reason":`
	var buf []byte
	var late, itl []float64
	var ttft float64
	var prev time.Time
	// Streams of one closed loop start together and, all of one length,
	// would stay in phase: every stream's token due at the same instant,
	// a burst of 1,024 writes that makes the server, not the client, late.
	// Each request's tokens after the first are shifted by a phase within
	// the gap, as requests admitted at different steps would be; the phase
	// gap is left out of the server's own ITL (the harness compares
	// percentiles, and the client sees it too).
	phase := time.Duration(s.requests.Load()*37%100) * s.gap / 100
	for i := range maxTokens {
		if s.gap > 0 {
			due := arrival.Add(time.Duration(i+1) * s.gap)
			if i > 0 {
				due = due.Add(phase)
			}
			time.Sleep(time.Until(due))
			late = append(late, float64(time.Since(due))/1e6)
		}
		finish := `null,"stop_reason":null`
		if i == maxTokens-1 {
			finish = `"length","stop_reason":null`
		}
		buf = append(append(append(buf[:0], head...), finish...), `,"prompt_logprobs":null}],"usage":null}`+"\n\n"...)
		if _, err := w.Write(buf); err != nil {
			return
		}
		fl.Flush()
		if now := time.Now(); s.gap > 0 {
			if i == 0 {
				ttft = float64(now.Sub(arrival)) / 1e6
			} else if i > 1 {
				itl = append(itl, float64(now.Sub(prev))/1e6)
			}
			prev = now
		}
		s.tokens.Add(1)
	}
	if usage {
		fmt.Fprintf(w, `data: {"id":"%s","object":"text_completion","created":%s,"model":"m","choices":[],"usage":{"prompt_tokens":%d,"total_tokens":%d,"completion_tokens":%d,"prompt_tokens_details":null}}`+"\n\n", id, created, prompt, prompt+maxTokens, maxTokens)
	}
	fmt.Fprint(w, "data: [DONE]\n\n")
	fl.Flush()
	for end := time.Now().UnixNano(); ; {
		if old := s.lastEnd.Load(); old >= end || s.lastEnd.CompareAndSwap(old, end) {
			break
		}
	}
	if len(late) > 0 {
		s.mu.Lock()
		if len(s.late)+len(late) <= maxLateSamples {
			s.late, s.itl, s.ttft = append(s.late, late...), append(s.itl, itl...), append(s.ttft, ttft)
		}
		s.mu.Unlock()
	}
}

// readFull reads the request body into buf (a request larger than buf is
// cut: its max_tokens may then be missed, and 16 are sent).
func readFull(r *http.Request, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Body.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
