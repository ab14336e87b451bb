package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// hostileBytes is how much a hostile server offers before giving up: far
// above every bound under test, so only the client's bound can end it.
const hostileBytes = 64 << 20

// hostile serves one misbehaviour per path, writing until the client hangs
// up or hostileBytes have gone out.
func hostile(t *testing.T) *httptest.Server {
	t.Helper()
	flood := func(w http.ResponseWriter, head string, unit string, tail string) {
		fl := w.(http.Flusher)
		if _, err := fmt.Fprint(w, head); err != nil {
			return
		}
		block := []byte(strings.Repeat(unit, max(32<<10/len(unit), 1)))
		for sent := 0; sent < hostileBytes; sent += len(block) {
			if _, err := w.Write(block); err != nil {
				return
			}
			fl.Flush()
		}
		fmt.Fprint(w, tail)
	}
	mux := http.NewServeMux()
	sse := func(path string, f func(http.ResponseWriter)) {
		mux.HandleFunc(path+"/v1/completions", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			f(w)
		})
	}
	sse("/line", func(w http.ResponseWriter) { flood(w, `data: {"choices":[{"text":"`, "a", "\"}]}\n\n") })
	sse("/event", func(w http.ResponseWriter) { flood(w, "", "data: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n", "\n") })
	sse("/chunks", func(w http.ResponseWriter) {
		flood(w, "", "data: {\"choices\":[{\"text\":\"a\",\"finish_reason\":null}]}\n\n", "")
	})
	sse("/comments", func(w http.ResponseWriter) { flood(w, "", ": keep-alive\n", "") })
	sse("/text", func(w http.ResponseWriter) {
		flood(w, "", "data: {\"choices\":[{\"text\":\""+strings.Repeat("b", 4000)+"\",\"finish_reason\":null}]}\n\n", "")
	})
	mux.HandleFunc("/body/v1/completions", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		flood(w, "<html>", "x", "</html>")
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// peakHeap runs f and returns how far the heap grew above where it began.
func peakHeap(f func()) uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	base := m.HeapAlloc
	var peak atomic.Uint64
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		var s runtime.MemStats
		for {
			select {
			case <-done:
				return
			case <-t.C:
				runtime.ReadMemStats(&s)
				if s.HeapAlloc > base && s.HeapAlloc-base > peak.Load() {
					peak.Store(s.HeapAlloc - base)
				}
			}
		}
	}()
	f()
	close(done)
	return peak.Load()
}

// TestLimits: each bound on what a server sends ends the request as a
// failure naming the bound, after the client has held no more than the
// bound (the server offers 64 MiB each time).
func TestLimits(t *testing.T) {
	srv := hostile(t)
	lim := Limits{MaxLineBytes: 64 << 10, MaxEventBytes: 256 << 10, MaxErrorBodyBytes: 4 << 10, MaxChunks: 2000}
	tests := []struct{ path, reason string }{
		{"/line", "SSE line longer than 65536 bytes (--max-line-bytes)"},
		{"/event", "SSE event larger than 262144 bytes (--max-event-bytes)"},
		{"/chunks", "more than 2000 SSE events in one response (--max-chunks)"},
		{"/comments", "malformed SSE: more than 2000 lines without data (--max-chunks)"},
		{"/text", "generated text over its bound: more than 5120 bytes for max_tokens 4"},
		{"/body", "HTTP 502: <html>xxxxxxxx"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			c := newClient(ClientConfig{BaseURL: srv.URL + tt.path, Model: "m", API: "completions", Limits: lim, Timeout: 20 * time.Second}, nil)
			var tl Timeline
			grew := peakHeap(func() { tl = c.Do(context.Background(), Prompt{Text: "p", MaxTokens: 4}) })
			if tl.Status != "error" || !strings.Contains(tl.Reason, tt.reason) {
				t.Fatalf("status %s, reason %q; want an error containing %q", tl.Status, tl.Reason, tt.reason)
			}
			if tt.path == "/body" && (!strings.HasSuffix(tl.Reason, "(body larger than 4096 bytes, --max-error-body-bytes)") || len(tl.Reason) > 400) {
				t.Errorf("error body reason not bounded or not saying so: %d bytes, ends %q", len(tl.Reason), tl.Reason[max(len(tl.Reason)-80, 0):])
			}
			if grew > 8<<20 {
				t.Errorf("the client's heap grew by %d MiB against a %d MiB flood", grew>>20, hostileBytes>>20)
			}
		})
	}
}

// TestImpossibleUsage: a usage that cannot be true fails the request with
// its reason instead of reaching a throughput.
func TestImpossibleUsage(t *testing.T) {
	tests := []struct {
		name      string
		chunks    int
		usage     string
		ignoreEOS bool
		reason    string // "" : accepted
	}{
		{"true", 4, `{"prompt_tokens":3,"completion_tokens":4}`, true, ""},
		{"coalesced", 2, `{"prompt_tokens":3,"completion_tokens":4}`, false, ""},
		{"beyond max_tokens", 4, `{"prompt_tokens":3,"completion_tokens":999999}`, false, "completion_tokens 999999 exceeds the request's max_tokens 4"},
		{"negative", 4, `{"prompt_tokens":-3,"completion_tokens":4}`, false, "negative token count"},
		{"fewer than chunks", 4, `{"prompt_tokens":3,"completion_tokens":2}`, false, "completion_tokens 2 for 4 chunks of text"},
		{"short under ignore_eos", 3, `{"prompt_tokens":3,"completion_tokens":3}`, true, "completion_tokens 3 under ignore_eos, which generates exactly max_tokens 4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body strings.Builder
			for i := range tt.chunks {
				finish := "null"
				if i == tt.chunks-1 {
					finish = `"length"`
				}
				fmt.Fprintf(&body, "data: {\"choices\":[{\"text\":\"t\",\"finish_reason\":%s}]}\n\n", finish)
			}
			fmt.Fprintf(&body, "data: {\"choices\":[],\"usage\":%s}\n\ndata: [DONE]\n\n", tt.usage)
			c := newClient(ClientConfig{BaseURL: "http://127.0.0.1:9", Model: "m", API: "completions", IgnoreEOS: tt.ignoreEOS}, bodyTransport{200, body.String()})
			tl := c.Do(context.Background(), Prompt{Text: "p", MaxTokens: 4})
			if tt.reason == "" {
				if tl.Status != "ok" {
					t.Fatalf("a possible usage was rejected: %s", tl.Reason)
				}
				return
			}
			if tl.Status != "error" || !strings.Contains(tl.Reason, "impossible usage: "+tt.reason) {
				t.Errorf("status %s, reason %q; want %q", tl.Status, tl.Reason, tt.reason)
			}
		})
	}
}

// TestStreamMessages: each broken answer is reported as what it is.
func TestStreamMessages(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		reason string
	}{
		{"a line that is not SSE", 200, "data: {\"choices\":[{\"text\":\"a\",\"finish_reason\":null}]}\n\nthis is not SSE\n\n", `malformed SSE: line "this is not SSE" is not an SSE field`},
		{"a non-JSON error body", 502, "<html><body>Bad gateway\x1b[2J</body></html>", "HTTP 502: <html><body>Bad gateway␣[2J</body></html>"},
		{"vLLM's error object", 400, `{"object":"error","message":"max_tokens is too large","type":"BadRequestError","code":400}`, "HTTP 400: max_tokens is too large"},
		{"an error inside the stream", 200, "data: {\"error\":{\"message\":\"engine died\"}}\n\n", "server error in stream: engine died"},
		{"no final chunk", 200, "data: {\"choices\":[{\"text\":\"a\",\"finish_reason\":null}]}\n\ndata: [DONE]\n\n", "stream cut mid-way: it ended before its final chunk"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(ClientConfig{BaseURL: "http://127.0.0.1:9", Model: "m", API: "completions"}, bodyTransport{tt.status, tt.body})
			tl := c.Do(context.Background(), Prompt{Text: "p", MaxTokens: 4})
			if tl.Status != "error" || !strings.HasPrefix(tl.Reason, tt.reason) {
				t.Errorf("status %s, reason %q; want %q", tl.Status, tl.Reason, tt.reason)
			}
		})
	}
}
