package chart

import "math"

func ptr(v float64) *float64 { return &v }

// levels builds points from parallel slices; a NaN latency means "not measured".
func levels(x, tps, ttft50, ttft99, tpot50, tpot99 []float64) []Point {
	opt := func(vs []float64, i int) *float64 {
		if vs == nil || math.IsNaN(vs[i]) {
			return nil
		}
		return ptr(vs[i])
	}
	pts := make([]Point, len(x))
	for i := range x {
		pts[i] = Point{
			X: x[i], OutputTPS: tps[i],
			TTFTP50Ms: opt(ttft50, i), TTFTP99Ms: opt(ttft99, i),
			TPOTP50Ms: opt(tpot50, i), TPOTP99Ms: opt(tpot99, i),
		}
	}
	return pts
}

var concurrency = []float64{1, 2, 4, 8, 16, 32, 64}

// fullSet is case (a): two measured series and one prediction, SLOs, two runs'
// costs at two utilizations, two APIs and two quality tasks.
func fullSet() Set {
	s := Set{
		Title:  "Llama 3.1 8B on RTX A5000",
		XLabel: "concurrency (requests in flight)",
		Footer: "runs 20250601T120000Z-twin_bf16, 20250601T131000Z-twin_awq · API prices as of 2025-06-01 · forge v0.4.0",
		Series: []Series{
			{Label: "twin_bf16 · BF16", Points: levels(concurrency,
				[]float64{38, 74, 140, 260, 450, 700, 900},
				[]float64{25, 27, 32, 45, 80, 160, 420},
				[]float64{40, 48, 60, 95, 190, 480, 1600},
				[]float64{26, 27, 28.5, 30.5, 35, 45, 70},
				[]float64{29, 30, 32, 36, 44, 60, 110})},
			{Label: "twin_awq · AWQ-INT4", Points: levels(concurrency,
				[]float64{60, 115, 215, 380, 620, 850, 980},
				[]float64{20, 22, 27, 40, 75, 170, 520},
				[]float64{34, 40, 52, 85, 200, 560, 2400},
				[]float64{16, 17, 18.5, 21, 26, 37, 64},
				[]float64{18, 19.5, 21, 25, 33, 50, 95})},
			{Label: "twin_bf16 · BF16 (predicted)", Predicted: true, Points: levels(concurrency,
				[]float64{40, 78, 146, 268, 470, 735, 950},
				[]float64{24, 26, 30, 42, 74, 150, 390},
				[]float64{36, 44, 55, 88, 170, 430, 1450},
				[]float64{25.5, 26.5, 28, 30, 34, 43, 66},
				[]float64{28, 29, 31, 35, 42, 57, 101})},
		},
		Costs: []CostBar{
			{Label: "twin_bf16 · BF16", ByUtil: []UtilCost{{1.0, 0.42}, {0.8, 0.525}}},
			{Label: "twin_awq · AWQ-INT4", ByUtil: []UtilCost{{1.0, 0.29}, {0.8, 0.3625}}},
		},
		APIs: []APIBar{
			{Label: "gpt-4o-mini", USDPer1M: 0.255},
			{Label: "claude-3-5-haiku", USDPer1M: 1.6},
		},
		Tasks: []Task{
			{
				Name:          "gsm8k (5-shot, exact_match)",
				BaselineLabel: "twin_bf16 · BF16", QuantLabel: "twin_awq · AWQ-INT4",
				Baseline: 0.842, Quant: 0.831, BaselineErr: ptr(0.0100), QuantErr: ptr(0.0103),
				Retention: 0.987, RetentionLow: ptr(0.961), RetentionHigh: ptr(1.013),
			},
			{
				Name:          "mmlu (5-shot, acc)",
				BaselineLabel: "twin_bf16 · BF16", QuantLabel: "twin_awq · AWQ-INT4",
				Baseline: 0.683, Quant: 0.676, BaselineErr: ptr(0.0038), QuantErr: ptr(0.0038),
				Retention: 0.9898, RetentionLow: ptr(0.978), RetentionHigh: ptr(1.002),
			},
		},
	}
	s.SLO.TTFTP99Ms = ptr(2000)
	s.SLO.TPOTP99Ms = ptr(100)
	s.TCO = tcoFixture()
	return s
}

// tcoFixture is one A5000 at $0.27/h serving 600 tokens/s at its SLO load
// (1.58B tokens a month a replica), with $1,000 a month of operations and
// one spare GPU, against a $0.255 and a $6.05 API; break-even volumes at
// $197.10 a month.
func tcoFixture() *TCO {
	vols := []float64{1e6, 3e6, 1e7, 3e7, 1e8, 3e8, 1e9, 3e9, 1e10}
	t := &TCO{Label: "twin_awq · AWQ-INT4", Volumes: vols}
	rent, ops := TCOLine{Label: "twin_awq · AWQ-INT4, rented"}, TCOLine{Label: "twin_awq · AWQ-INT4, with operations"}
	cheap, dear := TCOLine{Label: "gpt-4o-mini"}, TCOLine{Label: "gpt-4o"}
	for _, v := range vols {
		n := math.Max(1, math.Ceil(v/1.5768e9))
		rent.USD = append(rent.USD, n*197.1)
		ops.USD = append(ops.USD, n*197.1+1197.1)
		cheap.USD, dear.USD = append(cheap.USD, v*0.255/1e6), append(dear.USD, v*6.05/1e6)
	}
	t.Self, t.APIs = []TCOLine{rent, ops}, []TCOLine{cheap, dear}
	t.BreakEvens = []BreakEven{{Label: "gpt-4o-mini", TokensPerMonth: 197.1e6 / 0.255, USD: 197.1}, {Label: "gpt-4o", TokensPerMonth: 197.1e6 / 6.05, USD: 197.1}}
	return t
}

// singleSet is case (b): one series on a linear request-rate axis, no SLO, no
// eval run.
func singleSet() Set {
	return Set{
		Title:  "Qwen2.5 7B on L4",
		XLabel: "request rate (req/s)",
		Footer: "run 20250602T080000Z-l4_fp8 · API prices as of 2025-06-01 · forge v0.4.0",
		Series: []Series{{Label: "l4_fp8 · FP8", Points: levels(
			[]float64{0.5, 1, 1.5, 2, 2.5, 3},
			[]float64{55, 110, 160, 205, 230, 236},
			[]float64{60, 64, 71, 90, 180, 900},
			[]float64{95, 110, 130, 210, 600, 3100},
			[]float64{21, 23, 26, 31, 40, 52},
			[]float64{25, 28, 33, 42, 61, 88})}},
		Costs:        []CostBar{{Label: "l4_fp8 · FP8", ByUtil: []UtilCost{{1.0, 0.61}, {0.8, 0.7625}}}},
		APIs:         []APIBar{{Label: "gpt-4o-mini", USDPer1M: 0.255}},
		NoEvalReason: "Quality evaluation was skipped (--no-eval).",
	}
}

// edgeSet is case (c): gaps in the latencies, a series with a single level and
// no latencies at all, quality without standard errors or interval.
func edgeSet() Set {
	nan := math.NaN()
	return Set{
		Title:  "Mistral 7B on A10G",
		XLabel: "concurrency (requests in flight)",
		Footer: "run 20250603T090000Z-a10g · forge v0.4.0-dev",
		Series: []Series{
			{Label: "a10g · BF16", Points: levels([]float64{4, 8, 16},
				[]float64{120, 210, 330},
				[]float64{40, nan, 95},
				[]float64{70, nan, 260},
				[]float64{nan, 36, 44},
				[]float64{nan, 41, 58})},
			{Label: "a10g · BF16 (predicted)", Predicted: true, Points: levels([]float64{8},
				[]float64{220}, nil, nil, nil, nil)},
		},
		Costs: []CostBar{{Label: "a10g · BF16", ByUtil: []UtilCost{{1.0, 0.95}}}},
		Tasks: []Task{{
			Name: "hellaswag", Baseline: 0.79, Quant: 0.775, Retention: 0.981,
		}},
	}
}

var posInf = math.Inf(1)

func ptrNaN() *float64 { return ptr(math.NaN()) }

// crowdedSet stresses layout: a title too long for one line, a footer that
// wraps, twelve latency legend entries, six tasks and three utilizations.
func crowdedSet() Set {
	s := fullSet()
	s.Title = "meta-llama/Llama-3.1-70B-Instruct on 2× NVIDIA RTX A6000 (48 GB) with tensor parallelism"
	s.Footer = "runs 20250601T120000Z-twin_bf16-aaaaaaaa, 20250601T131000Z-twin_awq-bbbbbbbb, " +
		"20250601T141000Z-twin_gptq-cccccccc, 20250601T151000Z-twin_fp8-dddddddd · " +
		"API prices as of 2025-06-01 (openai, anthropic, google) · forge v0.4.0+dirty"
	for i, l := range []string{"meta-llama/Llama-3.1-70B · GPTQ-INT4", "meta-llama/Llama-3.1-70B · FP8", "meta-llama/Llama-3.1-70B · FP8 (predicted)"} {
		sr := s.Series[i%2]
		sr.Label, sr.Predicted = l, i == 2
		s.Series = append(s.Series, sr)
	}
	s.Tasks = append(s.Tasks, s.Tasks...)
	s.Tasks = append(s.Tasks, s.Tasks[:2]...)
	s.Tasks[2].Name = "arc_challenge (25-shot, acc_norm)"
	s.Costs = append(s.Costs, CostBar{Label: "meta-llama/Llama-3.1-70B · FP8", ByUtil: []UtilCost{{1, 2.1}, {0.8, 2.6}, {0.5, 4.2}}})
	s.APIs = append(s.APIs, APIBar{"gpt-4o", 4.375}, APIBar{"claude-sonnet-4", 6.0})
	return s
}
