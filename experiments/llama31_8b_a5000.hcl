# The reference study: Llama 3.1 8B Instruct in BF16 against its AWQ-INT4
# quantization (hugging-quants), both on vLLM on one RunPod RTX A5000.
#
# max_model_len = 4096 covers the ShareGPT trace (vLLM's sampling keeps
# prompt + output <= 2048 tokens) and the 5-shot eval prompts. The KV cache
# cannot hold 64 sequences of 4096 tokens at once on 24 GB, so both set
# kv_overcommit: real ShareGPT sequences are far shorter, and should long ones
# coincide vLLM preempts instead of failing (the bench records preemptions).
#
# Each experiment's rehearsal block is how `forge run NAME --rehearsal`
# (`make rehearsal`) runs it on a CPU before a GPU is rented: this very
# experiment, with only the model (a stand-in with Llama 3's tokenizer), the
# hardware and the counts swapped; the plan lists the two CPU exceptions
# with their reasons (docs/rehearsal.md). The counts are variables so that
# CI can cut them further.

variable "rehearsal_prompts" {
  default     = 64
  description = "requests per level in the study's rehearsal (every level runs)"
}

variable "rehearsal_mmlu_limit" {
  default     = 2
  description = "MMLU questions per subject the rehearsal scores"
}

variable "rehearsal_mmlu_subjects" {
  default     = []
  description = "MMLU subjects the rehearsal scores (all 57 when empty)"
}

variable "rehearsal_gsm8k_limit" {
  default     = 16
  description = "GSM8K problems the rehearsal scores"
}

variable "rehearsal_hellaswag_limit" {
  default     = 16
  description = "HellaSwag contexts the rehearsal scores"
}

locals {
  concurrency = [1, 4, 16, 32, 64]
  prompts     = 256
  vllm        = "0.32.0"
}

experiment "llama31_8b_bf16_a5000" {
  description = "Llama 3.1 8B Instruct, BF16, vLLM on one RTX A5000 (the baseline)"
  hardware    = hardware.rtx_a5000
  model       = model.llama31_8b_instruct

  engine "vllm" {
    version                = local.vllm
    max_model_len          = 4096
    max_num_seqs           = 64
    gpu_memory_utilization = 0.90
    enable_prefix_caching  = false
    seed                   = 0
    kv_overcommit          = true
  }

  workload "sharegpt" {
    dataset       = dataset.sharegpt_v3_1k
    api           = "completions"
    seed          = 42
    output_tokens = 256 # the 1k subset holds prompts only: the output length of every request
  }

  sweep {
    concurrency       = local.concurrency
    prompts_per_level = local.prompts
    warmup            = 8
  }

  slo {
    ttft_p99_ms = 2000
    tpot_p99_ms = 100
  }

  eval {
    num_concurrent = 8

    task "mmlu" {
      shots  = 5
      metric = "acc"
    }
    task "gsm8k" {
      shots  = 5
      metric = "exact_match"
      filter = "strict-match"
    }
    task "hellaswag" {
      shots  = 5
      metric = "acc_norm"
    }
  }

  cost {
    utilization = [1.0, 0.8]
    compare     = [api.llama31_8b_deepinfra, api.llama31_8b_nebius, api.llama31_8b_fireworks, api.gpt_6_2_sol, api.claude_sonnet_5_5, api.gpt_4o, api.claude_sonnet]
    # What a month may cost; the Grafana dashboard (forge observe) sets
    # spend against it. One A5000 around the clock is 730 h × 0.27 = 197 USD.
    budget_usd_per_month = 250
  }

  rehearsal {
    model             = model.llama31_standin
    hardware          = hardware.cpu_rehearsal
    prompts_per_level = var.rehearsal_prompts
    warmup            = 2
    eval_limits = {
      mmlu      = var.rehearsal_mmlu_limit
      gsm8k     = var.rehearsal_gsm8k_limit
      hellaswag = var.rehearsal_hellaswag_limit
    }
    mmlu_subjects   = var.rehearsal_mmlu_subjects
    dtype           = "float32" # CPU exception: AVX2 has no bf16 arithmetic
    cpu_kvcache_gib = 4         # CPU exception: the CPU build's KV cache size
  }
}

experiment "llama31_8b_awq_a5000" {
  description = "Llama 3.1 8B Instruct, AWQ-INT4 (hugging-quants), vLLM awq_marlin on one RTX A5000"
  hardware    = hardware.rtx_a5000
  model       = model.llama31_8b_instruct_awq

  engine "vllm" {
    version                = local.vllm
    max_model_len          = 4096
    max_num_seqs           = 64
    gpu_memory_utilization = 0.90
    enable_prefix_caching  = false
    seed                   = 0
    kv_overcommit          = true
  }

  workload "sharegpt" {
    dataset       = dataset.sharegpt_v3_1k
    api           = "completions"
    seed          = 42
    output_tokens = 256 # the 1k subset holds prompts only: the output length of every request
  }

  sweep {
    concurrency       = local.concurrency
    prompts_per_level = local.prompts
    warmup            = 8
  }

  slo {
    ttft_p99_ms = 2000
    tpot_p99_ms = 100
  }

  eval {
    baseline       = "llama31_8b_bf16_a5000"
    num_concurrent = 8

    task "mmlu" {
      shots  = 5
      metric = "acc"
    }
    task "gsm8k" {
      shots  = 5
      metric = "exact_match"
      filter = "strict-match"
    }
    task "hellaswag" {
      shots  = 5
      metric = "acc_norm"
    }
  }

  cost {
    utilization = [1.0, 0.8]
    compare     = [api.llama31_8b_deepinfra, api.llama31_8b_nebius, api.llama31_8b_fireworks, api.gpt_6_2_sol, api.claude_sonnet_5_5, api.gpt_4o, api.claude_sonnet]
    # What a month may cost; the Grafana dashboard (forge observe) sets
    # spend against it. One A5000 around the clock is 730 h × 0.27 = 197 USD.
    budget_usd_per_month = 250
  }

  rehearsal {
    model             = model.llama31_standin_awq
    hardware          = hardware.cpu_rehearsal
    prompts_per_level = var.rehearsal_prompts
    warmup            = 2
    eval_limits = {
      mmlu      = var.rehearsal_mmlu_limit
      gsm8k     = var.rehearsal_gsm8k_limit
      hellaswag = var.rehearsal_hellaswag_limit
    }
    mmlu_subjects   = var.rehearsal_mmlu_subjects
    dtype           = "float32" # CPU exception: AVX2 has no bf16 arithmetic
    cpu_kvcache_gib = 4         # CPU exception: the CPU build's KV cache size
  }
}
