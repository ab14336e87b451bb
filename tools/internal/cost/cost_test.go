package cost

import (
	"math"
	"strings"
	"testing"

	"github.com/forge-bench/forge/tools/internal/bench"
	"github.com/forge-bench/forge/tools/internal/plan"
	"github.com/forge-bench/forge/tools/internal/scrape"
	"github.com/forge-bench/forge/tools/internal/textcount"
)

func f(v float64) *float64 { return &v }
func b(v bool) *bool       { return &v }

// fixture: $0.27/h; level 0 makes 100 output and 150 total tok/s and meets
// the SLO; level 1 makes 400 and 600 and misses it.
func fixture() (*plan.Plan, []bench.Summary) {
	p := &plan.Plan{Experiment: "x", Hardware: plan.Hardware{Name: "h", GPU: "NVIDIA RTX A5000", Count: 1,
		Price: plan.Price{Provider: "runpod", USDPerHour: 0.27, Source: "s", Observed: "2026-05-25"},
		Owned: &plan.Owned{CapexUSD: 2190, AmortizationMonths: 12, Watts: 250, USDPerKWh: 0.2, Source: "o", Observed: "2026-01-01"}},
		SLO: &plan.SLO{TTFTP99Ms: f(2000)},
		Cost: &plan.Cost{Utilization: []float64{1, 0.8}, Compare: []plan.API{
			{Name: "dear", Provider: "p", Model: "m", USDPer1MInput: 2.5, USDPer1MOutput: 10, Source: "a", Observed: "2026-05-25"},
			{Name: "cheap", Provider: "p", Model: "m", USDPer1MInput: 0.05, USDPer1MOutput: 0.1, Source: "a", Observed: "2026-05-25"},
			{Name: "middle", Provider: "p", Model: "m", USDPer1MInput: 0.3, USDPer1MOutput: 0.3, Source: "a", Observed: "2026-05-25"},
		}}}
	s0 := bench.Summary{RunID: "r", Level: bench.Level{Kind: "concurrency", Value: 1, Index: 0}, Completed: 10,
		OutputThroughput: 100, TotalTokenThroughput: 150, TotalInputTokens: 500, TotalOutputTokens: 1000,
		Goodput: bench.Goodput{SLOMet: b(true)},
		Server:  &scrape.View{Counters: map[string]float64{prefillSum: 2, decodeSum: 8}}}
	s1 := bench.Summary{RunID: "r", Level: bench.Level{Kind: "concurrency", Value: 4, Index: 1}, Completed: 10,
		OutputThroughput: 400, TotalTokenThroughput: 600, TotalInputTokens: 2000, TotalOutputTokens: 4000,
		Goodput: bench.Goodput{SLOMet: b(false)},
		TTFT:    bench.Stats{Mean: f(100)}, E2EL: bench.Stats{Mean: f(1000)}}
	return p, []bench.Summary{s0, s1}
}

func near(t *testing.T, what string, got *float64, want float64) {
	t.Helper()
	if got == nil {
		t.Errorf("%s = nil, want %g", what, want)
		return
	}
	if math.Abs(*got-want) > 1e-9*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %.12g, want %.12g", what, *got, want)
	}
}

func TestPerMillion(t *testing.T) {
	for _, c := range []struct {
		hourly, tps, u float64
		want           *float64
	}{
		{0.27, 100, 1, f(0.75)}, // 0.27e6 / 360000
		{0.27, 100, 0.8, f(0.9375)},
		{0.27, 1000, 1, f(0.075)},
		{1, 0, 1, nil},
		{1, 10, 0, nil},
	} {
		got := PerMillion(c.hourly, c.tps, c.u)
		if c.want == nil {
			if got != nil {
				t.Errorf("PerMillion(%g, %g, %g) = %g, want nil", c.hourly, c.tps, c.u, *got)
			}
			continue
		}
		near(t, "PerMillion", got, *c.want)
	}
}

func TestComputeHandValues(t *testing.T) {
	p, sums := fixture()
	r, err := Compute(p, sums, []string{"bench/a", "bench/b"}, "measured", []Input{{Path: "plan.json"}, {Path: "bench/a"}})
	if err != nil {
		t.Fatal(err)
	}
	l0, l1 := r.Levels[0], r.Levels[1]
	near(t, "l0 out@1.0", l0.USDPer1MOutputTokens["1.0"], 0.75)
	near(t, "l0 out@0.8", l0.USDPer1MOutputTokens["0.8"], 0.9375)
	near(t, "l0 total@1.0", l0.USDPer1MTotalTokens["1.0"], 0.5)
	near(t, "l1 out@1.0", l1.USDPer1MOutputTokens["1.0"], 0.1875)
	near(t, "l1 total@0.8", l1.USDPer1MTotalTokens["0.8"], 0.15625)
	// split: server share 2/(2+8); input 50 tok/s, output 100 tok/s
	near(t, "l0 share", &l0.InputShare, 0.2)
	near(t, "l0 input", l0.USDPer1MInput, 0.27*0.2*1e6/(3600*50))
	near(t, "l0 output", l0.USDPer1MOutput, 0.27*0.8*1e6/(3600*100))
	if !strings.HasPrefix(l0.InputShareSource, "server") || !strings.HasPrefix(l1.InputShareSource, "client") {
		t.Errorf("share sources %q, %q", l0.InputShareSource, l1.InputShareSource)
	}
	near(t, "l1 share", &l1.InputShare, 0.1)
	near(t, "l1 input", l1.USDPer1MInput, 0.0375)
	near(t, "l1 output", l1.USDPer1MOutput, 0.16875)
	// the split never charges the whole bill to both sides
	in := (l1.TotalTokenThroughput - l1.OutputThroughput) * 3600 / 1e6 * *l1.USDPer1MInput
	out := l1.OutputThroughput * 3600 / 1e6 * *l1.USDPer1MOutput
	near(t, "hourly from split", f(in+out), 0.27)

	if r.Headline.Level.Index != 1 || r.Headline.USDPer1MOutputTokens != 0.1875 || r.Headline.USDPer1MTotalTokens != 0.125 {
		t.Errorf("headline %+v", r.Headline)
	}
	if len(r.Sensitivity) != 10 || r.Sensitivity[4].Utilization != 0.5 {
		t.Fatalf("sensitivity %+v", r.Sensitivity)
	}
	near(t, "sens 0.5", &r.Sensitivity[4].USDPer1MOutputTokens, 0.375)
	if r.Goodput.Level == nil || r.Goodput.Level.Index != 0 {
		t.Fatalf("goodput %+v", r.Goodput)
	}
	near(t, "goodput", r.Goodput.USDPer1MOutputTokens, 0.75)

	near(t, "mix", &r.Mix.InputFraction, 1.0/3)
	dear, cheap, middle := r.APIs[0], r.APIs[1], r.APIs[2]
	near(t, "dear blended", &dear.BlendedUSDPer1M, 7.5)
	near(t, "dear break-even", dear.BreakEvenTokensPerMonth, 0.27*730*1e6/7.5) // 26.28M tokens
	near(t, "dear break-even at goodput", dear.BreakEvenAtGoodputPerMon, 26.28e6)
	// at goodput (level 0) self-hosting costs 0.5 $/1M at full use: it
	// beats 7.5 $/1M from 0.5/7.5 of the month on
	near(t, "dear break-even utilization", dear.BreakEvenUtilization, 0.5/7.5)
	if middle.BreakEvenUtilization != nil || cheap.BreakEvenUtilization != nil {
		t.Errorf("break-even utilization against APIs cheaper at goodput: middle %v, cheap %v", middle.BreakEvenUtilization, cheap.BreakEvenUtilization)
	}
	if dear.Cheaper != "self-host" {
		t.Errorf("dear: cheaper %s", dear.Cheaper)
	}
	if cheap.BreakEvenTokensPerMonth != nil || cheap.Cheaper != "api" {
		t.Errorf("cheap: %+v", cheap)
	}
	near(t, "cheap ratio", &cheap.SelfHostToAPIRatio, 0.125/(0.05/3+0.1*2/3))
	near(t, "middle break-even", middle.BreakEvenTokensPerMonth, 657e6)
	if middle.BreakEvenAtGoodputPerMon != nil {
		t.Errorf("middle at goodput: 0.5 $/1M is above 0.3, want nil, got %g", *middle.BreakEvenAtGoodputPerMon)
	}

	o := r.Owned
	near(t, "owned hourly", &o.USDPerHourEquivalent, 0.30) // 2190/(12*730) + 0.25*0.2
	near(t, "owned total", o.USDPer1MTotalTokens["1.0"], 0.3e6/(3600*600))
	near(t, "owned break-even dear", o.BreakEvenTokensPerMon["dear"], 0.3*730*1e6/7.5)
	if o.BreakEvenTokensPerMon["cheap"] != nil {
		t.Error("owned vs cheap: want nil")
	}
}

func TestGoodputNone(t *testing.T) {
	p, sums := fixture()
	sums[0].Goodput.SLOMet = b(false)
	r, err := Compute(p, sums, []string{"a", "b"}, "measured", nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Goodput.Level != nil || r.Goodput.USDPer1MOutputTokens != nil || !strings.HasPrefix(r.Goodput.Statement, "No level meets") {
		t.Errorf("goodput %+v", r.Goodput)
	}
	if r.APIs[0].BreakEvenAtGoodputPerMon != nil || r.APIs[0].BreakEvenUtilization != nil {
		t.Error("break-even at goodput without goodput")
	}
	// a failure disqualifies a level even when its p99 is fine
	p, sums = fixture()
	sums[0].Failed = 1
	r, _ = Compute(p, sums, []string{"a", "b"}, "measured", nil)
	if r.Goodput.Level != nil {
		t.Errorf("level with a failure counted as goodput: %+v", r.Goodput)
	}
}

func TestComputeErrors(t *testing.T) {
	p, sums := fixture()
	for _, c := range []struct {
		name string
		mod  func(*plan.Plan, []bench.Summary) []bench.Summary
		want string
	}{
		{"no summaries", func(*plan.Plan, []bench.Summary) []bench.Summary { return nil }, "no level summaries"},
		{"no price", func(p *plan.Plan, s []bench.Summary) []bench.Summary { p.Hardware.Price.USDPerHour = 0; return s }, "usd_per_hour"},
		{"no throughput", func(_ *plan.Plan, s []bench.Summary) []bench.Summary {
			for i := range s {
				s[i].OutputThroughput, s[i].TotalTokenThroughput = 0, 0
			}
			return s
		}, "no level"},
	} {
		pp, ss := *p, append([]bench.Summary(nil), sums...)
		ss = c.mod(&pp, ss)
		_, err := Compute(&pp, ss, []string{"a", "b"}, "measured", nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want %q", c.name, err, c.want)
		}
	}
}

func TestKey(t *testing.T) {
	for in, want := range map[float64]string{1: "1.0", 0.8: "0.8", 0.1: "0.1", 0.25: "0.25"} {
		if got := Key(in); got != want {
			t.Errorf("Key(%g) = %q, want %q", in, got, want)
		}
	}
}

// TestTimeScaleModelledTime: a twin run at time scale 20 measures every rate
// 20 times faster on the wall clock; priced in modelled time it costs what
// the same run at scale 1 costs.
func TestTimeScaleModelledTime(t *testing.T) {
	p, sums := fixture()
	base, err := Compute(p, sums, []string{"a", "b"}, "measured", nil)
	if err != nil {
		t.Fatal(err)
	}
	k := 20.0
	for i := range sums {
		sums[i].OutputThroughput *= k
		sums[i].TotalTokenThroughput *= k
		sums[i].Provenance.TimeScale = &k
	}
	scaled, err := Compute(p, sums, []string{"a", "b"}, "measured", nil)
	if err != nil {
		t.Fatal(err)
	}
	if scaled.TimeScale == nil || *scaled.TimeScale != 20 || base.TimeScale != nil {
		t.Errorf("time_scale: scaled %v, base %v", scaled.TimeScale, base.TimeScale)
	}
	near(t, "headline", &scaled.Headline.USDPer1MTotalTokens, base.Headline.USDPer1MTotalTokens)
	near(t, "goodput", scaled.Goodput.USDPer1MTotalTokens, *base.Goodput.USDPer1MTotalTokens)
	near(t, "level 1 output", scaled.Levels[1].USDPer1MOutputTokens["0.8"], *base.Levels[1].USDPer1MOutputTokens["0.8"])
	near(t, "break-even utilization", scaled.APIs[0].BreakEvenUtilization, *base.APIs[0].BreakEvenUtilization)
	if sums[0].OutputThroughput != 100*k {
		t.Error("Compute changed its input")
	}
}

// TestOps: 10 engineer hours at $100 and one spare GPU add $1,000 and
// $0.27 × 730 = $197.10 a month to the rent, $1,197.10 / 730 h = $1.6399 an
// hour; at the goodput level (150 tokens/s) that is (0.27 + 1.6399) × 1e6 /
// (3600 × 150) per 1M tokens, and against the $7.50 API self-hosting pays
// from that over 7.5 of the month, or (0.27 + 1.6399) × 730 × 1e6 / 7.5
// tokens, on.
func TestOps(t *testing.T) {
	p, sums := fixture()
	base, err := Compute(p, sums, []string{"a", "b"}, "measured", nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Cost.Ops = &plan.Ops{EngineerHoursPerMonth: 10, USDPerEngineerHour: 100, RedundantGPUs: 1}
	r, err := Compute(p, sums, []string{"a", "b"}, "measured", nil)
	if err != nil {
		t.Fatal(err)
	}
	o := r.Ops
	hourly := 0.27 + (1000+0.27*730)/730
	near(t, "engineers", &o.EngineerUSDPerMonth, 1000)
	near(t, "redundancy", &o.RedundancyUSDPerMonth, 197.1)
	near(t, "per month", &o.USDPerMonth, 1197.1)
	near(t, "hourly", &o.USDPerHourWithOps, hourly)
	per1M := hourly * 1e6 / (3600 * 150)
	near(t, "total at 1.0", o.USDPer1MTotalTokens["1.0"], per1M)
	near(t, "total at 0.8", o.USDPer1MTotalTokens["0.8"], per1M/0.8)
	near(t, "break-even utilization vs dear", o.BreakEvenUtilization["dear"], per1M/7.5)
	near(t, "break-even volume vs dear", o.BreakEvenTokensPerMon["dear"], hourly*730*1e6/7.5)
	if o.BreakEvenUtilization["middle"] != nil || o.BreakEvenTokensPerMon["cheap"] != nil {
		t.Error("with ops, the $0.30 and cheaper APIs must stay cheaper")
	}
	// Owned with ops: the spare GPU is owned too, $0.30 × 730 = $219 a
	// month; with the engineers $1,219, or $0.30 + 1219/730 an hour.
	if o.Owned == nil {
		t.Fatal("no owned figures with ops for hardware with an owned block")
	}
	owned := 0.30 + 1219.0/730
	near(t, "owned redundancy", &o.Owned.RedundancyUSDPerMonth, 219)
	near(t, "owned per month", &o.Owned.USDPerMonth, 1219)
	near(t, "owned hourly", &o.Owned.USDPerHourWithOps, owned)
	near(t, "owned total at 1.0", o.Owned.USDPer1MTotalTokens["1.0"], owned*1e6/(3600*150))
	// the rental figures are not changed by ops
	if base.Ops != nil || r.Headline != base.Headline || *r.APIs[0].BreakEvenUtilization != *base.APIs[0].BreakEvenUtilization {
		t.Error("ops changed the rental figures")
	}
}

// TestMonthly: the goodput level serves 150 tokens/s, 150 × 3600 × 730 =
// 394.2M tokens a month per replica. An expected 1e9 tokens a month needs
// ceil(1e9 / 394.2e6) = 3 replicas at 1e9 / 1182.6e6 = 84.56 % of their
// month: rent 3 × 0.27 × 730 = $591.30; with ops (10 h × $100 and one spare
// GPU at $197.10) $1,788.40. Owned at 2190 / (12 × 730) + 0.25 kW × $0.20 =
// $0.30 an hour: $657, with ops $657 + $1,000 + $219 = $1,876. The $7.50
// API (blended at the run's 1/3 input mix) bills $7,500; the cheap one,
// 0.05/3 + 0.1 × 2/3 = $0.08333, bills $83.33. At 1M tokens one replica
// ($197.10) at 0.25 % of its month.
func TestMonthly(t *testing.T) {
	p, sums := fixture()
	v := 1e9
	p.Cost.ExpectedTokensPerMonth = &v
	p.Cost.Ops = &plan.Ops{EngineerHoursPerMonth: 10, USDPerEngineerHour: 100, RedundantGPUs: 1}
	r, err := Compute(p, sums, []string{"a", "b"}, "measured", nil)
	if err != nil {
		t.Fatal(err)
	}
	var exp, small *Monthly
	for i := range r.Monthly {
		switch m := &r.Monthly[i]; {
		case m.Expected:
			exp = m
		case m.TokensPerMonth == 1e6:
			small = m
		}
	}
	if exp == nil || small == nil || len(r.Monthly) != len(DefaultVolumes) {
		t.Fatalf("monthly %+v: want the default volumes, 1e9 (a default too) marked expected", r.Monthly)
	}
	if exp.Replicas != 3 || small.Replicas != 1 {
		t.Errorf("replicas %d and %d, want 3 and 1", exp.Replicas, small.Replicas)
	}
	near(t, "utilization", &exp.Utilization, 1e9/(3*394.2e6))
	near(t, "rented", &exp.RentedUSD, 591.3)
	near(t, "rented with ops", exp.RentedWithOpsUSD, 1788.4)
	near(t, "owned", exp.OwnedUSD, 657)
	near(t, "owned with ops", exp.OwnedWithOpsUSD, 1876)
	dear, cheap := exp.APIs["dear"], exp.APIs["cheap"]
	near(t, "dear API", &dear, 7500)
	near(t, "cheap API", &cheap, 1e9*(0.05/3+0.1*2/3)/1e6)
	near(t, "small rent", &small.RentedUSD, 197.1)
	near(t, "small utilization", &small.Utilization, 1e6/394.2e6)

	// No level meets the SLO: no volume can be served under it.
	sums[0].Goodput.SLOMet = b(false)
	r, err = Compute(p, sums, []string{"a", "b"}, "measured", nil)
	if err != nil || len(r.Monthly) != 0 {
		t.Errorf("nothing meets the SLO: monthly %+v (%v), want none", r.Monthly, err)
	}
}

// TestCurrencies: the goodput level (concurrency 1) served 10 requests of
// 50 input and 100 output tokens at $0.27 / (3600 × 150) × 1e6 = $0.50 per
// 1M tokens, so a request costs 150 × 0.5 / 1e6 = $0.000075 self-hosted.
// The prompts: 2,000 characters, 500 of the model's tokens (4 characters a
// token), 450 o200k_base tokens. A request is then 200 prompt characters
// and, at 4 a token, 400 output characters: $0.000075 / 600 × 1e6 = $0.125
// per 1M characters. The o200k API counts 0.9 of the model's tokens: 45 in,
// 90 out, (45 × 2.5 + 90 × 10) / 1e6 = $0.0010125 a request, $1.6875 per 1M
// characters; with an estimated factor of 1.3 on top, 58.5 and 117 tokens,
// $0.00131625. The same-tokenizer API: (50 × 0.05 + 100 × 0.1) / 1e6 =
// $0.0000125; the one with no tokenizer is assumed equal, (50 + 100) × 0.3
// / 1e6 = $0.000045, and says so.
func TestCurrencies(t *testing.T) {
	p, sums := fixture()
	p.Cost.Compare[0].Tokenizer = "o200k_base"
	p.Cost.Compare[1].Tokenizer = "self"
	text := &textcount.Record{Requests: 10, PromptChars: 2000, Tokenizers: []textcount.Tokenizer{{Name: "self", Tokens: 500}, {Name: "o200k_base", Tokens: 450}}}
	r, err := Compute(p, sums, []string{"a", "b"}, "measured", nil)
	if err != nil {
		t.Fatal(err)
	}
	c := Currencies(r, p, sums, text)
	if c == nil || len(c.APIs) != 3 {
		t.Fatalf("currency %+v", c)
	}
	near(t, "prompt chars", &c.PromptCharsPerRequest, 200)
	near(t, "output chars", &c.OutputCharsPerRequest, 400)
	near(t, "self per request", c.Self.USDPerRequest, 0.000075)
	near(t, "self per 1M chars", c.Self.USDPer1MChars, 0.125)
	dear, cheap, middle := c.APIs[0], c.APIs[1], c.APIs[2]
	near(t, "o200k ratio", &dear.TokensPerSelfToken, 0.9)
	near(t, "o200k per request", dear.USDPerRequest, 0.0010125)
	near(t, "o200k per 1M chars", dear.USDPer1MChars, 1.6875)
	near(t, "same tokenizer per request", cheap.USDPerRequest, 0.0000125)
	near(t, "assumed per request", middle.USDPerRequest, 0.000045)
	if dear.Estimate != "" || cheap.Estimate != "" || middle.Estimate == "" || middle.Tokenizer != "assumed self" {
		t.Errorf("estimates: %q %q %q (%s)", dear.Estimate, cheap.Estimate, middle.Estimate, middle.Tokenizer)
	}

	p.Cost.Compare[0].TokenizerFactor, p.Cost.Compare[0].TokenizerSource = 1.3, "vendor note"
	c = Currencies(r, p, sums, text)
	near(t, "estimated per request", c.APIs[0].USDPerRequest, 0.00131625)
	if c.APIs[0].Estimate != "vendor note" {
		t.Errorf("estimate %q, want the factor's source", c.APIs[0].Estimate)
	}
	if Currencies(r, p, sums, nil) != nil {
		t.Error("a currency without a text record")
	}
}
