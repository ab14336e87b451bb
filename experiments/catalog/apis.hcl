# Paid API alternatives Forge compares self-hosting against.
# Prices are USD per 1M tokens, standard (non-batch, non-priority) tier.

# OpenAI GPT-4o, dated snapshot 2024-08-06. $2.50 in / $10.00 out is fixed by
# the project brief and matches every stored copy found, e.g.
#   https://github.com/kunishou/GenerativeAI-Cost ("GPT-4o-2024-08-06 | $2.50 | $10.00")
#   https://github.com/CommitBrief/commitbrief/wiki/Provider-OpenAI (gpt-4o $2.50 / $10.00, cached $1.25)
# Cached input $1.25 appears in those same tables (and docs.rs openai-models
# 0.1.1, "From https://openai.com/api/pricing/"). OpenAI's pricing page now
# also lives at https://developers.openai.com/api/docs/pricing ; its 2026 text
# for this snapshot was not in the stored corpus, so observed stays the brief's date.
api "gpt_4o" {
  provider                = "openai"
  model                   = "gpt-4o-2024-08-06"
  base_url                = "https://api.openai.com/v1"
  usd_per_1m_input        = 2.50
  usd_per_1m_output       = 10.00
  usd_per_1m_cached_input = 1.25
  source                  = "https://openai.com/api/pricing/"
  observed                = "2026-05-25"
  score "mmlu" {
    percent  = 88.7
    shots    = 0
    metric   = "acc"
    format   = "chat"
    origin   = "published"
    source   = "https://github.com/openai/simple-evals"
    observed = "2026-12-03"
    note     = "zero-shot chain of thought, system prompt \"You are a helpful assistant.\"; OpenAI reports no GSM8K or HellaSwag for it"
  }
  # tiktoken 0.14.0 maps gpt-4o to o200k_base (tiktoken.model.MODEL_TO_ENCODING); Forge counts it offline.
  tokenizer = "o200k_base"
}

# Anthropic Claude Sonnet at the brief's $3 / $15.
# CONFLICT WITH THE BRIEF, READ THIS: Anthropic's docs (stored copies of
# https://platform.claude.com/docs/en/about-claude/models/overview pages) say
# the *current* Sonnet is Claude Sonnet 5.5 at $2 / $10 per MTok, and that
# $3 / $15 is the price of the older Sonnet 4.6 / 4.5:
#   - https://platform.claude.com/docs/zh-CN/models/sonnet-4-6/overview :
#     "Legacy. Released February 17, 2026 ... Model ID: `claude-sonnet-4-6` ...
#      Input pricing: $3 / MTok · Output pricing: $15 / MTok"
#   - https://platform.claude.com/docs/zh-CN/models/sonnet-4-5/overview :
#     `claude-sonnet-4-5-20250929`, $3 / $15, "Deprecated ... retires on November 30, 2026"
#   - https://platform.claude.com/docs/zh-CN/models/sonnet-5-5/overview :
#     "Claude Sonnet 5.5 Latest ... Input pricing $2 / MTok, Output pricing $10 / MTok"
# To keep the model id consistent with the price the brief fixes, this block
# uses claude-sonnet-4-6 (still available, legacy; the newest Sonnet whose
# official price is $3 / $15). The current-Sonnet alternative is below,
# commented out, for whoever owns the brief to decide. source is the stored
# copy actually read (the page body is English despite the zh-CN path); its
# publication date is unknown, so observed is the day it was read here.
api "claude_sonnet" {
  provider          = "anthropic"
  model             = "claude-sonnet-4-6"
  base_url          = "https://api.anthropic.com/v1"
  usd_per_1m_input  = 3.00
  usd_per_1m_output = 15.00
  source            = "https://platform.claude.com/docs/zh-CN/models/sonnet-4-6/overview"
  observed          = "2026-11-23"
  unscored                = "No vendor publishes MMLU, GSM8K or HellaSwag for this model at any setting (vendors now report agentic evals; third-party tables trace to no primary source): docs/research/issue18-comparators.md section 3.3. Measure it with forge eval --api claude_sonnet."
  # An estimate: Anthropic ships no offline tokenizer (token counts come from its API).
  tokenizer        = "o200k_base"
  tokenizer_factor = 1.0
  tokenizer_source = "assumed equal to o200k_base: no published comparison of Claude 4.x and OpenAI token counts; anecdotes put them within 5-10 % (docs/research/issue18-comparators.md 4.5)"
}


# The comparator that answers "self-host or pay?": the same model, Llama 3.1
# 8B Instruct, served by a hosted API. Prices from LiteLLM's price map as
# shipped in the PyPI wheel litellm 1.110.2 (uploaded 2026-11-20; file
# litellm/model_prices_and_context_window_backup.json), which names each
# provider's pricing page as its source; docs/research/issue18-comparators.md
# has the excerpts, the providers that retired the model (Cerebras
# 2026-05-27, Groq reportedly 2026-08-16) and the conflicts. base_url is the
# provider's OpenAI-compatible endpoint as documented by the provider; it is
# not called by a price comparison.
api "llama31_8b_deepinfra" {
  provider          = "deepinfra"
  model             = "meta-llama/Meta-Llama-3.1-8B-Instruct"
  base_url          = "https://api.deepinfra.com/v1/openai"
  usd_per_1m_input  = 0.03
  usd_per_1m_output = 0.05
  source            = "https://deepinfra.com/pricing"
  observed          = "2026-11-20"
  # Meta's own scores for these weights (model card; eval_details.md gives
  # the settings). Generated answers, not lm-eval log-likelihood, so they sit
  # beside the study's measured BF16 scores, not in place of them; a
  # provider may serve the weights quantized, which no published score shows.
  # Meta publishes no HellaSwag for the Instruct model.
  score "mmlu" {
    percent  = 69.4
    shots    = 5
    metric   = "macro_avg/acc"
    format   = "chat"
    origin   = "published"
    source   = "https://github.com/meta-llama/llama-models/blob/main/models/llama3_1/MODEL_CARD.md"
    observed = "2026-12-03"
    note     = "Meta's internal eval library; the model generates the answer letter (at most 10 tokens)"
  }
  score "gsm8k" {
    percent  = 84.5
    shots    = 8
    metric   = "em_maj1@1"
    format   = "chat"
    origin   = "published"
    source   = "https://github.com/meta-llama/llama-models/blob/main/models/llama3_1/MODEL_CARD.md"
    observed = "2026-12-03"
    note     = "chain-of-thought prompt as in Wei et al. (2022), up to 1024 generated tokens"
  }
  # The same weights, so the same tokenizer as the served model: its counts.
  tokenizer = "self"
}

api "llama31_8b_nebius" {
  provider          = "nebius"
  model             = "meta-llama/Meta-Llama-3.1-8B-Instruct"
  base_url          = "https://api.studio.nebius.com/v1"
  usd_per_1m_input  = 0.02
  usd_per_1m_output = 0.06
  source            = "https://nebius.com/prices"
  observed          = "2026-11-20"
  # Meta's own scores for these weights (model card; eval_details.md gives
  # the settings). Generated answers, not lm-eval log-likelihood, so they sit
  # beside the study's measured BF16 scores, not in place of them; a
  # provider may serve the weights quantized, which no published score shows.
  # Meta publishes no HellaSwag for the Instruct model.
  score "mmlu" {
    percent  = 69.4
    shots    = 5
    metric   = "macro_avg/acc"
    format   = "chat"
    origin   = "published"
    source   = "https://github.com/meta-llama/llama-models/blob/main/models/llama3_1/MODEL_CARD.md"
    observed = "2026-12-03"
    note     = "Meta's internal eval library; the model generates the answer letter (at most 10 tokens)"
  }
  score "gsm8k" {
    percent  = 84.5
    shots    = 8
    metric   = "em_maj1@1"
    format   = "chat"
    origin   = "published"
    source   = "https://github.com/meta-llama/llama-models/blob/main/models/llama3_1/MODEL_CARD.md"
    observed = "2026-12-03"
    note     = "chain-of-thought prompt as in Wei et al. (2022), up to 1024 generated tokens"
  }
  # The same weights, so the same tokenizer as the served model: its counts.
  tokenizer = "self"
}

api "llama31_8b_fireworks" {
  provider          = "fireworks"
  model             = "accounts/fireworks/models/llama-v3p1-8b-instruct"
  base_url          = "https://api.fireworks.ai/inference/v1"
  usd_per_1m_input  = 0.10
  usd_per_1m_output = 0.10
  source            = "https://fireworks.ai/pricing"
  observed          = "2026-11-20"
  # Meta's own scores for these weights (model card; eval_details.md gives
  # the settings). Generated answers, not lm-eval log-likelihood, so they sit
  # beside the study's measured BF16 scores, not in place of them; a
  # provider may serve the weights quantized, which no published score shows.
  # Meta publishes no HellaSwag for the Instruct model.
  score "mmlu" {
    percent  = 69.4
    shots    = 5
    metric   = "macro_avg/acc"
    format   = "chat"
    origin   = "published"
    source   = "https://github.com/meta-llama/llama-models/blob/main/models/llama3_1/MODEL_CARD.md"
    observed = "2026-12-03"
    note     = "Meta's internal eval library; the model generates the answer letter (at most 10 tokens)"
  }
  score "gsm8k" {
    percent  = 84.5
    shots    = 8
    metric   = "em_maj1@1"
    format   = "chat"
    origin   = "published"
    source   = "https://github.com/meta-llama/llama-models/blob/main/models/llama3_1/MODEL_CARD.md"
    observed = "2026-12-03"
    note     = "chain-of-thought prompt as in Wei et al. (2022), up to 1024 generated tokens"
  }
  # The same weights, so the same tokenizer as the served model: its counts.
  tokenizer = "self"
}

# Current frontier models, late 2026 (the vendors' own model pages, stored
# copies read 2026-12-03; the pages carry no date).
api "gpt_6_2_sol" {
  provider                = "openai"
  model                   = "gpt-6.2-sol"
  base_url                = "https://api.openai.com/v1"
  usd_per_1m_input        = 2.00
  usd_per_1m_output       = 10.00
  usd_per_1m_cached_input = 0.10
  source                  = "https://developers.openai.com/api/docs/models/gpt-6.2-sol"
  observed                = "2026-12-03"
  unscored                = "No vendor publishes MMLU, GSM8K or HellaSwag for this model at any setting (vendors now report agentic evals; third-party tables trace to no primary source): docs/research/issue18-comparators.md section 3.3. Measure it with forge eval --api gpt_6_2_sol."
  # An estimate: OpenAI publishes no tokenizer for gpt-6.x and tiktoken 0.14.0 maps none.
  tokenizer        = "o200k_base"
  tokenizer_factor = 1.0
  tokenizer_source = "assumed o200k_base, the encoding of gpt-4o through gpt-5 in tiktoken 0.14.0 (docs/research/issue18-comparators.md 4.1); OpenAI publishes none for gpt-6.x"
}

api "claude_sonnet_5_5" {
  provider                = "anthropic"
  model                   = "claude-sonnet-5-5"
  base_url                = "https://api.anthropic.com/v1"
  usd_per_1m_input        = 2.00
  usd_per_1m_output       = 10.00
  usd_per_1m_cached_input = 0.10
  source                  = "https://platform.claude.com/docs/en/about-claude/pricing"
  observed                = "2026-12-03"
  unscored                = "No vendor publishes MMLU, GSM8K or HellaSwag for this model at any setting (vendors now report agentic evals; third-party tables trace to no primary source): docs/research/issue18-comparators.md section 3.3. Measure it with forge eval --api claude_sonnet_5_5."
  # An estimate: Sonnet 5 and later use a tokenizer that Anthropic says counts
  # about 30 % more tokens than earlier Claude models for the same text.
  tokenizer        = "o200k_base"
  tokenizer_factor = 1.3
  tokenizer_source = "https://platform.claude.com/docs/en/build-with-claude/token-counting: the newer tokenizer gives approximately 30 percent more tokens than earlier models; earlier Claude taken equal to o200k_base"
}
