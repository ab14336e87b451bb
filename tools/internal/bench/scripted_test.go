package bench

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// script drives a scripted OpenAI-compatible streaming server: each
// request's chunks are sent at fixed offsets from its arrival (deadline-
// based, so sleeps do not accumulate drift), and faults are injected on
// every other request so that completed records can be shown to survive.
type script struct {
	ttft   time.Duration
	gap    time.Duration
	tokens int
	prompt int    // prompt_tokens reported in usage
	fault  string // see serve
	all    bool   // fault every request, not every other one
}

type scripted struct {
	*httptest.Server
	requests   atomic.Int64
	genTokens  atomic.Int64
	promptToks atomic.Int64
	running    atomic.Int64
	mu         sync.Mutex
	bodies     []map[string]any
	emitted    [][]time.Duration // per completed request: when each token chunk was actually written
}

func newScripted(t *testing.T, s script) *scripted {
	t.Helper()
	srv := &scripted{}
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/completions", func(w http.ResponseWriter, r *http.Request) { srv.serve(w, r, s, false) })
	mux.HandleFunc("/v1/chat/completions", func(w http.ResponseWriter, r *http.Request) { srv.serve(w, r, s, true) })
	mux.HandleFunc("/version", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"version":"0.0.0-scripted"}`) })
	mux.HandleFunc("/v1/models", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"object":"list","data":[{"id":"m","object":"model","root":"/models/m"}]}`)
	})
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "# HELP vllm:generation_tokens_total Generation tokens.\n# TYPE vllm:generation_tokens_total counter\nvllm:generation_tokens_total{model_name=\"m\"} %d\n", srv.genTokens.Load())
		fmt.Fprintf(w, "# HELP vllm:prompt_tokens_total Prompt tokens.\n# TYPE vllm:prompt_tokens_total counter\nvllm:prompt_tokens_total{model_name=\"m\"} %d\n", srv.promptToks.Load())
		fmt.Fprintf(w, "# HELP vllm:num_requests_running Running.\n# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running{model_name=\"m\"} %d\n", srv.running.Load())
	})
	srv.Server = httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func (srv *scripted) serve(w http.ResponseWriter, r *http.Request, s script, chat bool) {
	start := time.Now()
	n := srv.requests.Add(1)
	var body map[string]any
	_ = json.NewDecoder(r.Body).Decode(&body)
	srv.mu.Lock()
	srv.bodies = append(srv.bodies, body)
	srv.mu.Unlock()
	fault := s.fault
	if !s.all && n%2 == 1 {
		fault = ""
	}
	switch fault {
	case "500":
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, `{"error":{"message":"scripted failure","type":"InternalServerError","code":500}}`)
		return
	case "429":
		w.Header().Set("Retry-After", "2")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"error":{"message":"slow down","type":"rate_limit","code":429}}`)
		return
	}
	srv.running.Add(1)
	defer srv.running.Add(-1)
	w.Header().Set("Content-Type", "text/event-stream")
	fl := w.(http.Flusher)
	var wroteAt []time.Duration
	send := func(at time.Duration, payload string) bool {
		if d := time.Until(start.Add(at)); d > 0 {
			select {
			case <-time.After(d):
			case <-r.Context().Done():
				return false
			}
		}
		fmt.Fprintf(w, "data: %s\n\n", payload)
		fl.Flush()
		wroteAt = append(wroteAt, time.Since(start))
		return true
	}
	obj := "text_completion"
	if chat {
		obj = "chat.completion.chunk"
		send(s.ttft/2, `{"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`)
		wroteAt = nil
	}
	for i := 0; i < s.tokens; i++ {
		if i == 2 {
			switch fault {
			case "malformed-json":
				send(s.ttft+time.Duration(i)*s.gap, `{"id":"x","choices":[{"text":`)
				return
			case "garbage-sse":
				fmt.Fprint(w, strings.Repeat("event: nonsense\n", 3)+"data: not-json-at-all\n\n")
				fl.Flush()
				return
			case "cut":
				conn, _, err := w.(http.Hijacker).Hijack()
				if err == nil {
					_ = conn.Close()
				}
				return
			case "cut-clean":
				return
			case "stall":
				<-r.Context().Done()
				return
			}
		}
		finish := "null"
		if i == s.tokens-1 {
			finish = `"length"`
		}
		var payload string
		if chat {
			payload = fmt.Sprintf(`{"id":"x","object":"%s","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"t%d "},"finish_reason":%s}]}`, obj, i, finish)
		} else {
			payload = fmt.Sprintf(`{"id":"x","object":"%s","created":1,"model":"m","choices":[{"index":0,"text":"t%d ","logprobs":null,"finish_reason":%s}]}`, obj, i, finish)
		}
		if !send(s.ttft+time.Duration(i)*s.gap, payload) {
			return
		}
	}
	srv.mu.Lock()
	srv.emitted = append(srv.emitted, wroteAt)
	srv.mu.Unlock()
	srv.genTokens.Add(int64(s.tokens))
	srv.promptToks.Add(int64(s.prompt))
	if fault != "no-usage" {
		send(0, fmt.Sprintf(`{"id":"x","object":"%s","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d}}`, obj, s.prompt, s.tokens, s.prompt+s.tokens))
	}
	send(0, "[DONE]")
}
