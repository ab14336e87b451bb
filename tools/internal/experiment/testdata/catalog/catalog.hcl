# A small catalog shared by the diagnostics fixtures.
hardware "a5000" {
  gpu                = "NVIDIA RTX A5000"
  vram_gib           = 24
  bandwidth_gbps     = 768
  bf16_tflops        = 111.1
  compute_capability = "8.6"
  price {
    provider     = "runpod"
    usd_per_hour = 0.27
    source       = "https://example.com/pricing"
    observed     = "2026-01-10"
  }
}

hardware "t4" {
  gpu                = "NVIDIA T4"
  vram_gib           = 16
  bandwidth_gbps     = 320
  bf16_tflops        = 65
  compute_capability = "7.5"
  price {
    provider     = "example"
    usd_per_hour = 0.2
    source       = "https://example.com/pricing"
    observed     = "2026-01-10"
  }
}

model "llama8b" {
  repo     = "meta-llama/Llama-3.1-8B-Instruct"
  revision = "0e9e39f249a16976918f6564b8830bc894c89659"
  dtype    = "bfloat16"
  architecture {
    layers       = 32
    hidden       = 4096
    intermediate = 14336
    heads        = 32
    kv_heads     = 8
    head_dim     = 128
    vocab        = 128256
  }
}

model "llama8b_awq" {
  repo     = "hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4"
  revision = "db1f81ad4b8c7e39777509fac66c652eb0a52f91"
  dtype    = "float16"
  architecture {
    layers       = 32
    hidden       = 4096
    intermediate = 14336
    heads        = 32
    kv_heads     = 8
    head_dim     = 128
    vocab        = 128256
  }
  quantization "awq" {
    bits       = 4
    group_size = 128
    zero_point = true
    version    = "gemm"
    kernel     = "awq_marlin"
  }
}

dataset "sharegpt" {
  format     = "sharegpt"
  sha256     = "68bf784305d30824de71732c59e53ebb00780e4fd136b0382cd7dee7f08ea5d3"
  url        = "https://example.com/sharegpt.json"
  path       = "sharegpt/sharegpt.json"
  size_bytes = 863133
}

api "gpt_4o" {
  provider          = "openai"
  model             = "gpt-4o"
  base_url          = "https://api.openai.com/v1"
  usd_per_1m_input  = 2.5
  usd_per_1m_output = 10
  source            = "https://example.com/api-pricing"
  observed          = "2026-01-10"
  score "mmlu" {
    percent  = 88.7
    shots    = 0
    metric   = "acc"
    format   = "chat"
    origin   = "published"
    source   = "https://example.com/evals"
    observed = "2026-01-10"
  }
}
