// Package cost prices a run's measured (or predicted) throughput: dollars per
// million tokens at every level and utilization, the headline at peak, the
// cost at goodput, an input/output split by the share of GPU time spent in
// prefill, and break-even volumes against each commercial API in the
// experiment. It is a pure function of plan.json and the level summaries, so
// `forge verify` can recompute cost.json from those files byte for byte.
package cost

import (
	"fmt"
	"math"
	"sort"
	"strconv"

	"github.com/forge-bench/forge/schemas"
	"github.com/forge-bench/forge/tools/internal/bench"
	"github.com/forge-bench/forge/tools/internal/plan"
	"github.com/forge-bench/forge/tools/internal/provenance"
)

// HoursPerMonth is 8760 h / 12: a GPU rented around the clock for a month.
const HoursPerMonth = 730.0

// Report is cost.json (schema forge.cost.report/v1). Field order is the JSON order.
type Report struct {
	Schema           string     `json:"schema"`
	RunID            string     `json:"run_id"`
	Experiment       string     `json:"experiment"`
	Formula          string     `json:"formula"`
	ThroughputSource string     `json:"throughput_source"`
	GPU              GPU        `json:"gpu"`
	Price            plan.Price `json:"price"`
	Owned            *Owned     `json:"owned,omitempty"`
	Ops              *Ops       `json:"ops,omitempty"`
	Mix              Mix        `json:"mix"`
	Levels           []Level    `json:"levels"`
	Headline         Headline   `json:"headline"`
	Sensitivity      []Point    `json:"sensitivity"`
	Goodput          Goodput    `json:"goodput"`
	APIs             []API      `json:"apis"`
	Monthly          []Monthly  `json:"monthly"`
	// Currency prices every option per request and per 1M characters
	// (Currencies); absent without a text record (synthetic-token workloads).
	Currency   *Currency         `json:"currency,omitempty"`
	Inputs     []Input           `json:"inputs"`
	Provenance provenance.Record `json:"provenance"`
	// TimeScale is the twin's time scale when it was not 1: throughputs
	// are divided by it, so a scaled run is priced in modelled time.
	TimeScale *float64 `json:"time_scale,omitempty"`
	// Incomplete is the run's banner when it is not complete (priced only
	// with --allow-incomplete); empty for a complete run.
	Incomplete string `json:"incomplete,omitempty"`
}

// GPU is what the hourly price buys.
type GPU struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

// Owned is bought hardware as an hourly equivalent, priced like the rental.
type Owned struct {
	CapexUSD              float64             `json:"capex_usd"`
	AmortizationMonths    float64             `json:"amortization_months"`
	Watts                 float64             `json:"watts"`
	USDPerKWh             float64             `json:"usd_per_kwh"`
	USDPerHourEquivalent  float64             `json:"usd_per_hour_equivalent"`
	Source                string              `json:"source"`
	Observed              string              `json:"observed"`
	USDPer1MOutputTokens  ByUtil              `json:"usd_per_1m_output_tokens"`
	USDPer1MTotalTokens   ByUtil              `json:"usd_per_1m_total_tokens"`
	BreakEvenTokensPerMon map[string]*float64 `json:"break_even_tokens_per_month"`
}

// Mix is the workload's token mix over every completed request of the run;
// API prices are blended with it.
type Mix struct {
	InputTokens   int     `json:"input_tokens"`
	OutputTokens  int     `json:"output_tokens"`
	InputFraction float64 `json:"input_fraction"`
}

// ByUtil maps a utilization written with at least one decimal ("1.0",
// "0.8") to USD per 1M tokens; nil when the throughput is 0.
type ByUtil map[string]*float64

// Level is the cost at one load level.
type Level struct {
	Level                bench.Level `json:"level"`
	OutputThroughput     float64     `json:"output_throughput"`
	TotalTokenThroughput float64     `json:"total_token_throughput"`
	USDPer1MOutputTokens ByUtil      `json:"usd_per_1m_output_tokens"`
	USDPer1MTotalTokens  ByUtil      `json:"usd_per_1m_total_tokens"`
	InputShare           float64     `json:"input_share"`
	InputShareSource     string      `json:"input_share_source"`
	USDPer1MInput        *float64    `json:"usd_per_1m_input"`
	USDPer1MOutput       *float64    `json:"usd_per_1m_output"`
	MeetsSLO             bool        `json:"meets_slo"`
	Failed               int         `json:"failed"`
	Summary              string      `json:"summary"`
}

// Headline is the one number to quote.
type Headline struct {
	Level                bench.Level `json:"level"`
	Utilization          float64     `json:"utilization"`
	USDPer1MOutputTokens float64     `json:"usd_per_1m_output_tokens"`
	USDPer1MTotalTokens  float64     `json:"usd_per_1m_total_tokens"`
}

// Point is the headline at one utilization.
type Point struct {
	Utilization          float64 `json:"utilization"`
	USDPer1MOutputTokens float64 `json:"usd_per_1m_output_tokens"`
	USDPer1MTotalTokens  float64 `json:"usd_per_1m_total_tokens"`
}

// Goodput is the cost at the highest level that meets the SLO.
type Goodput struct {
	Level                *bench.Level `json:"level"`
	USDPer1MOutputTokens *float64     `json:"usd_per_1m_output_tokens"`
	USDPer1MTotalTokens  *float64     `json:"usd_per_1m_total_tokens"`
	Statement            string       `json:"statement"`
}

// API is one commercial API compared against.
type API struct {
	Name                     string   `json:"name"`
	Provider                 string   `json:"provider"`
	Model                    string   `json:"model"`
	USDPer1MInput            float64  `json:"usd_per_1m_input"`
	USDPer1MOutput           float64  `json:"usd_per_1m_output"`
	BlendedUSDPer1M          float64  `json:"blended_usd_per_1m"`
	Source                   string   `json:"source"`
	Observed                 string   `json:"observed"`
	BreakEvenTokensPerMonth  *float64 `json:"break_even_tokens_per_month"`
	BreakEvenAtGoodputPerMon *float64 `json:"break_even_at_goodput_tokens_per_month"`
	// BreakEvenUtilization is the share of the month the GPU must serve at
	// the goodput level (the highest load meeting the SLO) for its rent to
	// cost less per token than this API: self-hosting's price at
	// utilization 1.0 there over the API's blended price. Nil when no level
	// meets the SLO, or when even full use there costs more than the API.
	BreakEvenUtilization *float64 `json:"break_even_utilization"`
	Cheaper              string   `json:"cheaper"`
	SelfHostToAPIRatio   float64  `json:"self_host_to_api_ratio"`
	// Scores and Unscored are the plan's, carried so that the report puts
	// the API's quality next to its price from this file alone.
	Scores   []plan.Score `json:"scores"`
	Unscored string       `json:"unscored,omitempty"`
}

// Input is a file the report was computed from, with its hash.
type Input struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// Compute prices the summaries (in sweep order) of one run under its plan.
// source is "measured" or "predicted"; inputs name the files read. It fails
// only when nothing can be priced: no plan price, or no level that produced
// a single token.
func Compute(p *plan.Plan, sums []bench.Summary, files []string, source string, inputs []Input) (*Report, error) {
	if len(sums) == 0 {
		return nil, fmt.Errorf("no level summaries to price")
	}
	if p.Hardware.Price.USDPerHour <= 0 {
		return nil, fmt.Errorf("plan %s: hardware %s has no positive usd_per_hour", p.Experiment, p.Hardware.Name)
	}
	utils := utilizations(p)
	hourly := p.Hardware.Price.USDPerHour
	sums, scale := modelledTime(sums)
	r := &Report{Schema: schemas.CostReport, RunID: sums[0].RunID, Experiment: p.Experiment, Formula: plan.CostFormula,
		ThroughputSource: source, GPU: GPU{Name: p.Hardware.GPU, Count: p.Hardware.Count}, Price: p.Hardware.Price,
		Inputs: inputs, APIs: []API{}, Monthly: []Monthly{}, TimeScale: scale}
	peak := -1
	for i, s := range sums {
		r.Mix.InputTokens += s.TotalInputTokens
		r.Mix.OutputTokens += s.TotalOutputTokens
		share, how := InputShare(s)
		l := Level{Level: s.Level, OutputThroughput: s.OutputThroughput, TotalTokenThroughput: s.TotalTokenThroughput,
			USDPer1MOutputTokens: ByUtil{}, USDPer1MTotalTokens: ByUtil{}, InputShare: share, InputShareSource: how,
			MeetsSLO: bench.MeetsSLO(s), Failed: s.Failed, Summary: files[i]}
		for _, u := range utils {
			l.USDPer1MOutputTokens[Key(u)] = PerMillion(hourly, s.OutputThroughput, u)
			l.USDPer1MTotalTokens[Key(u)] = PerMillion(hourly, s.TotalTokenThroughput, u)
		}
		in := s.TotalTokenThroughput - s.OutputThroughput
		l.USDPer1MInput = PerMillion(hourly*share, in, 1)
		l.USDPer1MOutput = PerMillion(hourly*(1-share), s.OutputThroughput, 1)
		r.Levels = append(r.Levels, l)
		if s.OutputThroughput > 0 && (peak < 0 || s.OutputThroughput > sums[peak].OutputThroughput) {
			peak = i
		}
	}
	if peak < 0 {
		return nil, fmt.Errorf("no level of run %s produced output tokens; there is no throughput to price", r.RunID)
	}
	if t := r.Mix.InputTokens + r.Mix.OutputTokens; t > 0 {
		r.Mix.InputFraction = float64(r.Mix.InputTokens) / float64(t)
	}
	hl := sums[peak]
	r.Headline = Headline{Level: hl.Level, Utilization: 1, USDPer1MOutputTokens: *PerMillion(hourly, hl.OutputThroughput, 1),
		USDPer1MTotalTokens: *PerMillion(hourly, hl.TotalTokenThroughput, 1)}
	r.Provenance = hl.Provenance
	for _, u := range sensitivityCurve(utils) {
		r.Sensitivity = append(r.Sensitivity, Point{Utilization: u, USDPer1MOutputTokens: *PerMillion(hourly, hl.OutputThroughput, u),
			USDPer1MTotalTokens: *PerMillion(hourly, hl.TotalTokenThroughput, u)})
	}
	good := goodputLevel(r.Levels)
	r.Goodput = goodput(p, r.Levels, good)
	if p.Cost != nil {
		for _, a := range p.Cost.Compare {
			r.APIs = append(r.APIs, compare(a, r, hourly, good))
		}
	}
	if o := p.Hardware.Owned; o != nil {
		r.Owned = owned(o, r, hl, utils)
	}
	var expected *float64
	engineers, spare := 0.0, 0
	if p.Cost != nil && p.Cost.Ops != nil {
		r.Ops = ops(*p.Cost.Ops, r, hourly, good, utils)
		engineers, spare = r.Ops.EngineerUSDPerMonth, r.Ops.RedundantGPUs
	}
	if p.Cost != nil {
		expected = p.Cost.ExpectedTokensPerMonth
	}
	r.Monthly = monthly(r, hourly, good, expected, engineers, spare)
	return r, nil
}

// modelledTime returns the summaries with their throughputs in modelled
// time: a twin served at time scale k ran k modelled seconds per wall
// second, so its wall-clock rates are k times the modelled ones. The scale
// is returned when it is not 1 (nil otherwise); the input is not changed.
func modelledTime(sums []bench.Summary) ([]bench.Summary, *float64) {
	var scale *float64
	out := make([]bench.Summary, len(sums))
	for i, s := range sums {
		if k := s.Provenance.TimeScale; k != nil && *k > 0 && *k != 1 {
			s.OutputThroughput /= *k
			s.TotalTokenThroughput /= *k
			s.RequestThroughput /= *k
			scale = k
		}
		out[i] = s
	}
	return out, scale
}

// PerMillion is the seed's formula: usd_per_hour × 1e6 / (3600 × throughput ×
// utilization), nil when the throughput is 0 (the cost is unbounded).
func PerMillion(usdPerHour, tokensPerS, utilization float64) *float64 {
	if tokensPerS <= 0 || utilization <= 0 {
		return nil
	}
	v := usdPerHour * 1e6 / (3600 * tokensPerS * utilization)
	return &v
}

// Key writes a utilization as a map key with at least one decimal.
func Key(u float64) string {
	s := strconv.FormatFloat(u, 'f', -1, 64)
	if !containsDot(s) {
		s += ".0"
	}
	return s
}

func containsDot(s string) bool {
	for _, c := range s {
		if c == '.' {
			return true
		}
	}
	return false
}

// utilizations are the experiment's, with 1.0 always first (the headline).
func utilizations(p *plan.Plan) []float64 {
	out := []float64{1}
	if p.Cost != nil {
		for _, u := range p.Cost.Utilization {
			if u > 0 && u < 1 && !contains(out, u) {
				out = append(out, u)
			}
		}
	}
	return out
}

// sensitivityCurve is 0.1, 0.2, … 1.0 plus the experiment's utilizations, ascending.
func sensitivityCurve(utils []float64) []float64 {
	var out []float64
	for i := 1; i <= 10; i++ {
		out = append(out, float64(i)/10)
	}
	for _, u := range utils {
		if !contains(out, u) {
			out = append(out, u)
		}
	}
	sort.Float64s(out)
	return out
}

func contains(xs []float64, v float64) bool {
	for _, x := range xs {
		if math.Abs(x-v) < 1e-12 {
			return true
		}
	}
	return false
}
