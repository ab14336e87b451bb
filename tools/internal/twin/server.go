package twin

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// ServerConfig names what the server reports about itself.
type ServerConfig struct {
	Model        string // served model name
	Root         string // model repository, reported as /v1/models root
	VLLMVersion  string // the vLLM release modelled, reported by /version
	ForgeVersion string
	Seed         int64
	Faults       Faults
}

// Server is the twin's OpenAI-compatible HTTP API.
type Server struct {
	cfg     ServerConfig
	run     *Runner
	metrics *metrics
	count   atomic.Int64
	created int64
}

// NewServer serves the runner's engine.
func NewServer(r *Runner, cfg ServerConfig) *Server {
	return &Server{cfg: cfg, run: r, metrics: newMetrics(r, cfg.Model), created: time.Now().Unix()}
}

// Handler routes the endpoints vLLM's API server has.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/completions", func(w http.ResponseWriter, r *http.Request) { s.generate(w, r, false) })
	mux.HandleFunc("POST /v1/chat/completions", func(w http.ResponseWriter, r *http.Request) { s.generate(w, r, true) })
	mux.HandleFunc("GET /v1/models", s.models)
	mux.HandleFunc("GET /version", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"version": s.cfg.VLLMVersion, "engine": "twin", "time_scale": s.run.Scale(), "forge_version": s.cfg.ForgeVersion})
	})
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
	return mux
}

func (s *Server) models(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": []map[string]any{{
		"id": s.cfg.Model, "object": "model", "created": s.created, "owned_by": "forge-twin", "root": s.cfg.Root, "max_model_len": s.run.eng.cfg.MaxModelLen,
	}}})
}

type genRequest struct {
	Model    string          `json:"model"`
	Prompt   json.RawMessage `json:"prompt"`
	Messages []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
	MaxTokens           *int `json:"max_tokens"`
	MaxCompletionTokens *int `json:"max_completion_tokens"`
	Stream              bool `json:"stream"`
	StreamOptions       *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
}

// apiError writes an error in the OpenAI shape vLLM uses.
func apiError(w http.ResponseWriter, code int, typ, msg string) {
	writeJSON(w, code, map[string]any{"error": map[string]any{"message": msg, "type": typ, "param": nil, "code": code}})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// promptText flattens a completions prompt or chat messages to text.
func (q *genRequest) promptText(chat bool) (string, error) {
	if chat {
		if len(q.Messages) == 0 {
			return "", fmt.Errorf("messages must not be empty")
		}
		var b strings.Builder
		for _, m := range q.Messages {
			var text string
			if err := json.Unmarshal(m.Content, &text); err != nil {
				return "", fmt.Errorf("message content must be a string")
			}
			b.WriteString(text)
		}
		return b.String(), nil
	}
	var text string
	if err := json.Unmarshal(q.Prompt, &text); err != nil {
		return "", fmt.Errorf("prompt must be a string")
	}
	return text, nil
}

// EstimateTokens counts a prompt as Forge's workload estimate does
// (ceil(UTF-8 bytes / 4)), so a random workload's lengths are exact here.
func EstimateTokens(s string) int { return max((len(s)+3)/4, 1) }

func (s *Server) generate(w http.ResponseWriter, r *http.Request, chat bool) {
	n := s.count.Add(1)
	var q genRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<20)).Decode(&q); err != nil {
		apiError(w, http.StatusBadRequest, "BadRequestError", "invalid JSON body: "+err.Error())
		return
	}
	if q.Model != s.cfg.Model {
		apiError(w, http.StatusNotFound, "NotFoundError", fmt.Sprintf("The model `%s` does not exist.", q.Model))
		return
	}
	text, err := q.promptText(chat)
	if err != nil {
		apiError(w, http.StatusBadRequest, "BadRequestError", err.Error())
		return
	}
	prompt := EstimateTokens(text)
	maxTokens := 16 // the OpenAI completions default
	if chat {
		maxTokens = s.run.eng.cfg.MaxModelLen - prompt
	}
	for _, p := range []*int{q.MaxTokens, q.MaxCompletionTokens} {
		if p != nil {
			maxTokens = *p
		}
	}
	fault := s.cfg.Faults.pick(s.cfg.Seed, n)
	if fault == faultError {
		apiError(w, http.StatusInternalServerError, "InternalServerError", "twin: injected failure")
		return
	}
	arrived := time.Now()
	h, err := s.run.Submit(prompt, maxTokens)
	if err != nil {
		apiError(w, http.StatusBadRequest, "BadRequestError", err.Error())
		return
	}
	st := &stream{s: s, w: w, chat: chat, id: fmt.Sprintf("%s-%d", map[bool]string{true: "chatcmpl", false: "cmpl"}[chat], n),
		words: wordsFor(s.cfg.Seed, text), fault: fault, prompt: prompt, arrived: arrived, last: arrived}
	if q.Stream {
		st.usage = q.StreamOptions != nil && q.StreamOptions.IncludeUsage
		st.run(r.Context(), h)
		return
	}
	st.collect(r.Context(), h)
}

// stream turns engine tokens into SSE chunks (or one JSON response).
type stream struct {
	s       *Server
	w       http.ResponseWriter
	chat    bool
	id      string
	words   func(int) string
	fault   fault
	prompt  int
	usage   bool
	arrived time.Time
	last    time.Time // the previous token's arrival
}

func (st *stream) chunk(choices any, usage any) {
	obj := "text_completion"
	if st.chat {
		obj = "chat.completion.chunk"
	}
	b, _ := json.Marshal(map[string]any{"id": st.id, "object": obj, "created": st.s.created, "model": st.s.cfg.Model, "choices": choices, "usage": usage})
	fmt.Fprintf(st.w, "data: %s\n\n", b)
}

func (st *stream) choice(text string, finish any, first bool) []map[string]any {
	if st.chat {
		delta := map[string]any{"content": text}
		if first {
			delta["role"] = "assistant"
		}
		return []map[string]any{{"index": 0, "delta": delta, "logprobs": nil, "finish_reason": finish}}
	}
	return []map[string]any{{"index": 0, "text": text, "logprobs": nil, "finish_reason": finish, "stop_reason": nil}}
}

// next waits for the request's next token and records its latency (TTFT
// for the first, ITL after). ok is false when the client went away: the
// request is then aborted.
func (st *stream) next(ctx context.Context, h *Handle) (tok Token, ok bool) {
	select {
	case <-ctx.Done():
		st.s.run.Abort(h)
		st.s.metrics.success.WithLabelValues("abort").Inc()
		return tok, false
	case tok = <-h.Tokens:
	}
	now := time.Now()
	if tok.N == 1 {
		st.s.observeFirst(st.arrived, now)
	} else {
		st.s.metrics.itl.Observe(now.Sub(st.last).Seconds() * st.s.run.Scale())
	}
	st.last = now
	if tok.Done {
		st.s.observeDone(st.arrived, now, h)
	}
	return tok, true
}

// run streams tokens as the engine produces them, applying any fault.
func (st *stream) run(ctx context.Context, h *Handle) {
	st.w.Header().Set("Content-Type", "text/event-stream")
	st.w.Header().Set("Cache-Control", "no-cache")
	fl, _ := st.w.(http.Flusher)
	for {
		tok, ok := st.next(ctx, h)
		if !ok {
			return
		}
		if tok.N == 1 {
			if st.fault == faultSlowFirst {
				time.Sleep(st.s.cfg.Faults.SlowFirstToken)
			}
			if st.chat {
				st.chunk([]map[string]any{{"index": 0, "delta": map[string]any{"role": "assistant", "content": ""}, "logprobs": nil, "finish_reason": nil}}, nil)
			}
		}
		half := h.Seq.MaxTokens/2 + 1
		switch {
		case st.fault == faultCut && tok.N == half:
			st.s.run.Abort(h)
			if hj, ok := st.w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					_ = conn.Close()
				}
			}
			return
		case st.fault == faultMalformed && tok.N == half:
			st.s.run.Abort(h)
			fmt.Fprint(st.w, "data: {\"id\": \"broken\", \"choices\": [\n\n")
			if fl != nil {
				fl.Flush()
			}
			return
		case st.fault == faultStall && tok.N == half:
			time.Sleep(st.s.cfg.Faults.Stall)
		}
		var finish any
		if tok.Done {
			finish = "length"
		}
		st.chunk(st.choice(st.words(tok.N), finish, false), nil)
		if tok.Done {
			if st.usage {
				st.chunk([]any{}, usageOf(st.prompt, tok.N))
			}
			fmt.Fprint(st.w, "data: [DONE]\n\n")
		}
		if fl != nil {
			fl.Flush()
		}
		if tok.Done {
			return
		}
	}
}

// collect answers a non-streaming request once the output is complete.
func (st *stream) collect(ctx context.Context, h *Handle) {
	var text strings.Builder
	for {
		tok, ok := st.next(ctx, h)
		if !ok {
			return
		}
		text.WriteString(st.words(tok.N))
		if !tok.Done {
			continue
		}
		var choice map[string]any
		obj := "text_completion"
		if st.chat {
			obj = "chat.completion"
			choice = map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": text.String()}, "finish_reason": "length"}
		} else {
			choice = map[string]any{"index": 0, "text": text.String(), "logprobs": nil, "finish_reason": "length"}
		}
		writeJSON(st.w, http.StatusOK, map[string]any{"id": st.id, "object": obj, "created": st.s.created, "model": st.s.cfg.Model,
			"choices": []any{choice}, "usage": usageOf(st.prompt, tok.N)})
		return
	}
}

func usageOf(prompt, out int) map[string]int {
	return map[string]int{"prompt_tokens": prompt, "completion_tokens": out, "total_tokens": prompt + out}
}

func (s *Server) observeFirst(arrived, now time.Time) {
	s.metrics.ttft.Observe(now.Sub(arrived).Seconds() * s.run.Scale())
}

func (s *Server) observeDone(arrived, now time.Time, h *Handle) {
	scale := s.run.Scale()
	e2e := now.Sub(arrived).Seconds() * scale
	s.metrics.e2e.Observe(e2e)
	s.metrics.queue.Observe(h.Seq.Admitted - h.Seq.Arrival)
	if n := len(h.Seq.Tokens); n > 0 {
		// vLLM's phases: scheduled → first token, first → last token.
		s.metrics.prefill.Observe(h.Seq.Tokens[0] - h.Seq.Admitted)
		s.metrics.decode.Observe(h.Seq.Tokens[n-1] - h.Seq.Tokens[0])
	}
	if n := h.Seq.generated; n > 1 {
		first := h.Seq.Tokens[0]
		s.metrics.tpot.Observe((h.Seq.Tokens[len(h.Seq.Tokens)-1] - first) / float64(n-1))
	}
	s.metrics.success.WithLabelValues("length").Inc()
}

// wordsFor returns the deterministic text of a request's tokens: one word
// per token, chosen by a hash of the seed, the prompt and the position.
func wordsFor(seed int64, prompt string) func(int) string {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d|%s", seed, prompt)
	base := h.Sum64()
	return func(i int) string {
		x := base ^ (uint64(i) * 0x9e3779b97f4a7c15)
		x ^= x >> 33
		x *= 0xff51afd7ed558ccd
		x ^= x >> 33
		return " " + vocabulary[x%uint64(len(vocabulary))]
	}
}

var vocabulary = strings.Fields(`the of and to in a is that for it as was with be by on not he this are or his from at which
but have an they you were her she there one all we their been has would when who will more no if out so said what up its
about into than them can only other new some could time these two may then do first any my now such like our over man me
even most made after also did many before must through back years where much your way well down should because each just
those people how too little state good very make world still own see men work long get here between both life being under
never day same another know while last might us great old year off come since against go came right used take three model
token cache batch server engine memory latency throughput cost price budget stream request answer prompt output quality`)
