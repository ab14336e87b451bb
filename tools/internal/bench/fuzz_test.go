package bench

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

// bodyTransport answers every request with a fixed streaming body.
type bodyTransport struct {
	status int
	body   string
}

func (b bodyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: b.status, Header: http.Header{"Content-Type": {"text/event-stream"}},
		Body: io.NopCloser(strings.NewReader(b.body)), Request: r}, nil
}

// FuzzStream feeds arbitrary bytes through the SSE reader and the JSON
// decoding of both endpoints: no panic, and every outcome is either a
// completed request with text or a failure with a reason.
func FuzzStream(f *testing.F) {
	f.Add("data: {\"choices\":[{\"text\":\"a\",\"finish_reason\":\"length\"}]}\n\ndata: [DONE]\n\n")
	f.Add("data: {\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"x\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1}}\n\n")
	f.Add("data: {\"choices\":[{\"text\":")
	f.Add("event: x\n: comment\ndata: {\"error\":{\"message\":\"boom\"}}\n\n")
	f.Add("data: {\"choices\":[],\"usage\":{\"completion_tokens\":-5}}\n\ndata: [DONE]\n")
	f.Fuzz(func(t *testing.T, body string) {
		for _, api := range []string{"completions", "chat"} {
			c := newClient(ClientConfig{BaseURL: "http://127.0.0.1:9", Model: "m", API: api}, bodyTransport{200, body})
			tl := c.Do(context.Background(), Prompt{Text: "p", MaxTokens: 4})
			r := Measure(tl, 1, Counter{Count: func(s string) int { return len(s) }, Source: "estimate"})
			if r.Status != "ok" && r.Error == "" {
				t.Fatalf("%s: failure without a reason: %+v", api, r)
			}
			if r.Status == "ok" && (r.TTFTMs == nil || r.E2ELMs == nil || *r.E2ELMs < *r.TTFTMs) {
				t.Fatalf("%s: inconsistent ok record: %+v", api, r)
			}
		}
	})
}
