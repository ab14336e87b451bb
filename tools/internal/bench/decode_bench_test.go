package bench

import (
	"encoding/json"
	"testing"

	openai "github.com/sashabaranov/go-openai"
	"github.com/valyala/fastjson"
)

// vllmChunk is a completion chunk exactly as vLLM 0.11 streams it.
var vllmChunk = []byte(`{"id":"cmpl-8c5a7f0e2b3d4a1f9e6c","object":"text_completion","created":1764806400,"model":"meta-llama/Llama-3.1-8B-Instruct","choices":[{"index":0,"text":" the","logprobs":null,"finish_reason":null,"stop_reason":null,"prompt_logprobs":null}],"usage":null}`)

// BenchmarkDecodeChunk is why the stream is decoded with fastjson (issue
// 19): per chunk, go-openai's full response type through encoding/json
// (what the client did), a struct with only the fields the metrics use
// through encoding/json, and fastjson's reused Parser (what it does).
func BenchmarkDecodeChunk(b *testing.B) {
	b.Run("go-openai-full", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var r openai.CompletionResponse
			if err := json.Unmarshal(vllmChunk, &r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("std-minimal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var r struct {
				Choices []struct {
					Text         string  `json:"text"`
					FinishReason *string `json:"finish_reason"`
				} `json:"choices"`
				Usage *struct {
					PromptTokens     int `json:"prompt_tokens"`
					CompletionTokens int `json:"completion_tokens"`
				} `json:"usage"`
			}
			if err := json.Unmarshal(vllmChunk, &r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("fastjson", func(b *testing.B) {
		b.ReportAllocs()
		var p fastjson.Parser
		var c chunk
		for b.Loop() {
			if err := decodeChunk(&p, vllmChunk, false, &c); err != nil || string(c.text) != " the" {
				b.Fatal(err, string(c.text))
			}
		}
	})
}
