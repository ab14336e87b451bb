package bench

import (
	"fmt"

	"github.com/valyala/fastjson"
)

// A streamed chunk is decoded for the few fields the metrics use and no
// others: whether its first choice carries generated text (and the text,
// for counting tokens when the server reports no usage), the chat role,
// the finish reason, the usage, and an error object. fastjson parses into
// a per-stream Parser that reuses its memory from chunk to chunk, so the
// hot path allocates nothing per token; decoding go-openai's full response
// types with encoding/json took half the client's CPU (issue 19; the
// figures are in BenchmarkDecodeChunk). Wrong types are errors, as they
// were with the typed decoding, so a broken server is still reported as
// sending malformed JSON.

// chunk is what one event says.
type chunk struct {
	hasChoice    bool
	text         []byte // generated text of choice 0 (content plus reasoning for chat); valid until the next decode
	role         bool   // chat: a role without content
	finishReason string
	usage        *Usage
	errMessage   string // {"error": {...}} sent inside the stream
}

// errJSON is a chunk that is not the JSON a completion stream sends.
type errJSON struct{ msg string }

func (e *errJSON) Error() string { return "malformed JSON in stream: " + e.msg }

// decodeChunk parses data with p into c. chat selects the delta fields of
// /v1/chat/completions over the text of /v1/completions.
func decodeChunk(p *fastjson.Parser, data []byte, chat bool, c *chunk) error {
	*c = chunk{text: c.text[:0]}
	v, err := p.ParseBytes(data)
	if err != nil {
		return &errJSON{err.Error()}
	}
	if v.Type() != fastjson.TypeObject {
		return &errJSON{"a chunk is not a JSON object"}
	}
	if e := v.Get("error"); e != nil && e.Type() != fastjson.TypeNull {
		c.errMessage = string(e.GetStringBytes("message"))
		if c.errMessage == "" {
			c.errMessage = clip(e.MarshalTo(nil), 200)
		}
		return nil
	}
	if u := v.Get("usage"); u != nil && u.Type() != fastjson.TypeNull {
		pt, err1 := intField(u, "prompt_tokens")
		ct, err2 := intField(u, "completion_tokens")
		if err := firstErr(err1, err2); err != nil {
			return err
		}
		c.usage = &Usage{PromptTokens: pt, CompletionTokens: ct}
	}
	choices := v.Get("choices")
	if choices == nil || choices.Type() == fastjson.TypeNull {
		return nil
	}
	arr, err := choices.Array()
	if err != nil {
		return &errJSON{"choices is not an array"}
	}
	if len(arr) == 0 {
		return nil
	}
	ch := arr[0]
	if ch.Type() != fastjson.TypeObject {
		return &errJSON{"a choice is not an object"}
	}
	c.hasChoice = true
	if f := ch.Get("finish_reason"); f != nil && f.Type() != fastjson.TypeNull {
		b, err := f.StringBytes()
		if err != nil {
			return &errJSON{"finish_reason is not a string"}
		}
		c.finishReason = string(b)
	}
	if !chat {
		return appendString(ch, "text", &c.text)
	}
	d := ch.Get("delta")
	if d == nil || d.Type() == fastjson.TypeNull {
		return nil
	}
	if d.Type() != fastjson.TypeObject {
		return &errJSON{"delta is not an object"}
	}
	if err := firstErr(appendString(d, "content", &c.text), appendString(d, "reasoning_content", &c.text)); err != nil {
		return err
	}
	if r := d.Get("role"); r != nil && r.Type() == fastjson.TypeString {
		c.role = len(r.GetStringBytes()) > 0
	}
	return nil
}

// appendString appends the string field key of v to dst; absent or null is
// nothing, another type an error.
func appendString(v *fastjson.Value, key string, dst *[]byte) error {
	f := v.Get(key)
	if f == nil || f.Type() == fastjson.TypeNull {
		return nil
	}
	b, err := f.StringBytes()
	if err != nil {
		return &errJSON{key + " is not a string"}
	}
	*dst = append(*dst, b...)
	return nil
}

// intField reads an integer field of usage; absent or null is 0.
func intField(v *fastjson.Value, key string) (int, error) {
	f := v.Get(key)
	if f == nil || f.Type() == fastjson.TypeNull {
		return 0, nil
	}
	n, err := f.Int()
	if err != nil {
		return 0, &errJSON{fmt.Sprintf("usage.%s is not an integer", key)}
	}
	return n, nil
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
