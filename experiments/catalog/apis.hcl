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
}

# Current Sonnet per the stored Anthropic docs (NOT enabled: the brief fixes
# $3 / $15). Model id `claude-sonnet-5-5` is confirmed only by third parties
# (https://docs.oxen.ai/inference-api/reference/models/claude-sonnet-5-5 ,
# https://github.com/orgs/cometapi-dev/discussions/144); the Anthropic page's
# model-id field was not readable in the stored copy. Cache read $0.20 / MTok.
#
# api "claude_sonnet_5_5" {
#   provider                = "anthropic"
#   model                   = "claude-sonnet-5-5"
#   base_url                = "https://api.anthropic.com/v1"
#   usd_per_1m_input        = 2.00
#   usd_per_1m_output       = 10.00
#   usd_per_1m_cached_input = 0.20
#   source                  = "https://platform.claude.com/docs/en/about-claude/models/overview"
#   observed                = "2026-11-23"
# }
