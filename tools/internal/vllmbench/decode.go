// This file reads a result file into a Result: every top-level field is
// decoded by itself so that one Parse reports all the problems of a file at
// once, and the per-request arrays are checked against the aggregates before
// anything is built on them.

package vllmbench

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

var (
	aggKey = regexp.MustCompile(`^(mean|median|std)_(ttft|tpot|itl|e2el)_ms$`)
	pctKey = regexp.MustCompile(`^p([0-9]+(?:\.[0-9]+)?)_(ttft|tpot|itl|e2el)_ms$`)
)

// Parse decodes one result file. name is used in messages only. It checks
// types, required fields (date, model_id, num_prompts, request_rate,
// duration, completed, the token totals and the three throughputs) and the
// consistency of the per-request arrays with the aggregates, and never
// panics.
func Parse(name string, b []byte) (*Result, error) {
	fail := func(format string, args ...any) (*Result, error) {
		return nil, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...))
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	var first json.RawMessage
	if dec.Decode(&first) == nil && bytes.HasPrefix(bytes.TrimSpace(b[dec.InputOffset():]), []byte("{")) {
		return fail("holds more than one result (vllm bench serve --append-result); split it into one file per run")
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line, col := position(b, se.Offset)
			return fail("not valid JSON at line %d, column %d: %v", line, col, err)
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return fail("not a vllm bench serve result: the file is %s, want a JSON object", jsonKind(bytes.TrimSpace(b)))
		}
		return fail("not valid JSON: %v", err)
	}
	if raw == nil {
		return fail("not a vllm bench serve result: the file is null, want a JSON object")
	}
	d := &decoder{raw: raw, seen: map[string]bool{}}
	r := &Result{Name: name, Metrics: map[string]Metric{}}

	d.str("date", &r.Date, true)
	d.str("endpoint_type", &r.EndpointType, false)
	d.str("backend", &r.Backend, false)
	optional(d, "label", "a string", &r.Label)
	d.str("model_id", &r.ModelID, true)
	d.str("tokenizer_id", &r.TokenizerID, false)
	value(d, "num_prompts", "an integer", &r.NumPrompts, true)
	d.rate("request_rate", &r.RequestRate)
	optional(d, "burstiness", "a number", &r.Burstiness)
	optional(d, "max_concurrency", "an integer", &r.MaxConcurrency)
	optional(d, "ramp_up_strategy", "a string", &r.RampUpStrategy)
	optional(d, "ramp_up_start_rps", "a number", &r.RampUpStartRPS)
	optional(d, "ramp_up_end_rps", "a number", &r.RampUpEndRPS)

	value(d, "duration", "a number", &r.Duration, true)
	value(d, "completed", "an integer", &r.Completed, true)
	value(d, "total_input_tokens", "an integer", &r.TotalInputTokens, true)
	value(d, "total_output_tokens", "an integer", &r.TotalOutputTokens, true)
	value(d, "request_throughput", "a number", &r.RequestThroughput, true)
	optional(d, "request_goodput", "a number", &r.RequestGoodput)
	value(d, "output_throughput", "a number", &r.OutputThroughput, true)
	value(d, "total_token_throughput", "a number", &r.TotalTokenThroughput, true)
	optional(d, "max_output_tokens_per_s", "a number", &r.MaxOutputTokensPerS)
	optional(d, "max_concurrent_requests", "an integer", &r.MaxConcurrentRequests)

	d.array("input_lens", &r.InputLens, "an array of integers")
	d.array("output_lens", &r.OutputLens, "an array of integers")
	d.array("ttfts", &r.TTFTs, "an array of numbers (seconds)")
	d.array("itls", &r.ITLs, "an array of arrays of numbers (seconds)")
	d.array("generated_texts", &r.GeneratedTexts, "an array of strings")
	d.array("errors", &r.Errors, "an array of strings")
	d.array("rps_change_events", &r.RPSChangeEvents, "an array of {rps, timestamp} objects")

	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if d.seen[k] {
			continue
		}
		if m := aggKey.FindStringSubmatch(k); m != nil {
			var v *float64
			optional(d, k, "a number", &v)
			if v == nil {
				continue
			}
			mt := r.Metrics[m[2]]
			switch m[1] {
			case "mean":
				mt.Mean = v
			case "median":
				mt.Median = v
			case "std":
				mt.Std = v
			}
			r.Metrics[m[2]] = mt
			continue
		}
		if m := pctKey.FindStringSubmatch(k); m != nil {
			var v *float64
			optional(d, k, "a number", &v)
			p, err := strconv.ParseFloat(m[1], 64)
			if v == nil || err != nil || p > 100 {
				if err == nil && p > 100 {
					d.errs = append(d.errs, fmt.Sprintf("%q: percentile %s is above 100", k, m[1]))
				}
				continue
			}
			mt := r.Metrics[m[2]]
			mt.Percentiles = append(mt.Percentiles, Percentile{P: p, Key: m[1], Value: *v})
			r.Metrics[m[2]] = mt
			continue
		}
		if r.Extra == nil {
			r.Extra = map[string]json.RawMessage{}
		}
		r.Extra[k] = raw[k]
	}
	for k, m := range r.Metrics {
		sort.Slice(m.Percentiles, func(i, j int) bool { return m.Percentiles[i].P < m.Percentiles[j].P })
		r.Metrics[k] = m
	}
	if len(d.errs) > 0 {
		return fail("%s", strings.Join(d.errs, "; "))
	}
	if err := r.check(); err != nil {
		return fail("%v", err)
	}
	return r, nil
}

// check verifies what the types alone do not: ranges, and that the
// per-request arrays agree with each other and with the aggregates.
func (r *Result) check() error {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	if _, err := time.Parse(DateLayout, r.Date); err != nil {
		bad("\"date\" %q is not vLLM's YYYYMMDD-HHMMSS", r.Date)
	}
	if r.ModelID == "" {
		bad("\"model_id\" is empty")
	}
	if !(r.Duration > 0) {
		bad("\"duration\" is %v, want a positive number of seconds", r.Duration)
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"num_prompts", r.NumPrompts}, {"completed", r.Completed}, {"total_input_tokens", r.TotalInputTokens}, {"total_output_tokens", r.TotalOutputTokens}} {
		if f.v < 0 {
			bad("%q is %d, want at least 0", f.name, f.v)
		}
	}
	if r.Completed > r.NumPrompts {
		bad("\"completed\" is %d but \"num_prompts\" only %d", r.Completed, r.NumPrompts)
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"request_throughput", r.RequestThroughput}, {"output_throughput", r.OutputThroughput}, {"total_token_throughput", r.TotalTokenThroughput}} {
		if f.v < 0 {
			bad("%q is %v, want at least 0", f.name, f.v)
		}
	}
	if !r.RequestRate.Inf && !(r.RequestRate.Value > 0) {
		bad("\"request_rate\" is %v, want \"inf\" or a positive number", r.RequestRate.Value)
	}
	if r.MaxConcurrency != nil && *r.MaxConcurrency < 1 {
		bad("\"max_concurrency\" is %d, want null or at least 1", *r.MaxConcurrency)
	}
	arrays := []struct {
		name string
		n    int
		nil  bool
	}{{"input_lens", len(r.InputLens), r.InputLens == nil}, {"output_lens", len(r.OutputLens), r.OutputLens == nil},
		{"ttfts", len(r.TTFTs), r.TTFTs == nil}, {"itls", len(r.ITLs), r.ITLs == nil}, {"errors", len(r.Errors), r.Errors == nil}}
	var present, missing []string
	for _, a := range arrays {
		if a.nil {
			missing = append(missing, a.name)
		} else {
			present = append(present, a.name)
		}
	}
	if len(present) > 0 && len(missing) > 0 {
		bad("has per-request arrays %s but not %s (--save-detailed writes all of them)", strings.Join(present, ", "), strings.Join(missing, ", "))
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	if len(missing) > 0 {
		return nil // no per-request arrays: nothing more to check
	}
	n := len(r.TTFTs)
	for _, a := range arrays {
		if a.n != n {
			bad("per-request arrays differ in length: ttfts has %d entries, %s %d", n, a.name, a.n)
		}
	}
	if r.GeneratedTexts != nil && len(r.GeneratedTexts) != n {
		bad("per-request arrays differ in length: ttfts has %d entries, generated_texts %d", n, len(r.GeneratedTexts))
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	ok, in, out := 0, 0, 0
	for i := range n {
		if r.TTFTs[i] < 0 {
			bad("ttfts[%d] is negative (%v s)", i, r.TTFTs[i])
		}
		for j, g := range r.ITLs[i] {
			if g < 0 {
				bad("itls[%d][%d] is negative (%v s)", i, j, g)
			}
		}
		if r.InputLens[i] < 0 || r.OutputLens[i] < 0 {
			bad("request %d has a negative token count", i)
		}
		if r.succeeded(i) {
			ok++
			in += r.InputLens[i]
			out += r.OutputLens[i]
		}
	}
	if ok != r.Completed {
		bad("%d requests have an empty error and a first token, but \"completed\" is %d", ok, r.Completed)
	}
	if ok == r.Completed && in != r.TotalInputTokens {
		bad("input_lens of the successful requests sum to %d, but \"total_input_tokens\" is %d", in, r.TotalInputTokens)
	}
	if ok == r.Completed && out != r.TotalOutputTokens {
		bad("output_lens of the successful requests sum to %d, but \"total_output_tokens\" is %d", out, r.TotalOutputTokens)
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

// decoder decodes the top-level fields one by one, collecting every problem.
type decoder struct {
	raw  map[string]json.RawMessage
	seen map[string]bool
	errs []string
}

func (d *decoder) get(key string, required bool) (json.RawMessage, bool) {
	d.seen[key] = true
	v, ok := d.raw[key]
	if !ok {
		if required {
			d.errs = append(d.errs, fmt.Sprintf("required field %q is missing", key))
		}
		return nil, false
	}
	return v, true
}

func (d *decoder) wrong(key, want string, v json.RawMessage) {
	d.errs = append(d.errs, fmt.Sprintf("field %q: want %s, got %s", key, want, jsonKind(v)))
}

func isNull(v json.RawMessage) bool { return string(bytes.TrimSpace(v)) == "null" }

func (d *decoder) str(key string, dst *string, required bool) {
	v, ok := d.get(key, required)
	if !ok {
		return
	}
	if isNull(v) {
		if required {
			d.wrong(key, "a string", v)
		}
		return
	}
	if json.Unmarshal(v, dst) != nil {
		d.wrong(key, "a string", v)
	}
}

// value decodes a number or an integer into dst; null, like a value of
// another type, is an error (what names the type in it).
func value[T any](d *decoder, key, what string, dst *T, required bool) {
	v, ok := d.get(key, required)
	if !ok {
		return
	}
	if isNull(v) || json.Unmarshal(v, dst) != nil {
		d.wrong(key, what, v)
	}
}

// optional decodes key into *dst, leaving it nil when the key is absent or
// null; a value of another type is an error.
func optional[T any](d *decoder, key, what string, dst **T) {
	v, ok := d.get(key, false)
	if !ok || isNull(v) {
		return
	}
	var x T
	if json.Unmarshal(v, &x) != nil {
		d.wrong(key, what+" or null", v)
		return
	}
	*dst = &x
}

func (d *decoder) rate(key string, dst *Rate) {
	v, ok := d.get(key, true)
	if !ok {
		return
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		if s == "inf" {
			dst.Inf = true
			return
		}
		d.errs = append(d.errs, fmt.Sprintf("field %q: want \"inf\" or a number, got the string %q", key, s))
		return
	}
	if isNull(v) || json.Unmarshal(v, &dst.Value) != nil {
		d.wrong(key, "\"inf\" or a number", v)
	}
}

// array decodes an optional array; null counts as absent.
func (d *decoder) array(key string, dst any, want string) {
	v, ok := d.get(key, false)
	if !ok || isNull(v) {
		return
	}
	if err := json.Unmarshal(v, dst); err != nil {
		msg := fmt.Sprintf("field %q: want %s, got %s", key, want, jsonKind(v))
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && jsonKind(v) == "an array" {
			msg = fmt.Sprintf("field %q: want %s, but an element is %s", key, want, te.Value)
		}
		d.errs = append(d.errs, msg)
	}
}

// jsonKind names the JSON type of a raw value, for messages.
func jsonKind(v []byte) string {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return "nothing"
	}
	switch v[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		var s string
		if json.Unmarshal(v, &s) == nil {
			if len(s) > 40 {
				s = s[:40] + "…"
			}
			return fmt.Sprintf("the string %q", s)
		}
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	if _, err := strconv.ParseFloat(string(v), 64); err == nil {
		return "the number " + string(v)
	}
	return "a number"
}

// position turns a byte offset into a 1-based line and column.
func position(b []byte, off int64) (line, col int) {
	if off > int64(len(b)) {
		off = int64(len(b))
	}
	if off < 0 {
		off = 0
	}
	pre := b[:off]
	line = bytes.Count(pre, []byte("\n")) + 1
	col = int(off) - (bytes.LastIndexByte(pre, '\n') + 1)
	if col < 1 {
		col = 1
	}
	return line, col
}
