package vllmbench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"

	"github.com/forge-bench/forge/tools/internal/bench"
)

// Tolerances are the largest |difference| in percent of vLLM's value at
// which Forge's number still agrees, per class of metric.
type Tolerances struct {
	Counts     float64 // completed, total_input_tokens, total_output_tokens
	Throughput float64 // request, output and total token throughput
	Central    float64 // latency means and medians (p50)
	Tail       float64 // latency p99s
	// OverheadMs bounds, in milliseconds, how far the two clients' own
	// overheads may differ: client mean minus the server's own mean over the
	// same requests (see serverRows).
	OverheadMs float64
}

// DefaultTolerances: token and request counts exact; throughputs within
// 10 %; latency means and medians within 15 %; p99s within 30 %, because a
// p99 over a few hundred requests rests on a handful of them.
func DefaultTolerances() Tolerances {
	return Tolerances{Counts: 0, Throughput: 10, Central: 15, Tail: 30, OverheadMs: 5}
}

// Row is one metric of one level compared. Forge and VLLM are NaN when that
// side has no value; DiffPct = (Forge − VLLM) / VLLM · 100, NaN when either
// is missing and ±Inf when only vLLM's is 0. Non-finite numbers encode as
// JSON null.
type Row struct {
	Level   string  // kind-value, e.g. "concurrency-2" (LevelKey)
	Metric  string  // summary field, e.g. "ttft_ms.p99"
	Forge   float64 // Forge's value
	VLLM    float64 // vLLM's value
	DiffPct float64 // (Forge − VLLM) / VLLM · 100; with Unit "ms", Forge − VLLM in ms
	TolPct  float64 // tolerance applied, in percent (in ms with Unit "ms"); NaN: context only
	Within  bool    // |DiffPct| ≤ TolPct (and both values present)
	Note    string  // why a row could not be compared, when it could not
	Unit    string  // "" (difference in percent) or "ms" (absolute difference)
}

type rowJSON struct {
	Level   string   `json:"level"`
	Metric  string   `json:"metric"`
	Forge   *float64 `json:"forge"`
	VLLM    *float64 `json:"vllm"`
	DiffPct *float64 `json:"diff_pct"`
	TolPct  *float64 `json:"tolerance_pct"`
	Within  bool     `json:"within"`
	Note    string   `json:"note,omitempty"`
	Unit    string   `json:"unit,omitempty"`
}

func finitePtr(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

func nanIfNil(v *float64) float64 {
	if v == nil {
		return math.NaN()
	}
	return *v
}

// MarshalJSON writes snake_case keys and null for a missing or infinite value.
func (r Row) MarshalJSON() ([]byte, error) {
	return json.Marshal(rowJSON{Level: r.Level, Metric: r.Metric, Forge: finitePtr(r.Forge), VLLM: finitePtr(r.VLLM),
		DiffPct: finitePtr(r.DiffPct), TolPct: finitePtr(r.TolPct), Within: r.Within, Note: r.Note, Unit: r.Unit})
}

// UnmarshalJSON reads what MarshalJSON writes, null as NaN.
func (r *Row) UnmarshalJSON(b []byte) error {
	var j rowJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*r = Row{Level: j.Level, Metric: j.Metric, Forge: nanIfNil(j.Forge), VLLM: nanIfNil(j.VLLM), DiffPct: nanIfNil(j.DiffPct),
		TolPct: nanIfNil(j.TolPct), Within: j.Within, Note: j.Note, Unit: j.Unit}
	return nil
}

type class int

const (
	classCount class = iota
	classThroughput
	classCentral
	classTail
	classServer   // the server's own figure during each client's run: context, no verdict
	classOverhead // client minus server, compared in absolute milliseconds
)

func (t Tolerances) of(c class) float64 {
	switch c {
	case classCount:
		return t.Counts
	case classThroughput:
		return t.Throughput
	case classCentral:
		return t.Central
	case classOverhead:
		return t.OverheadMs
	case classServer:
		return math.NaN()
	}
	return t.Tail
}

type metric struct {
	name  string
	class class
	get   func(bench.Summary) *float64
}

func num(v float64) *float64 { return &v }

// p50 is the stat's p50, or its median when p50 is absent (numpy's median
// is its 50th percentile, so the two are the same number).
func p50(st bench.Stats) *float64 {
	if st.P50 != nil {
		return st.P50
	}
	return st.Median
}

// metrics are the compared metrics, in row order.
var metrics = func() []metric {
	m := []metric{
		{"request_throughput", classThroughput, func(s bench.Summary) *float64 { return num(s.RequestThroughput) }},
		{"output_throughput", classThroughput, func(s bench.Summary) *float64 { return num(s.OutputThroughput) }},
		{"total_token_throughput", classThroughput, func(s bench.Summary) *float64 { return num(s.TotalTokenThroughput) }},
	}
	for _, lat := range []struct {
		name string
		get  func(bench.Summary) bench.Stats
	}{
		{"ttft_ms", func(s bench.Summary) bench.Stats { return s.TTFT }},
		{"tpot_ms", func(s bench.Summary) bench.Stats { return s.TPOT }},
		{"itl_ms", func(s bench.Summary) bench.Stats { return s.ITL }},
		{"e2el_ms", func(s bench.Summary) bench.Stats { return s.E2EL }},
	} {
		get := lat.get
		m = append(m,
			metric{lat.name + ".mean", classCentral, func(s bench.Summary) *float64 { return get(s).Mean }},
			metric{lat.name + ".p50", classCentral, func(s bench.Summary) *float64 { return p50(get(s)) }},
			metric{lat.name + ".p99", classTail, func(s bench.Summary) *float64 { return get(s).P99 }})
	}
	return append(m,
		metric{"completed", classCount, func(s bench.Summary) *float64 { return num(float64(s.Completed)) }},
		metric{"total_input_tokens", classCount, func(s bench.Summary) *float64 { return num(float64(s.TotalInputTokens)) }},
		metric{"total_output_tokens", classCount, func(s bench.Summary) *float64 { return num(float64(s.TotalOutputTokens)) }})
}()

// MetricOrder lists the compared metrics in row order.
func MetricOrder() []string {
	out := make([]string, len(metrics))
	for i, m := range metrics {
		out[i] = m.name
	}
	return out
}

// LevelKey names a level by kind and value only ("concurrency-2"), the
// part of bench.LevelName that two runs of the same load share: the index
// prefix says where a level sat in its own sweep, which differs between a
// Forge sweep and a set of imported vLLM files.
func LevelKey(l bench.Level) string {
	return l.Kind + "-" + strconv.FormatFloat(l.Value, 'f', -1, 64)
}

// serverFamilies are vLLM's own latency histograms (the first name present
// is used: vLLM renamed time_per_output_token to inter_token_latency), each
// matched with the client statistic that measures the same interval.
var serverFamilies = []struct {
	client string
	names  []string
	get    func(bench.Summary) *float64
}{
	{"ttft_ms", []string{"vllm:time_to_first_token_seconds"}, func(s bench.Summary) *float64 { return s.TTFT.Mean }},
	{"itl_ms", []string{"vllm:inter_token_latency_seconds", "vllm:time_per_output_token_seconds"}, func(s bench.Summary) *float64 { return s.ITL.Mean }},
	{"e2el_ms", []string{"vllm:e2e_request_latency_seconds"}, func(s bench.Summary) *float64 { return s.E2EL.Mean }},
}

// serverMeanMs is the mean of a server histogram over the level, in ms,
// from the scraped counters' _sum and _count deltas.
func serverMeanMs(s bench.Summary, names []string) *float64 {
	if s.Server == nil {
		return nil
	}
	for _, n := range names {
		sum, ok1 := s.Server.Counters[n+"_sum"]
		cnt, ok2 := s.Server.Counters[n+"_count"]
		if ok1 && ok2 && cnt > 0 {
			return num(sum / cnt * 1000)
		}
	}
	return nil
}

// serverRows separate the clients from the machine. Two clients measured
// minutes apart on one machine see the server at different speeds; the
// server's own histograms, scraped around each client's run, say how fast
// it was. "server: X.mean" is the server's mean over each client's requests
// (context, no verdict); "X.mean − server" is what each client adds on top
// (HTTP, streaming, parsing, its own scheduling), which must agree within
// OverheadMs whatever the server's speed.
func serverRows(level string, forge, vllm bench.Summary, tol Tolerances) []Row {
	var rows []Row
	for _, f := range serverFamilies {
		fs, vs := serverMeanMs(forge, f.names), serverMeanMs(vllm, f.names)
		if fs == nil || vs == nil {
			continue
		}
		rows = append(rows, Row{Level: level, Metric: "server: " + f.client + ".mean", Forge: *fs, VLLM: *vs,
			DiffPct: (*fs - *vs) / *vs * 100, TolPct: math.NaN(), Within: true, Note: "the server's own, during each client's run"})
		fc, vc := f.get(forge), f.get(vllm)
		if fc == nil || vc == nil {
			continue
		}
		fo, vo := *fc-*fs, *vc-*vs
		d := fo - vo
		rows = append(rows, Row{Level: level, Metric: f.client + ".mean − server", Forge: fo, VLLM: vo, DiffPct: d,
			TolPct: tol.OverheadMs, Within: math.Abs(d) <= tol.OverheadMs, Unit: "ms"})
	}
	return rows
}

// Compare compares one level measured by Forge with the same level measured
// by vLLM's client, one row per metric of MetricOrder, then, when both
// summaries carry the server's scraped metrics, the serverRows.
func Compare(forge, vllm bench.Summary, tol Tolerances) []Row {
	level := LevelKey(forge.Level)
	mismatch := ""
	if vk := LevelKey(vllm.Level); vk != level {
		level, mismatch = level+" vs "+vk, "different load levels"
	}
	rows := make([]Row, 0, len(metrics))
	for _, m := range metrics {
		f, v := m.get(forge), m.get(vllm)
		r := Row{Level: level, Metric: m.name, Forge: nanIfNil(f), VLLM: nanIfNil(v), DiffPct: math.NaN(), TolPct: tol.of(m.class)}
		switch {
		case f == nil && v == nil:
			r.Note = "absent in both"
		case f == nil:
			r.Note = "missing in Forge"
		case v == nil:
			r.Note = "missing in vLLM"
		case *v == 0 && *f == 0:
			r.DiffPct, r.Within = 0, true
		case *v == 0:
			r.DiffPct, r.Note = math.Inf(int(math.Copysign(1, *f))), "vLLM's value is 0"
		default:
			r.DiffPct = (*f - *v) / *v * 100
			// A hair of slack so that a difference of exactly the tolerance,
			// computed in floating point, is within it.
			r.Within = math.Abs(r.DiffPct) <= r.TolPct*(1+1e-9)+1e-9
		}
		if mismatch != "" {
			r.Within, r.Note = false, mismatch
		}
		rows = append(rows, r)
	}
	if mismatch == "" {
		rows = append(rows, serverRows(level, forge, vllm, tol)...)
	}
	return rows
}

// CompareSets pairs Forge's and vLLM's summaries by LevelKey and compares
// each pair, in level order (concurrency before rate, then by value).
// Levels found on one side only are returned as "concurrency-4 (Forge
// only)". Two summaries of the same level on one side are an error.
func CompareSets(forge, vllm []bench.Summary, tol Tolerances) (rows []Row, unpaired []string, err error) {
	index := func(side string, ss []bench.Summary) (map[string]bench.Summary, error) {
		m := map[string]bench.Summary{}
		for _, s := range ss {
			k := LevelKey(s.Level)
			if _, dup := m[k]; dup {
				return nil, fmt.Errorf("%s has two summaries of level %s", side, k)
			}
			m[k] = s
		}
		return m, nil
	}
	fm, err := index("Forge", forge)
	if err != nil {
		return nil, nil, err
	}
	vm, err := index("vLLM", vllm)
	if err != nil {
		return nil, nil, err
	}
	var levels []bench.Level
	for k, s := range fm {
		if _, ok := vm[k]; ok {
			levels = append(levels, s.Level)
		} else {
			unpaired = append(unpaired, k+" (Forge only)")
		}
	}
	for k := range vm {
		if _, ok := fm[k]; !ok {
			unpaired = append(unpaired, k+" (vLLM only)")
		}
	}
	sort.Strings(unpaired)
	sort.Slice(levels, func(i, j int) bool { return levelLess(levels[i], levels[j]) })
	for _, l := range levels {
		k := LevelKey(l)
		rows = append(rows, Compare(fm[k], vm[k], tol)...)
	}
	return rows, unpaired, nil
}

// levelLess orders concurrency levels before rate levels, then by value.
func levelLess(a, b bench.Level) bool {
	if a.Kind != b.Kind {
		return a.Kind < b.Kind
	}
	return a.Value < b.Value
}

// Markdown renders rows as a table:
//
//	| level | metric | vLLM | Forge | difference | within |
//
// Counts print as integers, other values with three decimals; a missing
// value is "—"; within is "yes" or "**no**" with the tolerance, and the
// note when the row could not be compared.
func Markdown(rows []Row) []byte {
	var b bytes.Buffer
	b.WriteString("| level | metric | vLLM | Forge | difference | within |\n")
	b.WriteString("|---|---|---:|---:|---:|---|\n")
	for _, r := range rows {
		prec := 3
		if IsCount(r.Metric) {
			prec = 0
		}
		within := "**no**"
		if r.Within {
			within = "yes"
		}
		diff := diffCell(r.DiffPct)
		switch {
		case math.IsNaN(r.TolPct):
			within = "context: " + r.Note
		case r.Unit == "ms":
			within += fmt.Sprintf(" (±%s ms)", strconv.FormatFloat(r.TolPct, 'f', -1, 64))
			diff = fmt.Sprintf("%+.3f ms", r.DiffPct)
		default:
			within += fmt.Sprintf(" (±%s%%)", strconv.FormatFloat(r.TolPct, 'f', -1, 64))
			if r.Note != "" {
				within += ": " + r.Note
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", r.Level, r.Metric, cell(r.VLLM, prec), cell(r.Forge, prec), diff, within)
	}
	return b.Bytes()
}

// IsCount tells the count rows (completed requests, input and output
// tokens), which two clients sending the same work must agree on exactly,
// from the timing rows.
func IsCount(metric string) bool {
	for _, m := range metrics {
		if m.name == metric {
			return m.class == classCount
		}
	}
	return false
}

func cell(v float64, prec int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	return strconv.FormatFloat(v, 'f', prec, 64)
}

func diffCell(d float64) string {
	switch {
	case math.IsNaN(d):
		return "—"
	case math.IsInf(d, 0):
		return "n/a"
	}
	return fmt.Sprintf("%+.2f%%", d)
}
