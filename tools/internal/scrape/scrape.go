// Package scrape records a vLLM server's own Prometheus metrics around a
// benchmark level.
//
// The client-side numbers (TTFT, ITL, throughput) say what a user saw; the
// server's /metrics say what the engine did: how many tokens it really
// prefilled and generated, how full the KV cache ran, whether it preempted,
// and its own TTFT/ITL/E2E histograms. Keeping both lets a result explain
// itself (a TTFT tail that is queueing, not prefill) and lets client timing
// be checked against the server's.
//
// A level is bracketed by two scrapes (Fetch before and after) with optional
// periodic scrapes in between (Sampler); Diff turns them into a View: counter
// increases, gauge time series and histogram deltas of the vllm: families.
// Metric names are canonicalized on parse (Canonical) so results from vLLM
// versions that renamed a metric still compare.
//
// The exposition text is parsed by prometheus/common's expfmt, never by hand:
// the format has escaping, optional timestamps and histogram grouping rules
// that a hand parser gets subtly wrong.
package scrape

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// MaxBodyBytes bounds one /metrics response. A vLLM server exposes well under
// 1 MiB; the limit only keeps a misconfigured URL (a file server, a proxy
// streaming something else) from exhausting memory.
const MaxBodyBytes = 32 << 20

// acceptHeader asks for the classic text format (0.0.4). prometheus_client,
// which vLLM uses, answers with OpenMetrics only when the client asks for it,
// and expfmt's text parser reads 0.0.4.
const acceptHeader = "text/plain;version=0.0.4;q=1,*/*;q=0.1"

// Snapshot is one scrape of a /metrics endpoint.
type Snapshot struct {
	// At is when the scrape was sent (Prometheus' convention for a scrape's
	// timestamp); Parse stores the time it is given.
	At time.Time
	// Families holds every family the server exposed (vllm:, python_gc_*,
	// process_*, http_*), keyed by canonical name (see Canonical). A renamed
	// family's Name is rewritten to the canonical name too.
	Families map[string]*dto.MetricFamily
}

// Fetch GETs url (e.g. http://127.0.0.1:8000/metrics) with ctx and client
// (http.DefaultClient when nil), parses the text exposition format and returns
// a Snapshot. A non-200 status, a body over MaxBodyBytes, a body with no
// metric families, a parse error or a transport error is an error that names
// the URL.
func Fetch(ctx context.Context, client *http.Client, url string) (Snapshot, error) {
	if client == nil {
		client = http.DefaultClient
	}
	fail := func(err error) (Snapshot, error) {
		// *url.Error already names the URL; unwrap it so the URL is named once.
		var ue *neturl.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return Snapshot{}, fmt.Errorf("scrape %s: %w", url, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fail(err)
	}
	req.Header.Set("Accept", acceptHeader)
	at := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return fail(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
		return fail(fmt.Errorf("HTTP %s: %q", resp.Status, strings.TrimSpace(string(snippet))))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBodyBytes+1))
	if err != nil {
		return fail(fmt.Errorf("reading body: %w", err))
	}
	if len(body) > MaxBodyBytes {
		return fail(fmt.Errorf("body exceeds %d bytes", MaxBodyBytes))
	}
	snap, err := Parse(bytes.NewReader(body), at)
	if err != nil {
		return fail(err)
	}
	if len(snap.Families) == 0 {
		return fail(errors.New("no metric families in the response"))
	}
	return snap, nil
}

// Parse parses text exposition format (for tests and recorded fixtures) into
// a Snapshot taken at at. Names are validated with model.UTF8Validation, a
// superset of the legacy rules (vLLM's names contain ':', which both allow),
// so a server that exposes UTF-8 names still parses.
func Parse(r io.Reader, at time.Time) (Snapshot, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		return Snapshot{}, fmt.Errorf("parsing metrics: %w", err)
	}
	return Snapshot{At: at, Families: canonicalize(fams)}, nil
}

// renames maps a deprecated vLLM metric name (as in vLLM's source, before
// prometheus_client adds _total to counters) to its replacement. Each pair
// carries the same measurement: while both names were exposed, vLLM fed them
// from the same value in the same call. Sources: vllm/v1/metrics/loggers.py
// at v0.9.2, v0.10.2, v0.11.0, v0.12.0, v0.14.0, v0.15.0 and
// vllm/engine/metrics.py at v0.6.0.
var renames = map[string]string{
	// Deprecated 0.9.2, hidden behind --show-hidden-metrics-for-version in
	// 0.11, gone in 0.12. In V0 (0.6) it was the only KV-cache gauge.
	"vllm:gpu_cache_usage_perc": "vllm:kv_cache_usage_perc",
	// The same renames for the prefix-cache counters (exposed with _total).
	"vllm:gpu_prefix_cache_queries": "vllm:prefix_cache_queries",
	"vllm:gpu_prefix_cache_hits":    "vllm:prefix_cache_hits",
	// Per-token gaps under both names: the new one appeared in 0.10.2, the
	// old one is still emitted by default in 0.11, hidden 0.12–0.14, gone
	// in 0.15. V0 (0.6) recorded the same gaps under the old name.
	"vllm:time_per_output_token_seconds": "vllm:inter_token_latency_seconds",
}

// suffixes are the endings prometheus_client appends to a source name on the
// wire (counters' _total, the _created gauges, histogram and summary series);
// Canonical renames the stem and keeps the ending.
var suffixes = []string{"_total", "_created", "_bucket", "_sum", "_count"}

// Canonical maps an old vLLM metric name to its current one, so results from
// different vLLM versions compare: vllm:gpu_cache_usage_perc →
// vllm:kv_cache_usage_perc, vllm:time_per_output_token_seconds →
// vllm:inter_token_latency_seconds, vllm:gpu_prefix_cache_{queries,hits} →
// vllm:prefix_cache_{queries,hits}. Source names and exposed names (with
// _total, _created, _bucket, _sum or _count) are both mapped. Other names are
// returned unchanged.
func Canonical(name string) string {
	if to, ok := renames[name]; ok {
		return to
	}
	for _, s := range suffixes {
		if stem, ok := strings.CutSuffix(name, s); ok {
			if to, ok := renames[stem]; ok {
				return to + s
			}
		}
	}
	return name
}

// canonicalize re-keys fams by canonical name. When a server exposes both the
// old and the new name (vLLM 0.11 emits time_per_output_token_seconds next to
// inter_token_latency_seconds, fed from the same observations), the family
// under the new name wins and the deprecated duplicate is dropped.
func canonicalize(fams map[string]*dto.MetricFamily) map[string]*dto.MetricFamily {
	out := make(map[string]*dto.MetricFamily, len(fams))
	for name, mf := range fams {
		if Canonical(name) == name {
			out[name] = mf
		}
	}
	for name, mf := range fams {
		c := Canonical(name)
		if c == name {
			continue
		}
		if _, taken := out[c]; taken {
			continue
		}
		mf.Name = &c
		out[c] = mf
	}
	return out
}
