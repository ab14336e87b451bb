package bench

import (
	"bytes"
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
	"github.com/valyala/fastjson"
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
	Limits    Limits // bounds on what a server may send (zero fields: DefaultLimits)
}

// Client sends streaming requests and times every chunk. The request
// bodies are go-openai's request types; the response stream is read by
// Forge's own SSE reader and chunk decoder (sse.go, chunk.go), built for
// thousands of concurrent streams on one core.
type Client struct {
	cfg      ClientConfig
	endpoint string
	redact   provenance.Redactor // the key and URL credentials, out of every reason
	http     *http.Client        // metadata and /metrics: bounded in time
	stream   *http.Client        // streams: bounded by each request's context
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
	cfg.Limits = cfg.Limits.withDefaults()
	var base http.RoundTripper = &http.Transport{
		Proxy:               nil, // benchmarks talk to the target directly
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        cfg.MaxConns * 2,
		MaxIdleConnsPerHost: cfg.MaxConns * 2,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
		IdleConnTimeout:     90 * time.Second,
	}
	if rt != nil {
		base = rt
	}
	path := "/completions"
	if cfg.API == "chat" {
		path = "/chat/completions"
	}
	return &Client{cfg: cfg, endpoint: provenance.APIBase(cfg.BaseURL) + path, redact: provenance.NewRedactor(cfg.APIKey, cfg.BaseURL),
		http:   &http.Client{Transport: base, Timeout: 30 * time.Second, CheckRedirect: provenance.SameOriginRedirects},
		stream: &http.Client{Transport: base, CheckRedirect: provenance.SameOriginRedirects}}
}

// body encodes one request: go-openai's request type, which omits zero
// values, followed by the fields it cannot send (an explicit greedy
// temperature, vLLM's ignore_eos and min_tokens).
func (c *Client) body(p Prompt) ([]byte, error) {
	so := &openai.StreamOptions{IncludeUsage: true}
	var req any = openai.CompletionRequest{Model: c.cfg.Model, Prompt: p.Text, MaxTokens: p.MaxTokens, Stream: true, StreamOptions: so}
	if c.cfg.API == "chat" {
		req = openai.ChatCompletionRequest{Model: c.cfg.Model, Stream: true, StreamOptions: so, MaxCompletionTokens: p.MaxTokens,
			Messages: []openai.ChatCompletionMessage{{Role: openai.ChatMessageRoleUser, Content: p.Text}}}
	}
	b, err := json.Marshal(req)
	if err != nil || len(b) < 2 || b[len(b)-1] != '}' {
		return nil, fmt.Errorf("encoding the request: %v", err)
	}
	b = append(b[:len(b)-1], `,"temperature":0`...)
	if c.cfg.IgnoreEOS {
		b = fmt.Appendf(b, `,"ignore_eos":true,"min_tokens":%d`, p.MaxTokens)
	}
	return append(b, '}'), nil
}

// Do sends one streaming request and returns its timeline. It never
// panics and never returns an error: every failure is a Timeline with a
// status and a reason. ctx cancels the request (status "cancelled"); the
// request's own deadline gives "timeout".
func (c *Client) Do(ctx context.Context, p Prompt) Timeline {
	rctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	tl := Timeline{Handed: time.Now()}
	tl.Sent = tl.Handed
	// The clock starts when the request has been written to the connection,
	// as a server sees it; the client's own work before (encoding, dialling)
	// is recorded apart: send overhead, and connection setup when the
	// request opened a new connection.
	var wrote, getConn, connect atomic.Int64
	rctx = httptrace.WithClientTrace(rctx, &httptrace.ClientTrace{
		GetConn: func(string) { getConn.Store(time.Now().UnixNano()) },
		GotConn: func(info httptrace.GotConnInfo) {
			if !info.Reused {
				connect.Store(max(time.Now().UnixNano()-getConn.Load(), 1))
			}
		},
		WroteRequest: func(httptrace.WroteRequestInfo) { wrote.CompareAndSwap(0, time.Now().UnixNano()) },
	})
	// Sent moves to the write as soon as the headers are in, so that the
	// chunks are timed from it; a request that failed before is timed from
	// whatever was written.
	setSent := func() {
		if w := wrote.Load(); w != 0 {
			tl.Sent = time.Unix(0, w)
		}
	}
	err := c.send(rctx, p, &tl, setSent)
	setSent()
	tl.Connect = time.Duration(connect.Load())
	if err == nil && tl.FinishReason == "" {
		err = errCut
	}
	if err == nil {
		err = checkUsage(tl, p, c.cfg.IgnoreEOS)
	}
	c.classify(ctx, rctx, err, &tl)
	return tl
}

var errCut = errors.New("stream cut mid-way: it ended before its final chunk (no finish_reason)")

// httpError is a non-2xx answer, with the message of its (bounded) body.
type httpError struct {
	status     int
	msg        string
	retryAfter string
}

func (e *httpError) Error() string {
	r := fmt.Sprintf("HTTP %d", e.status)
	if e.msg != "" {
		r += ": " + e.msg
	}
	if e.retryAfter != "" {
		r += " (Retry-After: " + e.retryAfter + ")"
	}
	return r
}

// send posts the request and reads its stream into tl; started is called
// once the response headers are in (the request was written by then).
func (c *Client) send(ctx context.Context, p Prompt, tl *Timeline, started func()) error {
	body, err := c.body(p)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	if c.cfg.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.cfg.APIKey)
	}
	resp, err := c.stream.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	started()
	tl.HTTPStatus = resp.StatusCode
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &httpError{status: resp.StatusCode, msg: errorMessage(resp.Body, c.cfg.Limits.MaxErrorBodyBytes), retryAfter: resp.Header.Get("Retry-After")}
	}
	return c.consume(resp.Body, p, tl)
}

// errorMessage reads at most limit bytes of an error body and returns its
// message: the OpenAI error object's, vLLM's, or else the text itself,
// clipped and made safe to print.
func errorMessage(r io.Reader, limit int) string {
	b, _ := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	cut := len(b) > limit
	if cut {
		b = b[:limit]
	}
	var p fastjson.Parser
	if v, err := p.ParseBytes(b); err == nil {
		for _, path := range [][]string{{"error", "message"}, {"message"}, {"detail"}} {
			if m := v.GetStringBytes(path...); len(m) > 0 {
				return printable(clip(m, 200))
			}
		}
	}
	msg := printable(clip(bytes.TrimSpace(b), 200))
	if cut {
		msg += fmt.Sprintf(" (body larger than %d bytes, --max-error-body-bytes)", limit)
	}
	return msg
}

// printable replaces control characters, so a body cannot drive the
// terminal that prints the reason.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return '␣'
		}
		return r
	}, strings.ToValidUTF8(s, "�"))
}

// consume reads a stream to its end ([DONE] or the end of the body). Each
// event is timestamped when its first data line is read, before its JSON
// is decoded, so decoding cost is never charged to the server.
func (c *Client) consume(body io.Reader, p Prompt, tl *Timeline) error {
	maxChunks := c.cfg.Limits.chunksFor(p.MaxTokens)
	s := newSSEReader(body, c.cfg.Limits, maxChunks)
	defer s.put()
	text := s.text[:0]
	defer func() {
		if tl.Usage == nil && len(text) > 0 {
			tl.Text = string(text)
		}
		s.text = text[:0]
	}()
	maxText := maxTextBytes(p.MaxTokens)
	var at time.Duration
	stamp := func() { at = time.Since(tl.Sent) }
	chat := c.cfg.API == "chat"
	for {
		data, err := s.next(stamp)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		s.ck.text = s.ck.text[:0]
		if err := decodeChunk(&s.parser, data, chat, &s.ck); err != nil {
			return err
		}
		ck := &s.ck
		if ck.errMessage != "" {
			return fmt.Errorf("server error in stream: %s", printable(clip([]byte(ck.errMessage), 200)))
		}
		if ck.usage != nil {
			tl.Usage = ck.usage
		}
		if !ck.hasChoice {
			continue
		}
		tl.LastChoice = at
		switch {
		case len(ck.text) > 0:
			tl.Content = append(tl.Content, at)
			if len(text)+len(ck.text) > maxText {
				return &errLimit{fmt.Sprintf("generated text over its bound: more than %d bytes for max_tokens %d", maxText, p.MaxTokens)}
			}
			text = append(text, ck.text...)
		case ck.role && tl.Role == 0 && len(tl.Content) == 0:
			tl.Role = at
		}
		if ck.finishReason != "" {
			tl.FinishReason = ck.finishReason
		}
	}
}

// maxTextBytes bounds the generated text kept for counting: no tokenizer
// has tokens near 256 bytes.
func maxTextBytes(maxTokens int) int { return 256*max(maxTokens, 0) + 4096 }

// checkUsage rejects a usage that cannot be true, so that it never reaches
// a throughput: negative counts, more tokens than max_tokens allows, fewer
// than the chunks of text (each carries at least one token), or, under
// ignore_eos, a count other than max_tokens.
func checkUsage(tl Timeline, p Prompt, ignoreEOS bool) error {
	u := tl.Usage
	if u == nil {
		return nil
	}
	bad := func(format string, a ...any) error {
		return fmt.Errorf("impossible usage: "+format, a...)
	}
	switch {
	case u.PromptTokens < 0 || u.CompletionTokens < 0:
		return bad("negative token count (prompt_tokens %d, completion_tokens %d)", u.PromptTokens, u.CompletionTokens)
	case p.MaxTokens > 0 && u.CompletionTokens > p.MaxTokens:
		return bad("completion_tokens %d exceeds the request's max_tokens %d", u.CompletionTokens, p.MaxTokens)
	case u.CompletionTokens < len(tl.Content):
		return bad("completion_tokens %d for %d chunks of text (each carries at least one token)", u.CompletionTokens, len(tl.Content))
	case ignoreEOS && p.MaxTokens > 0 && u.CompletionTokens != p.MaxTokens:
		return bad("completion_tokens %d under ignore_eos, which generates exactly max_tokens %d", u.CompletionTokens, p.MaxTokens)
	}
	return nil
}

// classify turns an error into a status and a reason a person can act on,
// with the target's secrets removed.
func (c *Client) classify(parent, rctx context.Context, err error, tl *Timeline) {
	if err == nil {
		tl.Status = "ok"
		return
	}
	defer func() { tl.Reason = c.redact.Redact(tl.Reason) }()
	tl.Status = "error"
	var httpErr *httpError
	var limitErr *errLimit
	var jsonErr *errJSON
	switch {
	case parent.Err() != nil:
		tl.Status, tl.Reason = "cancelled", "cancelled before the response completed"
	case errors.Is(rctx.Err(), context.DeadlineExceeded):
		tl.Status, tl.Reason = "timeout", fmt.Sprintf("no complete response within %s", c.cfg.Timeout)
	case errors.As(err, &httpErr):
		tl.Reason = httpErr.Error()
	case errors.As(err, &limitErr):
		tl.Reason = limitErr.msg
	case errors.As(err, &jsonErr):
		tl.Reason = jsonErr.Error()
	case errors.Is(err, provenance.ErrCrossOrigin):
		_, msg, _ := strings.Cut(err.Error(), provenance.ErrCrossOrigin.Error())
		tl.Reason = provenance.ErrCrossOrigin.Error() + msg
	case errors.Is(err, syscall.ECONNREFUSED):
		tl.Reason = "connection refused: is the server running at " + provenance.Redacted(c.cfg.BaseURL) + "?"
	case errors.Is(err, io.ErrUnexpectedEOF):
		tl.Reason = "stream cut mid-way: unexpected EOF"
	default:
		tl.Reason = printable(err.Error())
	}
}
