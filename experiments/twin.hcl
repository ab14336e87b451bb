# The default experiments of `make run`: the AWQ model on an RTX A5000 and
# its BF16 baseline, served by Forge's embedded twin engine (a model of vLLM
# V1 timing), so that the whole pipeline runs in a couple of minutes with no
# GPU and no Python. Small on purpose: three levels, the last above
# max_num_seqs so that queueing shows. The two blocks differ only in name,
# description and model (HCL has no block templates).

experiment "twin" {
  description = "Llama 3.1 8B AWQ-INT4 on an RTX A5000, simulated by the twin engine"
  hardware    = hardware.rtx_a5000
  model       = model.llama31_8b_instruct_awq

  engine "twin" {
    version                = "0.11.0"
    max_model_len          = 1024
    max_num_seqs           = 8
    gpu_memory_utilization = 0.90
    seed                   = 0
    port                   = 18000
  }

  workload "random" {
    input_tokens  = 256
    output_tokens = 64
    api           = "completions"
    ignore_eos    = true
    seed          = 42
  }

  sweep {
    concurrency       = [1, 4, 16]
    prompts_per_level = 32
    warmup            = 2
  }

  # 2.5 s, not 2 s: at 2 s the AWQ run's concurrency 16 (predicted TTFT p99
  # 1974 ms) sat within 1.3 % of the SLO, so whether the answer's level met
  # it turned on a few milliseconds of client overhead, which a time-scaled
  # run multiplies (make timescale-check). BF16's 16 (2705 ms) fails either way.
  slo {
    ttft_p99_ms = 2500
    tpot_p99_ms = 100
  }

  cost {
    utilization = [1.0, 0.8]
    compare     = [api.llama31_8b_deepinfra, api.llama31_8b_nebius, api.llama31_8b_fireworks, api.gpt_6_2_sol, api.claude_sonnet_5_5, api.gpt_4o, api.claude_sonnet]
    # What a month may cost; the Grafana dashboard (forge observe) sets
    # spend against it. One A5000 around the clock is 730 h × 0.27 = 197 USD.
    budget_usd_per_month = 250
  }
}

experiment "twin_bf16" {
  description = "Llama 3.1 8B BF16 on an RTX A5000, simulated by the twin engine (the baseline)"
  hardware    = hardware.rtx_a5000
  model       = model.llama31_8b_instruct

  engine "twin" {
    version                = "0.11.0"
    max_model_len          = 1024
    max_num_seqs           = 8
    gpu_memory_utilization = 0.90
    seed                   = 0
    port                   = 18000
  }

  workload "random" {
    input_tokens  = 256
    output_tokens = 64
    api           = "completions"
    ignore_eos    = true
    seed          = 42
  }

  sweep {
    concurrency       = [1, 4, 16]
    prompts_per_level = 32
    warmup            = 2
  }

  # 2.5 s, not 2 s: at 2 s the AWQ run's concurrency 16 (predicted TTFT p99
  # 1974 ms) sat within 1.3 % of the SLO, so whether the answer's level met
  # it turned on a few milliseconds of client overhead, which a time-scaled
  # run multiplies (make timescale-check). BF16's 16 (2705 ms) fails either way.
  slo {
    ttft_p99_ms = 2500
    tpot_p99_ms = 100
  }

  cost {
    utilization = [1.0, 0.8]
    compare     = [api.llama31_8b_deepinfra, api.llama31_8b_nebius, api.llama31_8b_fireworks, api.gpt_6_2_sol, api.claude_sonnet_5_5, api.gpt_4o, api.claude_sonnet]
    # What a month may cost; the Grafana dashboard (forge observe) sets
    # spend against it. One A5000 around the clock is 730 h × 0.27 = 197 USD.
    budget_usd_per_month = 250
  }
}
