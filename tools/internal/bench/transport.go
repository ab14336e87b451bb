package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// go-openai has no extra-body field for /v1/completions and
// /v1/chat/completions, and drops zero values such as temperature 0
// (omitempty). vLLM's extras (ignore_eos, min_tokens) and an explicit greedy
// temperature are therefore added here, deliberately, at the one place every
// request body passes: a RoundTripper that merges fields into the JSON body.
// The same RoundTripper records the response status and Retry-After, which
// go-openai's errors do not expose.

type ctxKey struct{}

// exchange carries one request's extras in and its HTTP facts out.
type exchange struct {
	extra      map[string]any
	status     int
	retryAfter string
}

func withExchange(ctx context.Context, x *exchange) context.Context {
	return context.WithValue(ctx, ctxKey{}, x)
}

type extraBody struct {
	base  http.RoundTripper
	extra map[string]any // fields added to every request
}

func (t *extraBody) RoundTrip(req *http.Request) (*http.Response, error) {
	x, _ := req.Context().Value(ctxKey{}).(*exchange)
	if req.Body != nil && (len(t.extra) > 0 || x != nil && len(x.extra) > 0) {
		raw, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
		body := map[string]json.RawMessage{}
		if err := json.Unmarshal(raw, &body); err != nil {
			return nil, fmt.Errorf("request body is not a JSON object: %w", err)
		}
		for _, m := range []map[string]any{t.extra, extraOf(x)} {
			for k, v := range m {
				b, err := json.Marshal(v)
				if err != nil {
					return nil, fmt.Errorf("extra field %s: %w", k, err)
				}
				body[k] = b
			}
		}
		raw, err = json.Marshal(body)
		if err != nil {
			return nil, err
		}
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(raw))
		req.ContentLength = int64(len(raw))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil }
	}
	resp, err := t.base.RoundTrip(req)
	if err == nil && x != nil {
		x.status = resp.StatusCode
		x.retryAfter = resp.Header.Get("Retry-After")
	}
	return resp, err
}

func extraOf(x *exchange) map[string]any {
	if x == nil {
		return nil
	}
	return x.extra
}
