package bench

import (
	"math"
	"time"

	"github.com/forge-bench/forge/schemas"
)

// Level is one load level of a sweep.
type Level struct {
	Kind  string  `json:"kind"` // "concurrency" or "rate"
	Value float64 `json:"value"`
	Index int     `json:"index"`
}

// Timeline is what the client observed for one request: offsets from the
// moment the request was handed to the HTTP client. It is the raw material
// for every per-request metric; Measure turns it into a Record.
type Timeline struct {
	Handed       time.Time       // given to the HTTP client
	Sent         time.Time       // written to the connection (Handed when it never was)
	Connect      time.Duration   // connection setup (dial), when this request opened a connection; 0: reused
	Role         time.Duration   // the role-only chat chunk (0: none)
	Content      []time.Duration // chunks that carried generated text
	LastChoice   time.Duration   // last chunk with choices (content or not)
	Text         string          // generated text, for counting tokens when the server sends no usage
	Usage        *Usage
	FinishReason string
	Status       string // ok, error, timeout, cancelled
	Reason       string
	HTTPStatus   int
}

// Usage is the server's own token count (stream_options.include_usage).
type Usage struct {
	PromptTokens     int
	CompletionTokens int
}

// Record is one line of a level's JSONL file (schema forge.bench.record/v1).
type Record struct {
	Schema         string    `json:"schema"`
	RunID          string    `json:"run_id"`
	Level          Level     `json:"level"`
	RequestIndex   int       `json:"request_index"`
	PromptHash     string    `json:"prompt_hash,omitempty"`
	ScheduledSendS *float64  `json:"scheduled_send_s"`
	ActualSendS    float64   `json:"actual_send_s"`
	DoneS          float64   `json:"done_s"`
	QueueWaitMs    float64   `json:"queue_wait_ms"`
	SendOverheadMs float64   `json:"send_overhead_ms"`
	ConnectMs      *float64  `json:"connect_ms,omitempty"` // connection setup, when this request opened a connection (inside send overhead, outside TTFT)
	TTFTMs         *float64  `json:"ttft_ms"`
	RoleChunkMs    *float64  `json:"role_chunk_ms,omitempty"`
	E2ELMs         *float64  `json:"e2el_ms"`
	TPOTMs         *float64  `json:"tpot_ms"`
	ITLMs          []float64 `json:"itl_ms"`
	ChunkTimesMs   []float64 `json:"chunk_times_ms"`
	Chunks         int       `json:"chunks"`
	TokensPerChunk *float64  `json:"tokens_per_chunk"`
	PromptTokens   int       `json:"prompt_tokens"`
	OutputTokens   int       `json:"output_tokens"`
	TokenSource    string    `json:"token_source"`
	Status         string    `json:"status"`
	Error          string    `json:"error,omitempty"`
	HTTPStatus     int       `json:"http_status,omitempty"`
	Late           bool      `json:"late"`
	FinishReason   string    `json:"finish_reason,omitempty"`
}

// ms converts a duration to milliseconds rounded to the microsecond, so
// files stay readable and diff cleanly; the clock is no finer than that.
func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

func ptr(v float64) *float64 { return &v }

// Counter counts the tokens of generated text when the server reports no usage.
type Counter struct {
	Count  func(string) int
	Source string // "tokenizer" or "estimate"
}

// Measure applies the metric definitions of docs/metrics.md (those of
// `vllm bench serve`) to one timeline:
//
//	TTFT  = first content chunk − send          (the role-only chat chunk is kept apart)
//	E2EL  = last chunk with choices − send       (the usage-only chunk moves nothing)
//	ITL   = each gap between consecutive content chunks, one per gap
//	TPOT  = (E2EL − TTFT) / (output_tokens − 1)  when output_tokens > 1
//
// Token counts come from the server's usage; only without it are the
// generated characters counted, and the record says which.
func Measure(tl Timeline, promptTokens int, counter Counter) Record {
	r := Record{Schema: schemas.BenchRecord, Status: tl.Status, Error: tl.Reason, HTTPStatus: tl.HTTPStatus,
		FinishReason: tl.FinishReason, PromptTokens: promptTokens, TokenSource: counter.Source,
		ITLMs: []float64{}, ChunkTimesMs: []float64{}, Chunks: len(tl.Content)}
	if !tl.Handed.IsZero() {
		r.SendOverheadMs = ms(max(tl.Sent.Sub(tl.Handed), 0))
	}
	if tl.Connect > 0 {
		r.ConnectMs = ptr(ms(tl.Connect))
	}
	if tl.Role > 0 {
		r.RoleChunkMs = ptr(ms(tl.Role))
	}
	if tl.Usage != nil {
		r.PromptTokens, r.OutputTokens, r.TokenSource = tl.Usage.PromptTokens, tl.Usage.CompletionTokens, "usage"
	} else if tl.Text != "" && counter.Count != nil {
		r.OutputTokens = counter.Count(tl.Text)
	}
	for i, c := range tl.Content {
		r.ChunkTimesMs = append(r.ChunkTimesMs, ms(c))
		if i > 0 {
			r.ITLMs = append(r.ITLMs, ms(c-tl.Content[i-1]))
		}
	}
	if r.Status == "ok" && len(tl.Content) == 0 {
		r.Status, r.Error = "error", "stream finished without any generated text"
	}
	if r.Status != "ok" {
		return r
	}
	ttft, e2el := tl.Content[0], tl.LastChoice
	if last := tl.Content[len(tl.Content)-1]; e2el < last {
		e2el = last
	}
	r.TTFTMs, r.E2ELMs = ptr(ms(ttft)), ptr(ms(e2el))
	if r.OutputTokens > 1 {
		r.TPOTMs = ptr(math.Round(float64(e2el-ttft)/float64(r.OutputTokens-1)/1e3) / 1e3)
	}
	r.TokensPerChunk = ptr(math.Round(float64(r.OutputTokens)/float64(len(tl.Content))*1000) / 1000)
	return r
}
