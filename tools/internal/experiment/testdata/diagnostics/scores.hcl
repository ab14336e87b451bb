# An API's quality scores: the study's tasks only, in percent, with settings.
api "scored" {
  provider          = "example"
  model             = "m"
  base_url          = "https://api.example.com/v1"
  usd_per_1m_input  = 1
  usd_per_1m_output = 2
  source            = "https://example.com/pricing"
  observed          = "2026-01-10"
  score "mmlu" {
    percent  = 0.694 # no error: a fraction is in range, the checker cannot tell
    shots    = 5
    metric   = "acc"
    format   = "chat"
    origin   = "published"
    source   = "https://example.com/card"
    observed = "2026-01-10"
  }
  score "mmlu" { # ERROR: Duplicate score
    percent  = 69.4
    shots    = 5
    metric   = "acc"
    format   = "chat"
    origin   = "published"
    source   = "https://example.com/card"
    observed = "2026-01-10"
  }
  score "arc" { # ERROR: Unsupported score task
    percent  = 101 # ERROR: Score out of range
    shots    = -1 # ERROR: Negative shots
    metric   = ""  # ERROR: Empty value
    format   = "loglikelihood" # ERROR: Unsupported value
    origin   = "rumoured" # ERROR: Unsupported value
    source   = "https://example.com/card"
    observed = "2030-01-01" # ERROR: Date in the future
  }
}

api "unscored" { # WARNING: API without quality
  provider          = "example"
  model             = "n"
  base_url          = "https://api.example.com/v1"
  usd_per_1m_input  = 1
  usd_per_1m_output = 2
  source            = "https://example.com/pricing"
  observed          = "2026-01-10"
}

api "tokenized" {
  provider          = "example"
  model             = "t"
  base_url          = "https://api.example.com/v1"
  usd_per_1m_input  = 1
  usd_per_1m_output = 2
  source            = "https://example.com/pricing"
  observed          = "2026-01-10"
  unscored          = "none published"
  tokenizer         = "cl100k_base" # ERROR: Unsupported value
  tokenizer_factor  = 1.3 # ERROR: Estimate without a source
}

api "factor_alone" {
  provider          = "example"
  model             = "f"
  base_url          = "https://api.example.com/v1"
  usd_per_1m_input  = 1
  usd_per_1m_output = 2
  source            = "https://example.com/pricing"
  observed          = "2026-01-10"
  unscored          = "none published"
  tokenizer_factor  = 0 # ERROR: Invalid tokenizer factor
}
