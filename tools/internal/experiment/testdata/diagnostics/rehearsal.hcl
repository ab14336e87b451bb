# The rehearsal block: a study experiment's CPU run with a stand-in model.
hardware "cpu_box" {
  gpu            = "CPU only: 2 vCPU"
  device         = "cpu"
  vram_gib       = 16
  bandwidth_gbps = 20
  bf16_tflops    = 0.4
  price {
    provider     = "fixture"
    usd_per_hour = 0.1
    source       = "https://example.com/pricing"
    observed     = "2026-01-10"
  }
}

model "other_tokenizer" {
  repo     = "HuggingFaceTB/SmolLM2-135M-Instruct"
  revision = "0e9e39f249a16976918f6564b8830bc894c89659"
  dtype    = "bfloat16"
  architecture {
    layers       = 2
    hidden       = 256
    intermediate = 896
    heads        = 4
    kv_heads     = 1
    head_dim     = 64
    vocab        = 49152
  }
}

model "standin" {
  repo     = "forge/llama-3.1-standin"
  revision = "0e9e39f249a16976918f6564b8830bc894c89659"
  dtype    = "bfloat16"
  architecture {
    layers       = 32
    hidden       = 256
    intermediate = 896
    heads        = 8
    kv_heads     = 8
    head_dim     = 128
    vocab        = 128256
  }
}

experiment "rehearsal_block_errors" {
  hardware = hardware.a5000
  model    = model.llama8b
  engine "vllm" {
    version                = "0.11.0"
    max_model_len          = 4096
    max_num_seqs           = 8
    gpu_memory_utilization = 0.9
  }
  workload "random" {
    input_tokens  = 100
    output_tokens = 100
  }
  sweep {
    concurrency       = [1]
    prompts_per_level = 16
  }
  eval {
    task "mmlu" {
      shots  = 5
      metric = "acc"
    }
  }
  rehearsal {
    hardware          = hardware.a5000 # ERROR: Rehearsal on a GPU
    model             = model.other_tokenizer # ERROR: Stand-in with another tokenizer
    prompts_per_level = 0 # ERROR: Value must be positive
    eval_limits       = { gsm8k = 2 } # ERROR: Limit for a task the study does not run
    mmlu_subjects     = ["anatomy", "anatomyy"] # ERROR: Unknown MMLU subject
    dtype             = "int8" # ERROR: Unsupported value
  }
}

# The block is right, but the experiment it derives is not: the study's
# max_model_len does not fit the CPU KV cache the rehearsal names, an
# error reported at the rehearsal block.
experiment "rehearsal_derived_error" {
  hardware = hardware.a5000
  model    = model.llama8b
  engine "vllm" {
    version                = "0.11.0"
    max_model_len          = 16384
    max_num_seqs           = 8
    gpu_memory_utilization = 0.9
    kv_overcommit          = true
  }
  workload "random" {
    input_tokens  = 100
    output_tokens = 100
  }
  sweep {
    concurrency       = [1]
    prompts_per_level = 16
  }
  rehearsal { # ERROR: Rehearsal: KV cache smaller than one sequence
    hardware          = hardware.cpu_box
    model             = model.standin
    prompts_per_level = 4
    cpu_kvcache_gib   = 1
  }
}
