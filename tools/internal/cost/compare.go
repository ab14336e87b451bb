package cost

import (
	"fmt"

	"github.com/forge-bench/forge/tools/internal/bench"
	"github.com/forge-bench/forge/tools/internal/plan"
)

// vLLM V1's per-request phase histograms: time from first scheduling to the
// first token (prefill) and from the first to the last token (decode).
const (
	prefillSum = "vllm:request_prefill_time_seconds_sum"
	decodeSum  = "vllm:request_decode_time_seconds_sum"
)

// InputShare is the share of GPU time a level spent on prefill, which is
// what input tokens cost; the rest is charged to output tokens, so neither
// side carries the whole bill. The server's view is preferred: the sum of
// vLLM's per-request prefill times over prefill plus decode times (queueing
// excluded). Each request in a batch counts a step's time once, so this is
// request time in each phase, a proxy for GPU time that is exact at
// concurrency 1. Without server metrics the client's mean TTFT over mean
// E2EL is used, which also counts time spent queued as prefill.
func InputShare(s bench.Summary) (float64, string) {
	if s.Server != nil {
		p, okp := s.Server.Counters[prefillSum]
		d, okd := s.Server.Counters[decodeSum]
		if okp && okd && p >= 0 && d >= 0 && p+d > 0 {
			return p / (p + d), "server: request_prefill_time / (request_prefill_time + request_decode_time)"
		}
	}
	if s.TTFT.Mean != nil && s.E2EL.Mean != nil && *s.E2EL.Mean > 0 {
		return min(*s.TTFT.Mean / *s.E2EL.Mean, 1), "client: mean TTFT / mean E2EL (queueing counted as prefill)"
	}
	return 0, "none: no completed request"
}

// goodputLevel is the index of the level with the highest load that meets
// the SLO and produced output, or -1. In a sweep that is the last such
// level; a find-max search probes out of order, so the load decides.
func goodputLevel(levels []Level) int {
	best := -1
	for i, l := range levels {
		if l.MeetsSLO && l.OutputThroughput > 0 && (best < 0 || l.Level.Value >= levels[best].Level.Value) {
			best = i
		}
	}
	return best
}

func goodput(p *plan.Plan, levels []Level, i int) Goodput {
	slo := "its SLO"
	if p.SLO == nil {
		slo = "no SLO (none declared; failures still disqualify a level)"
	}
	if i < 0 {
		return Goodput{Statement: fmt.Sprintf("No level meets %s: there is no load at which this setup can be sold under it.", slo)}
	}
	l := levels[i]
	out, total := l.USDPer1MOutputTokens[Key(1)], l.USDPer1MTotalTokens[Key(1)]
	return Goodput{Level: &l.Level, USDPer1MOutputTokens: out, USDPer1MTotalTokens: total,
		Statement: fmt.Sprintf("The highest level meeting %s is %s %g: $%.4f per 1M output tokens ($%.4f per 1M tokens in and out) at utilization 1.0.",
			slo, l.Level.Kind, l.Level.Value, *out, *total)}
}

// compare prices one API at the run's token mix. Renting one GPU around the
// clock costs hourly × 730 a month whatever the volume; the API costs
// volume × blended. Below the break-even volume the API is cheaper. One
// GPU suffices at the break-even exactly when self-hosting is cheaper per
// token at full utilization, so the break-even is null otherwise.
func compare(a plan.API, r *Report, hourly float64, good int) API {
	f := r.Mix.InputFraction
	blended := f*a.USDPer1MInput + (1-f)*a.USDPer1MOutput
	out := API{Name: a.Name, Provider: a.Provider, Model: a.Model, USDPer1MInput: a.USDPer1MInput, USDPer1MOutput: a.USDPer1MOutput,
		BlendedUSDPer1M: blended, Source: a.Source, Observed: a.Observed, Cheaper: "api", Scores: a.Scores, Unscored: a.Unscored}
	if out.Scores == nil {
		out.Scores = []plan.Score{} // a plan written before scores existed
	}
	self := r.Headline.USDPer1MTotalTokens
	if blended > 0 {
		out.SelfHostToAPIRatio = self / blended
	}
	out.BreakEvenTokensPerMonth = breakEven(hourly, self, blended)
	if out.BreakEvenTokensPerMonth != nil {
		out.Cheaper = "self-host"
	}
	if good >= 0 {
		if g := r.Levels[good].USDPer1MTotalTokens[Key(1)]; g != nil {
			out.BreakEvenAtGoodputPerMon = breakEven(hourly, *g, blended)
			if out.BreakEvenAtGoodputPerMon != nil {
				u := *g / blended
				out.BreakEvenUtilization = &u
			}
		}
	}
	return out
}

// breakEven is the monthly token volume at which hourly × 730 equals the API
// bill, or nil when the self-hosted price per token at full use is not below
// the API's.
func breakEven(hourly, selfPer1M, apiPer1M float64) *float64 {
	if apiPer1M <= 0 || selfPer1M >= apiPer1M {
		return nil
	}
	v := hourly * HoursPerMonth * 1e6 / apiPer1M
	return &v
}

// owned turns capex and power into an hourly equivalent and prices the
// headline level with it.
func owned(o *plan.Owned, r *Report, hl bench.Summary, utils []float64) *Owned {
	months := float64(o.AmortizationMonths)
	hourly := o.CapexUSD/(months*HoursPerMonth) + o.Watts/1000*o.USDPerKWh
	out := &Owned{CapexUSD: o.CapexUSD, AmortizationMonths: months, Watts: o.Watts, USDPerKWh: o.USDPerKWh,
		USDPerHourEquivalent: hourly, Source: o.Source, Observed: o.Observed,
		USDPer1MOutputTokens: ByUtil{}, USDPer1MTotalTokens: ByUtil{}, BreakEvenTokensPerMon: map[string]*float64{}}
	for _, u := range utils {
		out.USDPer1MOutputTokens[Key(u)] = PerMillion(hourly, hl.OutputThroughput, u)
		out.USDPer1MTotalTokens[Key(u)] = PerMillion(hourly, hl.TotalTokenThroughput, u)
	}
	if self := out.USDPer1MTotalTokens[Key(1)]; self != nil {
		for _, a := range r.APIs {
			out.BreakEvenTokensPerMon[a.Name] = breakEven(hourly, *self, a.BlendedUSDPer1M)
		}
	}
	return out
}
