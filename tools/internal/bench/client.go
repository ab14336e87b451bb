package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/forge-bench/forge/tools/internal/provenance"
	openai "github.com/sashabaranov/go-openai"
)

// Prompt is one request to send.
type Prompt struct {
	Index        int
	Text         string
	PromptTokens int // the workload's count, used when the server reports no usage
	MaxTokens    int
}

// ClientConfig configures a Client.
type ClientConfig struct {
	BaseURL   string // e.g. http://127.0.0.1:8000 (with or without /v1)
	Model     string
	API       string // "completions" or "chat"
	APIKey    string // from the environment only; never written anywhere
	IgnoreEOS bool   // vLLM: generate exactly max_tokens (also sets min_tokens)
	Timeout   time.Duration
	MaxConns  int
}

// Client sends streaming requests through go-openai and times every chunk.
type Client struct {
	oa      *openai.Client
	cfg     ClientConfig
	timeout time.Duration
	http    *http.Client
}

// NewClient builds a client whose HTTP transport keeps a connection per
// in-flight stream (no pooling limits, no compression) so that the client,
// not the server, is never the bottleneck.
func NewClient(cfg ClientConfig) *Client {
	return newClient(cfg, nil)
}

// newClient lets tests put an in-memory transport under the client.
func newClient(cfg ClientConfig, rt http.RoundTripper) *Client {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Minute
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 1024
	}
	tr := &http.Transport{
		Proxy:               nil, // benchmarks talk to the target directly
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        cfg.MaxConns * 2,
		MaxIdleConnsPerHost: cfg.MaxConns * 2,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
		IdleConnTimeout:     90 * time.Second,
	}
	var base http.RoundTripper = tr
	if rt != nil {
		base = rt
	}
	extra := map[string]any{"temperature": 0}
	if cfg.IgnoreEOS {
		extra["ignore_eos"] = true
	}
	hc := &http.Client{Transport: &extraBody{base: base, extra: extra}}
	oc := openai.DefaultConfig(cfg.APIKey)
	oc.BaseURL = provenance.APIBase(cfg.BaseURL)
	oc.HTTPClient = hc
	// vLLM separates events with blank lines, which go-openai counts as
	// "empty messages"; keep-alive comments add more. Raise the limit so
	// that only a truly broken stream trips it.
	oc.EmptyMessagesLimit = 1 << 20
	return &Client{oa: openai.NewClientWithConfig(oc), cfg: cfg, timeout: cfg.Timeout, http: &http.Client{Transport: base, Timeout: 30 * time.Second}}
}

// Do sends one streaming request and returns its timeline. It never
// panics and never returns an error: every failure is a Timeline with a
// status and a reason. ctx cancels the request (status "cancelled"); the
// request's own deadline gives "timeout".
func (c *Client) Do(ctx context.Context, p Prompt) Timeline {
	x := &exchange{}
	if c.cfg.IgnoreEOS {
		x.extra = map[string]any{"min_tokens": p.MaxTokens}
	}
	rctx, cancel := context.WithTimeout(withExchange(ctx, x), c.timeout)
	defer cancel()
	tl := Timeline{Handed: time.Now()}
	tl.Sent = tl.Handed
	// The clock starts when the request has been written to the connection,
	// so the client's own work (building and encoding the request, dialling)
	// is not charged to the server; it is recorded apart as send overhead.
	var wrote atomic.Int64
	rctx = httptrace.WithClientTrace(rctx, &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) {
		wrote.CompareAndSwap(0, time.Now().UnixNano())
	}})
	started := func() {
		if w := wrote.Load(); w != 0 {
			tl.Sent = time.Unix(0, w)
		}
	}
	var err error
	if c.cfg.API == "chat" {
		err = c.chat(rctx, p, &tl, started)
	} else {
		err = c.completion(rctx, p, &tl, started)
	}
	started()
	tl.HTTPStatus = x.status
	if err == nil && tl.FinishReason == "" {
		err = errCut
	}
	c.classify(ctx, rctx, err, x, &tl)
	return tl
}

var errCut = errors.New("stream ended before its final chunk (no finish_reason): cut mid-way")

type rawStream interface {
	RecvRaw() ([]byte, error)
	Close() error
}

func (c *Client) completion(ctx context.Context, p Prompt, tl *Timeline, started func()) error {
	stream, err := c.oa.CreateCompletionStream(ctx, openai.CompletionRequest{
		Model: c.cfg.Model, Prompt: p.Text, MaxTokens: p.MaxTokens, Stream: true,
		StreamOptions: &openai.StreamOptions{IncludeUsage: true},
	})
	if err != nil {
		return err
	}
	started()
	return consume[openai.CompletionResponse](stream, tl, func(r openai.CompletionResponse, at time.Duration, text *strings.Builder) {
		if len(r.Choices) > 0 {
			tl.LastChoice = at
			ch := r.Choices[0]
			if ch.Text != "" {
				tl.Content = append(tl.Content, at)
				text.WriteString(ch.Text)
			}
			if ch.FinishReason != "" {
				tl.FinishReason = ch.FinishReason
			}
		}
		if r.Usage != nil {
			tl.Usage = &Usage{PromptTokens: r.Usage.PromptTokens, CompletionTokens: r.Usage.CompletionTokens}
		}
	})
}

func (c *Client) chat(ctx context.Context, p Prompt, tl *Timeline, started func()) error {
	stream, err := c.oa.CreateChatCompletionStream(ctx, openai.ChatCompletionRequest{
		Model:               c.cfg.Model,
		Messages:            []openai.ChatCompletionMessage{{Role: openai.ChatMessageRoleUser, Content: p.Text}},
		MaxCompletionTokens: p.MaxTokens, Stream: true,
		StreamOptions: &openai.StreamOptions{IncludeUsage: true},
	})
	if err != nil {
		return err
	}
	started()
	return consume[openai.ChatCompletionStreamResponse](stream, tl, func(r openai.ChatCompletionStreamResponse, at time.Duration, text *strings.Builder) {
		if len(r.Choices) > 0 {
			tl.LastChoice = at
			ch := r.Choices[0]
			content := ch.Delta.Content + ch.Delta.ReasoningContent
			switch {
			case content != "":
				tl.Content = append(tl.Content, at)
				text.WriteString(content)
			case ch.Delta.Role != "" && tl.Role == 0 && len(tl.Content) == 0:
				tl.Role = at
			}
			if ch.FinishReason != "" {
				tl.FinishReason = string(ch.FinishReason)
			}
		}
		if r.Usage != nil {
			tl.Usage = &Usage{PromptTokens: r.Usage.PromptTokens, CompletionTokens: r.Usage.CompletionTokens}
		}
	})
}

// consume reads a stream to its end. Each event is timestamped as soon as
// its SSE line is read, before its JSON is decoded, so that decoding cost is
// never charged to the server. io.EOF is the normal end ([DONE] or a closed body).
func consume[T any](stream rawStream, tl *Timeline, on func(T, time.Duration, *strings.Builder)) error {
	defer stream.Close()
	var text strings.Builder
	defer func() { tl.Text = text.String() }()
	for {
		raw, err := stream.RecvRaw()
		at := time.Since(tl.Sent)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		var r T
		if err := json.Unmarshal(raw, &r); err != nil {
			return err
		}
		on(r, at, &text)
	}
}

// classify turns an error into a status and a reason a person can act on.
func (c *Client) classify(parent, rctx context.Context, err error, x *exchange, tl *Timeline) {
	if err == nil {
		tl.Status = "ok"
		return
	}
	tl.Status = "error"
	var apiErr *openai.APIError
	var reqErr *openai.RequestError
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case parent.Err() != nil:
		tl.Status, tl.Reason = "cancelled", "cancelled before the response completed"
	case errors.Is(rctx.Err(), context.DeadlineExceeded):
		tl.Status, tl.Reason = "timeout", fmt.Sprintf("no complete response within %s", c.timeout)
	case errors.As(err, &apiErr):
		tl.HTTPStatus = apiErr.HTTPStatusCode
		tl.Reason = httpReason(apiErr.HTTPStatusCode, apiErr.Message, x.retryAfter)
	case errors.As(err, &reqErr):
		tl.HTTPStatus = reqErr.HTTPStatusCode
		tl.Reason = httpReason(reqErr.HTTPStatusCode, reqErr.Error(), x.retryAfter)
	case errors.Is(err, syscall.ECONNREFUSED):
		tl.Reason = "connection refused: is the server running at " + c.cfg.BaseURL + "?"
	case errors.As(err, &syntaxErr) || errors.As(err, &typeErr):
		tl.Reason = "malformed JSON in stream: " + err.Error()
	case errors.Is(err, io.ErrUnexpectedEOF):
		tl.Reason = "stream cut mid-way: unexpected EOF"
	case errors.Is(err, openai.ErrTooManyEmptyStreamMessages):
		tl.Reason = "malformed SSE: too many lines without data"
	default:
		tl.Reason = err.Error()
	}
}

func httpReason(status int, msg, retryAfter string) string {
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	r := fmt.Sprintf("HTTP %d", status)
	if msg != "" {
		r += ": " + msg
	}
	if retryAfter != "" {
		r += " (Retry-After: " + retryAfter + ")"
	}
	return r
}
