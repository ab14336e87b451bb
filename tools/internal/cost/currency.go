package cost

import (
	"github.com/forge-bench/forge/tools/internal/bench"
	"github.com/forge-bench/forge/tools/internal/plan"
	"github.com/forge-bench/forge/tools/internal/textcount"
)

// Currency is every option's price in units that mean the same thing
// across providers: dollars per request of this workload and per 1M
// characters of its text. A token is not one currency: the same prompt is
// more or fewer tokens under each provider's vocabulary, so $/1M tokens
// compares prices of different quantities. The prompts are measured
// (text.json: characters, the served model's tokens, o200k_base tokens);
// outputs, whose text is not kept, are taken at the prompts' characters
// per token, an estimate the report states.
type Currency struct {
	Requests              int     `json:"requests"`
	PromptCharsPerRequest float64 `json:"prompt_chars_per_request"`
	// OutputCharsPerRequest is estimated: the measured output tokens at
	// the prompts' characters per served-model token.
	OutputCharsPerRequest float64       `json:"output_chars_per_request"`
	Self                  CurrencyRow   `json:"self"`
	APIs                  []CurrencyRow `json:"apis"`
}

// CurrencyRow is one option's price per request and per 1M characters.
type CurrencyRow struct {
	Name string `json:"name"`
	// Tokenizer is how the option's tokens were counted: self, o200k_base,
	// or "assumed self" when the catalog names none.
	Tokenizer string `json:"tokenizer"`
	// TokensPerSelfToken converts the served model's counts into the
	// option's: measured on the prompts, times the catalog's factor when
	// the tokenizer is estimated.
	TokensPerSelfToken     float64  `json:"tokens_per_self_token"`
	Estimate               string   `json:"estimate,omitempty"`
	InputTokensPerRequest  float64  `json:"input_tokens_per_request"`
	OutputTokensPerRequest float64  `json:"output_tokens_per_request"`
	USDPerRequest          *float64 `json:"usd_per_request"`
	USDPer1MChars          *float64 `json:"usd_per_1m_chars"`
}

// Currencies prices the report's options per request and per character at
// the goodput level (the highest load meeting the SLO), from the run's
// summaries and text record; nil without a text record, or without a
// level that meets the SLO.
func Currencies(r *Report, p *plan.Plan, sums []bench.Summary, text *textcount.Record) *Currency {
	if text == nil || text.Requests == 0 || r.Goodput.Level == nil {
		return nil
	}
	self, ok := text.TokensOf(textcount.Self)
	if !ok || self == 0 {
		return nil
	}
	var g *bench.Summary
	for i := range sums {
		if sums[i].Level == *r.Goodput.Level {
			g = &sums[i]
		}
	}
	if g == nil || g.Completed == 0 {
		return nil
	}
	in, out := float64(g.TotalInputTokens)/float64(g.Completed), float64(g.TotalOutputTokens)/float64(g.Completed)
	charsPerToken := float64(text.PromptChars) / float64(self)
	c := &Currency{Requests: text.Requests, PromptCharsPerRequest: float64(text.PromptChars) / float64(text.Requests),
		OutputCharsPerRequest: out * charsPerToken, APIs: []CurrencyRow{}}
	chars := c.PromptCharsPerRequest + c.OutputCharsPerRequest
	perChars := func(usd float64) *float64 {
		if chars <= 0 {
			return nil
		}
		return ptr(usd / chars * 1e6)
	}
	c.Self = CurrencyRow{Name: "self-hosted", Tokenizer: textcount.Self, TokensPerSelfToken: 1, InputTokensPerRequest: in, OutputTokensPerRequest: out}
	if v := r.Goodput.USDPer1MTotalTokens; v != nil {
		c.Self.USDPerRequest = ptr(*v * (in + out) / 1e6)
		c.Self.USDPer1MChars = perChars(*c.Self.USDPerRequest)
	}
	if p.Cost == nil {
		return c
	}
	for _, a := range p.Cost.Compare {
		row := CurrencyRow{Name: a.Name, Tokenizer: a.Tokenizer, TokensPerSelfToken: 1}
		switch a.Tokenizer {
		case "":
			row.Tokenizer, row.Estimate = "assumed self", "the catalog names no tokenizer for this API: its counts are taken equal to the served model's"
		case textcount.Self:
		default:
			if n, ok := text.TokensOf(a.Tokenizer); ok {
				row.TokensPerSelfToken = float64(n) / float64(self)
				if text.Estimated(textcount.Self) {
					row.Estimate = "the served model's tokens are the workload's estimate (its tokenizer files were not at hand), so this ratio is one too"
				}
			} else {
				row.Estimate = a.Tokenizer + " was not counted for this run: its counts are taken equal to the served model's"
			}
		}
		if a.TokenizerFactor > 0 {
			row.TokensPerSelfToken *= a.TokenizerFactor
			if row.Estimate != "" {
				row.Estimate = a.TokenizerSource + "; " + row.Estimate
			} else {
				row.Estimate = a.TokenizerSource
			}
		}
		row.InputTokensPerRequest, row.OutputTokensPerRequest = in*row.TokensPerSelfToken, out*row.TokensPerSelfToken
		usd := (row.InputTokensPerRequest*a.USDPer1MInput + row.OutputTokensPerRequest*a.USDPer1MOutput) / 1e6
		row.USDPerRequest, row.USDPer1MChars = ptr(usd), perChars(usd)
		c.APIs = append(c.APIs, row)
	}
	return c
}
