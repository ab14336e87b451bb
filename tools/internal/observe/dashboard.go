// Package observe generates and checks the observability stack of an
// experiment: a Prometheus configuration that scrapes the serving engine
// and forge bench's exporter, Grafana provisioning, and a dashboard whose
// queries read vLLM's old and new metric names. The dashboard depends on
// the experiment where the numbers do (served model, GPU price, budget,
// the APIs compared), so it is generated from the plan, never hand-edited.
package observe

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/forge-bench/forge/tools/internal/plan"
)

// DatasourceUID is the uid of the provisioned Prometheus datasource; every
// panel, target and query variable names it.
const DatasourceUID = "forge-prometheus"

// HoursPerMonth is 8760 / 12: a month of a GPU rented around the clock.
const HoursPerMonth = 730.0

// Options are the parts of the stack that are not in the experiment.
type Options struct {
	PrometheusAddr string // host:port Prometheus listens on
	MetricsAddr    string // host:port of forge bench's exporter
	GPUExporter    string // host:port of a DCGM or nvidia-smi exporter; "" = none, no GPU panels
	ScrapeInterval string // Prometheus duration, e.g. "5s"
}

// DefaultOptions are the addresses `make observe` uses.
func DefaultOptions() Options {
	return Options{PrometheusAddr: "127.0.0.1:9090", MetricsAddr: "127.0.0.1:9464", ScrapeInterval: "5s"}
}

// Target is one query of a panel, with its legend.
type Target struct {
	Expr   string
	Legend string
	Unit   string // overrides the panel's unit for this query; "" = the panel's
	// Moves says the query is above 0 at some point while requests are
	// served; the live check (forge observe up --bench) requires it of the
	// sweep, so a scrape that missed the load cannot pass for data.
	Moves bool
}

// Panel is one dashboard panel: what it shows, how, and what to look for.
type Panel struct {
	Title   string
	Kind    string // timeseries or stat
	Unit    string // Grafana unit id
	Look    string // what to look for; the panel's description and the docs'
	Targets []Target
}

// Row is a titled group of panels.
type Row struct {
	Title  string
	Panels []Panel
}

// Rows builds the dashboard's rows from a plan: System, Business, Cost and
// Load (the load generator's own view).
func Rows(p *plan.Plan, o Options) []Row {
	q := queries{model: `{model_name=~"$model"}`, rate: "[$__rate_interval]"}
	rows := []Row{
		{Title: "System", Panels: q.system(o.GPUExporter != "")},
		{Title: "Business", Panels: q.business(p.Engine.EnablePrefixCaching && p.Engine.Kind != "twin")},
		{Title: "Cost", Panels: q.cost(p)},
		{Title: "Load (forge bench)", Panels: q.load()},
	}
	return rows
}

// queries writes PromQL over vLLM's metrics for one model selector and
// rate window. Where vLLM renamed a metric the newer name comes first and
// the older one follows `or`: 0.11 names, then 0.8–0.10 V1, then V0.
type queries struct{ model, rate string }

func (q queries) sumRate(metric string) string {
	return fmt.Sprintf("sum(rate(%s%s%s))", metric, q.model, q.rate)
}

func (q queries) quantile(phi, metrics string) string {
	var alts []string
	for _, m := range strings.Split(metrics, "|") {
		alts = append(alts, fmt.Sprintf("histogram_quantile(%s, sum by (le) (rate(%s_bucket%s%s)))", phi, m, q.model, q.rate))
	}
	return strings.Join(alts, " or ")
}

func (q queries) quantiles(metrics string) []Target {
	var out []Target
	for _, p := range []struct{ phi, legend string }{{"0.5", "p50"}, {"0.9", "p90"}, {"0.99", "p99"}} {
		out = append(out, Target{Expr: q.quantile(p.phi, metrics), Legend: p.legend, Moves: true})
	}
	return out
}

func (q queries) system(gpu bool) []Panel {
	ps := []Panel{
		{Title: "KV-cache usage", Kind: "timeseries", Unit: "percentunit",
			Look:    "Share of the KV-cache blocks in use. Near 100 % the scheduler stops admitting requests and starts preempting; a sweep level that lives there is past the engine's capacity.",
			Targets: []Target{{Expr: fmt.Sprintf("max(vllm:kv_cache_usage_perc%s) or max(vllm:gpu_cache_usage_perc%s)", q.model, q.model), Legend: "KV cache used", Moves: true}}},
		{Title: "Requests running and waiting", Kind: "timeseries", Unit: "short",
			Look: "Running is bounded by max_num_seqs; a waiting queue that grows and does not drain means the offered load exceeds what the engine serves, and TTFT will grow with it.",
			Targets: []Target{
				{Expr: fmt.Sprintf("sum(vllm:num_requests_running%s)", q.model), Legend: "running", Moves: true},
				{Expr: fmt.Sprintf("sum(vllm:num_requests_waiting%s)", q.model), Legend: "waiting"}}},
		{Title: "Preemptions", Kind: "timeseries", Unit: "short",
			Look:    "Requests evicted per second to free KV blocks (recomputed later). Any sustained rate wastes GPU time: lower max_num_seqs or raise gpu_memory_utilization.",
			Targets: []Target{{Expr: q.sumRate("vllm:num_preemptions_total"), Legend: "preemptions/s"}}},
	}
	if gpu {
		ps = append(ps,
			Panel{Title: "GPU utilization", Kind: "timeseries", Unit: "percentunit",
				Look:    "From the DCGM exporter (DCGM_FI_DEV_GPU_UTIL) or nvidia_gpu_exporter. High utilization with low token rates points at a slow kernel (e.g. AWQ without Marlin).",
				Targets: []Target{{Expr: "avg(DCGM_FI_DEV_GPU_UTIL) / 100 or avg(nvidia_smi_utilization_gpu_ratio)", Legend: "GPU busy", Moves: true}}},
			Panel{Title: "GPU memory used", Kind: "timeseries", Unit: "bytes",
				Look:    "Framebuffer in use. vLLM reserves gpu_memory_utilization of the card at start, so this is flat; a change means another process shares the GPU.",
				Targets: []Target{{Expr: "sum(DCGM_FI_DEV_FB_USED) * 1048576 or sum(nvidia_smi_memory_used_bytes)", Legend: "used", Moves: true}}},
		)
	}
	return ps
}

// business is the served traffic; the prefix-cache panel only where the
// engine caches prefixes (Forge turns it off by default, and the twin has
// none): with it off vLLM counts no queries and the hit rate is 0/0.
func (q queries) business(prefixCache bool) []Panel {
	ps := []Panel{
		{Title: "Token throughput (server)", Kind: "timeseries", Unit: "short",
			Look: "Prompt (prefill) and generated (decode) tokens per second as the engine counts them. Generated tokens/s is the throughput the cost model prices.",
			Targets: []Target{
				{Expr: q.sumRate("vllm:prompt_tokens_total"), Legend: "prompt tokens/s", Moves: true},
				{Expr: q.sumRate("vllm:generation_tokens_total"), Legend: "generated tokens/s", Moves: true}}},
		{Title: "Time to first token", Kind: "timeseries", Unit: "s",
			Look:    "Quantiles from vLLM's histogram (bucket resolution, server side, without the client's network). Compare p99 with the experiment's TTFT SLO; growth with load is queueing.",
			Targets: q.quantiles("vllm:time_to_first_token_seconds")},
		{Title: "Inter-token latency", Kind: "timeseries", Unit: "s",
			Look:    "Gap between generated tokens (vLLM ≥ 0.11: inter_token_latency; earlier: time_per_output_token, which measured the same gap). Decode steps slow down as the batch grows.",
			Targets: q.quantiles("vllm:inter_token_latency_seconds|vllm:time_per_output_token_seconds")},
		{Title: "End-to-end request latency", Kind: "timeseries", Unit: "s",
			Look:    "Arrival to last token, server side. It follows TTFT plus output length × inter-token latency.",
			Targets: q.quantiles("vllm:e2e_request_latency_seconds")},
		{Title: "Finished requests by reason", Kind: "timeseries", Unit: "reqps",
			Look:    "stop (end of sequence), length (max_tokens reached: every request with ignore_eos) and abort (client went away or the server gave up). Aborts under load mean timeouts.",
			Targets: []Target{{Expr: fmt.Sprintf("sum by (finished_reason) (rate(vllm:request_success_total%s%s))", q.model, q.rate), Legend: "{{finished_reason}}"}}},
		{Title: "Success rate (client view)", Kind: "timeseries", Unit: "percentunit",
			Look:    "Share of forge bench's finished requests that succeeded. Below 100 % see \"Failed requests by reason\" in the load row.",
			Targets: []Target{{Expr: "sum(rate(forge_bench_requests_completed_total" + q.rate + ")) / (sum(rate(forge_bench_requests_completed_total" + q.rate + ")) + sum(rate(forge_bench_requests_failed_total" + q.rate + ")))", Legend: "succeeded", Moves: true}}},
	}
	if !prefixCache {
		return ps
	}
	return append(ps,
		Panel{Title: "Prefix-cache hit rate", Kind: "timeseries", Unit: "percentunit",
			Look: "Prompt tokens served from cached KV blocks (only with enable_prefix_caching = true). Chat traces with a shared system prompt hit often, a random workload almost never; with no prompt tokens in the window there is no value.",
			Targets: []Target{{Expr: fmt.Sprintf("%s / %s or %s / %s or max(vllm:gpu_prefix_cache_hit_rate%s)",
				q.sumRate("vllm:prefix_cache_hits_total"), q.sumRate("vllm:prefix_cache_queries_total"),
				q.sumRate("vllm:gpu_prefix_cache_hits_total"), q.sumRate("vllm:gpu_prefix_cache_queries_total"), q.model), Legend: "hit rate"}}})
}

// cost prices the live token rate with the experiment's GPU price (the
// constant variable gpu_usd_per_hour), at each utilization the experiment
// prices, against each API it compares, and against its monthly budget.
func (q queries) cost(p *plan.Plan) []Panel {
	prompt, gen := q.sumRate("vllm:prompt_tokens_total"), q.sumRate("vllm:generation_tokens_total")
	var utils []float64
	var apis []plan.API
	var budget *float64
	if c := p.Cost; c != nil {
		utils, apis, budget = c.Utilization, c.Compare, c.BudgetUSDPerMonth
	}
	if len(utils) == 0 {
		utils = []float64{1}
	}
	var perOut, perAll, monthly []Target
	for _, u := range utils {
		us := num(u)
		perOut = append(perOut, Target{Expr: fmt.Sprintf("$gpu_usd_per_hour * 1e6 / (3600 * %s * %s)", us, gen), Legend: "self-hosted, utilization " + us, Moves: true})
		perAll = append(perAll, Target{Expr: fmt.Sprintf("$gpu_usd_per_hour * 1e6 / (3600 * %s * (%s + %s))", us, prompt, gen), Legend: "self-hosted, utilization " + us, Moves: true})
	}
	monthly = append(monthly, Target{Expr: fmt.Sprintf("vector($gpu_usd_per_hour * %s)", num(HoursPerMonth)), Legend: "GPU rent, around the clock", Moves: true})
	for _, a := range apis {
		in, out := num(a.USDPer1MInput), num(a.USDPer1MOutput)
		perAll = append(perAll, Target{Expr: fmt.Sprintf("(%s * %s + %s * %s) / (%s + %s)", prompt, in, gen, out, prompt, gen), Legend: a.Name + " at the same token mix", Moves: true})
		monthly = append(monthly, Target{Expr: fmt.Sprintf("(%s * %s + %s * %s) * %s / 1e6", prompt, in, gen, out, num(HoursPerMonth*3600)), Legend: a.Name + " for the same tokens", Moves: true})
	}
	uptimeH := `(time() - max(process_start_time_seconds{job="engine"})) / 3600`
	spend := []Target{{Expr: "$gpu_usd_per_hour * " + uptimeH, Legend: "spent", Moves: true}}
	if budget != nil {
		monthly = append(monthly, Target{Expr: "vector($budget_usd_per_month)", Legend: "budget", Moves: true})
	}
	ps := []Panel{
		{Title: "$/1M generated tokens, live", Kind: "timeseries", Unit: "currencyUSD",
			Look:    "The report's measure at the live load: GPU price × 1e6 / (3600 × generated tokens/s × utilization). It falls as load rises; the report's headline is its value at the sweep's peak throughput.",
			Targets: perOut},
		{Title: "$/1M tokens vs APIs, live", Kind: "timeseries", Unit: "currencyUSD",
			Look:    "Self-hosted cost per 1M tokens (prompt + generated) against each API's price for the same prompt/generated mix. Self-hosting wins where its line is below an API's.",
			Targets: perAll},
		{Title: "Monthly cost: GPU rent vs APIs at the live load", Kind: "timeseries", Unit: "currencyUSD",
			Look:    "What a month costs: the GPU rented around the clock against each API billing the live token rate for a month (and the experiment's budget when it sets one). The API line crossing the GPU line is the break-even load.",
			Targets: monthly},
	}
	if budget != nil {
		spend = append(spend, Target{Expr: "$gpu_usd_per_hour * " + uptimeH + " / $budget_usd_per_month", Legend: "share of the monthly budget", Unit: "percentunit", Moves: true})
		ps = append(ps, Panel{Title: "GPU spend since the engine started, against the budget", Kind: "stat", Unit: "currencyUSD",
			Look:    "GPU price × the engine's uptime (process_start_time_seconds), and that spend as a share of budget_usd_per_month. A rented GPU costs the same idle or busy.",
			Targets: spend})
	} else {
		ps = append(ps, Panel{Title: "GPU spend since the engine started", Kind: "stat", Unit: "currencyUSD",
			Look:    "GPU price × the engine's uptime (process_start_time_seconds). Set cost.budget_usd_per_month in the experiment to see it against a budget.",
			Targets: spend})
	}
	return ps
}

func (q queries) load() []Panel {
	rate := q.rate
	return []Panel{
		{Title: "Load level", Kind: "stat", Unit: "short",
			Look:    "The sweep level forge bench is running: concurrency (requests kept in flight) or rate (requests/s).",
			Targets: []Target{{Expr: "max by (kind) (forge_bench_level)", Legend: "{{kind}}", Moves: true}}},
		{Title: "Requests in flight: client vs server", Kind: "timeseries", Unit: "short",
			Look: "forge bench's in-flight requests against the engine's running + waiting. They agree when the client is not the bottleneck; a gap is requests in the network or the HTTP stack.",
			Targets: []Target{
				{Expr: "sum(forge_bench_requests_in_flight)", Legend: "client in flight", Moves: true},
				{Expr: fmt.Sprintf("sum(vllm:num_requests_running%s) + sum(vllm:num_requests_waiting%s)", q.model, q.model), Legend: "server running + waiting", Moves: true}}},
		{Title: "Generated tokens/s: client vs server", Kind: "timeseries", Unit: "short",
			Look: "The level's average as forge bench measures it, the client's rate, and the engine's own count. They should agree within a scrape interval; the summary files hold the exact figures.",
			Targets: []Target{
				{Expr: "sum(forge_bench_output_tokens_per_second)", Legend: "client, level average", Moves: true},
				{Expr: "sum(rate(forge_bench_output_tokens_total" + rate + "))", Legend: "client", Moves: true},
				{Expr: q.sumRate("vllm:generation_tokens_total"), Legend: "server", Moves: true}}},
		{Title: "Failed requests by reason", Kind: "timeseries", Unit: "reqps",
			Look:    "Client-side failures per second by reason: http_<status>, timeout, error (connection or stream), cancelled. Failed requests are kept in the records and left out of latency statistics.",
			Targets: []Target{{Expr: "sum by (reason) (rate(forge_bench_requests_failed_total" + rate + "))", Legend: "{{reason}}"}}},
		{Title: "Requests meeting the SLO", Kind: "timeseries", Unit: "percentunit",
			Look:    "Share of completed requests that meet every per-request SLO of the experiment (goodput's numerator). It drops at the level where the engine saturates.",
			Targets: []Target{{Expr: "sum(rate(forge_bench_requests_slo_met_total" + rate + ")) / sum(rate(forge_bench_requests_completed_total" + rate + "))", Legend: "met SLO"}}},
	}
}

// num writes a float the shortest way PromQL and YAML read back exactly.
func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
