experiment "engine_problems" {
  hardware = hardware.a5000
  model    = model.llama8b_awq
  engine "vllm" {
    version                = "latest" # ERROR: Engine version is not exact
    max_model_len          = 2048
    max_num_seqs           = 16
    max_num_batched_tokens = 8 # ERROR: Token budget below max_num_seqs
    gpu_memory_utilization = 1.5 # ERROR: Invalid memory fraction
    kv_cache_dtype         = "fp4" # ERROR: Unsupported value
    tensor_parallel_size   = 2 # ERROR: Not enough GPUs
  }
  workload "random" {
    input_tokens  = 2000
    output_tokens = 100 # ERROR: Request longer than the context
  }
  sweep {
    rates             = [2, 2] # ERROR: Duplicate sweep level
    prompts_per_level = 0 # ERROR: Value must be positive
  }
}

experiment "marlin_on_turing" {
  hardware = hardware.t4 # ERROR: AWQ Marlin unsupported on this GPU
  model    = model.llama8b_awq
  engine "vllm" {
    version                = "0.11.0"
    max_model_len          = 2048
    max_num_seqs           = 8
    gpu_memory_utilization = 0.9
  }
  workload "random" {
    input_tokens  = 100
    output_tokens = 100
  }
  sweep {
    concurrency       = [0] # ERROR: Sweep level must be positive
    prompts_per_level = 4
  }
}

experiment "does_not_fit" {
  hardware = hardware.t4
  model    = model.llama8b
  engine "vllm" { # ERROR: Missing engine version
    max_model_len          = 2048
    max_num_seqs           = 8
    gpu_memory_utilization = 0.5 # ERROR: Model does not fit in VRAM
  }
  workload "sharegpt" { # ERROR: Missing dataset
  }
  sweep {
    concurrency       = [1]
    prompts_per_level = 4
  }
}

experiment "flags" {
  hardware = hardware.a5000
  model    = model.llama8b_awq
  engine "vllm" {
    version                = "0.11.0"
    max_model_len          = 2048
    max_num_seqs           = 8
    gpu_memory_utilization = 0.9
    extra_args = [
      "--preemption-mode=swap", # ERROR: Removed vLLM flag
      "--disable-log-requests", # WARNING: Deprecated vLLM flag
      "--max-model-len=4096",   # ERROR: Flag shadows an engine setting
      "--quantization", # ERROR: Slow AWQ kernel forced
      "awq",
      "--enforce-eager",
    ]
  }
  workload "random" {
    input_tokens  = 100
    output_tokens = 100
  }
  sweep {
    concurrency       = [1, 2]
    prompts_per_level = 4
  }
}

# The eval's prompt log-probabilities (2048 tokens × 128,256 vocabulary ×
# 7 B = 1.71 GiB) do not fit in what 0.95 leaves free of 24 GiB (1.2 GiB).
experiment "no_room_for_logprobs" {
  hardware = hardware.a5000
  model    = model.llama8b_awq
  engine "vllm" {
    version                = "0.11.0"
    max_model_len          = 2048
    max_num_seqs           = 8
    gpu_memory_utilization = 0.95 # ERROR: No room for prompt log-probabilities
  }
  workload "random" {
    input_tokens  = 100
    output_tokens = 100
  }
  sweep {
    concurrency       = [1]
    prompts_per_level = 4
  }
  eval {
    task "mmlu" {
      shots  = 5
      metric = "acc"
    }
  }
}

experiment "eval_on_twin" {
  hardware = hardware.a5000
  model    = model.llama8b_awq
  engine "twin" {
    max_model_len          = 2048
    max_num_seqs           = 8
    gpu_memory_utilization = 0.9
  }
  workload "random" {
    input_tokens  = 100
    output_tokens = 100
  }
  sweep {
    concurrency       = [1]
    prompts_per_level = 4
  }
  eval { # ERROR: Eval without a tokenizer
    task "mmlu" {
      shots  = 5
      metric = "acc"
    }
  }
}

experiment "flag_gone_by_032" {
  hardware = hardware.a5000
  model    = model.llama8b_awq
  engine "vllm" {
    version                = "0.32.0"
    max_model_len          = 2048
    max_num_seqs           = 8
    gpu_memory_utilization = 0.9
    extra_args             = ["--rope-theta=500000"] # ERROR: Removed vLLM flag
  }
  workload "random" {
    input_tokens  = 100
    output_tokens = 100
  }
  sweep {
    concurrency       = [1]
    prompts_per_level = 4
  }
}
